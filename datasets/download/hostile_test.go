package download

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// dirState is every file of dir with its content, for "the cache as it was".
func dirState(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		lines = append(lines, fmt.Sprintf("%s %d %s", rel, len(data), sha(data)))
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestHostileServer: a loopback server that misbehaves in every way a real
// one does (cut-off body, wrong bytes, a stall before the headers or in the
// body, 404/500, a redirect loop, more bytes than the file has, fewer than it
// announces): each fetch fails with an error naming the file and the cause,
// leaves no partial file, and the cache directory (holding a stale copy and
// another dataset's file) is byte for byte as it was.
func TestHostileServer(t *testing.T) {
	corrupt := append([]byte(nil), payload...)
	corrupt[len(corrupt)/3] ^= 0x20
	release := make(chan struct{})
	defer close(release)
	stallHeaders := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	stallBody := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		w.Write(payload[:1000])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	var srvURL string
	srv := newServer(t, map[string]http.HandlerFunc{
		"/truncated":     truncated(payload),
		"/corrupt":       serve(corrupt),
		"/stall-headers": stallHeaders,
		"/stall-body":    stallBody,
		"/404":           fail(http.StatusNotFound),
		"/500":           fail(http.StatusInternalServerError),
		"/loop/": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, srvURL+r.URL.Path+"x", http.StatusFound)
		},
		"/long": chunked(append(append([]byte(nil), payload...), payload[:100]...)),
		"/announce-more": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)+100))
			w.Write(payload)
		},
		"/announce-less": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)-100))
			w.Write(payload[:len(payload)-100])
		},
	})
	srvURL = srv.URL
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server not on loopback: %s", srv.URL)
	}
	cases := []struct {
		path string
		want string
	}{
		{"/truncated", "truncated"},
		{"/corrupt", "sha256 mismatch"},
		{"/stall-headers", "stalled: nothing received for"},
		{"/stall-body", "stalled: nothing received for"},
		{"/404", "404"},
		{"/500", "500"},
		{"/loop/a", "stopped after 10 redirects"},
		{"/long", "more than the expected"},
		{"/announce-more", "server announces"},
		{"/announce-less", "server announces"},
	}
	for _, c := range cases {
		t.Run(strings.Trim(c.path, "/"), func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "data.txt"), []byte("stale copy"), 0o644)
			os.WriteFile(filepath.Join(dir, "other.bin"), payload[:500], 0o644)
			before := dirState(t, dir)
			fe := &Fetcher{Progress: &bytes.Buffer{}, StallTimeout: 300 * time.Millisecond}
			start := time.Now()
			_, err := fe.Fetch(context.Background(), fileOf("data.txt", payload, srv.URL+c.path), dir)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range []string{"data.txt", c.want, srv.URL + c.path} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			if el := time.Since(start); el > 20*time.Second {
				t.Errorf("took %v", el)
			}
			noPartFiles(t, dir)
			if after := dirState(t, dir); after != before {
				t.Errorf("cache changed:\nbefore\n%s\nafter\n%s", before, after)
			}
		})
	}
	t.Logf("hostile-server cases: %d, each refused with the cache unchanged", len(cases))
}

// TestInterruptedFetchRetried: a transfer cut off half way fails and leaves
// nothing; the same fetch run again later, when the server behaves, completes
// and verifies.
func TestInterruptedFetchRetried(t *testing.T) {
	var calls atomic.Int64
	srv := newServer(t, map[string]http.HandlerFunc{"/flaky": func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			truncated(payload)(w, r)
			return
		}
		serve(payload)(w, r)
	}})
	dir := t.TempDir()
	f := fileOf("data.txt", payload, srv.URL+"/flaky")
	if _, err := quiet().Fetch(context.Background(), f, dir); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("first fetch: %v, want a truncated transfer", err)
	}
	noPartFiles(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "data.txt")); err == nil {
		t.Fatal("a cut-off transfer left data.txt")
	}
	p, err := quiet().Fetch(context.Background(), f, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(p, f); err != nil {
		t.Fatal(err)
	}
	noPartFiles(t, dir)
}

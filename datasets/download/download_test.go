package download

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// blobID is an independent reference for git's blob id.
func blobID(b []byte) string {
	s := sha1.Sum(append([]byte("blob "+strconv.Itoa(len(b))+"\x00"), b...))
	return hex.EncodeToString(s[:])
}

// server serves fixed payloads per path and counts requests.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t *testing.T, routes map[string]http.HandlerFunc) *server {
	s := &server{}
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { s.hits.Add(1); h(w, r) })
	}
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func serve(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}
}

// truncated announces the full length but sends only half and closes.
func truncated(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2])
		if hj, ok := w.(http.Hijacker); ok {
			conn, buf, _ := hj.Hijack()
			buf.Flush()
			conn.Close()
		}
	}
}

// chunked sends b without a Content-Length (so only the size check can notice a short body).
func chunked(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Write(b)
		w.(http.Flusher).Flush()
	}
}

func fail(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", code) }
}

var payload = bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\n"), 5000) // 220 kB

func fileOf(name string, b []byte, urls ...string) File {
	f := File{Name: name, Size: int64(len(b)), SHA256: sha(b)}
	for _, u := range urls {
		f.Sources = append(f.Sources, Source{URL: u})
	}
	return f
}

func quiet() *Fetcher { return &Fetcher{Progress: &bytes.Buffer{}} }

func noPartFiles(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".part") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestFetchCases(t *testing.T) {
	corrupt := append([]byte(nil), payload...)
	corrupt[1234] ^= 1
	long := append(append([]byte(nil), payload...), "extra"...)
	srv := newServer(t, map[string]http.HandlerFunc{
		"/good":      serve(payload),
		"/corrupt":   serve(corrupt),
		"/truncated": truncated(payload),
		"/short":     chunked(payload[:1000]),
		"/long":      chunked(long),
		"/500":       fail(http.StatusInternalServerError),
		"/404":       fail(http.StatusNotFound),
	})
	u := func(p string) string { return srv.URL + p }
	cases := []struct {
		name    string
		urls    []string
		wantErr []string // substrings, all required; nil = success
	}{
		{"canonical", []string{u("/good")}, nil},
		{"mirror after server error", []string{u("/500"), u("/good")}, nil},
		{"mirror after corrupt", []string{u("/corrupt"), u("/good")}, nil},
		{"checksum mismatch", []string{u("/corrupt")}, []string{"sha256 mismatch", u("/corrupt")}},
		{"truncated", []string{u("/truncated")}, []string{"truncated"}},
		{"short body without length", []string{u("/short")}, []string{"size mismatch"}},
		{"too long", []string{u("/long")}, []string{"more than the expected"}},
		{"all fail listed", []string{u("/404"), u("/500")}, []string{"every source failed", "404", "500"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			f := fileOf("data.txt", payload, c.urls...)
			p, err := quiet().Fetch(context.Background(), f, dir)
			noPartFiles(t, dir)
			if c.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				got, _ := os.ReadFile(p)
				if !bytes.Equal(got, payload) {
					t.Fatal("content differs")
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), "data.txt") {
				t.Errorf("error %q does not name the file", err)
			}
			if _, serr := os.Stat(filepath.Join(dir, "data.txt")); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("a failed download left data.txt: %v", serr)
			}
		})
	}
}

func TestFetchKeepsCacheAndNeverOverwritesWithBad(t *testing.T) {
	corrupt := append([]byte(nil), payload...)
	corrupt[0] = 'T'
	srv := newServer(t, map[string]http.HandlerFunc{"/corrupt": serve(corrupt), "/good": serve(payload)})
	dir := t.TempDir()
	f := fileOf("data.txt", payload, srv.URL+"/corrupt")
	dst := filepath.Join(dir, "data.txt")

	// A good cached file: no request at all.
	os.WriteFile(dst, payload, 0o644)
	if _, err := quiet().Fetch(context.Background(), f, dir); err != nil {
		t.Fatal(err)
	}
	if srv.hits.Load() != 0 {
		t.Fatalf("verified cache still hit the server %d times", srv.hits.Load())
	}

	// A stale file and a bad download: the stale file stays byte for byte.
	stale := []byte("stale content")
	os.WriteFile(dst, stale, 0o644)
	if _, err := quiet().Fetch(context.Background(), f, dir); err == nil {
		t.Fatal("bad download accepted")
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, stale) {
		t.Fatal("a bad download replaced the cached file")
	}
	// A good download replaces the stale file.
	f.Sources = append(f.Sources, Source{URL: srv.URL + "/good"})
	if _, err := quiet().Fetch(context.Background(), f, dir); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dst, f); err != nil {
		t.Fatal(err)
	}
	noPartFiles(t, dir)
}

func TestBlobOnlyAndTrustOnFirstUse(t *testing.T) {
	srv := newServer(t, map[string]http.HandlerFunc{"/f": serve(payload)})
	dir := t.TempDir()
	// Like the Linux corpus: size and git blob id only.
	f := File{Name: "linux_input.txt", Size: int64(len(payload)), GitBlobSHA1: blobID(payload),
		Sources: []Source{{URL: srv.URL + "/f"}}}
	p, err := quiet().Fetch(context.Background(), f, dir)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := os.ReadFile(p + ".sha256")
	if err != nil || !strings.HasPrefix(string(rec), sha(payload)) {
		t.Fatalf("sha256 not recorded: %q %v", rec, err)
	}
	// Same size, different content: the blob id and the record both catch it.
	bad := append([]byte(nil), payload...)
	bad[10] ^= 0x20
	os.WriteFile(p, bad, 0o644)
	var ce *ChecksumError
	if err := Verify(p, f); !errors.As(err, &ce) || ce.What != "git blob sha1" {
		t.Fatalf("Verify = %v, want git blob mismatch", err)
	}
	f.GitBlobSHA1 = ""
	if err := Verify(p, f); err == nil || !strings.Contains(err.Error(), "recorded") {
		t.Fatalf("Verify = %v, want mismatch with the recorded sha256", err)
	}
	// Wrong blob id announced: refused.
	f.GitBlobSHA1 = strings.Repeat("0", 40)
	if _, err := quiet().Fetch(context.Background(), f, t.TempDir()); err == nil || !strings.Contains(err.Error(), "git blob") {
		t.Fatalf("Fetch = %v, want git blob mismatch", err)
	}
	// Nothing known: refused up front.
	if _, err := quiet().Fetch(context.Background(), File{Name: "x", Sources: f.Sources}, t.TempDir()); err == nil {
		t.Fatal("accepted a file with no size or checksum")
	}
}

func TestSumsMatchGit(t *testing.T) {
	// Known value: `printf 'hello\n' | git hash-object --stdin`.
	s, err := Compute(strings.NewReader("hello\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.GitBlobSHA1 != "ce013625030ba8dba906f756967f9e9ca394464a" || s.Size != 6 {
		t.Fatalf("got %+v", s)
	}
	if s.SHA256 != sha([]byte("hello\n")) {
		t.Fatal("sha256 wrong")
	}
}

func makeTgz(t *testing.T, files map[string][]byte) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"./simple-examples/", "./simple-examples/data/a.txt", "./simple-examples/data/b.txt"} {
		b, ok := files[name]
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}
		if !ok {
			h = &tar.Header{Name: name, Mode: 0o755, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func makeZip(t *testing.T, name string, b []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestArchiveMembers(t *testing.T) {
	a, b := payload[:5000], payload[5000:20000]
	tgz := makeTgz(t, map[string][]byte{"./simple-examples/data/a.txt": a, "./simple-examples/data/b.txt": b})
	zipped := makeZip(t, "text8", b)
	srv := newServer(t, map[string]http.HandlerFunc{
		"/simple-examples.tgz": serve(tgz),
		"/text8.zip":           serve(zipped),
		"/cut.tgz":             serve(tgz[:len(tgz)-40]),
	})
	fe := quiet()
	defer fe.Close()
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		member string
		want   []byte
	}{{"a.txt", "simple-examples/data/a.txt", a}, {"b.txt", "./simple-examples/data/b.txt", b}} {
		f := fileOf(c.name, c.want)
		f.Sources = []Source{{URL: srv.URL + "/simple-examples.tgz", Member: c.member, ArchiveSize: int64(len(tgz))}}
		if _, err := fe.Fetch(context.Background(), f, dir); err != nil {
			t.Fatal(err)
		}
	}
	if srv.hits.Load() != 1 {
		t.Errorf("archive downloaded %d times, want once", srv.hits.Load())
	}
	// zip member with size only (text8-like): accepted and recorded.
	f := File{Name: "text8", Size: int64(len(b)), Sources: []Source{{URL: srv.URL + "/text8.zip", Member: "text8", ArchiveSize: int64(len(zipped))}}}
	if _, err := fe.Fetch(context.Background(), f, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "text8.sha256")); err != nil {
		t.Error("no sha256 record for text8")
	}
	// Wrong archive size, missing member, truncated archive.
	for _, c := range []struct {
		src  Source
		want string
	}{
		{Source{URL: srv.URL + "/text8.zip", Member: "text8", ArchiveSize: 12345}, "expected 12345"},
		{Source{URL: srv.URL + "/simple-examples.tgz", Member: "nope.txt"}, "no member nope.txt"},
		{Source{URL: srv.URL + "/cut.tgz", Member: "simple-examples/data/b.txt"}, "simple-examples/data/b.txt"},
	} {
		f := fileOf("b2.txt", b)
		f.Sources = []Source{c.src}
		_, err := quiet().Fetch(context.Background(), f, dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.src, err, c.want)
		}
		if _, serr := os.Stat(filepath.Join(dir, "b2.txt")); serr == nil {
			t.Error("failed fetch left b2.txt")
		}
	}
	noPartFiles(t, dir)
}

func TestProgressLines(t *testing.T) {
	srv := newServer(t, map[string]http.HandlerFunc{"/good": serve(payload)})
	var out bytes.Buffer
	fe := &Fetcher{Progress: &out, ProgressMin: 1000, ProgressEvery: 1}
	if _, err := fe.Fetch(context.Background(), fileOf("data.txt", payload, srv.URL+"/good"), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "(100%)") || !strings.HasSuffix(last, " done") || !strings.HasPrefix(lines[0], "download data.txt:") {
		t.Fatalf("progress output:\n%s", out.String())
	}
	// Small files stay silent at the default threshold.
	out.Reset()
	fe = &Fetcher{Progress: &out}
	if _, err := fe.Fetch(context.Background(), fileOf("d2.txt", payload, srv.URL+"/good"), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Fatalf("progress for a small file: %q", out.String())
	}
}

func TestContextCancel(t *testing.T) {
	srv := newServer(t, map[string]http.HandlerFunc{"/good": serve(payload)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := quiet().Fetch(ctx, fileOf("data.txt", payload, srv.URL+"/good"), t.TempDir())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestRecordedSHA256GuardsRedownload(t *testing.T) {
	other := bytes.ToUpper(payload) // same size, other content
	srv := newServer(t, map[string]http.HandlerFunc{"/first": serve(payload), "/other": serve(other)})
	dir := t.TempDir()
	// text8-like: only the size is known.
	f := File{Name: "text8", Size: int64(len(payload)), Sources: []Source{{URL: srv.URL + "/first"}}}
	p, err := quiet().Fetch(context.Background(), f, dir)
	if err != nil {
		t.Fatal(err)
	}
	// The cached copy is damaged; the only source now serves different data
	// of the right size. The record made on first use rejects it.
	os.WriteFile(p, []byte("damaged"), 0o644)
	f.Sources = []Source{{URL: srv.URL + "/other"}}
	_, err = quiet().Fetch(context.Background(), f, dir)
	if err == nil || !strings.Contains(err.Error(), "recorded in text8.sha256") {
		t.Fatalf("Fetch = %v, want a mismatch with the recorded sha256", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "damaged" {
		t.Fatal("the cached file was replaced by unverified data")
	}
	// A failed fetch into a new directory leaves no empty directory behind.
	fresh := filepath.Join(t.TempDir(), "new")
	if _, err := quiet().Fetch(context.Background(), fileOf("x", payload, srv.URL+"/other"), fresh); err == nil {
		t.Fatal("accepted a wrong file")
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("failed fetch left %s: %v", fresh, err)
	}
}

package datasets

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rbt-project/rbt/datasets/download"
)

func TestRootsAndPath(t *testing.T) {
	dir := writeFiles(t, map[string]string{"ptb/ptb.train.txt": "a b\n"})
	t.Setenv(EnvVar, dir)
	roots, err := Roots()
	if err != nil || len(roots) != 1 || roots[0] != dir {
		t.Fatalf("Roots = %v, %v; want only %s", roots, err, dir)
	}
	if r, _ := Root(); r != dir {
		t.Fatalf("Root = %s", r)
	}
	p, err := Path(PTBWord, "ptb.train.txt")
	if err != nil || p != filepath.Join(dir, "ptb", "ptb.train.txt") {
		t.Fatalf("Path = %s, %v", p, err)
	}

	// Missing: a *MissingError naming the file and how to fetch it.
	_, err = Path(PTBChar, "ptb.char.train.txt")
	var me *MissingError
	if !errors.As(err, &me) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want *MissingError matching fs.ErrNotExist", err)
	}
	wantErr(t, err, "ptb-char/ptb.char.train.txt", FetchCommand+" ptb-char", "simple-examples.tgz", dir)
	_, err = Path(CNNQA, "questions")
	wantErr(t, err, "cnn-qa/questions", "https://cs.nyu.edu/~kcho/DMQA/")

	// RBT_DATA that does not exist is an error, not a silent fallback.
	t.Setenv(EnvVar, filepath.Join(dir, "nope"))
	if _, err := Roots(); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Fatalf("Roots with a bad %s = %v", EnvVar, err)
	}
}

func TestDefaultRoots(t *testing.T) {
	t.Setenv(EnvVar, "")
	roots, err := Roots()
	if err != nil {
		t.Fatal(err)
	}
	c, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if roots[len(roots)-1] != c || !strings.HasSuffix(c, filepath.Join("rbt", "data")) {
		t.Fatalf("last root %s, want the cache dir %s", roots[len(roots)-1], c)
	}
	repo, ok := RepoRoot()
	if !ok {
		t.Fatal("no go.mod found above the test directory")
	}
	shared := filepath.Join(filepath.Dir(repo), "shared", "data")
	if _, err := os.Stat(shared); err == nil && roots[0] != shared {
		t.Fatalf("first root %s, want %s", roots[0], shared)
	}
}

// TestRegistryMatchesSharedData checks every file the registry knows against
// the real copies in the data root (sizes, sha256, git blob ids).
func TestRegistryMatchesSharedData(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes ~40 MB")
	}
	checked := 0
	for _, ds := range Names() {
		files, _ := Files(ds)
		for _, f := range files {
			p, err := Path(ds, f.Name)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := download.Verify(p, f); err != nil {
				t.Errorf("%s: %v", ds, err)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Skip("no real data available")
	}
	t.Logf("%d files verified", checked)
}

// rewriter sends every request to a local server, keeping the path's base
// name, so that the registry's real URLs can be exercised offline.
type rewriter struct{ target *url.URL }

func (r rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *r.target
	u.Path = "/" + req.URL.Host + "/" + path.Base(req.URL.Path)
	req2 := req.Clone(req.Context())
	req2.URL = &u
	req2.Host = u.Host
	return http.DefaultTransport.RoundTrip(req2)
}

// TestFetchRegistryOffline fetches War and Peace through the registry's own
// URLs, served locally: the canonical host serves a corrupted copy, the
// mirror the real file. Fetch must reject the first, accept the second, and
// then load as the real corpus.
func TestFetchRegistryOffline(t *testing.T) {
	src := realDir(t, WarAndPeace, "warpeace_input.txt")
	real, err := os.ReadFile(filepath.Join(src, "warpeace_input.txt"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(real)
	bad[len(bad)/2] ^= 1
	var mu sync.Mutex
	var hosts []string
	var corruptOnly atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
		mu.Lock()
		hosts = append(hosts, host)
		mu.Unlock()
		switch {
		case corruptOnly.Load():
			w.Write(bad)
		case host == "cs.stanford.edu":
			w.Write(bad)
		case host == "raw.githubusercontent.com":
			w.Write(real)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	var progress bytes.Buffer
	fe := &download.Fetcher{Client: &http.Client{Transport: rewriter{target}}, Progress: &progress}
	defer fe.Close()
	cache := t.TempDir()
	dir, err := Fetch(context.Background(), fe, WarAndPeace, cache)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if strings.Join(hosts, ",") != "cs.stanford.edu,raw.githubusercontent.com" {
		t.Errorf("hosts tried: %v", hosts)
	}
	mu.Unlock()
	if !strings.Contains(progress.String(), "done") {
		t.Errorf("no progress line for a 3 MB file: %q", progress.String())
	}
	if err := Verify(WarAndPeace, cache); err != nil {
		t.Fatal(err)
	}
	c, err := LoadWarAndPeaceFrom(dir)
	if err != nil || len(c.Symbols) != WarAndPeaceSymbols {
		t.Fatalf("loading the fetched copy: %v", err)
	}
	// Only corrupted copies: the error names the file and both URLs; the good cached copy stays.
	corruptOnly.Store(true)
	os.Remove(filepath.Join(dir, "warpeace_input.txt"))
	_, err = Fetch(context.Background(), fe, WarAndPeace, cache)
	wantErr(t, err, "warpeace_input.txt", "sha256 mismatch", "cs.stanford.edu", "raw.githubusercontent.com")
	if _, serr := os.Stat(filepath.Join(dir, "warpeace_input.txt")); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("a corrupted download was kept: %v", serr)
	}
}

func TestVerifyDetectsModifiedCopy(t *testing.T) {
	root := writeFiles(t, map[string]string{"warpeace/warpeace_input.txt": "not Tolstoy"})
	err := Verify(WarAndPeace, root)
	wantErr(t, err, filepath.Join(root, "warpeace", "warpeace_input.txt"), "size mismatch", "3258246")
	err = Verify(PTBChar, root)
	wantErr(t, err, "ptb.char.train.txt")
	if _, err := Files("nope"); err == nil {
		t.Fatal("unknown dataset accepted")
	}
}

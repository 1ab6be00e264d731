package datasets

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realDir returns the directory of a dataset file found by Path, or skips
// the test when the real data is not available.
func realDir(t testing.TB, dataset, file string) string {
	t.Helper()
	p, err := Path(dataset, file)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("real data not available: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(p)
}

// writeFiles creates files (relative path -> content) under a temp dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wantErr fails unless err is non-nil and contains every substring.
func wantErr(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
}

// ptbCharOf applies the README's rule that makes ptb.char files from ptb
// word files: "\n".join("_".join(l.split()) for l in lines) + "\n", one space after every symbol.
func ptbCharOf(wordText string) string {
	lines := strings.Split(strings.TrimSuffix(wordText, "\n"), "\n")
	var sb strings.Builder
	for i, l := range lines {
		if i > 0 {
			sb.WriteString("\n")
		}
		sb.WriteString(strings.Join(strings.Fields(l), "_"))
	}
	sb.WriteString("\n")
	var out strings.Builder
	for _, c := range sb.String() {
		out.WriteRune(c)
		out.WriteByte(' ')
	}
	return out.String()
}

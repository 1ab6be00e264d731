package training

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSelectCheckpoint: the best checkpoint wins, the latest stands in when
// there is no best, and an empty directory says so with ok false.
func TestSelectCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if _, _, ok, err := SelectCheckpoint(dir); ok || err != nil {
		t.Fatalf("empty dir: ok %v, err %v", ok, err)
	}
	mk := func(name string) {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mk(CkptPrefix + "00000007")
	if p, step, ok, err := SelectCheckpoint(dir); err != nil || !ok || step != 7 || filepath.Base(p) != CkptPrefix+"00000007" {
		t.Fatalf("latest only: %s %d %v %v", p, step, ok, err)
	}
	mk(BestPrefix + "00000005")
	if p, step, ok, err := SelectCheckpoint(dir); err != nil || !ok || step != 5 || filepath.Base(p) != BestPrefix+"00000005" {
		t.Fatalf("with best: %s %d %v %v", p, step, ok, err)
	}
}

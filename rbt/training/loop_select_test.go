package training

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSelectCheckpoint: the best checkpoint wins, the latest stands in when
// there is no best or the best is damaged, and an empty directory says so
// with ok false.
func TestSelectCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if _, _, ok, err := SelectCheckpoint(dir); ok || err != nil {
		t.Fatalf("empty dir: ok %v, err %v", ok, err)
	}
	mk := func(name string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, StateFile), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := writeManifest(p); err != nil {
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
	// A damaged best checkpoint is skipped; all damaged: an error naming the file.
	os.WriteFile(filepath.Join(dir, BestPrefix+"00000005", StateFile), []byte("{ }"), 0o644)
	if p, step, ok, err := SelectCheckpoint(dir); err != nil || !ok || step != 7 || filepath.Base(p) != CkptPrefix+"00000007" {
		t.Fatalf("damaged best: %s %d %v %v", p, step, ok, err)
	}
	os.Remove(filepath.Join(dir, CkptPrefix+"00000007", ManifestFile))
	if _, _, ok, err := SelectCheckpoint(dir); ok || err == nil || !strings.Contains(err.Error(), StateFile) {
		t.Fatalf("all damaged: ok %v, err %v", ok, err)
	}
}

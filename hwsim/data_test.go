package hwsim

import (
	"os"
	"path/filepath"
	"testing"
)

// dataDir finds the shared data directory: $RBT_DATA, then ../shared/data
// next to the repository root (the directory holding go.mod).
func dataDir(t testing.TB) string {
	if d := os.Getenv("RBT_DATA"); d != "" {
		return d
	}
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, "..", "shared", "data")
			if _, err := os.Stat(p); err == nil {
				return p
			}
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	t.Skip("shared data not found (set RBT_DATA)")
	return ""
}

func TestCharTokens(t *testing.T) {
	toks, err := CharTokens("x", []byte("a b _ \n "), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{24, 25, 23, 0}
	for i := range want {
		if toks[i] != want[i] {
			t.Fatalf("tokens %v, want %v", toks, want)
		}
	}
	if len(PTBCharSymbols) != 50 {
		t.Fatalf("%d symbols, want 50", len(PTBCharSymbols))
	}
	for _, bad := range []string{"a b ~ ", "ab"} {
		if _, err := CharTokens("bad.txt", []byte(bad), nil); err == nil {
			t.Errorf("CharTokens(%q): no error", bad)
		}
	}
}

func TestPTBTestSplit(t *testing.T) {
	toks, err := LoadCharTokens(filepath.Join(dataDir(t), "ptb-char", "ptb.char.test.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// README: 884846 bytes, 442423 characters (each followed by a space).
	if len(toks) != 442423 {
		t.Fatalf("%d tokens, want 442423", len(toks))
	}
}

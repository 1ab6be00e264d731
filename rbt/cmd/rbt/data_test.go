package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataCommand runs `rbt data` against a data root made in the test: one
// good copy of a PTB-char file, one corrupted, so verify must fail and name it.
func TestDataCommand(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "..", "shared", "data", "ptb-char", "ptb.char.valid.txt")
	good, err := os.ReadFile(shared)
	if err != nil {
		t.Skipf("no shared data: %v", err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "ptb-char")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "ptb.char.valid.txt"), good, 0o644)
	os.WriteFile(filepath.Join(dir, "ptb.char.test.txt"), good[:1000], 0o644) // truncated
	t.Setenv("RBT_DATA", root)

	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"where"}, ""},
		{[]string{"verify", "ptb-char"}, "failed verification"},
		{[]string{"verify", "no-such-dataset"}, "no-such-dataset"},
		{[]string{"bogus"}, "usage"},
		{nil, "usage"},
		{[]string{"fetch"}, "usage"},
	} {
		err := runData(tc.args)
		if tc.wantErr == "" && err != nil {
			t.Errorf("rbt data %v: %v", tc.args, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("rbt data %v: error %v, want one containing %q", tc.args, err, tc.wantErr)
		}
	}
}

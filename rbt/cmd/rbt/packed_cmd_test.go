package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rbt-project/rbt/rbt/packed"
)

func TestInspectAndGenerate(t *testing.T) {
	m, err := packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, Vocab: 30, Hidden: []int{64}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.Meta["quantizer"] = "binary-stochastic"
	dir := t.TempDir()
	path := filepath.Join(dir, "char.rbtm")
	if err := packed.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printInspect(&out, path, 1, m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LSTM binary, input 30, hidden 64", "quantizer = binary-stochastic", "recurrent weights"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out.String())
		}
	}
	if err := runInspect([]string{"-model", path}); err != nil {
		t.Error(err)
	}
	if err := runGenerate([]string{"-model", path, "-prime", "abc", "-n", "10", "-seed", "3"}); err != nil {
		t.Error(err)
	}
	// Bad files: clear errors naming the file.
	bad := filepath.Join(dir, "bad.rbtm")
	os.WriteFile(bad, []byte("not a model"), 0o644)
	for _, run := range []func([]string) error{runInspect, runGenerate} {
		if err := run([]string{"-model", bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("bad file: err = %v", err)
		}
	}
	if err := runGenerate([]string{"-model", path, "-prime", "\x01"}); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("unknown prime character: err = %v", err)
	}
}

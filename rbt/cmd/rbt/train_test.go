package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `rbt train -h` lists every task of the notebooks and every knob.
func TestTrainHelp(t *testing.T) {
	var out bytes.Buffer
	fs := flag.CommandLine
	_ = fs
	err := captureUsage(&out, func() error { return runTrain([]string{"-h"}) })
	if err != flag.ErrHelp {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	help := out.String()
	for _, want := range append(taskNames(), "-model", "-hidden", "-length", "-batch", "-steps", "-epochs", "-lr", "-seed", "-budget", "-dir",
		"bn-binary", "twn", "cpu") {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}

// captureUsage runs f with the flag package's output going to w.
func captureUsage(w *bytes.Buffer, f func() error) error {
	r, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	old := os.Stderr
	os.Stderr = pw
	ferr := f()
	pw.Close()
	os.Stderr = old
	w.ReadFrom(r)
	return ferr
}

// Bad input is a clear error naming what is wrong, before any training.
func TestTrainBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-task", "ptb-char"}, "-dir is required"},
		{[]string{"-task", "nope", "-dir", dir, "-budget", "smoke"}, "unknown task \"nope\""},
		{[]string{"-task", "ptb-char", "-dir", dir, "-budget", "huge"}, "not a budget"},
		{[]string{"-task", "ptb-char", "-dir", dir, "-budget", "smoke", "-model", "bn-nope"}, "unknown char-LM LSTM model \"bn-nope\""},
		{[]string{"-task", "smnist", "-dir", dir, "-budget", "smoke", "-length", "50"}, "-length 50"},
		{[]string{"-task", "smnist", "-dir", dir, "-budget", "smoke", "-epochs", "2"}, "smnist counts steps"},
		{[]string{"-task", "ptb-char", "-dir", dir, "-hidden", "-3"}, "-hidden -3"},
		{[]string{"-task", "ptb-char", "-dir", dir, "extra"}, "unexpected arguments"},
		{[]string{"-task", "ptb-word", "-dir", dir, "-budget", "smoke", "-model", "zz"}, "unknown word-LM model \"zz\""},
		{[]string{"-task", "ptb-char", "-dir", dir, "-budget", "smoke", "-distill-mix", "0.3"}, "set -distill-teacher"},
		{[]string{"-task", "ptb-char", "-dir", dir, "-budget", "smoke", "-distill-teacher", filepath.Join(dir, "none")}, "distillation teacher"},
		{[]string{"-task", "ptb-char", "-dir", dir, "-budget", "smoke", "-distill-teacher", dir, "-distill-temperature", "0"}, "temperature 0"},
		{[]string{"-task", "ptb-char", "-dir", dir, "-budget", "smoke", "-distill-teacher", dir, "-distill-mix", "2"}, "mix 2"},
		{[]string{"-task", "ptb-char", "-dir", dir, "-budget", "smoke", "-latent-lr-scale", "-1"}, "latent learning-rate scale -1"},
		{[]string{"-task", "smnist", "-dir", dir, "-budget", "smoke", "-reset-moments"}, "options of the char-LM trainer"},
		{[]string{"-task", "gap-study", "-dir", dir, "-budget", "smoke", "-hidden", "64"}, "settings come from its budget"},
	} {
		err := runTrain(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

// A char-LM task at smoke, end to end: the report and its figures land in -dir.
func TestTrainSmokeWritesReport(t *testing.T) {
	dir := t.TempDir()
	if err := runTrain([]string{"-task", "ptb-char", "-budget", "smoke", "-model", "bn-binary,bn-twn", "-steps", "3", "-dir", dir}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Published figures next to this run", "LSTM twn, per-step BN", "![", "Measured against the claims"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q", want)
		}
	}
	if figs, _ := filepath.Glob(filepath.Join(dir, "figure*.png")); len(figs) < 2 {
		t.Errorf("%d figures written", len(figs))
	}
}

package experiments

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/rbt-project/rbt/rbt/budget"
)

// TestWordLMSmoke runs the smoke budget of the word-level PTB experiment
// (PTB when ../shared/data is present, the synthetic corpus otherwise) and
// checks that every model trained, learned (perplexity far below the
// vocabulary size, the uniform guess), evaluated in both modes, and that the
// exported BN binary/ternary models give the GoMLX deploy perplexity on the
// packed engine; the table, results and figures are well-formed.
func TestWordLMSmoke(t *testing.T) {
	cfg := WordLMSettings(budget.Smoke)
	corpus, err := LoadWordLMCorpus(true)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := RunWordLM(context.Background(), cfg, corpus, "", &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	checkReport(t, res, true)
	t.Logf("%s\n%s", corpus.Name, log.String())
	if len(res.Runs) != len(cfg.Models) {
		t.Fatalf("%d runs, want %d", len(res.Runs), len(cfg.Models))
	}
	V := float64(corpus.VocabSize())
	for _, run := range res.Runs {
		if run.Steps != cfg.Steps {
			t.Errorf("%s: %d steps, want %d", run.Model.Name, run.Steps, cfg.Steps)
		}
		if run.Weights != int64(4*cfg.Hidden*(cfg.Embed+cfg.Hidden)) {
			t.Errorf("%s: %d quantized weights, want 4n(d+n) = %d", run.Model.Name, run.Weights, 4*cfg.Hidden*(cfg.Embed+cfg.Hidden))
		}
		if run.Model.Name == "bc" {
			continue // BinaryConnect without BN may fail; that is the ablation.
		}
		for _, mode := range []string{"code", "deploy"} {
			for split, v := range map[string]float64{"valid": run.Valid[mode], "test": run.Test[mode]} {
				if !(v > 1 && v < V/2) {
					t.Errorf("%s: %s perplexity (%s) = %.1f, want in (1, %.0f): nothing learned?", run.Model.Name, split, mode, v, V/2)
				}
			}
		}
		if run.Model.Name == "bn-binary" || run.Model.Name == "bn-ternary" {
			if run.PackedPPL == 0 || math.Abs(run.PackedPPL/run.DeployPPL-1) > 1e-3 {
				t.Errorf("%s: packed engine ppl %.4f, GoMLX deploy %.4f", run.Model.Name, run.PackedPPL, run.DeployPPL)
			}
		}
	}
	if got := res.Run("bn-binary").WeightBytes * 32; got != res.Run("bn-fp").WeightBytes {
		t.Errorf("binary weight memory x32 = %d bytes, full precision %d", got, res.Run("bn-fp").WeightBytes)
	}
	tab := res.Table()
	if len(tab.Rows) != len(cfg.Models) || len(tab.Rows[0]) != len(tab.Header) {
		t.Errorf("table: %d rows of %d cells, header %d", len(tab.Rows), len(tab.Rows[0]), len(tab.Header))
	}
	if n := len(res.Results()); n < 5*len(cfg.Models) {
		t.Errorf("%d results", n)
	}
	if v := res.Verdict(); len(v) != 2*(len(cfg.Models)-1) {
		t.Errorf("verdict: %d lines", len(v))
	}
	for name, fig := range map[string]func() ([]byte, error){"curves": res.CurvesFigure, "memory": res.MemoryFigure} {
		png, err := fig()
		if err != nil || len(png) < 1000 {
			t.Errorf("%s figure: %d bytes, %v", name, len(png), err)
		}
	}
}

// TestWordLMResume checks that a run directory resumes (a finished run is
// found complete and evaluates to the same numbers) and that other settings
// are refused.
func TestWordLMResume(t *testing.T) {
	cfg := WordLMSettings(budget.Smoke)
	cfg.Models = []string{"bn-binary"}
	cfg.Steps = 4
	corpus := SyntheticWordCorpus(50, 4000, 2)
	dir := t.TempDir()
	m, _ := LookupWordLMModel("bn-binary")
	a, err := TrainWordLM(context.Background(), cfg, corpus, m, filepath.Join(dir, "x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := TrainWordLM(context.Background(), cfg, corpus, m, filepath.Join(dir, "x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Steps != b.Steps || a.Valid["deploy"] != b.Valid["deploy"] || a.Test["deploy"] != b.Test["deploy"] {
		t.Errorf("resumed run differs: steps %d/%d, valid deploy %v/%v, test deploy %v/%v",
			a.Steps, b.Steps, a.Valid["deploy"], b.Valid["deploy"], a.Test["deploy"], b.Test["deploy"])
	}
	cfg.Hidden++
	if _, err := TrainWordLM(context.Background(), cfg, corpus, m, filepath.Join(dir, "x"), nil); err == nil {
		t.Error("a directory of other settings was accepted")
	}
}

// TestWordLMSettings checks the budgets' settings and validation.
func TestWordLMSettings(t *testing.T) {
	for _, b := range []budget.Budget{budget.Smoke, budget.Quick, budget.Paper} {
		if err := WordLMSettings(b).Validate(); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
	p := WordLMSettings(budget.Paper)
	if p.Embed != 300 || p.Hidden != 300 || p.Batch != 64 || p.BPTT != 35 || p.Epochs != 80 || p.LR != 20 || p.Factor != 4 || p.Clip != 0.25 || p.Dropout != 0.5 {
		t.Errorf("paper settings differ from METHOD.md: %+v", p)
	}
	bad := WordLMSettings(budget.Smoke)
	bad.Models = []string{"nope"}
	if bad.Validate() == nil {
		t.Error("unknown model accepted")
	}
	bad = WordLMSettings(budget.Smoke)
	bad.Steps, bad.Epochs = 0, 0
	if bad.Validate() == nil {
		t.Error("no length accepted")
	}
}

package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/budget"
)

// TestSyntheticQAParses writes a few generated stories and reads them back
// with the real parser: every question has one @placeholder, the answer is a
// listed entity and stands in the story right before the query's cue word.
func TestSyntheticQAParses(t *testing.T) {
	dir := t.TempDir()
	s := SyntheticQA{Train: 5, Valid: 2, Test: 3, Seed: 9}
	if err := s.Write(dir); err != nil {
		t.Fatal(err)
	}
	c, err := datasets.LoadCNNQAFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Train) != 5 || len(c.Valid) != 2 || len(c.Test) != 3 {
		t.Fatalf("splits %d/%d/%d", len(c.Train), len(c.Valid), len(c.Test))
	}
	for _, x := range c.Train {
		if _, ok := x.Entities[x.Answer]; !ok || len(x.Entities) != 8 {
			t.Errorf("%s: answer %s, %d entities", x.File, x.Answer, len(x.Entities))
		}
		cue := ""
		for i, w := range x.Question {
			if w == datasets.Placeholder {
				cue = x.Question[i+1]
			}
		}
		found := 0
		for i := 1; i < len(x.Context); i++ {
			if x.Context[i] == cue {
				found++
				if x.Context[i-1] != x.Answer {
					t.Errorf("%s: %q follows %s, answer %s", x.File, cue, x.Context[i-1], x.Answer)
				}
			}
		}
		if found != 1 {
			t.Errorf("%s: cue %q found %d times in the story", x.File, cue, found)
		}
	}
	bad := SyntheticQA{Train: 1, Valid: 1, Test: 1, Facts: 30}
	if err := bad.Write(filepath.Join(dir, "bad")); err == nil {
		t.Error("Facts=30 accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "bad")); err == nil {
		t.Error("invalid settings still wrote files")
	}
}

// TestQASmoke runs the smoke budget on the generated stories and checks that
// the results are well-formed.
func TestQASmoke(t *testing.T) {
	cfg := QASettings(budget.Smoke)
	cfg.ForceSynthetic = true
	var log bytes.Buffer
	res, err := QA(context.Background(), cfg, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	checkReport(t, res, true)
	if !res.Synthetic || len(res.Runs) != len(cfg.Models) || res.MeanCandidates != float64(2*cfg.Synthetic.withDefaults().Facts) {
		t.Fatalf("synthetic %v, %d runs, %.1f candidates", res.Synthetic, len(res.Runs), res.MeanCandidates)
	}
	// Four LSTMs: question and document, both directions, 4n(d+n) weights each.
	e, n := int64(cfg.Embedding), int64(cfg.Hidden)
	wantW := 4 * 4 * n * (e + n)
	for _, run := range res.Runs {
		if run.Diverged != "" {
			t.Errorf("%s diverged: %s", run.Model.Name, run.Diverged)
			continue
		}
		for _, a := range []float64{run.TestDeploy, run.TestCode, run.ValidDeploy} {
			if !(a >= 0 && a <= 1) {
				t.Errorf("%s: accuracy %v", run.Model.Name, a)
			}
		}
		if run.Weights != wantW {
			t.Errorf("%s: %d quantized weights, want %d", run.Model.Name, run.Weights, wantW)
		}
	}
	if png, err := res.CurveFigure(); err != nil || len(png) < 1000 {
		t.Errorf("figure: %d bytes, %v", len(png), err)
	}
	if len(res.Table().Rows) != len(res.Runs) || len(res.Results()) != 3*len(res.Runs) {
		t.Error("table or results incomplete")
	}
}

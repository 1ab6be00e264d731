package experiments

import (
	"bytes"
	"context"
	"testing"

	"github.com/rbt-project/rbt/rbt/budget"
)

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

// TestQASettings: every budget validates; at quick and cpu every generated
// training story is seen once (the reader memorizes stories it sees again
// instead of learning to read them), and the learning rate still decays to
// its final value within the run.
func TestQASettings(t *testing.T) {
	for _, b := range []budget.Budget{budget.Smoke, budget.Quick, budget.CPU, budget.Paper} {
		c := QASettings(b)
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", b, err)
		}
		if err := c.Synthetic.Validate(); err != nil {
			t.Errorf("%s: %v", b, err)
		}
		if b != budget.Quick && b != budget.CPU {
			continue
		}
		if seen := c.Steps * c.Batch; c.Synthetic.Train < seen {
			t.Errorf("%s: %d steps of %d see %d stories, only %d generated: stories repeat", b, c.Steps, c.Batch, seen, c.Synthetic.Train)
		}
		if c.LREpoch < 1 || c.Steps/c.LREpoch < 2 {
			t.Errorf("%s: LREpoch %d over %d steps: the learning rate would not decay", b, c.LREpoch, c.Steps)
		}
	}
}

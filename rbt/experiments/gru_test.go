package experiments

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// TestGRUSmoke runs the GRU study at the smoke budget: the char-LM part on
// PTB characters (or the generated stand-in) and, when MNIST is present, the
// sequential-MNIST part with GRU cells. It checks that every GRU learned
// (BPC below the uniform guess log2(V)), has 3n(d+n) quantized weights, that
// the packed export reproduces the GoMLX deploy BPC, and that the table,
// results, verdict and figures are well-formed.
func TestGRUSmoke(t *testing.T) {
	cfg := GRUSettings(budget.Smoke)
	if _, err := datasets.LoadMNIST(); err != nil {
		t.Logf("MNIST not found (%v): char-LM part only", err)
		cfg.MNIST = nil
	}
	corpus, err := LoadGRUCorpus(true)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := RunGRU(context.Background(), cfg, corpus, "", &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	checkReport(t, res, true)
	t.Logf("%s", log.String())
	V := corpus.NumSymbols()
	uniform := math.Log2(float64(V))
	n := cfg.Char.Hidden
	for _, run := range res.Char {
		if run.Weights != int64(3*n*(V+n)) {
			t.Errorf("%s: %d quantized weights, want 3n(d+n) = %d", run.Model.Name, run.Weights, 3*n*(V+n))
		}
		for _, mode := range []string{"code", "deploy"} {
			if v := run.Test[mode]; !(v > 0 && v < uniform-0.3) {
				t.Errorf("%s: test BPC (%s) %.3f, want below the uniform %.3f - 0.3", run.Model.Name, mode, v, uniform)
			}
		}
		if run.Packed == nil || run.Packed.Layers[0].Cell != recurrent.GRU {
			t.Errorf("%s: no GRU export", run.Model.Name)
		} else if math.Abs(run.PackedBPC-run.DeployBPC) > 1e-3 {
			t.Errorf("%s: packed engine %.5f BPC, GoMLX deploy %.5f", run.Model.Name, run.PackedBPC, run.DeployBPC)
		}
	}
	if res.CharRun("bn-binary").WeightBytes*32 != res.CharRun("bn-fp").WeightBytes {
		t.Errorf("binary memory x32 %d != full precision %d", res.CharRun("bn-binary").WeightBytes*32, res.CharRun("bn-fp").WeightBytes)
	}
	rows := len(res.Char)
	if res.MNIST != nil {
		rows += len(res.MNIST.Runs)
		if len(res.MNIST.Runs) != 3 {
			t.Errorf("%d MNIST runs, want 3", len(res.MNIST.Runs))
		}
		for _, run := range res.MNIST.Runs {
			if run.Packed == nil || run.Packed.Layers[0].Cell != recurrent.GRU {
				t.Errorf("MNIST %s: not a GRU", run.Model.Name)
			}
		}
		if _, err := res.MNISTCurvesFigure(); err != nil {
			t.Error(err)
		}
	}
	tab := res.Table()
	if len(tab.Rows) != rows || len(tab.Rows[0]) != len(tab.Header) {
		t.Errorf("table: %d rows (want %d) of %d cells, header %d", len(tab.Rows), rows, len(tab.Rows[0]), len(tab.Header))
	}
	if len(res.Results()) < 7*len(res.Char) || len(res.Verdict()) < 4 {
		t.Errorf("%d results, %d verdict lines", len(res.Results()), len(res.Verdict()))
	}
	png, err := res.CharCurvesFigure()
	if err != nil || len(png) < 1000 {
		t.Errorf("char curves: %d bytes, %v", len(png), err)
	}
}

// TestGRUSettings checks the budgets and validation.
func TestGRUSettings(t *testing.T) {
	for _, b := range []budget.Budget{budget.Smoke, budget.Quick, budget.CPU, budget.Paper} {
		c := GRUSettings(b)
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", b, err)
		}
		if c.MNIST == nil || c.MNIST.Cell != recurrent.GRU || len(c.MNIST.Models) != 3 {
			t.Errorf("%s: MNIST part %+v", b, c.MNIST)
		}
	}
	p := GRUSettings(budget.Paper)
	if c := p.Char; c.Hidden != 1000 || c.SeqLen != 100 || c.Batch != 64 || c.Epochs != 50 || c.LR != 0.002 || p.MNIST.Side != 28 {
		t.Errorf("paper settings differ from METHOD.md: %+v", p)
	}
	// The GRU trains as long as the LSTM of notebook 01 at every budget.
	for _, b := range []budget.Budget{budget.Smoke, budget.Quick, budget.CPU, budget.Paper} {
		lstm, _ := CharLMSettings(TaskPTBChar, b)
		if g := GRUSettings(b).Char; g.Steps != lstm.Steps || g.Epochs != lstm.Epochs || g.Hidden != lstm.Hidden || g.LR != lstm.LR {
			t.Errorf("%s: GRU %d steps / %d epochs / 1x%d / lr %g, LSTM %d / %d / 1x%d / %g", b,
				g.Steps, g.Epochs, g.Hidden, g.LR, lstm.Steps, lstm.Epochs, lstm.Hidden, lstm.LR)
		}
	}
	bad := GRUSettings(budget.Smoke)
	bad.MNIST.Cell = recurrent.LSTM
	if bad.Validate() == nil {
		t.Error("an LSTM MNIST part was accepted")
	}
}

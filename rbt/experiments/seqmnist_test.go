package experiments

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/budget"
)

func loadMNISTOrSkip(t *testing.T) *datasets.MNIST {
	t.Helper()
	d, err := datasets.LoadMNIST()
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	return d
}

// TestSeqMNISTSmoke runs the smoke budget (all eight runs) and checks that
// every result is well-formed: accuracies in [0, 1], curves, timings, weight
// memory (4n(1+n) quantized weights at 32, 1 or 2 bits), exported models and
// the digits the packed model classified, and that the figures render.
func TestSeqMNISTSmoke(t *testing.T) {
	loadMNISTOrSkip(t)
	cfg := SeqMNISTSettings(budget.Smoke)
	var log bytes.Buffer
	res, err := SeqMNIST(context.Background(), cfg, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	checkReport(t, res, true)
	if len(res.Runs) != len(cfg.Models)*len(cfg.Permuted) {
		t.Fatalf("%d runs, want %d", len(res.Runs), len(cfg.Models)*len(cfg.Permuted))
	}
	n := int64(cfg.Hidden)
	for _, run := range res.Runs {
		if run.Diverged != "" {
			continue
		}
		for _, a := range []float64{run.TestDeploy, run.TestCode} {
			if !(a >= 0 && a <= 1) {
				t.Errorf("%s: accuracy %v", run.Label(), a)
			}
		}
		if len(run.CurveAcc) != cfg.EvalPoints || run.Packed == nil || run.Step <= 0 {
			t.Errorf("%s: %d curve points (want %d), packed %v, step %v", run.Label(), len(run.CurveAcc), cfg.EvalPoints, run.Packed != nil, run.Step)
		}
		bits := map[string]int64{"fp": 32, "binary": 1, "ternary": 2}[run.Model.Quantizer]
		if w := 4 * n * (1 + n); run.Weights != w || run.WeightBytes != (w*bits+7)/8 || run.FP32Bytes != 4*w {
			t.Errorf("%s: %d weights %d bytes (fp32 %d), want %d weights at %d bits", run.Label(), run.Weights, run.WeightBytes, run.FP32Bytes, w, bits)
		}
	}
	if len(res.Digits) != 8 || len(res.DigitPredicted) != 8 || res.DigitModel == "" {
		t.Errorf("digits: %d images, %d predictions, model %q", len(res.Digits), len(res.DigitPredicted), res.DigitModel)
	}
	for _, fig := range []func() ([]byte, error){
		func() ([]byte, error) { return res.CurveFigure(false) },
		func() ([]byte, error) { return res.CurveFigure(true) },
		res.DigitsFigure,
	} {
		png, err := fig()
		if err != nil || len(png) < 1000 {
			t.Errorf("figure: %d bytes, %v", len(png), err)
		}
	}
	if tab := res.Table(); len(tab.Rows) != len(res.Runs) {
		t.Errorf("table has %d rows", len(tab.Rows))
	}
	if rs := res.Results(); len(rs) != 3*len(res.Runs) {
		t.Errorf("%d results", len(rs))
	}
}

// TestSeqMNISTLearns trains the full-precision BN-LSTM (32 units, 7x7 images)
// for 60 steps and checks that it learns: the mean training loss of steps
// 41-60 is at least 0.2 nats below that of steps 1-20 (chance: ln 10 = 2.30)
// and the test accuracy (code mode) exceeds 25 % (chance 10 %). Measured
// here: about 2.2 -> 1.9 nats and 40 %.
func TestSeqMNISTLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for several seconds")
	}
	loadMNISTOrSkip(t)
	cfg := SeqMNISTSettings(budget.Smoke)
	cfg.Models = SeqMNISTModels[:1]
	cfg.Permuted = []bool{false}
	cfg.TrainImages = 0
	cfg.Hidden = 32
	cfg.Steps = 60
	cfg.EvalPoints = 3
	cfg.ValidImages, cfg.TestImages = 256, 256
	res, err := SeqMNIST(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := res.Runs[0]
	first, loss := run.TrainLoss[0], run.TrainLoss[len(run.TrainLoss)-1]
	acc := run.CurveAcc[len(run.CurveAcc)-1]
	t.Logf("train loss %.3f -> %.3f, valid accuracy %.1f%%, test %.1f%% (deploy) %.1f%% (code)", first, loss, 100*acc, 100*run.TestDeploy, 100*run.TestCode)
	if !(loss < first-0.2) {
		t.Errorf("training loss %.3f -> %.3f over %d steps, want a drop of at least 0.2", first, loss, cfg.Steps)
	}
	if !(run.TestCode > 0.25) {
		t.Errorf("test accuracy (code) %.3f, want > 0.25", run.TestCode)
	}
}

// TestSeqMNISTConfigValidate rejects bad settings with a clear error.
func TestSeqMNISTConfigValidate(t *testing.T) {
	good := SeqMNISTSettings(budget.Smoke)
	for _, tc := range []struct {
		name string
		edit func(c *SeqMNISTConfig)
	}{
		{"side", func(c *SeqMNISTConfig) { c.Side = 9 }},
		{"cell", func(c *SeqMNISTConfig) { c.Cell = 7 }},
		{"batch", func(c *SeqMNISTConfig) { c.Batch = 1 }},
		{"quantizer", func(c *SeqMNISTConfig) { c.Models = []Recipe{{Name: "x", Quantizer: "nope"}} }},
		{"lr", func(c *SeqMNISTConfig) { c.LRStart = 0 }},
	} {
		c := good
		tc.edit(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if err := good.Validate(); err != nil {
		t.Errorf("smoke settings: %v", err)
	}
}

// TestPrepareSplitPooling checks the average pooling and the permutation on
// a hand-made image: 28x28 with pixel (r, c) = 255 when r < 14 and c < 14.
func TestPrepareSplitPooling(t *testing.T) {
	img := make([]uint8, 784)
	for r := range 14 {
		for c := range 14 {
			img[r*28+c] = 255
		}
	}
	img[27*28+27] = 51 // one pixel of the last 4x4 block: 51/255/16 = 0.0125
	s := datasets.MNISTSplit{N: 1, Images: img, Labels: []uint8{3}}
	d := prepareSplit(s, 0, 7, nil)
	for r := range 7 {
		for c := range 7 {
			want := float32(0)
			switch {
			case r < 3 && c < 3:
				want = 1
			case r == 3 && c < 3, c == 3 && r < 3:
				want = 0.5 // half of the 4x4 block is inside the 14x14 square
			case r == 3 && c == 3:
				want = 0.25
			case r == 6 && c == 6:
				want = 0.0125
			}
			if got := d.pix[r*7+c]; math.Abs(float64(got-want)) > 1e-6 {
				t.Errorf("pooled (%d,%d) = %v, want %v", r, c, got, want)
			}
		}
	}
	perm := datasets.Permutation(49, 1)
	p := prepareSplit(s, 0, 7, perm)
	for t2, src := range perm {
		if p.pix[t2] != d.pix[src] {
			t.Fatalf("permuted step %d = %v, want pixel %d = %v", t2, p.pix[t2], src, d.pix[src])
		}
	}
	full := prepareSplit(s, 0, 28, nil)
	if full.pix[0] != 1 || full.pix[27*28+27] != 0.2 || d.labels[0] != 3 {
		t.Errorf("28x28: %v %v label %d", full.pix[0], full.pix[27*28+27], d.labels[0])
	}
}

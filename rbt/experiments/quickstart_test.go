package experiments

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rbt-project/rbt/rbt/budget"
)

// TestQuickstartLearns trains the smoke-budget quickstart model (PTB characters
// when ../shared/data is present, README.md otherwise) and checks that the
// loss falls: the mean of the last 5 steps is below the mean of the first 5.
// Measured here (smoke, PTB, lr 0.01): about 5.6 -> 3.35 bits/char over 60 steps.
func TestQuickstartLearns(t *testing.T) {
	cfg := QuickstartSettings(budget.Smoke)
	var log bytes.Buffer
	res, err := Quickstart(context.Background(), cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, res, false)
	if len(res.Loss) != cfg.Steps {
		t.Fatalf("%d losses, want %d", len(res.Loss), cfg.Steps)
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	first, last := mean(res.Loss[:5]), mean(res.Loss[len(res.Loss)-5:])
	t.Logf("%s: loss %.3f -> %.3f bits/char\n%s", res.Corpus, first, last, log.String())
	if !(last < first-0.3) {
		t.Errorf("loss did not fall: first steps %.3f, last steps %.3f bits/char", first, last)
	}
	png, err := res.LossFigure()
	if err != nil || len(png) < 1000 {
		t.Errorf("LossFigure: %d bytes, %v", len(png), err)
	}
}

func TestStepTiming(t *testing.T) {
	for _, tc := range []struct {
		in          []time.Duration
		first, mean time.Duration
	}{
		{nil, 0, 0},
		{[]time.Duration{9}, 9, 0},
		{[]time.Duration{9, 2, 4}, 9, 3},
	} {
		if f, m := stepTiming(tc.in); f != tc.first || m != tc.mean {
			t.Errorf("stepTiming(%v) = %v, %v; want %v, %v", tc.in, f, m, tc.first, tc.mean)
		}
	}
}

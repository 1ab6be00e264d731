package plots

import (
	"math"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

func TestLabelOffsetsSeparateNeighbours(t *testing.T) {
	// Three points at almost the same place, one far away.
	xs := []float64{10, 10.1, 10.2, 1000}
	ys := []float64{2.0, 2.001, 2.002, 3}
	off := LabelOffsets(xs, ys, true, false, 6*72, 4*72)
	if off[3] != 0 {
		t.Errorf("lone point moved by %v", off[3])
	}
	seen := map[vg.Length]bool{}
	for _, o := range off[:3] {
		if seen[o] {
			t.Fatalf("two crowded labels share offset %v: %v", o, off)
		}
		seen[o] = true
	}
	for _, o := range off {
		if math.Abs(float64(o)) > 60 {
			t.Errorf("offset %v too far: %v", o, off)
		}
	}
}

type fixedTicks []plot.Tick

func (f fixedTicks) Ticks(min, max float64) []plot.Tick { return f }

func TestDistinctTicks(t *testing.T) {
	dup := fixedTicks{{Value: 2.10, Label: "2.1"}, {Value: 2.12, Label: "2.1"}, {Value: 2.11}}
	got := DistinctTicks{dup}.Ticks(2, 3)
	if got[0].Label == got[1].Label || got[2].Label != "" {
		t.Fatalf("labels %q %q %q", got[0].Label, got[1].Label, got[2].Label)
	}
	ok := fixedTicks{{Value: 1, Label: "1"}, {Value: 2, Label: "2"}}
	if g := (DistinctTicks{ok}).Ticks(0, 3); g[0].Label != "1" || g[1].Label != "2" {
		t.Fatalf("distinct labels rewritten: %v", g)
	}
}

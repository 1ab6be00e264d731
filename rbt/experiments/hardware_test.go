package experiments

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/rbt-project/rbt/rbt/budget"
)

// TestHardwareSmoke runs the hardware study at the smoke budget, shrunk
// further: it must give the ratio table, one accuracy point per activation
// width whose fixed-point BPC is close to the float BPC at 12 bits, figures
// and the diagram.
func TestHardwareSmoke(t *testing.T) {
	cfg := HardwareSettings(budget.Smoke)
	cfg.Train.Hidden, cfg.Train.Steps, cfg.EvalChars = 32, 10, 300
	res, err := Hardware(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, res, true)
	titles, tables := res.Tables()
	if len(tables) != 5 || len(titles) != 5 {
		t.Fatalf("%d tables, want 5", len(tables))
	}
	if len(res.Study.Accuracy) != len(cfg.ActBits) {
		t.Fatalf("%d accuracy points, want %d", len(res.Study.Accuracy), len(cfg.ActBits))
	}
	for _, a := range res.Study.Accuracy {
		if a.ActBits == 12 && math.Abs(a.BPC-a.RefBPC) > 0.05 {
			t.Errorf("12-bit datapath BPC %.4f far from float %.4f", a.BPC, a.RefBPC)
		}
	}
	if len(res.Figures) == 0 || !strings.Contains(res.DiagramSVG, "<svg") {
		t.Errorf("%d figures, diagram %d bytes", len(res.Figures), len(res.DiagramSVG))
	}
}

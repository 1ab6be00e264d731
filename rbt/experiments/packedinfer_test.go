package experiments

import (
	"context"
	"math"
	"testing"

	"github.com/rbt-project/rbt/rbt/budget"
)

// TestPackedMatchesGoMLX trains tiny binary and ternary char LMs, exports them
// to packed files, reads them back, and checks that the packed engine's test
// BPC (accumulate-only kernels) and its float32 reference equal the GoMLX
// deploy-mode BPC of the same weights: the whole export -> file -> engine path.
func TestPackedMatchesGoMLX(t *testing.T) {
	cfg := PackedSettings(budget.Smoke)
	cfg.Train.Hidden, cfg.Train.Steps, cfg.Train.SeqLen = 32, 15, 20
	cfg.EvalChars, cfg.Generate, cfg.SpeedHidden, cfg.SpeedSteps = 1500, 40, []int{64}, 5
	cfg.Dir = t.TempDir()
	res, err := Packed(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, res, true)
	if len(res.Models) != 2 {
		t.Fatalf("%d models, want 2", len(res.Models))
	}
	for _, m := range res.Models {
		t.Logf("%s: GoMLX %.5f engine %.5f float-ref %.5f, %d -> %d weight bytes", m.Quantizer, m.BPCGoMLX, m.BPCEngine, m.BPCFloatRef,
			m.Memory.Float32Bytes, m.Memory.PackedBytes)
		if math.IsNaN(m.BPCGoMLX) || m.BPCGoMLX <= 0 || m.BPCGoMLX > 8 {
			t.Errorf("%s: GoMLX BPC %v out of range", m.Quantizer, m.BPCGoMLX)
		}
		for name, v := range map[string]float64{"engine": m.BPCEngine, "float32 reference": m.BPCFloatRef} {
			if math.Abs(v-m.BPCGoMLX) > 1e-3*m.BPCGoMLX {
				t.Errorf("%s: %s BPC %.6f differs from GoMLX deploy %.6f", m.Quantizer, name, v, m.BPCGoMLX)
			}
		}
		// The goal: binary weights resident at least 12x below
		// float32. Ternary resident weights under the AVX2 kernels take 2.13
		// bits (two binary matrices, padded to 30-input words; padding
		// dominates at 32 units): at least 8x here, 14.7x at the PTB size
		// (packed.TestMemory checks those bytes exactly). In the file both
		// are at least 12x (1 and 1.6 bits per weight).
		minRatio := int64(12)
		if m.Quantizer == "ternary" {
			minRatio = 8
		}
		if m.Memory.PackedBytes*minRatio > m.Memory.Float32Bytes {
			t.Errorf("%s: resident weights %d bytes, not %dx below float32 %d", m.Quantizer, m.Memory.PackedBytes, minRatio, m.Memory.Float32Bytes)
		}
		if m.Memory.FileWeightBytes*12 > m.Memory.Float32Bytes {
			t.Errorf("%s: file weights %d bytes, not 12x below float32 %d", m.Quantizer, m.Memory.FileWeightBytes, m.Memory.Float32Bytes)
		}
		if len([]rune(m.Sample)) < cfg.Generate {
			t.Errorf("%s: sample %q shorter than %d", m.Quantizer, m.Sample, cfg.Generate)
		}
	}
	if len(res.Speed) != 5 || res.Speed[0].Speedup != 1 {
		t.Errorf("speed rows: %+v", res.Speed)
	}
	mt, st := res.Tables()
	if len(mt.Rows) != 2 || len(st.Rows) != 5 {
		t.Errorf("tables: %d and %d rows", len(mt.Rows), len(st.Rows))
	}
	for _, fig := range []func() ([]byte, error){res.SpeedFigure, res.MemoryFigure} {
		if png, err := fig(); err != nil || len(png) < 1000 {
			t.Errorf("figure: %d bytes, %v", len(png), err)
		}
	}
}

package hwsim

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/rbt-project/rbt/rbt/packed"
)

// TestAgainstPackedEngine holds the functional simulator to the packed
// package: its file format (WriteFile/ReadFile round trip), its float64
// Reference64 (logits per step) and its CPU engine (BPC over windows). With
// wide formats the fixed-point datapath must agree within the declared error.
func TestAgainstPackedEngine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   packed.RandomSpec
		design WeightFormat
		wbits  int
	}{
		{"lstm-binary-onehot", packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, Vocab: 50, Hidden: []int{96}, Steps: 5, Seed: 11}, Binary, 1},
		{"gru-ternary-embedding-2layers", packed.RandomSpec{Cell: packed.GRU, Weights: packed.Ternary, Input: packed.Embedding, Vocab: 40, EmbeddingDim: 16, Hidden: []int{48, 40}, Steps: 3, Seed: 12}, Ternary, 2},
		{"lstm-float-onehot-fixed16", packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Float32, Input: packed.OneHot, Vocab: 30, Hidden: []int{64}, Steps: 2, Seed: 13}, Fixed, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m0, err := packed.RandomModel(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "m.rbtm")
			if err := packed.WriteFile(path, m0); err != nil {
				t.Fatal(err)
			}
			m, err := packed.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			toks := make([]int, 401)
			for i := range toks {
				toks[i] = (i*i + 3*i) % tc.spec.Vocab
			}
			cfg := hiPrecision(tc.design, tc.wbits)
			cfg.Datapath.InputFrac = 12 // embeddings up to |x| < 8
			sim, err := NewSim(cfg, m)
			if err != nil {
				t.Fatal(err)
			}
			// Logits of one window against Reference64.
			ref, err := packed.Reference64(m, toks[:60], nil)
			if err != nil {
				t.Fatal(err)
			}
			st := sim.NewState()
			logits := make([]float64, m.Classes)
			worst := 0.0
			for i, tok := range toks[:60] {
				if err := st.StepToken(tok); err != nil {
					t.Fatal(err)
				}
				Logits(m, st.HFloat(nil, len(m.Layers)-1), logits)
				for c, v := range ref[i] {
					worst = math.Max(worst, math.Abs(v-logits[c]))
				}
			}
			t.Logf("max |logit_sim - logit_Reference64| over 60 steps = %.3g", worst)
			if worst > 0.02 {
				t.Errorf("logits differ by %g > 0.02", worst)
			}
			// BPC over windows of 100 against the packed engine.
			e, err := packed.NewEngine(m)
			if err != nil {
				t.Fatal(err)
			}
			score, err := packed.EvaluateLM(e, toks, packed.LMEval{Window: 100})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := sim.EvalTokens(toks, EvalOptions{Segment: 100, Reference: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("BPC: sim %.5f, sim's float64 reference %.5f, packed engine %.5f", ev.BPC, ev.RefBPC, score.BPC())
			if int64(score.Predicted) != ev.Predictions {
				t.Errorf("predictions %d, packed %d", ev.Predictions, score.Predicted)
			}
			if d := math.Abs(ev.BPC - score.BPC()); d > 2e-3 {
				t.Errorf("|BPC_sim - BPC_packed| = %g > 2e-3", d)
			}
			if d := math.Abs(ev.RefBPC - score.BPC()); d > 1e-5 {
				t.Errorf("float64 reference BPC %g vs packed engine %g", ev.RefBPC, score.BPC())
			}
		})
	}
}

package experiments

import (
	"context"
	"io"
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/training"
)

// TestNoBNAblationsTrain trains the ablations without normalization —
// BinaryConnect (+-1), TernaryConnect ({-1,0,+1}) and the binary LSTM scaled
// by W0 — for 20 steps of a 1x256 char LM (length 100, batch 8, Adam 0.005: the
// quick budget's model)
// through the experiment's own training loop, and checks that the loss is
// finite at every step, that the run does not diverge, that the recurrent
// weights move and that the loss goes down. Without the gradient clip of
// Recipe.Adam, BinaryConnect's exploding gradients overflow Adam's
// second moment at step 1 and TernaryConnect's at step 4 (issue 16).
func TestNoBNAblationsTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three small models (~10 s)")
	}
	cfg, data := tinyCharLM(t)
	cfg.Hidden, cfg.SeqLen, cfg.Batch, cfg.Steps, cfg.EvalEvery = 256, 100, 8, 20, 20
	cfg.LR, cfg.LRFinal = 0.005, 0.005
	bc, _ := LookupCharLMModel("bc")
	tc, _ := LookupCharLMModel("tc")
	binary, _ := LookupCharLMModel("binary")
	for _, m := range []Recipe{bc, tc, binary} {
		j, err := newCharLMJob(cfg, data, m, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var losses []float64
		var first []float32
		wh := func(l *training.Loop) []float32 {
			return tensors.MustCopyFlatData[float32](l.Store().GetVariable("/rnn/layer_0/" + recurrent.VarWh).MustValue())
		}
		loop, err := j.loop(io.Discard, func(l *training.Loop, s training.StepInfo) error {
			losses = append(losses, s.Loss)
			if s.Step == 1 {
				first = wh(l)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		div, err := loop.RunUntilDiverged(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if div != nil {
			t.Errorf("%s: diverged: %v", m.Name, div)
			continue
		}
		if len(losses) != int(cfg.Steps) {
			t.Fatalf("%s: %d step losses, want %d", m.Name, len(losses), cfg.Steps)
		}
		for i, l := range losses {
			if math.IsNaN(l) || math.IsInf(l, 0) {
				t.Errorf("%s: loss %v at step %d", m.Name, l, i+1)
			}
		}
		moved := 0.0
		for i, w := range wh(loop) {
			moved = math.Max(moved, math.Abs(float64(w-first[i])))
		}
		head, tail := meanOf(losses[:5]), meanOf(losses[len(losses)-5:])
		t.Logf("%s: loss %.3f (steps 1-5) -> %.3f (steps 16-20); max |change| of Wh after step 1: %.3g", m.Name, head, tail, moved)
		if moved == 0 {
			t.Errorf("%s: the recurrent weights did not change", m.Name)
		}
		if !(tail < head) {
			t.Errorf("%s: the loss did not go down: %.3f -> %.3f", m.Name, head, tail)
		}
	}
}

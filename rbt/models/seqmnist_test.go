package models

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// TestExportSeqMNISTMatchesDeploy trains a small SeqMNIST model for a few
// steps (so that weights and per-step population statistics are not at their
// initial values), exports it with ExportSeqMNIST and checks that the packed
// engine (LUT kernel) and the float64 reference of package packed give the
// logits of the GoMLX graph in deploy mode, for every row of a batch, and the
// same predicted classes.
func TestExportSeqMNISTMatchesDeploy(t *testing.T) {
	const (
		B, T, n = 16, 12, 8
	)
	cases := []struct {
		q    string
		norm recurrent.Normalization
		cell recurrent.Cell
	}{
		{"binary", recurrent.PerStepBN, recurrent.LSTM},
		{"ternary", recurrent.PerStepBN, recurrent.LSTM},
		{"fp", recurrent.PerStepBN, recurrent.LSTM},
		{"binary", recurrent.None, recurrent.LSTM},
		{"ternary", recurrent.PerStepBN, recurrent.GRU},
	}
	b := backend.Must()
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, B*T)
	y := make([]int32, B)
	for i := range x {
		x[i] = rng.Float32()
	}
	for i := range y {
		y[i] = int32(rng.IntN(10))
	}
	for _, tc := range cases {
		name := tc.q + "/" + tc.norm.String() + "/" + tc.cell.String()
		t.Run(name, func(t *testing.T) {
			net := SeqMNIST{Hidden: n, Cell: tc.cell, Quantizer: tc.q, Normalization: tc.norm, Noise: 0.1}
			store := model.NewStore()
			store.SetRNGStateFromSeed(5)
			tr := train.NewTrainer(b, store, net.Logits, ClassifierLoss, optim.Adam().LearningRate(0.01).Done(), nil, nil)
			for range 5 {
				if _, err := tr.TrainStep(train.Batch{
					Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, B, T, 1)},
					Labels: []*tensors.Tensor{tensors.FromValue(y)}}); err != nil {
					t.Fatal(err)
				}
			}
			deploy := net
			deploy.Inference = recurrent.DeployMode
			exec := model.MustNewExec(b, store, func(scope *model.Scope, px *Node) *Node {
				scope.SetTraining(px.Graph(), false)
				return deploy.Logits(scope, px)
			})
			out := exec.MustCall(tensors.FromFlatDataAndDimensions(x, B, T, 1))
			want := tensors.MustCopyFlatData[float32](out[0]) // [B, 10]

			pm, err := ExportSeqMNIST(b, store, "/")
			if err != nil {
				t.Fatal(err)
			}
			if pm.Input != packed.Dense || pm.Classes != 10 || pm.Layers[0].Input != 1 || pm.Layers[0].Hidden != n {
				t.Fatalf("exported model: input %v classes %d layer %d -> %d", pm.Input, pm.Classes, pm.Layers[0].Input, pm.Layers[0].Hidden)
			}
			wantSteps := T
			if tc.norm == recurrent.None {
				wantSteps = 1
			}
			if pm.Layers[0].Steps != wantSteps {
				t.Errorf("exported %d statistic steps, want %d", pm.Layers[0].Steps, wantSteps)
			}
			eng, err := packed.NewEngine(pm)
			if err != nil {
				t.Fatal(err)
			}
			agree := 0
			for r := range B {
				seq := x[r*T : (r+1)*T]
				got, err := eng.RunDense(seq)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := packed.Reference64(pm, nil, seq)
				if err != nil {
					t.Fatal(err)
				}
				last := got[(T-1)*10:]
				for c := range 10 {
					w := float64(want[r*10+c])
					if d := math.Abs(float64(last[c]) - w); d > 1e-3*(1+math.Abs(w)) {
						t.Errorf("row %d class %d: packed engine %g, GoMLX deploy %g", r, c, last[c], w)
					}
					if d := math.Abs(ref[T-1][c] - w); d > 1e-3*(1+math.Abs(w)) {
						t.Errorf("row %d class %d: packed float64 reference %g, GoMLX deploy %g", r, c, ref[T-1][c], w)
					}
				}
				if argmax(last) == argmax(want[r*10:(r+1)*10]) {
					agree++
				}
			}
			if agree != B {
				t.Errorf("predicted classes agree on %d of %d rows", agree, B)
			}
		})
	}
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

package models

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/datasets/batches"
	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// wordStream is a deterministic token stream with structure to learn: a
// noisy cyclic walk over the vocabulary.
func wordStream(n, vocab int, seed uint64) []int32 {
	out := make([]int32, n)
	x := seed
	cur := 0
	for i := range out {
		x = x*6364136223846793005 + 1442695040888963407
		if (x>>33)%4 == 0 {
			cur = int((x >> 40) % uint64(vocab))
		} else {
			cur = (cur + 1) % vocab
		}
		out[i] = int32(cur)
	}
	return out
}

// trainWordLM trains m for steps SGD steps with TrainLogits on ws and
// returns the store and the training losses.
func trainWordLM(t *testing.T, m WordLM, ws *datasets.WordStreams, steps int, lr float64, seed int64) (*model.Store, []float64) {
	t.Helper()
	store := model.NewStore()
	store.SetRNGStateFromSeed(seed)
	tr := train.NewTrainer(backend.Must(), store, m.TrainLogits, WordLMLoss,
		optim.SGD().LearningRate(lr).ClipNorm(0.25).Done(), nil, nil)
	var losses []float64
	for s := range steps {
		i := s % ws.NumBatches()
		wb, err := batches.Word(ws, i)
		if err != nil {
			t.Fatal(err)
		}
		reset := float32(wlmBtoi(i == 0))
		met, err := tr.TrainStep(train.Batch{
			Inputs: []*tensors.Tensor{wb.Inputs, tensors.FromValue(reset)},
			Labels: []*tensors.Tensor{wb.Targets, wb.Mask}})
		if err != nil {
			t.Fatalf("%+v: step %d: %v", m, s, err)
		}
		losses = append(losses, float64(tensors.ToScalar[float32](met[0])))
	}
	return store, losses
}

// TestWordLMExportMatchesDeploy trains small word LMs (LSTM and GRU; per-step
// BN and none; binary, ternary, full precision, k-bit), exports them with
// ExportWordLM and checks that the packed engine (LUT kernels) and its float32
// reference engine give the GoMLX deploy-mode cross-entropy over the same
// truncated-BPTT windows (state carried, statistics index reset per window).
func TestWordLMExportMatchesDeploy(t *testing.T) {
	const V, B, T = 23, 4, 5
	data := wordStream(B*T*6+1, V, 3)
	ws, err := datasets.NewWordStreams(data, B, T)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cell recurrent.Cell
		q    string
		norm recurrent.Normalization
	}{
		{recurrent.LSTM, "binary", recurrent.PerStepBN},
		{recurrent.LSTM, "ternary", recurrent.PerStepBN},
		{recurrent.LSTM, "fp", recurrent.PerStepBN},
		{recurrent.LSTM, "k2", recurrent.PerStepBN},
		{recurrent.LSTM, "bc", recurrent.None},
		{recurrent.GRU, "binary", recurrent.PerStepBN},
		{recurrent.GRU, "fp", recurrent.None},
	}
	for i, tc := range cases {
		m := WordLM{Vocab: V, Embed: 6, Hidden: 8, Cell: tc.cell, Quantizer: tc.q, Normalization: tc.norm, Dropout: 0.5}
		name := fmt.Sprintf("%s/%s/%s", tc.cell, tc.q, tc.norm)
		store, _ := trainWordLM(t, m, ws, 40, 20, int64(10+i))
		m.Inference = recurrent.DeployMode
		want, err := EvalWordLM(context.Background(), backend.Must(), store, m, ws, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pm, err := ExportWordLM(backend.Must(), store, "/", nil)
		if err != nil {
			t.Fatalf("%s: export: %v", name, err)
		}
		if pm.Input != packed.Embedding || pm.EmbeddingDim != 6 || pm.Classes != V || pm.Layers[0].Cell != tc.cell {
			t.Fatalf("%s: exported %v input, dim %d, %d classes, cell %v", name, pm.Input, pm.EmbeddingDim, pm.Classes, pm.Layers[0].Cell)
		}
		wantSteps := map[recurrent.Normalization]int{recurrent.PerStepBN: T, recurrent.None: 1}[tc.norm]
		if pm.Layers[0].Steps != wantSteps {
			t.Errorf("%s: exported Steps %d, want %d", name, pm.Layers[0].Steps, wantSteps)
		}
		for _, mk := range []func(*packed.Model) (*packed.Engine, error){packed.NewEngine, packed.NewReferenceEngine} {
			e, err := mk(pm)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := PackedWordLMNLL(e, ws, 0)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got.Count != want.Count || math.Abs(got.Mean()-want.Mean()) > 2e-5 {
				t.Errorf("%s, %s kernel: packed %.6f nats/token over %d, GoMLX deploy %.6f over %d",
					name, e.Kernel(), got.Mean(), got.Count, want.Mean(), want.Count)
			}
		}
	}
}

// TestWordLMStateCarried checks truncated BPTT: without normalization and
// with full-precision weights, evaluating a stream in windows of 3 with the
// state carried equals evaluating it in windows of 12 (and a model that
// drops the state between windows does worse on a learnable stream).
func TestWordLMStateCarried(t *testing.T) {
	const V, B = 11, 3
	data := wordStream(B*12*4+1, V, 5)
	long, err := datasets.NewWordStreams(data, B, 12)
	if err != nil {
		t.Fatal(err)
	}
	short, _ := datasets.NewWordStreams(data, B, 3)
	m := WordLM{Vocab: V, Embed: 5, Hidden: 7, Normalization: recurrent.None}
	store, losses := trainWordLM(t, m, long, 80, 10, 1)
	if !(losses[len(losses)-1] < losses[0]-0.3) {
		t.Errorf("training did not learn: loss %.3f -> %.3f", losses[0], losses[len(losses)-1])
	}
	a, err := EvalWordLM(context.Background(), backend.Must(), store, m, long, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EvalWordLM(context.Background(), backend.Must(), store, m, short, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Count != b.Count || math.Abs(a.Mean()-b.Mean()) > 1e-5 {
		t.Errorf("windows of 12: %.6f over %d tokens; windows of 3 (state carried): %.6f over %d", a.Mean(), a.Count, b.Mean(), b.Count)
	}
	// The carried state variables hold a non-zero, finite state.
	v := store.GetVariable("/" + WordLMStateScope + "/h")
	if v == nil {
		t.Fatal("no carried state variable")
	}
	h := tensors.MustCopyFlatData[float32](v.MustValue())
	nonzero := 0
	for _, x := range h {
		if math.IsNaN(float64(x)) {
			t.Fatal("NaN in carried state")
		}
		if x != 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Error("carried state is all zeros after training")
	}
}

// TestWordLMValidate checks configuration errors.
func TestWordLMValidate(t *testing.T) {
	for _, m := range []WordLM{
		{Vocab: 1, Embed: 3, Hidden: 3},
		{Vocab: 10, Embed: 0, Hidden: 3},
		{Vocab: 10, Embed: 3, Hidden: 3, Dropout: 1},
		{Vocab: 10, Embed: 3, Hidden: 3, Quantizer: "nope"},
		{Vocab: 10, Embed: 3, Hidden: 3, Cell: 9},
	} {
		if err := m.Validate(); err == nil {
			t.Errorf("%+v: no error", m)
		}
	}
	if err := (WordLM{Vocab: 10, Embed: 3, Hidden: 3, Quantizer: "ternary", Dropout: 0.5}).Validate(); err != nil {
		t.Error(err)
	}
}

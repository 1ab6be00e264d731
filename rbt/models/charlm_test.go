package models

import (
	"errors"
	"io/fs"
	"math"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// ptbSlice loads PTB characters (datasets.LoadPTBChar) and returns the first
// trainLen training and evalLen validation symbols; it skips the test when
// the data is absent.
func ptbSlice(t *testing.T, trainLen, evalLen int) (train, valid []uint8, symbols int) {
	t.Helper()
	c, err := datasets.LoadPTBChar()
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("PTB characters not found: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c.Train[:trainLen], c.Valid[:evalLen], c.NumSymbols()
}

// unigramBits is the entropy of the symbol frequencies of data, in bits.
func unigramBits(data []uint8) float64 {
	var counts [256]float64
	for _, s := range data {
		counts[s]++
	}
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := c / float64(len(data))
			h -= p * math.Log2(p)
		}
	}
	return h
}

// splitXY cuts int32 windows [B, T+1] into inputs [B, T] and labels [B, T].
func splitXY(w []int32, B, T int) (*tensors.Tensor, *tensors.Tensor) {
	x, y := make([]int32, B*T), make([]int32, B*T)
	for b := range B {
		copy(x[b*T:], w[b*(T+1):b*(T+1)+T])
		copy(y[b*T:], w[b*(T+1)+1:(b+1)*(T+1)])
	}
	return tensors.FromFlatDataAndDimensions(x, B, T), tensors.FromFlatDataAndDimensions(y, B, T)
}

// trainCharLM trains m for steps batches on windows of data and returns the
// validation BPC (code-mode evaluation, as the authors' code evaluates) and
// the trained store.
func trainCharLM(t *testing.T, m CharLM, data, valid []uint8, steps, B, T int, lr float64, clip bool) (float64, *model.Store) {
	t.Helper()
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(42); err != nil {
		t.Fatal(err)
	}
	tr := train.NewTrainer(backend.Must(), store, m.Logits, CharLMLoss,
		optim.Adam().LearningRate(lr).ClipLatent(clip).Done(), nil, nil)
	win, err := datasets.NewCharWindows(data, T, B, 7)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int32, B*(T+1))
	per := win.BatchesPerEpoch()
	for i := range steps {
		if err := win.BatchInto(i/per, i%per, buf); err != nil {
			t.Fatal(err)
		}
		x, y := splitXY(buf, B, T)
		if _, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}}); err != nil {
			t.Fatal(err)
		}
	}
	// Validation: consecutive non-overlapping windows of the valid slice.
	var sum float64
	var count int
	for start := 0; start+B*(T+1) <= len(valid); start += B * (T + 1) {
		for i := range buf {
			buf[i] = int32(valid[start+i])
		}
		x, y := splitXY(buf, B, T)
		metrics, err := tr.EvalStep(train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}})
		if err != nil {
			t.Fatal(err)
		}
		sum += float64(tensors.ToScalar[float32](metrics[0]))
		count++
	}
	return sum / float64(count) / math.Ln2, store
}

// evalBPC is the mean cross-entropy in bits of m on consecutive windows of
// valid, evaluated with a plain model.Exec (not training).
func evalBPC(t *testing.T, store *model.Store, m CharLM, valid []uint8, B, T int) float64 {
	t.Helper()
	exec := model.MustNewExec(backend.Must(), store, func(scope *model.Scope, x, y *Node) *Node {
		return CharLMLoss([]*Node{y}, []*Node{m.Logits(scope, x)})
	})
	buf := make([]int32, B*(T+1))
	var sum float64
	var count int
	for start := 0; start+B*(T+1) <= len(valid); start += B * (T + 1) {
		for i := range buf {
			buf[i] = int32(valid[start+i])
		}
		x, y := splitXY(buf, B, T)
		sum += float64(tensors.ToScalar[float32](exec.MustCall(x, y)[0]))
		count++
	}
	return sum / float64(count) / math.Ln2
}

// TestCharLMLearns trains small char LMs (hidden 96, length 50, batch 32,
// 300 Adam steps at lr 0.003, binary runs with the step clipping) on the first
// 300k characters of PTB and evaluates bits per character on the first 33k
// characters of the validation split (code mode: sampled weights, batch
// statistics).
//
// Measured here (go1.27.3, GOEXPERIMENT=simd, Go backend, 2 shared cores;
// 25-60 s per model, depending on the load):
//
//	unigram entropy of the slice   4.329 bits
//	BN binary LSTM                 2.825 BPC  (deploy mode 2.766)
//	BN ternary LSTM                2.714 BPC  (deploy mode 2.656)
//	BinaryConnect, no BN           4.311 BPC  (no better than the unigram model)
//
// The test asserts that both BN models end at least 1 bit below the unigram
// entropy and that BinaryConnect without normalization (the paper's
// ablation) ends above the BN binary model.
func TestCharLMLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("learning test: ~1 min on 2 cores")
	}
	const B, T, steps, hidden, lr = 32, 50, 300, 96, 0.003
	data, valid, V := ptbSlice(t, 300_000, 33_000)
	uni := unigramBits(data)
	t.Logf("unigram entropy of the training slice: %.3f bits", uni)
	results := map[string]float64{}
	for _, c := range []struct {
		name string
		m    CharLM
		clip bool
	}{
		{"bn-binary", CharLM{Vocab: V, Hidden: hidden, Quantizer: "binary"}, true},
		{"bn-ternary", CharLM{Vocab: V, Hidden: hidden, Quantizer: "ternary"}, false},
		{"bc-nonorm", CharLM{Vocab: V, Hidden: hidden, Quantizer: "bc", Normalization: recurrent.None}, false},
	} {
		start := time.Now()
		bpc, store := trainCharLM(t, c.m, data, valid, steps, B, T, lr, c.clip)
		results[c.name] = bpc
		dm := c.m
		dm.Inference = recurrent.DeployMode
		t.Logf("%-10s validation BPC after %d steps: %.3f code mode, %.3f deploy mode (%.1fs)",
			c.name, steps, bpc, evalBPC(t, store, dm, valid, B, T), time.Since(start).Seconds())
	}
	for _, name := range []string{"bn-binary", "bn-ternary"} {
		if results[name] > uni-1 {
			t.Errorf("%s: BPC %.3f is not 1 bit below the unigram entropy %.3f", name, results[name], uni)
		}
	}
	if results["bc-nonorm"] <= results["bn-binary"] {
		t.Errorf("BinaryConnect without BN (%.3f BPC) should do worse than the BN binary LSTM (%.3f)",
			results["bc-nonorm"], results["bn-binary"])
	}
}

// TestExportCharLM trains a tiny 2-layer BN-binary char LM for a few steps on
// random tokens (length 5, so 5 per-step statistics), exports it with
// ExportCharLM and checks, on sequences of length 8 (steps 5..7 reuse the
// last statistics), that the deploy-mode GoMLX logits equal the packed
// package's float64 reference (packed.Reference64) and its engine
// (packed.NewEngine, bit-packed weights), row by row.
func TestExportCharLM(t *testing.T) {
	const V, B, T, Teval = 7, 4, 5, 8
	for _, q := range []string{"binary", "ternary", "fp"} {
		for _, cell := range []recurrent.Cell{recurrent.LSTM, recurrent.GRU} {
			m := CharLM{Vocab: V, Hidden: 6, Layers: 2, Quantizer: q, Cell: cell}
			store := model.NewStore()
			if err := store.SetRNGStateFromSeed(3); err != nil {
				t.Fatal(err)
			}
			tr := train.NewTrainer(backend.Must(), store, m.Logits, CharLMLoss, optim.Adam().LearningRate(0.05).Done(), nil, nil)
			rng := uint64(12345)
			next := func() int32 { rng = rng*6364136223846793005 + 1442695040888963407; return int32((rng >> 33) % V) }
			for range 20 {
				w := make([]int32, B*(T+1))
				for i := range w {
					w[i] = next()
				}
				x, y := splitXY(w, B, T)
				if _, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}}); err != nil {
					t.Fatal(err)
				}
			}
			pm, err := ExportCharLM(backend.Must(), store, "/", nil)
			if err != nil {
				t.Fatal(err)
			}
			toks := make([]int32, B*Teval)
			for i := range toks {
				toks[i] = next()
			}
			dm := m
			dm.Inference = recurrent.DeployMode
			out := model.MustNewExec(backend.Must(), store, dm.Logits).MustCall(tensors.FromFlatDataAndDimensions(toks, B, Teval))[0]
			logits := tensors.MustCopyFlatData[float32](out) // [B, Teval, V]
			eng, err := packed.NewEngine(pm)
			if err != nil {
				t.Fatal(err)
			}
			for b := range B {
				seq := make([]int, Teval)
				for i := range seq {
					seq[i] = int(toks[b*Teval+i])
				}
				ref, err := packed.Reference64(pm, seq, nil)
				if err != nil {
					t.Fatal(err)
				}
				engOut, err := eng.RunTokens(seq)
				if err != nil {
					t.Fatal(err)
				}
				var maxDiff, maxEng, scale float64
				for i := range Teval {
					for j := range V {
						g := float64(logits[(b*Teval+i)*V+j])
						maxDiff = math.Max(maxDiff, math.Abs(g-ref[i][j]))
						maxEng = math.Max(maxEng, math.Abs(float64(engOut[i*V+j])-ref[i][j]))
						scale = math.Max(scale, math.Abs(ref[i][j]))
					}
				}
				if maxDiff > 1e-4*math.Max(scale, 1) || maxEng > 1e-4*math.Max(scale, 1) {
					t.Errorf("%s/%v row %d: deploy graph vs Reference64 max diff %.3g, engine vs Reference64 %.3g (scale %.3g)",
						q, cell, b, maxDiff, maxEng, scale)
				}
			}
		}
	}
}

package recurrent_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/lstm"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/quant"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// Benchmarks of one training step (forward + backward + Adam update) of a
// character LM: hidden 256, length 50, batch 32, vocabulary 50.
//
//	go test -run '^$' -bench TrainStep -benchtime 5x ./rbt/recurrent/
//
// chars/s = B*T characters per second of training; cpu-s/step is the
// process CPU time per step, steadier than wall time on a shared machine.
//
// Measured 2026-12-06 (2 cores shared with three other developers' builds and
// tests, load average 1.4-9, so wall figures are noisy and CPU seconds the
// steadier measure; go1.27.3, Go backend, GOEXPERIMENT=simd), CPU seconds per
// step, median of 3 runs of 10 steps, the commit before the batched input
// side and gradients (grad.go) against after, alternating in one session:
//
//	                    before   after
//	fp-bn               0.107    0.079
//	binary-bn           0.112    0.081
//	ternary-bn          0.122    0.082
//	fp-nonorm           0.089    0.063
//
// Lengths (BenchmarkLength, CPU s/step, BN-binary): char LM T=100 0.32 ->
// 0.17; sequential MNIST (n=100, B=100, T=784) 1.41 -> 1.27, build+compile
// 0.9 s. BenchmarkCompile (build+compile CPU s): T=100 0.081 -> 0.064,
// T=400 0.58 -> 0.38. Earlier figures of the same benchmarks (another load):
// gomlx-lstm (float) 0.92, and without simd fp-bn 1.25, binary-bn 1.31.
//
// The recurrent product in gate blocks and the closed-form batch-norm
// backward (2026-12-07, commit 494f937 against 7ddbc6a, alternating, three
// rounds of 30 steps, machine shared): fp-bn 82/94/95 -> 67/78/83 ms per step
// (CPU 0.110/0.125/0.126 -> 0.097/0.113/0.118 s), binary-bn 86/92/111 ->
// 80/83/80 ms (CPU 0.116/0.124/0.149 -> 0.116/0.120/0.115 s).
// `make bench-peer` compares with PyTorch (README: 2.0-2.4x at hidden 256).
const (
	benchB, benchT, benchV, benchN = 32, 50, 50, 256
)

func randomTokens(b, t, v int, seed uint64) (*tensors.Tensor, *tensors.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]int32, b*(t+1))
	for i := range x {
		x[i] = int32(rng.IntN(v))
	}
	in, lab := make([]int32, b*t), make([]int32, b*t)
	for i := range b {
		copy(in[i*t:], x[i*(t+1):i*(t+1)+t])
		copy(lab[i*t:], x[i*(t+1)+1:(i+1)*(t+1)])
	}
	return tensors.FromFlatDataAndDimensions(in, b, t), tensors.FromFlatDataAndDimensions(lab, b, t)
}

// gomlxLSTMLogits is the same char LM on GoMLX's own float ml/layers/lstm.
func gomlxLSTMLogits(scope *model.Scope, tokens *Node) *Node {
	x := OneHot(tokens, benchV, dtypes.Float32)
	all, _, _ := lstm.New(scope.In("lstm"), x, benchN).Done() // [T, 1, B, n]
	h := Transpose(Reshape(all, benchT, benchB, benchN), 0, 1)
	return models.OutputLayer(scope.In("output"), h, benchV)
}

func benchTrainer(b *testing.B, modelFn func(*model.Scope, *Node) *Node, clip bool) *train.Trainer {
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(1); err != nil {
		b.Fatal(err)
	}
	opt := optim.Adam().LearningRate(0.002).ClipLatent(clip).Done()
	return train.NewTrainer(backend.Must(), store, modelFn, models.CharLMLoss, opt, nil, nil)
}

// BenchmarkTrainStep compares full precision, BN-binary and BN-ternary
// (per-step BN on all three products, learned h_0/c_0, one weight sample per
// pass, binary step clipping) with GoMLX's own float LSTM layer.
func BenchmarkTrainStep(b *testing.B) {
	cases := []struct {
		name string
		fn   func(*model.Scope, *Node) *Node
		clip bool
	}{
		{"gomlx-lstm", gomlxLSTMLogits, false},
		{"fp-bn", models.CharLM{Vocab: benchV, Hidden: benchN, Quantizer: "fp"}.Logits, false},
		{"binary-bn", models.CharLM{Vocab: benchV, Hidden: benchN, Quantizer: "binary"}.Logits, true},
		{"ternary-bn", models.CharLM{Vocab: benchV, Hidden: benchN, Quantizer: "ternary"}.Logits, false},
		{"fp-nonorm", models.CharLM{Vocab: benchV, Hidden: benchN, Quantizer: "fp", Normalization: recurrent.None}.Logits, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			tr := benchTrainer(b, c.fn, c.clip)
			x, y := randomTokens(benchB, benchT, benchV, 3)
			step := func() {
				if _, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}}); err != nil {
					b.Fatal(err)
				}
			}
			start := time.Now()
			step() // build + compile + first step
			first := time.Since(start).Seconds()
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for range b.N {
				step()
			}
			b.ReportMetric(first, "first-step-s")
			b.ReportMetric(float64(benchB*benchT)*float64(b.N)/b.Elapsed().Seconds(), "chars/s")
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/step")
		})
	}
}

// BenchmarkLength measures build+compile time (first step) and step time of
// the BN-binary char LM (hidden 256, batch 32) at lengths 50, 100, 200, and
// of the sequential-MNIST BN-binary classifier (hidden 100, input 1, batch
// 100, length 784): the unrolled graph grows linearly with the length.
func BenchmarkLength(b *testing.B) {
	for _, T := range []int{50, 100, 200} {
		b.Run(fmt.Sprintf("charlm-binary-T%d", T), func(b *testing.B) {
			tr := benchTrainer(b, models.CharLM{Vocab: benchV, Hidden: benchN, Quantizer: "binary"}.Logits, true)
			x, y := randomTokens(benchB, T, benchV, 4)
			runLength(b, tr, x, y, benchB*T)
		})
	}
	b.Run("smnist-binary-T784", func(b *testing.B) {
		const B, T, n = 100, 784, 100
		fn := func(scope *model.Scope, x *Node) *Node {
			_, st := recurrent.New(scope.In("rnn"), x, n).Quantizer(quant.MustLookup("binary")).InitialStateNoise(0.1).Done()
			h := ExpandAxes(st.H[0], 1) // [B, 1, n]
			return Reshape(models.OutputLayer(scope.In("output"), h, 10), B, 10)
		}
		store := model.NewStore()
		if err := store.SetRNGStateFromSeed(1); err != nil {
			b.Fatal(err)
		}
		lossFn := func(labels, logits []*Node) *Node {
			return ReduceAllMean(loss.SparseCategoricalCrossEntropyLogits([]*Node{InsertAxes(labels[0], -1)}, logits))
		}
		tr := train.NewTrainer(backend.Must(), store, fn, lossFn, optim.Adam().LearningRate(0.004).ClipLatent(true).Done(), nil, nil)
		rng := rand.New(rand.NewPCG(5, 5))
		px := make([]float32, B*T)
		for i := range px {
			px[i] = rng.Float32()
		}
		lab := make([]int32, B)
		for i := range lab {
			lab[i] = int32(rng.IntN(10))
		}
		runLength(b, tr, tensors.FromFlatDataAndDimensions(px, B, T, 1), tensors.FromFlatDataAndDimensions(lab, B), B*T)
	})
}

func runLength(b *testing.B, tr *train.Trainer, x, y *tensors.Tensor, symbols int) {
	step := func() {
		if _, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}}); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	step()
	first := time.Since(start)
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for range b.N {
		step()
	}
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/step")
	b.ReportMetric(first.Seconds()-per, "build+compile-s")
	b.ReportMetric(per, "step-s")
	b.ReportMetric(float64(symbols)/per, "symbols/s")
}

// BenchmarkCompile builds and compiles (without running) the forward and
// gradient graph of the BN-binary char LM (hidden 256, batch 32) at several
// lengths: the time per op is build+compile time.
func BenchmarkCompile(b *testing.B) {
	for _, T := range []int{50, 100, 200, 400} {
		b.Run(fmt.Sprintf("T%d", T), func(b *testing.B) {
			m := models.CharLM{Vocab: benchV, Hidden: benchN, Quantizer: "binary"}
			cpu0 := cpuSeconds()
			for range b.N {
				store := model.NewStore()
				exec := model.MustNewExec(backend.Must(), store, func(scope *model.Scope, x, y *Node) []*Node {
					scope.SetTraining(x.Graph(), true)
					loss := models.CharLMLoss([]*Node{y}, []*Node{m.Logits(scope, x)})
					return append([]*Node{loss}, scope.BuildTrainableVariablesGradientsGraph(loss)...)
				})
				if _, err := exec.Compile(shapes.Make(dtypes.Int32, benchB, T), shapes.Make(dtypes.Int32, benchB, T)); err != nil {
					b.Fatal(err)
				}
				exec.Finalize()
			}
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
		})
	}
}

package packed

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchKernels are the weight kinds and kernels the step benchmarks compare.
var benchKernels = []struct {
	name   string
	w      WeightKind
	kernel Kernel
}{
	{"binary-lut", Binary, KernelLUT},
	{"ternary-lut", Ternary, KernelLUT},
	{"binary-lutportable", Binary, KernelLUTPortable},
	{"ternary-lutbase3", Ternary, KernelLUTPortable},
	{"ternary-lut2bit", Ternary, KernelLUT2Bit},
	{"float32-reference", Binary, KernelFloat32},
}

// BenchmarkLSTMStep times one LSTM step (both products, gates, state update;
// no output layer) at batch 1 with dense input of width = hidden, the shape of
// the paper's PTB-char model (1000) and a small one (256), for every kernel:
//
//	GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd go test ./rbt/packed -run '^$' -bench LSTMStep -benchtime 2s
//
// Custom metrics: steps/s, and weightB = resident bytes of Wx and Wh.
func BenchmarkLSTMStep(b *testing.B) {
	for _, n := range []int{1000, 256} {
		for _, c := range benchKernels {
			b.Run(fmt.Sprintf("h%d/%s", n, c.name), func(b *testing.B) {
				benchStep(b, LSTM, c.w, c.kernel, n, 1)
			})
		}
	}
}

// BenchmarkLSTMStepBatch times the same step for small batches (per batch step).
func BenchmarkLSTMStepBatch(b *testing.B) {
	for _, batch := range []int{4, 16} {
		for _, k := range []Kernel{KernelLUT, KernelFloat32} {
			b.Run(fmt.Sprintf("h1000/batch%d/binary-%s", batch, k), func(b *testing.B) {
				benchStep(b, LSTM, Binary, k, 1000, batch)
			})
		}
	}
}

// BenchmarkGRUStep is the GRU counterpart at hidden 1000.
func BenchmarkGRUStep(b *testing.B) {
	for _, k := range []Kernel{KernelLUT, KernelFloat32} {
		b.Run("h1000/binary-"+k.String(), func(b *testing.B) { benchStep(b, GRU, Binary, k, 1000, 1) })
	}
}

func benchStep(b *testing.B, cell CellKind, w WeightKind, k Kernel, n, batch int) {
	m, err := RandomModel(RandomSpec{Cell: cell, Weights: w, Input: Dense, Features: n, Hidden: []int{n}, Classes: 2, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	e, err := NewEngineKernel(m, k)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, batch*n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	s := e.NewState(batch)
	b.ResetTimer()
	for b.Loop() {
		if err := e.StepDense(s, x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(float64(e.WeightBytes()), "weightB")
}

// BenchmarkCharLM scores characters with the PTB-char model's shape (one-hot
// input of 50 symbols, one LSTM layer of 1000 units, 50-way output layer):
// one StepTokens and one Logits per character, batch 1. chars/s is the
// figure to compare:
//
//	go test ./rbt/packed -run '^$' -bench CharLM
func BenchmarkCharLM(b *testing.B) {
	for _, c := range benchKernels {
		b.Run(c.name, func(b *testing.B) {
			m, err := RandomModel(RandomSpec{Cell: LSTM, Weights: c.w, Input: OneHot, Vocab: 50, Hidden: []int{1000}, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			e, err := NewEngineKernel(m, c.kernel)
			if err != nil {
				b.Fatal(err)
			}
			s, logits, tok := e.NewState(1), make([]float32, e.Classes()), []int{0}
			for i := 0; b.Loop(); i++ {
				tok[0] = i * 7 % 50
				if err := e.StepTokens(s, tok); err != nil {
					b.Fatal(err)
				}
				if err := e.Logits(s, logits); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "chars/s")
		})
	}
}

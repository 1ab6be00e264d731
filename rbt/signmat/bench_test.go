package signmat

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMulFloat32 times one product at the PTB-char LSTM size (Wx or Wh:
// 1000 inputs x 4000 gate units) with the AVX2 and portable kernels:
//
//	go test ./rbt/signmat -run '^$' -bench Mul
func BenchmarkMulFloat32(b *testing.B) {
	saved := Accelerated
	defer func() { Accelerated = saved }()
	for _, ternary := range []bool{false, true} {
		for _, acc := range []bool{true, false} {
			if acc && !saved {
				continue
			}
			b.Run(fmt.Sprintf("ternary=%v/accelerated=%v", ternary, acc), func(b *testing.B) {
				Accelerated = acc
				rng := rand.New(rand.NewPCG(1, 2))
				m, err := New(1000, 4000, randomSigns(rng, 4_000_000, ternary), ternary)
				if err != nil {
					b.Fatal(err)
				}
				x := make([]float32, 1000)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				out, scratch := make([]float32, 4000), make([]float32, m.ScratchLen())
				for b.Loop() {
					m.MulFloat32(x, out, scratch)
				}
				b.ReportMetric(4e6*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gweights/s")
			})
		}
	}
}

package packed

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestActivationSlices checks that the slice activations (AVX2 where it
// runs) are bit-identical to sigmoid32 and tanh32 on random values across
// the whole range, the clamping edges, zeros, infinities and NaN, at lengths
// that leave every possible tail.
func TestActivationSlices(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 43.5, -43.5, 44, -44, 87, -87, 88, -88, 100, -100,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0.5, -0.5, 1e-7}
	for _, n := range []int{0, 1, 7, 8, 9, 31, 1000} {
		x := make([]float32, n)
		for i := range x {
			if i < len(special) && n >= 31 {
				x[i] = special[i]
			} else {
				x[i] = float32(rng.NormFloat64() * math.Pow(10, rng.Float64()*3-1))
			}
		}
		for _, f := range []struct {
			name   string
			slice  func([]float32)
			scalar func(float32) float32
		}{{"sigmoid", sigmoidSlice, sigmoid32}, {"tanh", tanhSlice, tanh32}} {
			got := append([]float32(nil), x...)
			f.slice(got)
			for i, v := range x {
				want := f.scalar(v)
				if math.Float32bits(got[i]) != math.Float32bits(want) && !(want != want && got[i] != got[i]) {
					t.Fatalf("%s n=%d: %s(%g) = %g (bits %08x), scalar %g (bits %08x); vector=%v",
						f.name, n, f.name, v, got[i], math.Float32bits(got[i]), want, math.Float32bits(want), vectorActivations)
				}
			}
		}
	}
}

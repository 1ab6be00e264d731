package packed

import "math"

// Float32 activations shared by the packed engine and the float32 reference
// path. math.Exp works in float64 and costs ~15-20 ns; a step of the PTB-char
// LSTM needs 5000 of them, as much time as the packed products themselves, so
// exp is computed in float32 with Cody-Waite range reduction and a degree-6
// polynomial (relative error about 2e-7 over the whole range).

const (
	log2e  = 1.44269504088896341
	ln2Hi  = 0.693145751953125      // ln 2 with its low 12 bits cleared: k*ln2Hi is exact
	ln2Lo  = 1.42860682030941723e-6 // ln 2 - ln2Hi
	expMax = 88.0                   // exp(88) = 1.65e38 < MaxFloat32; 2^k stays normal
	expMin = -87.0                  // exp(-87) = 1.6e-38 > smallest normal float32
)

// exp32 returns e^x for float32 x, clamped to [e^-87, e^88].
func exp32(x float32) float32 {
	if x > expMax {
		x = expMax
	} else if x < expMin {
		x = expMin
	} else if x != x { // NaN
		return x
	}
	t := x * log2e
	if t >= 0 {
		t += 0.5
	} else {
		t -= 0.5
	}
	k := int32(t) // round half away from zero; |k| <= 127
	kf := float32(k)
	r := (x - kf*ln2Hi) - kf*ln2Lo // |r| <= ln2/2
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return p * math.Float32frombits(uint32(k+127)<<23)
}

// sigmoid32 is 1/(1+e^-x).
func sigmoid32(x float32) float32 { return 1 / (1 + exp32(-x)) }

// tanh32 is 1 - 2/(e^(2x)+1) (absolute error about 1e-7).
func tanh32(x float32) float32 { return 1 - 2/(exp32(2*x)+1) }

// sigmoidSlice sets x[i] = sigmoid32(x[i]), eight at a time with AVX2
// (bit-identical to the scalar function).
func sigmoidSlice(x []float32) {
	for i := activate8(x, -1, 0, 1); i < len(x); i++ {
		x[i] = sigmoid32(x[i])
	}
}

// tanhSlice sets x[i] = tanh32(x[i]), eight at a time with AVX2
// (bit-identical to the scalar function).
func tanhSlice(x []float32) {
	for i := activate8(x, 2, 1, -2); i < len(x); i++ {
		x[i] = tanh32(x[i])
	}
}

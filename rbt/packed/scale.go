package packed

import "math"

// W0 is the quantization scale of a fanIn x fanOut matrix, as in the authors'
// code: half the Glorot-uniform bound, sqrt(6/(fanIn+fanOut))/2. For an LSTM
// fanOut = 4n (Wx: fanIn = d, Wh: fanIn = n); for a GRU fanOut = 3n.
//
// It lives here, in the GoMLX-free engine, so that the simulator (hwsim) and
// rbt/quant (which trains with it) share one formula.
func W0(fanIn, fanOut int) float64 {
	return math.Sqrt(6/float64(fanIn+fanOut)) / 2
}

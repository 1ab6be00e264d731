package hwsim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rbt-project/rbt/rbt/packed"
)

func TestRoundingAndSaturation(t *testing.T) {
	for _, tc := range []struct {
		x    int64
		sh   int
		want int64
	}{{5, 1, 3}, {-5, 1, -2}, {4, 2, 1}, {6, 2, 2}, {-6, 2, -1}, {7, 0, 7}, {3, -2, 12}, {1, 63, 0}} {
		if got := rshiftRound(tc.x, tc.sh); got != tc.want {
			t.Errorf("rshiftRound(%d, %d) = %d, want %d", tc.x, tc.sh, got, tc.want)
		}
	}
	if rshiftRound(1<<40, -30) != math.MaxInt64>>1 {
		t.Error("left shift does not saturate")
	}
	for _, tc := range []struct {
		x    int64
		bits int
		want int64
	}{{127, 8, 127}, {128, 8, 127}, {-128, 8, -128}, {-129, 8, -128}, {0, 2, 0}} {
		if got := satBits(tc.x, tc.bits); got != tc.want {
			t.Errorf("satBits(%d, %d) = %d, want %d", tc.x, tc.bits, got, tc.want)
		}
	}
	if q := quantize(0.5, 3, 8); q != 4 {
		t.Errorf("quantize(0.5, 3, 8) = %d", q)
	}
	if q := quantize(100, 3, 8); q != 127 {
		t.Errorf("quantize saturates to %d", q)
	}
}

func TestBFP(t *testing.T) {
	v := []float64{0.3, -1.7, 0.001, 0}
	b := newBFP(v, 8)
	for j, x := range v {
		got := float64(b.M[j]) * math.Exp2(-float64(b.E))
		if math.Abs(got-x) > math.Exp2(-float64(b.E))/2+1e-15 {
			t.Errorf("bfp[%d] = %g, want %g", j, got, x)
		}
		if b.M[j] > 127 || b.M[j] < -127 {
			t.Errorf("mantissa %d out of 8 bits", b.M[j])
		}
	}
	if b.M[1] > -64 { // the largest magnitude uses the top bit
		t.Errorf("mantissa of the largest value %d does not use the range", b.M[1])
	}
}

// The tables' measured error must shrink with more entries, PWL must beat a
// LUT of the same size, and be within the analytic bounds: a LUT's error is
// at most half a bin times the largest slope plus half an output ulp.
func TestNonlinTables(t *testing.T) {
	mk := func(kind NonlinKind, entries int) Config {
		c := MustExampleConfig("binary")
		c.Datapath = Datapath{ActBits: 16, AccBits: 32, InternalBits: 20, InternalFrac: 14, ParamBits: 12, InputFrac: 12}
		c.Nonlin = Nonlin{Kind: kind, Entries: entries, Range: 8}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	prev := math.Inf(1)
	for _, e := range []int{64, 256, 1024} {
		c := mk(LUT, e)
		tab := newNonlinTable(&c, math.Tanh)
		bound := 16.0/float64(e)/2 + math.Exp2(-16)
		if tab.maxErr > bound || tab.maxErr >= prev {
			t.Errorf("LUT %d: tanh error %g (bound %g, previous %g)", e, tab.maxErr, bound, prev)
		}
		prev = tab.maxErr
		cp := mk(PWL, e)
		pw := newNonlinTable(&cp, math.Tanh)
		if pw.maxErr >= tab.maxErr {
			t.Errorf("PWL %d error %g not below LUT %g", e, pw.maxErr, tab.maxErr)
		}
	}
	c := mk(PWL, 64)
	s := newNonlinTable(&c, sigmoid)
	// saturated inputs give the end values
	if got := s.eval(-1 << 30); got != s.vals[0] {
		t.Errorf("sigmoid(-inf) = %d", got)
	}
	if got := s.eval(1 << 30); got != s.vals[len(s.vals)-1] {
		t.Errorf("sigmoid(+inf) = %d", got)
	}
}

// dotTables (four Russians) against dotPlanes (bit planes) and a naive sum.
func TestSignKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, a := range []int{2, 8, 12, 16, 24} {
		for _, K := range []int{1, 63, 64, 65, 200} {
			in := make([]int64, K)
			lim := int64(1) << (a - 1)
			for i := range in {
				in[i] = rng.Int64N(2*lim) - lim
			}
			nw := (K + 63) / 64
			row := make([]uint64, nw)
			var naive int64
			for k := 0; k < K; k++ {
				if rng.IntN(2) == 1 {
					row[k>>6] |= 1 << uint(k&63)
					naive += in[k]
				}
			}
			T := make([][256]int32, nw*8)
			buildSubsetSums(in, T)
			planes := make([]uint64, nw*a)
			for k, v := range in {
				u := uint64(v) & (uint64(1)<<a - 1)
				for p := 0; p < a; p++ {
					planes[(k>>6)*a+p] |= ((u >> p) & 1) << uint(k&63)
				}
			}
			if got := dotTables(T, row); got != naive {
				t.Errorf("a=%d K=%d: dotTables %d, want %d", a, K, got, naive)
			}
			if got := dotPlanes(planes, row, a); got != naive {
				t.Errorf("a=%d K=%d: dotPlanes %d, want %d", a, K, got, naive)
			}
		}
	}
}

// Narrower activations lose accuracy monotonically on the same model.
func TestErrorShrinksWithWidth(t *testing.T) {
	m, err := packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, Vocab: 20, Hidden: []int{64}, Steps: 3, Seed: 21, BatchNorm: true})
	if err != nil {
		t.Fatal(err)
	}
	toks := make([]int, 200)
	for i := range toks {
		toks[i] = (7*i + i/3) % 20
	}
	prev := math.Inf(1)
	for _, a := range []int{6, 10, 14} {
		c := hiPrecision(Binary, 1).WithActBits(a)
		sim, err := NewSim(c, m)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := sim.EvalTokens(toks, EvalOptions{Segment: 50, Reference: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("act %2d bits: BPC %.5f (float %.5f), max |dh| %.3g", a, ev.BPC, ev.RefBPC, ev.MaxAbsDH)
		if ev.MaxAbsDH >= prev {
			t.Errorf("act %d bits: max |dh| %g not below %g", a, ev.MaxAbsDH, prev)
		}
		prev = ev.MaxAbsDH
	}
}

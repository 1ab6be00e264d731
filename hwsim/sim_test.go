package hwsim

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/signmat"
)

// hiPrecision returns a design with wide formats, whose output should track
// the float64 reference closely.
func hiPrecision(w WeightFormat, wbits int) Config {
	c := MustExampleConfig("binary")
	c.Name = "hi-precision"
	c.Weights, c.WeightBits = w, wbits
	c.Datapath = Datapath{ActBits: 16, AccBits: 40, InternalBits: 28, InternalFrac: 18, ParamBits: 20, InputFrac: 14}
	c.Nonlin = Nonlin{Kind: PWL, Entries: 1024, Range: 16}
	return c
}

func TestSimMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   packed.RandomSpec
		design WeightFormat
		wbits  int
		tol    float64
	}{
		{"lstm-binary-onehot", packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, Vocab: 11, Hidden: []int{70}, Steps: 5, Seed: 1, BatchNorm: true}, Binary, 1, 2e-3},
		{"lstm-ternary-onehot-2layers", packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Ternary, Input: packed.OneHot, Vocab: 9, Hidden: []int{65, 65}, Steps: 3, Seed: 2, BatchNorm: true}, Ternary, 2, 2e-3},
		{"gru-binary-dense", packed.RandomSpec{Cell: packed.GRU, Weights: packed.Binary, Input: packed.Dense, Features: 3, Classes: 3, Hidden: []int{40}, Steps: 4, Seed: 3, BatchNorm: true}, Binary, 1, 2e-3},
		{"lstm-float-on-fixed16", packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Float32, Input: packed.OneHot, Vocab: 7, Hidden: []int{33}, Steps: 2, Seed: 4, BatchNorm: true}, Fixed, 16, 5e-3},
		{"gru-ternary-on-fixed12", packed.RandomSpec{Cell: packed.GRU, Weights: packed.Ternary, Input: packed.OneHot, Vocab: 6, Hidden: []int{30, 30}, Steps: 2, Seed: 5, BatchNorm: true}, Fixed, 12, 2e-3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := packed.RandomModel(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			sim, err := NewSim(hiPrecision(tc.design, tc.wbits), m)
			if err != nil {
				t.Fatal(err)
			}
			ref, _ := NewReference(m, 0)
			st := sim.NewState()
			in := max(tc.spec.Vocab, tc.spec.Features) // one-hot tokens or dense features
			rng := rand.New(rand.NewPCG(9, 9))
			worst := 0.0
			for step := 0; step < 40; step++ {
				tok := rng.IntN(in)
				x := make([]float32, in)
				for i := range x {
					x[i] = float32(rng.Float64())
				}
				if m.Input == packed.Dense {
					if err := st.StepDense(x); err != nil {
						t.Fatal(err)
					}
				} else if err := st.StepToken(tok); err != nil {
					t.Fatal(err)
				}
				ref.Step(tok, x)
				for li := range m.Layers {
					got := st.HFloat(nil, li)
					for k, v := range ref.H(li) {
						worst = math.Max(worst, math.Abs(got[k]-v))
					}
				}
			}
			t.Logf("max |h_fixed - h_float| over 40 steps = %.3g", worst)
			if worst > tc.tol {
				t.Errorf("max |dh| = %g > %g", worst, tc.tol)
			}
		})
	}
}

// dotPlanes is a second, independent formulation used by the tests:
// sum_k mask_k * v_k for the a-bit two's-complement vector v
// stored as bit planes (planes[w*a+p] holds bit p of v[64w .. 64w+63]):
// sum_p c_p * popcount(plane_p & mask), c_p = 2^p, c_{a-1} = -2^(a-1).
func dotPlanes(planes []uint64, mask []uint64, a int) int64 {
	var cnt [32]int
	for w, m := range mask {
		if m == 0 {
			continue
		}
		pl := planes[w*a : w*a+a]
		for p, x := range pl {
			cnt[p&31] += bits.OnesCount64(x & m)
		}
	}
	var sum int64
	for p := 0; p < a-1; p++ {
		sum += int64(cnt[p]) << p
	}
	return sum - int64(cnt[a-1])<<(a-1)
}

// TestSignKernelPathsBitExact runs the same models through the simulator
// twice, with signmat's int32 kernels and with the portable 256-entry
// subset-sum tables, and requires identical integer states at every step:
// the fast path changes the speed of the simulation, never its arithmetic.
func TestSignKernelPathsBitExact(t *testing.T) {
	if !signmat.Accelerated {
		t.Skip("signmat's AVX2 kernels do not run on this CPU; only the portable path exists")
	}
	for _, tc := range []struct {
		name    string
		spec    packed.RandomSpec
		design  WeightFormat
		wbits   int
		actBits int
	}{
		{"lstm-binary-onehot-a8", packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, Vocab: 11, Hidden: []int{70}, Steps: 5, Seed: 11, BatchNorm: true}, Binary, 1, 8},
		{"lstm-ternary-2layers-a12", packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Ternary, Input: packed.OneHot, Vocab: 9, Hidden: []int{65, 65}, Steps: 3, Seed: 12, BatchNorm: true}, Ternary, 2, 12},
		{"gru-binary-dense-a16", packed.RandomSpec{Cell: packed.GRU, Weights: packed.Binary, Input: packed.Dense, Features: 37, Classes: 37, Hidden: []int{40}, Steps: 4, Seed: 13, BatchNorm: true}, Binary, 1, 16},
		{"lstm-ternary-dense-a24-falls-back", packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Ternary, Input: packed.Dense, Features: 300, Classes: 300, Hidden: []int{200}, Steps: 2, Seed: 14, BatchNorm: true}, Ternary, 2, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := packed.RandomModel(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			cfg := hiPrecision(tc.design, tc.wbits)
			cfg.Datapath.ActBits = tc.actBits
			cfg.Datapath.InputFrac = tc.actBits - 2
			var states [2]*State
			for i, accel := range []bool{true, false} {
				signmat.Accelerated = accel
				sim, err := NewSim(cfg, m)
				signmat.Accelerated = true
				if err != nil {
					t.Fatal(err)
				}
				uses := sim.layers[0].wh.signs != nil
				if want := accel && tc.actBits < 24; uses != want {
					t.Fatalf("accelerated=%v act_bits=%d: signmat path used = %v, want %v", accel, tc.actBits, uses, want)
				}
				states[i] = sim.NewState()
			}
			in := max(tc.spec.Vocab, tc.spec.Features) // one-hot tokens or dense features
			rng := rand.New(rand.NewPCG(5, 5))
			for step := range 30 {
				tok := rng.IntN(in)
				x := make([]float32, in)
				for i := range x {
					x[i] = float32(2*rng.Float64() - 1)
				}
				for _, st := range states {
					if m.Input == packed.Dense {
						err = st.StepDense(x)
					} else {
						err = st.StepToken(tok)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				for li := range m.Layers {
					fast, slow := states[0].H(li), states[1].H(li)
					for k := range fast {
						if fast[k] != slow[k] || (states[0].C(li) != nil && states[0].C(li)[k] != states[1].C(li)[k]) {
							t.Fatalf("step %d layer %d unit %d: signmat h=%d, tables h=%d", step, li, k, fast[k], slow[k])
						}
					}
				}
			}
		})
	}
}

// TestEvalProgress checks that EvalTokens reports progress from its workers
// and ends at the total.
func TestEvalProgress(t *testing.T) {
	m, err := packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, Vocab: 20, Hidden: []int{16}, Steps: 4, Seed: 3, BatchNorm: true})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := NewSim(MustExampleConfig("binary"), m)
	if err != nil {
		t.Fatal(err)
	}
	toks := make([]int, 3*progressEvery)
	for i := range toks {
		toks[i] = i * 7 % 20
	}
	var mu sync.Mutex
	var calls int
	var last, total int64
	_, err = sim.EvalTokens(toks, EvalOptions{Segment: 100, Workers: 2, Progress: func(done, tot int64) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		last, total = max(last, done), tot
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(toks) - 1); last != want || total != want || calls < 3 {
		t.Fatalf("progress: %d calls, last %d of %d, want >= 3 calls ending at %d", calls, last, total, want)
	}
}

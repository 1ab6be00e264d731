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
		spec   RandomSpec
		design WeightFormat
		wbits  int
		tol    float64
	}{
		{"lstm-binary-onehot", RandomSpec{Seed: 1, Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, In: 11, Hidden: 70, Steps: 5}, Binary, 1, 2e-3},
		{"lstm-ternary-onehot-2layers", RandomSpec{Seed: 2, Cell: packed.LSTM, Weights: packed.Ternary, Input: packed.OneHot, In: 9, Hidden: 65, Layers: 2, Steps: 3}, Ternary, 2, 2e-3},
		{"gru-binary-dense", RandomSpec{Seed: 3, Cell: packed.GRU, Weights: packed.Binary, Input: packed.Dense, In: 3, Hidden: 40, Steps: 4}, Binary, 1, 2e-3},
		{"lstm-float-on-fixed16", RandomSpec{Seed: 4, Cell: packed.LSTM, Weights: packed.Float32, Input: packed.OneHot, In: 7, Hidden: 33, Steps: 2}, Fixed, 16, 5e-3},
		{"gru-ternary-on-fixed12", RandomSpec{Seed: 5, Cell: packed.GRU, Weights: packed.Ternary, Input: packed.OneHot, In: 6, Hidden: 30, Layers: 2, Steps: 2}, Fixed, 12, 2e-3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := RandomModel(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			sim, err := NewSim(hiPrecision(tc.design, tc.wbits), m)
			if err != nil {
				t.Fatal(err)
			}
			ref, _ := NewReference(m, 0)
			st := sim.NewState()
			rng := rand.New(rand.NewPCG(9, 9))
			worst := 0.0
			for step := 0; step < 40; step++ {
				tok := rng.IntN(tc.spec.In)
				x := make([]float32, tc.spec.In)
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
		spec    RandomSpec
		design  WeightFormat
		wbits   int
		actBits int
	}{
		{"lstm-binary-onehot-a8", RandomSpec{Seed: 11, Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, In: 11, Hidden: 70, Steps: 5}, Binary, 1, 8},
		{"lstm-ternary-2layers-a12", RandomSpec{Seed: 12, Cell: packed.LSTM, Weights: packed.Ternary, Input: packed.OneHot, In: 9, Hidden: 65, Layers: 2, Steps: 3}, Ternary, 2, 12},
		{"gru-binary-dense-a16", RandomSpec{Seed: 13, Cell: packed.GRU, Weights: packed.Binary, Input: packed.Dense, In: 37, Hidden: 40, Steps: 4}, Binary, 1, 16},
		{"lstm-ternary-dense-a24-falls-back", RandomSpec{Seed: 14, Cell: packed.LSTM, Weights: packed.Ternary, Input: packed.Dense, In: 300, Hidden: 200, Steps: 2}, Ternary, 2, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := RandomModel(tc.spec)
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
			rng := rand.New(rand.NewPCG(5, 5))
			for step := range 30 {
				tok := rng.IntN(tc.spec.In)
				x := make([]float32, tc.spec.In)
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
	m, err := RandomModel(RandomSpec{Seed: 3, Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, In: 20, Hidden: 16, Steps: 4})
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

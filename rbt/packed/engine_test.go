package packed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rbt-project/rbt/rbt/signmat"
)

// testSpecs covers every cell x weight kind x input kind, two layers (so the
// hidden-to-input path of layer 1 is exercised) with sizes that are not
// multiples of the table group sizes (8, 5, 4 groups per pass).
func testSpecs() []RandomSpec {
	var specs []RandomSpec
	seed := uint64(1)
	for _, cell := range []CellKind{LSTM, GRU} {
		for _, w := range []WeightKind{Binary, Ternary, Float32} {
			for _, in := range []InputKind{OneHot, Embedding, Dense} {
				specs = append(specs, RandomSpec{
					Cell: cell, Weights: w, Input: in,
					Vocab: 11, EmbeddingDim: 37, Features: 43,
					Hidden: []int{29, 70}, Steps: 3, Classes: 11, Seed: seed,
				})
				seed++
			}
		}
	}
	return specs
}

func specName(s RandomSpec) string { return fmt.Sprintf("%s/%s/%s", s.Cell, s.Weights, s.Input) }

// randomInputs returns T tokens or T x Features values for the spec.
func randomInputs(s RandomSpec, steps int, seed uint64) ([]int, []float32) {
	rng := rand.New(rand.NewPCG(seed, 9))
	if s.Input == Dense {
		x := make([]float32, steps*s.Features)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return nil, x
	}
	tok := make([]int, steps)
	for i := range tok {
		tok[i] = rng.IntN(s.Vocab)
	}
	return tok, nil
}

func run(e *Engine, tok []int, x []float32) ([]float32, error) {
	if tok != nil {
		return e.RunTokens(tok)
	}
	return e.RunDense(x)
}

// closeTo compares float32 logits with the float64 reference.
func closeTo(t *testing.T, what string, got []float32, want [][]float64, classes int) {
	t.Helper()
	worst := 0.0
	for s := range want {
		for k, w := range want[s] {
			g := float64(got[s*classes+k])
			diff := math.Abs(g - w)
			if diff > 2e-4+2e-4*math.Abs(w) {
				t.Fatalf("%s: step %d logit %d = %.7g, float64 reference %.7g (diff %.3g)", what, s, k, g, w, diff)
			}
			worst = max(worst, diff)
		}
	}
	if worst == 0 && len(want) > 0 {
		t.Logf("%s: bit-identical to float64 (suspicious but allowed)", what)
	}
}

func TestEngineMatchesReference64(t *testing.T) {
	const steps = 7 // > Steps, so the "reuse the last block" rule is exercised.
	for _, spec := range testSpecs() {
		t.Run(specName(spec), func(t *testing.T) {
			m, err := RandomModel(spec)
			if err != nil {
				t.Fatal(err)
			}
			tok, x := randomInputs(spec, steps, spec.Seed)
			want, err := Reference64(m, tok, x)
			if err != nil {
				t.Fatal(err)
			}
			// The logits must actually depend on the step (sanity of the test).
			if math.Abs(want[0][0]-want[steps-1][0]) < 1e-6 {
				t.Fatalf("reference logits do not change over time: %v", want[0][0])
			}
			for _, k := range []Kernel{KernelLUT, KernelLUTPortable, KernelLUT2Bit, KernelFloat32} {
				e, err := NewEngineKernel(m, k)
				if err != nil {
					t.Fatal(err)
				}
				got, err := run(e, tok, x)
				if err != nil {
					t.Fatal(err)
				}
				closeTo(t, k.String(), got, want, m.Classes)
			}
		})
	}
}

// TestBatchMatchesRows runs 5 sequences side by side and checks each row
// against the same sequence run alone (batch 1, whole sequence).
func TestBatchMatchesRows(t *testing.T) {
	const steps, batch = 6, 5
	for _, spec := range testSpecs() {
		t.Run(specName(spec), func(t *testing.T) {
			m, err := RandomModel(spec)
			if err != nil {
				t.Fatal(err)
			}
			e, err := NewEngine(m)
			if err != nil {
				t.Fatal(err)
			}
			toks := make([][]int, batch)
			xs := make([][]float32, batch)
			single := make([][]float32, batch)
			for b := range batch {
				toks[b], xs[b] = randomInputs(spec, steps, uint64(100+b))
				if single[b], err = run(e, toks[b], xs[b]); err != nil {
					t.Fatal(err)
				}
			}
			s := e.NewState(batch)
			logits := make([]float32, batch*m.Classes)
			for st := range steps {
				if spec.Input == Dense {
					x := make([]float32, 0, batch*spec.Features)
					for b := range batch {
						x = append(x, xs[b][st*spec.Features:(st+1)*spec.Features]...)
					}
					err = e.StepDense(s, x)
				} else {
					tk := make([]int, batch)
					for b := range batch {
						tk[b] = toks[b][st]
					}
					err = e.StepTokens(s, tk)
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := e.Logits(s, logits); err != nil {
					t.Fatal(err)
				}
				for b := range batch {
					for k := range m.Classes {
						got, want := logits[b*m.Classes+k], single[b][st*m.Classes+k]
						if got != want {
							t.Fatalf("step %d row %d logit %d: batch %v, alone %v", st, b, k, got, want)
						}
					}
				}
			}
			if s.T != steps {
				t.Errorf("State.T = %d after %d steps", s.T, steps)
			}
		})
	}
}

// TestStreamingMatchesWholeSequence feeds a sequence in pieces, keeping the
// state, and compares with one whole-sequence run; Reset must restart it.
func TestStreamingMatchesWholeSequence(t *testing.T) {
	spec := RandomSpec{Cell: LSTM, Weights: Ternary, Input: OneHot, Vocab: 13, Hidden: []int{33}, Steps: 4, Seed: 5}
	m, err := RandomModel(spec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(m)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := randomInputs(spec, 9, 1)
	whole, err := e.RunTokens(tok)
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewState(1)
	out := make([]float32, m.Classes)
	for round := range 2 {
		for st, tk := range tok {
			if err := e.StepTokens(s, []int{tk}); err != nil {
				t.Fatal(err)
			}
			if err := e.Logits(s, out); err != nil {
				t.Fatal(err)
			}
			for k, v := range out {
				if v != whole[st*m.Classes+k] {
					t.Fatalf("round %d step %d logit %d: streaming %v, whole %v", round, st, k, v, whole[st*m.Classes+k])
				}
			}
		}
		s.Reset()
	}
}

func TestEngineInputErrors(t *testing.T) {
	m, err := RandomModel(RandomSpec{Cell: GRU, Weights: Binary, Input: OneHot, Vocab: 5, Hidden: []int{8}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(m)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewEngine(m)
	s := e.NewState(2)
	cases := []struct {
		name string
		err  error
	}{
		{"token out of range", e.StepTokens(s, []int{0, 5})},
		{"negative token", e.StepTokens(s, []int{-1, 0})},
		{"wrong batch", e.StepTokens(s, []int{1})},
		{"dense on token model", e.StepDense(s, make([]float32, 10))},
		{"foreign state", other.StepTokens(s, []int{0, 0})},
		{"logits size", e.Logits(s, make([]float32, 3))},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if s.T != 0 {
		t.Errorf("failed steps advanced the state to T = %d", s.T)
	}
}

func TestActivations(t *testing.T) {
	worstExp, worstT, worstS := 0.0, 0.0, 0.0
	for x := -90.0; x <= 90; x += 0.01 {
		want := math.Exp(math.Max(math.Min(x, expMax), expMin))
		got := float64(exp32(float32(x)))
		// float32(x) itself is rounded: compare with exp of the rounded input.
		want = math.Exp(math.Max(math.Min(float64(float32(x)), expMax), expMin))
		worstExp = max(worstExp, math.Abs(got-want)/want)
		worstT = max(worstT, math.Abs(float64(tanh32(float32(x)))-math.Tanh(float64(float32(x)))))
		worstS = max(worstS, math.Abs(float64(sigmoid32(float32(x)))-1/(1+math.Exp(-float64(float32(x))))))
	}
	if worstExp > 5e-7 || worstT > 3e-7 || worstS > 2e-7 {
		t.Errorf("activation errors: exp rel %.3g, tanh abs %.3g, sigmoid abs %.3g", worstExp, worstT, worstS)
	}
	t.Logf("exp rel %.3g, tanh abs %.3g, sigmoid abs %.3g", worstExp, worstT, worstS)
}

// TestKernelsHandWorked checks each kernel on a tiny matrix by hand.
func TestKernelsHandWorked(t *testing.T) {
	// W (3 x 2) = [[1, -1], [0, 1], [-1, -1]]; x = [2, 3, 5].
	// x.W = [2*1 + 0 - 5, -2 + 3 - 5] = [-3, -4].
	w := []int8{1, -1, 0, 1, -1, -1}
	x := []float32{2, 3, 5}
	for _, p := range []product{newTern2LUT(3, 2, w), newTern3LUT(3, 2, w), newDenseF32(3, 2, expandSigns(w)), newSignProduct(t, 3, 2, w, Ternary)} {
		acc := make([]float32, 2)
		p.mul(x, acc, make([]float32, max(p.lutLen(), 1)))
		if acc[0] != -3 || acc[1] != -4 {
			t.Errorf("%T: x.W = %v, want [-3 -4]", p, acc)
		}
		p.row(1, acc)
		if acc[0] != 0 || acc[1] != 1 {
			t.Errorf("%T: row 1 = %v, want [0 1]", p, acc)
		}
	}
	wb := []int8{1, -1, 1, 1, -1, -1} // x.W = [2+3-5, -2+3-5] = [0, -4]
	for _, p := range []product{newBinLUT(3, 2, wb), newSignProduct(t, 3, 2, wb, Binary)} {
		acc := make([]float32, 2)
		p.mul(x, acc, make([]float32, p.lutLen()))
		if acc[0] != 0 || acc[1] != -4 {
			t.Errorf("binary %T: x.W = %v, want [0 -4]", p, acc)
		}
	}
}

func newSignProduct(t *testing.T, rows, cols int, w []int8, kind WeightKind) signProduct {
	m, err := signmat.New(rows, cols, w, kind == Ternary)
	if err != nil {
		t.Fatal(err)
	}
	return signProduct{m}
}

// TestKernelsRandom compares every packed kernel with float64 dot products on
// sizes around the group and fusion boundaries.
func TestKernelsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, rows := range []int{1, 4, 5, 7, 8, 9, 31, 32, 33, 40, 41, 64, 100} {
		cols := 3 + rows%5
		for _, kind := range []WeightKind{Binary, Ternary} {
			w := randomSigns(rng, rows*cols, kind)
			x := make([]float32, rows)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			var ps []product
			if kind == Binary {
				ps = []product{newBinLUT(rows, cols, w), newSignProduct(t, rows, cols, w, kind)}
			} else {
				ps = []product{newTern2LUT(rows, cols, w), newTern3LUT(rows, cols, w), newSignProduct(t, rows, cols, w, kind)}
			}
			for _, p := range ps {
				acc := make([]float32, cols)
				p.mul(x, acc, make([]float32, p.lutLen()))
				for j := range cols {
					want := 0.0
					for i := range rows {
						want += float64(x[i]) * float64(w[i*cols+j])
					}
					if math.Abs(float64(acc[j])-want) > 1e-5*(1+math.Abs(want))*math.Sqrt(float64(rows)) {
						t.Fatalf("%T rows %d col %d: %v, want %v", p, rows, j, acc[j], want)
					}
				}
				for i := range rows {
					p.row(i, acc)
					for j := range cols {
						if acc[j] != float32(w[i*cols+j]) {
							t.Fatalf("%T rows %d: row %d col %d = %v, want %d", p, rows, i, j, acc[j], w[i*cols+j])
						}
					}
				}
			}
		}
	}
}

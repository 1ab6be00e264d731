package quant

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/packed"
)

// apply evaluates quantizer q on w (and u, if non-nil) in float32.
func apply(t *testing.T, q Quantizer, w, u []float32, w0 float64) []float32 {
	t.Helper()
	if u == nil {
		u = make([]float32, len(w))
	}
	out := MustExecOnce(backend.Must(), func(wn, un *Node) *Node {
		if !q.Stochastic {
			un = nil
		}
		return q.Apply(wn, un, w0)
	}, w, u)
	return tensors.MustCopyFlatData[float32](out)
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestWorkedExamples checks every quantizer on small hand-worked inputs.
func TestWorkedExamples(t *testing.T) {
	w := []float32{-1, -0.3, -0.1, 0, 0.1, 0.2, 0.7, 0.4}
	// TWN: mean|W| = 2.8/8 = 0.35, delta = 0.245; |W| > delta for 1, 0.3, 0.7,
	// 0.4, so alpha = 2.4/4 = 0.6.
	// k-bit (alpha = max|W| = 1): x = (W+1)/2 = 0, .35, .45, .5, .55, .6, .85, .7;
	// k2: round(3x) = 0,1,1,2(1.5),2,2,3,2 -> 2*r/3-1; 1.5 is the only tie, tested below separately.
	wk := []float32{-1, -0.3, -0.1, 0.1, 0.2, 0.7, 0.4, 0.05}
	// 3x   = 0, 1.05, 1.35, 1.65, 1.8, 2.55, 2.1, 1.575 -> 0,1,1,2,2,3,2,2
	// 7x   = 0, 2.45, 3.15, 3.85, 4.2, 5.95, 4.9, 3.675 -> 0,2,3,4,4,6,5,4
	// 15x  = 0, 5.25, 6.75, 8.25, 9, 12.75, 10.5, 7.875 -> 0,5,7,8,9,13,10(10.5 tie: 10 or 11),8
	third := float32(1.0 / 3)
	cases := []struct {
		name string
		w, u []float32
		w0   float64
		want []float32
	}{
		{"fp", w, nil, 0.5, w},
		{"binary-det", w, nil, 0.5, []float32{-.5, -.5, -.5, .5, .5, .5, .5, .5}},
		// W0/3 = 1/6: -1, -0.3 -> -W0; -0.1..0.1 -> 0; 0.2, 0.7, 0.4 -> +W0.
		{"ternary-det", w, nil, 0.5, []float32{-.5, -.5, 0, 0, 0, .5, .5, .5}},
		{"bc", w, nil, 0.5, []float32{-1, -1, -1, 1, 1, 1, 1, 1}},
		{"tc-det", w, nil, 0.5, []float32{-1, -1, 0, 0, 0, 1, 1, 1}},
		{"twn", w, nil, 0.5, []float32{-.6, -.6, 0, 0, 0, 0, .6, .6}},
		{"k2", wk, nil, 0.5, []float32{-1, -third, -third, third, third, 1, third, third}},
		{"k3", wk, nil, 0.5, []float32{-1, -3. / 7, -1. / 7, 1. / 7, 1. / 7, 5. / 7, 3. / 7, 1. / 7}},
		// Stochastic, with given u. binary: p = clip((W/W0+1)/2) = 0, .25, .5, .75, 1.
		{"binary", []float32{-1, -0.25, 0, 0.25, 1}, []float32{0, 0.3, 0.49, 0.7, 0.999}, 0.5,
			[]float32{-.5, -.5, .5, .5, .5}},
		{"binary", []float32{-1, -0.25, 0, 0.25, 1}, []float32{0.5, 0.2, 0.5, 0.8, 0.0}, 0.5,
			[]float32{-.5, .5, -.5, -.5, .5}},
		// ternary: p = min(|W|/W0, 1) = 1, .5, 0, .5, 1.
		{"ternary", []float32{-1, -0.25, 0, 0.25, 1}, []float32{0.999, 0.6, 0.0, 0.4, 0.5}, 0.5,
			[]float32{-.5, 0, 0, .5, .5}},
		{"tc", []float32{-1, -0.25, 0, 0.25, 1}, []float32{0.999, 0.4, 0.0, 0.6, 0.5}, 0.5,
			[]float32{-1, -1, 0, 0, 1}},
	}
	for _, c := range cases {
		q := MustLookup(c.name)
		got := apply(t, q, c.w, c.u, c.w0)
		for i := range got {
			if !near(float64(got[i]), float64(c.want[i]), 1e-6) {
				t.Errorf("%s(W=%v, u=%v, W0=%g) = %v, want %v", c.name, c.w, c.u, c.w0, got, c.want)
				break
			}
		}
	}
	// k4 against a float64 reference of the same rule (ties avoided).
	w4 := []float32{-1, -0.3, -0.1, 0.1, 0.2, 0.7, 0.43, 0.05}
	got := apply(t, MustLookup("k4"), w4, nil, 0)
	for i, x := range w4 {
		want := 2*math.Round((float64(x)+1)/2*15)/15 - 1
		if !near(float64(got[i]), want, 1e-6) {
			t.Errorf("k4(%g) = %g, want %g", x, got[i], want)
		}
	}
}

// TestRegistry checks names, deploy counterparts and lookup errors.
func TestRegistry(t *testing.T) {
	want := map[string]struct {
		bits  int
		stoch bool
		kind  packed.WeightKind
	}{
		"fp": {32, false, packed.Float32}, "binary": {1, true, packed.Binary}, "binary-det": {1, false, packed.Binary},
		"ternary": {2, true, packed.Ternary}, "ternary-det": {2, false, packed.Ternary},
		"bc": {1, false, packed.Binary}, "tc": {2, true, packed.Ternary}, "tc-det": {2, false, packed.Ternary},
		"twn": {2, false, packed.Ternary}, "k2": {2, false, packed.Float32}, "k3": {3, false, packed.Float32},
		"k4": {4, false, packed.Float32},
	}
	if len(Names()) != len(want) {
		t.Errorf("Names() = %v, want %d names", Names(), len(want))
	}
	for name, w := range want {
		q, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if q.Bits != w.bits || q.Stochastic != w.stoch || q.Kind != w.kind {
			t.Errorf("%s: bits=%d stochastic=%v kind=%d, want %+v", name, q.Bits, q.Stochastic, q.Kind, w)
		}
		d := q.Deterministic()
		if d.Stochastic || d.Kind != q.Kind || d.Bits != q.Bits {
			t.Errorf("%s: deploy quantizer %q is not a deterministic match", name, d.Name)
		}
	}
	if _, err := Lookup("Binary "); err != nil {
		t.Errorf("Lookup should ignore case and spaces: %v", err)
	}
	if _, err := Lookup("bnary"); err == nil {
		t.Error("Lookup(bnary) should fail")
	}
	if err := Register(Quantizer{Name: "binary", Bits: 1, Fn: MustLookup("binary").Fn}); err == nil {
		t.Error("duplicate Register should fail")
	}
}

// TestStochasticMeans draws one sample of a large matrix whose N rows repeat
// the same m latent values and checks each column's empirical mean against
// the expectation E[Q(W)] = clip(W, -W0, W0) (binary and ternary alike).
// Each draw has variance <= W0^2, so the mean of N = 20000 draws has standard
// deviation <= W0/sqrt(N) = 0.0071*W0; the tolerance is 5 of those, 0.036*W0.
func TestStochasticMeans(t *testing.T) {
	const n = 20000
	w0 := 0.25
	vals := []float32{-0.4, -0.25, -0.2, -0.1, -0.01, 0, 0.03, 0.125, 0.2, 0.3}
	m := len(vals)
	wflat := make([]float32, n*m)
	for i := range n {
		copy(wflat[i*m:], vals)
	}
	wt := tensors.FromFlatDataAndDimensions(wflat, n, m)
	tol := 5 * w0 / math.Sqrt(n)
	for _, name := range []string{"binary", "ternary", "tc"} {
		q := MustLookup(name)
		store := model.NewStore()
		if err := store.SetRNGStateFromSeed(7); err != nil {
			t.Fatal(err)
		}
		out := model.MustNewExec(backend.Must(), store, func(scope *model.Scope, w *Node) *Node {
			return ReduceMean(q.Sample(scope, w, w0), 0)
		}).MustCall(wt)[0]
		got := tensors.MustCopyFlatData[float32](out)
		unit := w0 // binary, ternary: values +-W0, E = clip(W, -W0, W0)
		if name == "tc" {
			unit = 1 // values +-1: E = clip(W, -W0, W0)/W0
		}
		for j, x := range vals {
			want := math.Max(-w0, math.Min(w0, float64(x))) * unit / w0
			if !near(float64(got[j]), want, tol*unit/w0) {
				t.Errorf("%s: mean Q(%g) over %d draws = %.4f, want %.4f +- %.4f", name, x, n, got[j], want, tol*unit/w0)
			}
		}
	}
}

// TestSampleReproducible checks that the same seed gives the same sample and
// that consecutive executions draw new samples.
func TestSampleReproducible(t *testing.T) {
	w := make([]float32, 64)
	draw := func(seed int64, times int) [][]float32 {
		store := model.NewStore()
		if err := store.SetRNGStateFromSeed(seed); err != nil {
			t.Fatal(err)
		}
		exec := model.MustNewExec(backend.Must(), store, func(scope *model.Scope, wn *Node) *Node {
			return MustLookup("binary").Sample(scope, wn, 1)
		})
		var res [][]float32
		for range times {
			res = append(res, tensors.MustCopyFlatData[float32](exec.MustCall(w)[0]))
		}
		return res
	}
	a, b := draw(3, 2), draw(3, 1)
	same := func(x, y []float32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a[0], b[0]) {
		t.Error("same seed gave different samples")
	}
	if same(a[0], a[1]) {
		t.Error("two executions gave the same 64-weight sample: RNG state not advanced")
	}
}

// TestStraightThroughGradient checks dL/dW = dL/dQ for every quantizer with
// L = sum(Q(W) * R): the gradient must be exactly R.
func TestStraightThroughGradient(t *testing.T) {
	w := []float32{-1, -0.3, -0.1, 0, 0.1, 0.2, 0.7, 0.4}
	u := []float32{0.1, 0.9, 0.5, 0.3, 0.7, 0.2, 0.6, 0.4}
	r := []float32{1, -2, 3, 0.5, -0.25, 7, -1, 2}
	for _, name := range Names() {
		q := MustLookup(name)
		out := MustExecOnce(backend.Must(), func(wn, un, rn *Node) *Node {
			if !q.Stochastic {
				un = nil
			}
			loss := ReduceAllSum(Mul(q.Apply(wn, un, 0.5), rn))
			return Gradient(loss, wn)[0]
		}, w, u, r)
		got := tensors.MustCopyFlatData[float32](out)
		for i := range r {
			if got[i] != r[i] {
				t.Errorf("%s: dL/dW = %v, want %v", name, got, r)
				break
			}
		}
	}
}

// TestW0 checks the scale against hand-computed values.
func TestW0(t *testing.T) {
	// PTB char, n=1000, d=50: Wx fan_in=50, fan_out=4000: sqrt(6/4050)/2.
	if got, want := W0(50, 4000), math.Sqrt(6.0/4050)/2; got != want {
		t.Errorf("W0(50,4000) = %g, want %g", got, want)
	}
	if got := W0(2, 4); !near(got, 0.5, 1e-15) { // sqrt(6/6)/2
		t.Errorf("W0(2,4) = %g, want 0.5", got)
	}
}

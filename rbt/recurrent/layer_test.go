package recurrent

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/quant"
)

// testCase is one configuration of the reference comparison.
type testCase struct {
	cell   Cell
	q      string
	norm   Normalization
	tokens bool
	deploy bool
	dtype  dtypes.DType
}

func (c testCase) String() string {
	in := "dense"
	if c.tokens {
		in = "onehot"
	}
	mode := "code"
	if c.deploy {
		mode = "deploy"
	}
	return fmt.Sprintf("%s/%s/%s/%s/%s/%s", cellName(c.cell), c.q, c.norm, in, mode, c.dtype)
}

const (
	tB, tT, tD, tN, tV, tS = 4, 5, 3, 3, 6, 4 // batch, steps, features, hidden, vocab, stat steps (< T)
)

func uniform(rng *rand.Rand, n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float64()
	}
	return v
}

// toTensor converts float64 data to a tensor of the given dtype and dims.
func toTensor(v []float64, dtype dtypes.DType, dims ...int) *tensors.Tensor {
	if dtype == dtypes.Float64 {
		return tensors.FromFlatDataAndDimensions(append([]float64(nil), v...), dims...)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensors.FromFlatDataAndDimensions(f, dims...)
}

func fromTensor(t *tensors.Tensor) []float64 {
	switch t.DType() {
	case dtypes.Float64:
		return tensors.MustCopyFlatData[float64](t)
	case dtypes.Float32:
		f := tensors.MustCopyFlatData[float32](t)
		v := make([]float64, len(f))
		for i, x := range f {
			v[i] = float64(x)
		}
		return v
	}
	panic("fromTensor: " + t.DType().String())
}

// relErr is max|got-want| / max(max|want|, 1e-6): the norm-wise relative
// error, with an absolute floor for vectors that are zero (e.g. the gradient
// of a learned h_0 under BN: its product is the same for the whole batch and
// is normalized away at step 1, as in the authors' code).
func relErr(got, want []float64) float64 {
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(got[i]-want[i]))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	return diff / math.Max(scale, 1e-6)
}

// fixture creates the store variables with random values and the matching
// reference network.
type fixture struct {
	tc    testCase
	store *model.Store
	ref   *refNet
	wx    []float64 // latent weights
	wh    []float64
	r, r3 []float64
	x     *tensors.Tensor
	vars  map[string][]float64 // name -> ref slice, trainable variables
}

func newFixture(t *testing.T, tc testCase, seed uint64) *fixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 17))
	G := tc.cell.Gates()
	W := G * tN
	d := tD
	if tc.tokens {
		d = tV
	}
	w0x, w0h := quant.W0(d, W), quant.W0(tN, W)
	p := &refNet{cell: tc.cell, norm: tc.norm, deploy: tc.deploy, B: tB, T: tT, d: d, n: tN, S: tS}
	if tc.norm == SharedBN {
		p.S = 1
	}
	f := &fixture{tc: tc, store: model.NewStore(), ref: p, vars: map[string][]float64{}}
	if err := f.store.SetRNGStateFromSeed(int64(seed)); err != nil {
		t.Fatal(err)
	}
	f.wx = uniform(rng, d*W, -1.5*w0x, 1.5*w0x)
	f.wh = uniform(rng, tN*W, -1.5*w0h, 1.5*w0h)
	p.bias = uniform(rng, W, -0.5, 0.5)
	p.h0 = uniform(rng, tN, -0.5, 0.5)
	set := func(name string, v []float64, dims ...int) {
		if _, err := f.store.CreateVariable("/rnn/layer_0/"+name, toTensor(v, tc.dtype, dims...)); err != nil {
			t.Fatal(err)
		}
	}
	set(VarWx, f.wx, d, W)
	set(VarWh, f.wh, tN, W)
	set(VarBias, p.bias, W)
	set(VarH0, p.h0, tN)
	f.vars[VarBias], f.vars[VarH0] = p.bias, p.h0
	if tc.cell == LSTM {
		p.c0 = uniform(rng, tN, -0.5, 0.5)
		set(VarC0, p.c0, tN)
		f.vars[VarC0] = p.c0
	}
	if tc.norm != None {
		p.gx, p.gh = uniform(rng, W, 0.5, 1.5), uniform(rng, W, 0.5, 1.5)
		set(VarGammaX, p.gx, W)
		set(VarGammaH, p.gh, W)
		f.vars[VarGammaX], f.vars[VarGammaH] = p.gx, p.gh
		p.mx, p.vx = uniform(rng, p.S*W, -0.3, 0.3), uniform(rng, p.S*W, 0.2, 1.5)
		p.mh, p.vh = uniform(rng, p.S*W, -0.3, 0.3), uniform(rng, p.S*W, 0.2, 1.5)
		set(VarMeanX, p.mx, p.S, W)
		set(VarVarX, p.vx, p.S, W)
		set(VarMeanH, p.mh, p.S, W)
		set(VarVarH, p.vh, p.S, W)
		if tc.cell == LSTM {
			p.gc, p.bc = uniform(rng, tN, 0.5, 1.5), uniform(rng, tN, -0.5, 0.5)
			set(VarGammaC, p.gc, tN)
			set(VarBetaC, p.bc, tN)
			f.vars[VarGammaC], f.vars[VarBetaC] = p.gc, p.bc
			p.mc, p.vc = uniform(rng, p.S*tN, -0.3, 0.3), uniform(rng, p.S*tN, 0.2, 1.5)
			set(VarMeanC, p.mc, p.S, tN)
			set(VarVarC, p.vc, p.S, tN)
		}
	}
	if tc.tokens {
		p.tokens = make([]int, tB*tT)
		toks := make([]int32, tB*tT)
		for i := range toks {
			p.tokens[i] = rng.IntN(tV)
			toks[i] = int32(p.tokens[i])
		}
		f.x = tensors.FromFlatDataAndDimensions(toks, tB, tT)
	} else {
		p.x = uniform(rng, tB*tT*tD, -1, 1)
		f.x = toTensor(p.x, tc.dtype, tB, tT, tD)
	}
	f.r = uniform(rng, tB*tT*tN, -1, 1)
	f.r3 = uniform(rng, tB*tN, -1, 1)
	return f
}

// gradNames is the fixed order of trainable variables whose gradients are checked.
var gradNames = []string{VarWx, VarWh, VarBias, VarGammaX, VarGammaH, VarGammaC, VarBetaC, VarH0, VarC0}

// run builds and executes the layer graph; it returns hs [B,T,n], last c (or
// nil), Q(Wx), Q(Wh), and gradients (code mode) by name ("x" for the input).
func (f *fixture) run(t *testing.T) (hs, cLast, qx, qh []float64, grads map[string][]float64) {
	t.Helper()
	tc := f.tc
	var names []string
	exec := model.MustNewExec(backend.Must(), f.store, func(scope *model.Scope, in []*Node) []*Node {
		x, r, r3 := in[0], in[1], in[2]
		b := New(scope.In("rnn"), x, tN).Cell(tc.cell).Quantizer(quant.MustLookup(tc.q)).Normalization(tc.norm)
		if tc.tokens {
			b.OneHot(tV).DType(tc.dtype)
		}
		if tc.deploy {
			b.Inference(DeployMode)
		}
		h, st := b.Done()
		qxn, qhn := b.Weights(0)
		loss := ReduceAllSum(Mul(h, r))
		c := ScalarZero(x.Graph(), h.DType())
		if tc.cell == LSTM {
			c = st.C[0]
			loss = Add(loss, ReduceAllSum(Mul(c, r3)))
		}
		outs := []*Node{h, c, qxn, qhn}
		if tc.deploy {
			return outs
		}
		var wrt []*Node
		names = names[:0]
		for _, name := range gradNames {
			if v := f.store.GetVariable("/rnn/layer_0/" + name); v != nil {
				names = append(names, name)
				wrt = append(wrt, v.NodeValue(x.Graph()))
			}
		}
		if !tc.tokens {
			names = append(names, "x")
			wrt = append(wrt, x)
		}
		return append(outs, Gradient(loss, wrt...)...)
	})
	outs := exec.MustCall(f.x, toTensor(f.r, tc.dtype, tB, tT, tN), toTensor(f.r3, tc.dtype, tB, tN))
	hs, qx, qh = fromTensor(outs[0]), fromTensor(outs[2]), fromTensor(outs[3])
	if tc.cell == LSTM {
		cLast = fromTensor(outs[1])
	}
	if !tc.deploy {
		grads = map[string][]float64{}
		for i, name := range names {
			grads[name] = fromTensor(outs[4+i])
		}
	}
	return
}

// prepareRef sets the reference's quantized weights: the reference quantizer
// of the deterministic (or deploy) rule, or the graph's checked sample.
func (f *fixture) prepareRef(t *testing.T, qx, qh []float64) {
	t.Helper()
	p := f.ref
	q := quant.MustLookup(f.tc.q)
	if f.tc.deploy {
		q = q.Deterministic()
	}
	W := p.G() * p.n
	w0x, w0h := quant.W0(p.d, W), quant.W0(p.n, W)
	if q.Stochastic {
		if msg := checkSample(q.Name, f.wx, qx, w0x); msg != "" {
			t.Fatalf("%s: Q(Wx) sample: %s", f.tc, msg)
		}
		if msg := checkSample(q.Name, f.wh, qh, w0h); msg != "" {
			t.Fatalf("%s: Q(Wh) sample: %s", f.tc, msg)
		}
		p.qx, p.qh = qx, qh
		return
	}
	p.qx, p.qh = refQuant(q.Name, f.wx, w0x), refQuant(q.Name, f.wh, w0h)
	if e := relErr(qx, p.qx); e > 1e-6 {
		t.Errorf("%s: Q(Wx) differs from the reference quantizer: rel err %.2g", f.tc, e)
	}
	if e := relErr(qh, p.qh); e > 1e-6 {
		t.Errorf("%s: Q(Wh) differs from the reference quantizer: rel err %.2g", f.tc, e)
	}
}

// checkForward compares the graph's outputs with the reference.
func (f *fixture) checkForward(t *testing.T, hs, cLast []float64, tol float64) {
	t.Helper()
	p := f.ref
	refHs, refC := p.forward()
	want := make([]float64, tB*tT*tN)
	for tt, h := range refHs {
		for b := range tB {
			copy(want[(b*tT+tt)*tN:], h[b*tN:(b+1)*tN])
		}
	}
	if e := relErr(hs, want); e > tol {
		t.Errorf("%s: hidden states rel err %.3g > %g", f.tc, e, tol)
	}
	if cLast != nil {
		if e := relErr(cLast, refC); e > tol {
			t.Errorf("%s: last c rel err %.3g > %g", f.tc, e, tol)
		}
	}
}

func (f *fixture) checkGradients(t *testing.T, grads map[string][]float64, tol float64) {
	t.Helper()
	p := f.ref
	refParams := map[string][]float64{VarWx: p.qx, VarWh: p.qh, "x": p.x}
	for k, v := range f.vars {
		refParams[k] = v
	}
	for name, got := range grads {
		// Straight-through: dL/dW(latent) must equal dL/dQ(W), the reference's
		// finite difference with respect to the quantized weights.
		want := p.fdGrad(refParams[name], f.r, f.r3)
		if e := relErr(got, want); e > tol {
			t.Errorf("%s: gradient of %s rel err %.3g > %g\n got %.5g\nwant %.5g", f.tc, name, e, tol, got, want)
		}
	}
	if len(grads) < 4 {
		t.Errorf("%s: only %d gradients checked", f.tc, len(grads))
	}
}

// TestCellMatchesReference compares forward values and gradients of every
// quantizer x normalization x cell with the float64 reference (ref_test.go),
// in code mode (the training computation: batch statistics), to 1e-4
// norm-wise relative error (float64 graph; gradients against central finite
// differences of the reference).
//
// Each case runs twice: with the recurrent product as one matrix product,
// and cut into one product per gate block (stepProducts, forced here by a
// threshold between the two sizes; at these sizes the Go backend's own
// threshold keeps one product).
func TestCellMatchesReference(t *testing.T) {
	defer func(s int) { smallProduct = s }(smallProduct)
	for _, blocked := range []bool{false, true} {
		if blocked {
			smallProduct = 2 * tB * tN * tN // one gate block: tB*tN*tN; all G >= 3: >= 3*tB*tN*tN
		}
		seed := uint64(1)
		for _, cell := range []Cell{LSTM, GRU} {
			for _, norm := range []Normalization{PerStepBN, SharedBN, None} {
				for _, qn := range quant.Names() {
					seed++
					tc := testCase{cell: cell, q: qn, norm: norm, tokens: seed%2 == 0, dtype: dtypes.Float64}
					f := newFixture(t, tc, seed)
					hs, c, qx, qh, grads := f.run(t)
					f.prepareRef(t, qx, qh)
					f.checkForward(t, hs, c, 1e-4)
					f.checkGradients(t, grads, 1e-4)
				}
			}
		}
	}
}

// TestFloat32AndDeploy checks the float32 graph (code mode) and deploy mode
// (deterministic weights, per-step population statistics with T = 5 > S = 4
// stored steps, so the last step reuses step 3's) against the reference.
func TestFloat32AndDeploy(t *testing.T) {
	seed := uint64(100)
	for _, cell := range []Cell{LSTM, GRU} {
		for _, norm := range []Normalization{PerStepBN, SharedBN, None} {
			for _, qn := range []string{"fp", "binary", "ternary", "twn", "k3"} {
				for _, deploy := range []bool{false, true} {
					seed++
					tc := testCase{cell: cell, q: qn, norm: norm, tokens: seed%2 == 0, deploy: deploy, dtype: dtypes.Float32}
					f := newFixture(t, tc, seed)
					hs, c, qx, qh, _ := f.run(t)
					f.prepareRef(t, qx, qh)
					f.checkForward(t, hs, c, 1e-4)
				}
			}
		}
	}
}

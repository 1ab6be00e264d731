package recurrent

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/quant"
)

// TestRunningStatsConverge runs the training graph repeatedly on a fixed
// input with a deterministic quantizer (so every run has the same batch
// statistics) and checks that each step's running mean and variance equal
// that step's batch statistics, computed by the float64 reference, after 1, 3
// and 500 updates: the first updates average the batch statistics (so one
// update already gives them exactly), and the 0.95/0.05 EMA that follows
// keeps them. A plain EMA from the initial 0 / 1 would be off by 0.95^k of the
// initial gap after k updates, 95% after one (issue 16's deploy gap of short
// runs). Step 0's h-side variance is exactly 0: h_0 is the same for the whole
// batch. SharedBN's single row equals the average over steps.
func TestRunningStatsConverge(t *testing.T) {
	for _, tt := range []struct {
		norm    Normalization
		updates int
	}{{PerStepBN, 1}, {PerStepBN, 3}, {PerStepBN, 500}, {SharedBN, 1}, {SharedBN, 500}} {
		norm := tt.norm
		tc := testCase{cell: LSTM, q: "binary-det", norm: norm, dtype: dtypes.Float32}
		f := newFixture(t, tc, 7)
		exec := model.MustNewExec(backend.Must(), f.store, func(scope *model.Scope, x *Node) *Node {
			scope.SetTraining(x.Graph(), true)
			h, _ := New(scope.In("rnn"), x, tN).Quantizer(quant.MustLookup(tc.q)).Normalization(norm).Done()
			return h
		})
		for range tt.updates {
			exec.MustCall(f.x)
		}
		// Batch statistics of the reference, step by step.
		p := f.ref
		W := 4 * tN
		p.qx, p.qh = refQuant(tc.q, f.wx, quant.W0(tD, W)), refQuant(tc.q, f.wh, quant.W0(tN, W))
		want := refBatchStats(p)
		for _, name := range []string{VarMeanX, VarVarX, VarMeanH, VarVarH, VarMeanC, VarVarC} {
			got, dims, err := hostValues(f.store, "/rnn/layer_0/"+name)
			if err != nil {
				t.Fatal(err)
			}
			w := want[name] // [T][width]
			rows := len(w)
			if norm == SharedBN {
				avg := make([]float64, len(w[0]))
				for _, r := range w {
					for j, v := range r {
						avg[j] += v / float64(rows)
					}
				}
				w, rows = [][]float64{avg}, 1
			}
			rows = min(rows, dims[0])
			for s := range rows {
				width := dims[1]
				if e := relErr(got[s*width:(s+1)*width], w[s]); e > 1e-3 {
					t.Errorf("%s, %d updates: %s step %d: running value %v, batch statistic %v (rel err %.2g)", norm, tt.updates, name, s, got[s*width:(s+1)*width], w[s], e)
				}
			}
			if norm == PerStepBN && name == VarMeanH {
				// The statistics differ between steps: per-step storage matters.
				if e := relErr(w[1], w[3]); e < 1e-2 {
					t.Errorf("steps 1 and 3 have nearly equal h-side means; the test input is too weak")
				}
			}
		}
	}
}

// TestRunningStatsVaryingLength trains 30 passes of 2 steps, then one of all
// tT steps, with tS stored steps (the QA readers' case: documents of varying
// length, the late steps reached by few passes). Every step's running
// statistics must equal the full pass's batch statistics (the first 2 steps'
// batch statistics are the same in both passes: the layer is causal): the
// late steps' first update copies them, which a count shared by all steps
// (31 updates, so a 0.95 EMA from the initial 0 / 1) would not.
func TestRunningStatsVaryingLength(t *testing.T) {
	const short, passes = 2, 30
	tc := testCase{cell: LSTM, q: "binary-det", norm: PerStepBN, dtype: dtypes.Float32}
	f := newFixture(t, tc, 7)
	exec := model.MustNewExec(backend.Must(), f.store, func(scope *model.Scope, x *Node) *Node {
		scope.SetTraining(x.Graph(), true)
		h, _ := New(scope.In("rnn"), x, tN).Quantizer(quant.MustLookup(tc.q)).Done()
		return h
	})
	var prefix []float64
	for b := range tB {
		prefix = append(prefix, f.ref.x[b*tT*tD:(b*tT+short)*tD]...)
	}
	xs := toTensor(prefix, tc.dtype, tB, short, tD)
	for range passes {
		exec.MustCall(xs)
	}
	exec.MustCall(f.x)
	n, _, err := hostValues(f.store, "/rnn/layer_0/"+VarPopUpdates)
	if err != nil {
		t.Fatal(err)
	}
	// The fixture stores tS < tT steps of statistics.
	if want := []float64{passes + 1, passes + 1, 1, 1}; !slices.Equal(n, want) || tS != 4 {
		t.Fatalf("%s = %v, want %v", VarPopUpdates, n, want)
	}
	p := f.ref
	W := 4 * tN
	p.qx, p.qh = refQuant(tc.q, f.wx, quant.W0(tD, W)), refQuant(tc.q, f.wh, quant.W0(tN, W))
	want := refBatchStats(p)
	for _, name := range []string{VarMeanX, VarVarX, VarMeanH, VarVarH, VarMeanC, VarVarC} {
		got, dims, err := hostValues(f.store, "/rnn/layer_0/"+name)
		if err != nil {
			t.Fatal(err)
		}
		for s := range tS {
			width := dims[1]
			if e := relErr(got[s*width:(s+1)*width], want[name][s]); e > 1e-3 {
				t.Errorf("%s step %d: running value %v, batch statistic %v (rel err %.2g)", name, s, got[s*width:(s+1)*width], want[name][s], e)
			}
		}
	}
}

// refBatchStats recomputes the per-step batch means and (biased) variances of
// x.Q(Wx), h.Q(Wh) and c in the reference (code mode: batch statistics).
func refBatchStats(p *refNet) map[string][][]float64 {
	// Run the reference forward, capturing the pre-normalization values by
	// re-running its pieces: a small copy of forward's arithmetic.
	B, T, n := p.B, p.T, p.n
	W := 4 * n
	stats := map[string][][]float64{}
	colStats := func(v []float64, rows, cols int) (m, va []float64) {
		m, va = make([]float64, cols), make([]float64, cols)
		for j := range cols {
			for b := range rows {
				m[j] += v[b*cols+j] / float64(rows)
			}
			for b := range rows {
				d := v[b*cols+j] - m[j]
				va[j] += d * d / float64(rows)
			}
		}
		return
	}
	hs, _ := p.forward()
	// c_t is not returned by forward: recompute it from h_{t-1} (forward's arithmetic).
	h := make([]float64, B*n)
	c := make([]float64, B*n)
	for b := range B {
		copy(h[b*n:], p.h0)
		copy(c[b*n:], p.c0)
	}
	for t := range T {
		bx, ah := make([]float64, B*W), make([]float64, B*W)
		for b := range B {
			for j := range W {
				for k := range p.d {
					bx[b*W+j] += p.x[(b*T+t)*p.d+k] * p.qx[k*W+j]
				}
				for k := range n {
					ah[b*W+j] += h[b*n+k] * p.qh[k*W+j]
				}
			}
		}
		mx, vx := colStats(bx, B, W)
		mh, vh := colStats(ah, B, W)
		stats[VarMeanX], stats[VarVarX] = append(stats[VarMeanX], mx), append(stats[VarVarX], vx)
		stats[VarMeanH], stats[VarVarH] = append(stats[VarMeanH], mh), append(stats[VarVarH], vh)
		bxn := p.bnRows(bx, B, W, p.gx, nil, nil, nil, false)
		ahn := p.bnRows(ah, B, W, p.gh, nil, nil, nil, false)
		for b := range B {
			for j := range n {
				z := func(blk int) float64 { return ahn[b*W+blk*n+j] + bxn[b*W+blk*n+j] + p.bias[blk*n+j] }
				c[b*n+j] = sigm(z(1))*c[b*n+j] + sigm(z(2))*math.Tanh(z(0))
			}
		}
		mc, vc := colStats(c, B, n)
		stats[VarMeanC], stats[VarVarC] = append(stats[VarMeanC], mc), append(stats[VarVarC], vc)
		h = hs[t]
	}
	return stats
}

// deployHidden evaluates the deploy graph on x ([B,T,...]) and returns [B,T,n]
// hidden states of the last layer as float64.
func deployHidden(t *testing.T, store *model.Store, tc testCase, layers int, x *tensors.Tensor) []float64 {
	t.Helper()
	return modeHidden(t, store, tc, layers, DeployMode, x)
}

// modeHidden evaluates tc in inference mode outside training on x and returns
// the last layer's hidden states; the exec writes back the variables the
// graph updates (CalibrateMode's statistics).
func modeHidden(t *testing.T, store *model.Store, tc testCase, layers int, mode Inference, x *tensors.Tensor) []float64 {
	t.Helper()
	out := model.MustNewExec(backend.Must(), store, func(scope *model.Scope, xn *Node) *Node {
		b := New(scope.In("rnn"), xn, tN).Cell(tc.cell).Quantizer(quant.MustLookup(tc.q)).
			Normalization(tc.norm).Layers(layers).Inference(mode).MaxSteps(tS)
		if tc.tokens {
			b.OneHot(tV)
		}
		h, _ := b.Done()
		return h
	}).MustCall(x)[0]
	return fromTensor(out)
}

// trainedStore builds a store whose variables (weights, gammas, biases, h0/c0,
// population statistics) were set by a few training-mode passes with random
// perturbations, so that nothing is at its initial value.
func trainedStore(t *testing.T, tc testCase, layers int, seed uint64) *model.Store {
	t.Helper()
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(int64(seed)); err != nil {
		t.Fatal(err)
	}
	x := testInput(tc, 8, tT, seed)
	exec := model.MustNewExec(backend.Must(), store, func(scope *model.Scope, xn *Node) *Node {
		scope.SetTraining(xn.Graph(), true)
		b := New(scope.In("rnn"), xn, tN).Cell(tc.cell).Quantizer(quant.MustLookup(tc.q)).
			Normalization(tc.norm).Layers(layers).MaxSteps(tS)
		if tc.tokens {
			b.OneHot(tV)
		}
		h, _ := b.Done()
		return h
	})
	for range 5 {
		exec.MustCall(x)
	}
	// Perturb every trainable variable so gammas, biases, h0, c0 are not at
	// their initial values.
	rng := rand.New(rand.NewPCG(seed, 3))
	for v := range store.IterVariables() {
		if !v.Trainable {
			continue
		}
		vals := tensors.MustCopyFlatData[float32](v.MustValue())
		for i := range vals {
			vals[i] += float32(0.2 * (rng.Float64() - 0.5))
		}
		v.MustSetValue(tensors.FromFlatDataAndDimensions(vals, v.Shape().Dimensions...))
	}
	return store
}

func testInput(tc testCase, batch, steps int, seed uint64) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 99))
	if tc.tokens {
		toks := make([]int32, batch*steps)
		for i := range toks {
			toks[i] = int32(rng.IntN(tV))
		}
		return tensors.FromFlatDataAndDimensions(toks, batch, steps)
	}
	x := make([]float32, batch*steps*tD)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	return tensors.FromFlatDataAndDimensions(x, batch, steps, tD)
}

// rowOf extracts batch row b of x ([B, T, ...]) as a batch of one.
func rowOf(x *tensors.Tensor, b int) *tensors.Tensor {
	dims := append([]int{1}, x.Shape().Dimensions[1:]...)
	size := x.Shape().Size() / x.Shape().Dimensions[0]
	if x.DType() == dtypes.Int32 {
		v := tensors.MustCopyFlatData[int32](x)
		return tensors.FromFlatDataAndDimensions(append([]int32(nil), v[b*size:(b+1)*size]...), dims...)
	}
	v := tensors.MustCopyFlatData[float32](x)
	return tensors.FromFlatDataAndDimensions(append([]float32(nil), v[b*size:(b+1)*size]...), dims...)
}

// TestDeployBatchOfOne checks that deploy mode on a batch of one equals
// deploy mode on a batch of many, row by row (population statistics make
// every sequence independent of the rest of the batch), for 2-layer LSTMs and
// GRUs; T = 7 > S = 4 also exercises the beyond-trained-length rule.
func TestDeployBatchOfOne(t *testing.T) {
	const B, T = 5, 7
	for i, tc := range []testCase{
		{cell: LSTM, q: "binary", norm: PerStepBN, tokens: true},
		{cell: LSTM, q: "ternary", norm: SharedBN},
		{cell: GRU, q: "binary", norm: PerStepBN},
		{cell: GRU, q: "twn", norm: None, tokens: true},
	} {
		store := trainedStore(t, tc, 2, uint64(10+i))
		x := testInput(tc, B, T, uint64(20+i))
		all := deployHidden(t, store, tc, 2, x)
		per := T * tN
		for b := range B {
			one := deployHidden(t, store, tc, 2, rowOf(x, b))
			if e := relErr(one, all[b*per:(b+1)*per]); e > 1e-5 {
				t.Errorf("%s: row %d alone differs from the batch: rel err %.2g", tc, b, e)
			}
		}
	}
}

// evalPacked is a plain float64 evaluation of packed/model.go's Layer
// equations for a stack of layers on a batch: x is tokens (OneHot) or dense
// features [B, T, d]. It returns the last layer's hidden states [B, T, n].
func evalPacked(layers []packed.Layer, tokens []int32, x []float32, B, T int) []float64 {
	var in []float64 // [B, T, d] input of the current layer
	if x != nil {
		in = make([]float64, len(x))
		for i, v := range x {
			in[i] = float64(v)
		}
	}
	for li, l := range layers {
		G, n, d := l.Cell.Gates(), l.Hidden, l.Input
		W := G * n
		wx := func(k, j int) float64 {
			if l.WxSign != nil {
				return float64(l.WxSign[k*W+j])
			}
			return float64(l.WxFloat[k*W+j])
		}
		wh := func(k, j int) float64 {
			if l.WhSign != nil {
				return float64(l.WhSign[k*W+j])
			}
			return float64(l.WhFloat[k*W+j])
		}
		out := make([]float64, B*T*n)
		for b := range B {
			h := make([]float64, n)
			c := make([]float64, n)
			for j := range n {
				h[j] = float64(l.H0[j])
				if l.C0 != nil {
					c[j] = float64(l.C0[j])
				}
			}
			for t := range T {
				s := min(t, l.Steps-1)
				preX, preH := make([]float64, W), make([]float64, W)
				for j := range W {
					var ax, ah float64
					if li == 0 && tokens != nil {
						ax = wx(int(tokens[b*T+t]), j)
					} else {
						for k := range d {
							ax += in[(b*T+t)*d+k] * wx(k, j)
						}
					}
					for k := range n {
						ah += h[k] * wh(k, j)
					}
					preX[j] = float64(l.ScaleX[s*W+j])*ax + float64(l.ShiftX[s*W+j])
					preH[j] = float64(l.ScaleH[s*W+j])*ah + float64(l.ShiftH[s*W+j])
				}
				hNew := make([]float64, n)
				for j := range n {
					if l.Cell == packed.LSTM {
						p := func(blk int) float64 { return preX[blk*n+j] + preH[blk*n+j] }
						c[j] = sigm(p(1))*c[j] + sigm(p(2))*math.Tanh(p(0))
						hNew[j] = sigm(p(3)) * math.Tanh(float64(l.ScaleC[s*n+j])*c[j]+float64(l.ShiftC[s*n+j]))
					} else {
						r := sigm(preX[j] + preH[j])
						z := sigm(preX[n+j] + preH[n+j])
						m := math.Tanh(preX[2*n+j] + r*preH[2*n+j])
						hNew[j] = (1-z)*m + z*h[j]
					}
				}
				h = hNew
				copy(out[(b*T+t)*n:], h)
			}
		}
		in = out
	}
	return in
}

// TestExportMatchesDeploy exports trained 2-layer stacks with ExportLayers and
// checks that a plain float64 evaluation of the packed equations equals the
// deploy-mode GoMLX graph (float32) on the same batch, for every cell,
// normalization and a spread of quantizers (binary and ternary ones exported
// as signs, the others as float32), with T = 7 > S = 4 stored steps.
func TestExportMatchesDeploy(t *testing.T) {
	const B, T = 3, 7
	seed := uint64(40)
	for _, cell := range []Cell{LSTM, GRU} {
		for _, norm := range []Normalization{PerStepBN, SharedBN, None} {
			for _, qn := range []string{"binary", "ternary", "fp", "bc", "tc", "twn", "k2"} {
				seed++
				tc := testCase{cell: cell, q: qn, norm: norm, tokens: seed%2 == 0}
				store := trainedStore(t, tc, 2, seed)
				layers, err := ExportLayers(backend.Must(), store, "/rnn")
				if err != nil {
					t.Fatalf("%s: %v", tc, err)
				}
				wantKind := quant.MustLookup(qn).Kind
				if len(layers) != 2 || layers[0].Weights != wantKind || layers[0].Cell != cell {
					t.Fatalf("%s: exported %d layers, kind %v, cell %v", tc, len(layers), layers[0].Weights, layers[0].Cell)
				}
				// SharedBN's single block is stored twice: step 0's h side is zero
				// (the learned h_0 is normalized away).
				wantSteps := map[Normalization]int{PerStepBN: tS, SharedBN: 2, None: 1}[norm]
				if layers[0].Steps != wantSteps {
					t.Errorf("%s: Steps = %d, want %d", tc, layers[0].Steps, wantSteps)
				}
				x := testInput(tc, B, T, seed)
				graphH := deployHidden(t, store, tc, 2, x)
				var toks []int32
				var feats []float32
				if tc.tokens {
					toks = tensors.MustCopyFlatData[int32](x)
				} else {
					feats = tensors.MustCopyFlatData[float32](x)
				}
				packedH := evalPacked(layers, toks, feats, B, T)
				if e := relErr(graphH, packedH); e > 1e-4 {
					t.Errorf("%s: deploy graph vs exported packed layers: rel err %.2g", tc, e)
				}
			}
		}
	}
}

// TestExportErrors checks that export names what is missing.
func TestExportErrors(t *testing.T) {
	store := model.NewStore()
	if _, err := ExportLayers(backend.Must(), store, "/rnn"); err == nil {
		t.Error("export of an empty store should fail")
	}
	store.SetParam("/rnn/"+ParamConfig, "cell=lstm;quantizer=binary;normalization=perstep;layers=1;hidden=3")
	if _, err := ExportLayers(backend.Must(), store, "/rnn"); err == nil {
		t.Error("export without variables should fail")
	}
	store.SetParam("/rnn/"+ParamConfig, "cell=lstm;quantizer=nope;normalization=perstep;layers=1;hidden=3")
	if _, err := ReadConfig(store, "/rnn"); err == nil {
		t.Error("unknown quantizer should fail")
	}
}

// TestInitialState checks that InitialState with the learned h_0/c_0 given as
// [B, n] nodes reproduces the default (learned) start, that a different
// given state changes the result, and that InitialStateNoise perturbs h_0 in
// training only.
func TestInitialState(t *testing.T) {
	tc := testCase{cell: LSTM, q: "binary-det", norm: None, dtype: dtypes.Float64}
	f := newFixture(t, tc, 77)
	broadcast := func(v []float64, scale float64) *tensors.Tensor {
		out := make([]float64, tB*tN)
		for b := range tB {
			for j := range tN {
				out[b*tN+j] = v[j] * scale
			}
		}
		return tensors.FromFlatDataAndDimensions(out, tB, tN)
	}
	run := func(given bool, h0, c0 *tensors.Tensor) []float64 {
		out := model.MustNewExec(backend.Must(), f.store, func(scope *model.Scope, x, h, c *Node) *Node {
			b := New(scope.In("rnn"), x, tN).Quantizer(quant.MustLookup(tc.q)).Normalization(tc.norm)
			if given {
				b.InitialState([]*Node{h}, []*Node{c})
			}
			hs, _ := b.Done()
			return hs
		}).MustCall(f.x, h0, c0)[0]
		return fromTensor(out)
	}
	learned := run(false, broadcast(f.ref.h0, 1), broadcast(f.ref.c0, 1))
	if e := relErr(run(true, broadcast(f.ref.h0, 1), broadcast(f.ref.c0, 1)), learned); e > 1e-12 {
		t.Errorf("given learned state differs from the learned start: rel err %.2g", e)
	}
	if e := relErr(run(true, broadcast(f.ref.h0, -2), broadcast(f.ref.c0, 3)), learned); e < 1e-3 {
		t.Errorf("a different given state left the output unchanged (rel diff %.2g)", e)
	}
	noisy := func(training bool) [2][]float64 {
		exec := model.MustNewExec(backend.Must(), f.store, func(scope *model.Scope, x *Node) *Node {
			scope.SetTraining(x.Graph(), training)
			hs, _ := New(scope.In("rnn"), x, tN).Quantizer(quant.MustLookup(tc.q)).Normalization(tc.norm).
				InitialStateNoise(0.1).Done()
			return hs
		})
		return [2][]float64{fromTensor(exec.MustCall(f.x)[0]), fromTensor(exec.MustCall(f.x)[0])}
	}
	if r := noisy(false); relErr(r[0], learned) > 1e-12 || relErr(r[1], learned) > 1e-12 {
		t.Error("InitialStateNoise changed the output outside training")
	}
	if r := noisy(true); relErr(r[0], r[1]) < 1e-4 || relErr(r[0], learned) < 1e-4 {
		t.Error("InitialStateNoise did not perturb h_0 in training")
	}
}

// TestDeployStepZeroWithLaggingMean: with population statistics equal to the
// evaluated batch's own statistics, deploy mode must reproduce code mode
// (batch statistics), even when step 0's h-side running mean lags behind
// h_0 . Q(Wh), as an EMA over changing weights does (the learned h_0 is the
// same for the whole batch, so that product's batch variance is 0 and batch
// normalization makes it exactly 0). Before deploy mode zeroed that block,
// the folded scale gamma_h/sqrt(0 + eps) ~ 316*gamma_h turned a lag of 0.05
// into pre-activation errors of ~16 (issue 16: 5.4% of BPC lost by deploy
// mode, concentrated on every window's first characters).
func TestDeployStepZeroWithLaggingMean(t *testing.T) {
	for _, lag := range []float64{0, 0.05} {
		tc := testCase{cell: LSTM, q: "binary-det", norm: PerStepBN, dtype: dtypes.Float64}
		f := newFixture(t, tc, 61)
		p := f.ref
		W := 4 * tN
		p.qx, p.qh = refQuant(tc.q, f.wx, quant.W0(tD, W)), refQuant(tc.q, f.wh, quant.W0(tN, W))
		stats := refBatchStats(p) // [T][width], the batch statistics of f.x
		for name, rows := range stats {
			var flat []float64
			for s := range tS {
				flat = append(flat, rows[s]...)
			}
			if name == VarMeanH {
				for j := range W {
					flat[j] += lag
				}
			}
			if err := f.store.GetVariable("/rnn/layer_0/" + name).SetValue(toTensor(flat, tc.dtype, tS, len(rows[0]))); err != nil {
				t.Fatal(err)
			}
		}
		for _, v := range stats[VarVarH][0] {
			if v > 1e-20 {
				t.Fatalf("step 0's h-side batch variance %v, want 0 (h_0 shared by the batch)", stats[VarVarH][0])
			}
		}
		hidden := func(mode Inference) []float64 {
			out := model.MustNewExec(backend.Must(), f.store, func(scope *model.Scope, x *Node) *Node {
				h, _ := New(scope.In("rnn"), x, tN).Quantizer(quant.MustLookup(tc.q)).Inference(mode).Done()
				return h
			}).MustCall(f.x)[0]
			return fromTensor(out) // [B, T, n]
		}
		code, deploy := hidden(CodeMode), hidden(DeployMode)
		for s := range tS { // steps with their own statistics
			var c, d []float64
			for b := range tB {
				i := (b*tT + s) * tN
				c, d = append(c, code[i:i+tN]...), append(d, deploy[i:i+tN]...)
			}
			if e := relErr(d, c); e > 1e-6 {
				t.Errorf("lag %g: step %d: deploy hidden states differ from code mode by rel err %.3g", lag, s, e)
			}
		}
	}
}

package recurrent

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/rbt-project/rbt/rbt/quant"
)

// Builder configures a stack of recurrent layers; create it with New, set
// options, and call Done once.
type Builder struct {
	scope    *model.Scope
	x        *Node
	hidden   int
	vocab    int // > 0: x holds token ids (one-hot input)
	dtype    dtypes.DType
	cell     Cell
	q        quant.Quantizer
	norm     Normalization
	layers   int
	h0, c0   []*Node
	noiseStd float64
	mode     Inference
	maxSteps int

	weights [][2]*Node
}

// New starts the configuration of recurrent layers applied to x.
//
// x is [B, T, d] float features (d = 1 for sequential MNIST); call OneHot for
// integer token ids [B, T]. hidden is n, the width of every layer.
// Defaults: LSTM cell, full-precision weights ("fp"), PerStepBN, one layer,
// learned zero-initialized h_0/c_0, CodeMode inference, MaxSteps = T.
//
// Variables live under scope/layer_<k>/ (see the Var* constants).
func New(scope *model.Scope, x *Node, hidden int) *Builder {
	if hidden < 1 {
		exceptions.Panicf("recurrent.New: hidden=%d, want >= 1", hidden)
	}
	return &Builder{
		scope: scope, x: x, hidden: hidden, dtype: x.DType(),
		cell: LSTM, q: quant.MustLookup("fp"), norm: PerStepBN, layers: 1, mode: CodeMode,
	}
}

// OneHot declares x as integer token ids [B, T] over a vocabulary of the given
// size: the first layer's input product selects rows of Q(Wx) (a gather,
// done for all time steps at once) instead of multiplying a one-hot vector.
// Weights use float32 unless DType says otherwise.
func (b *Builder) OneHot(vocab int) *Builder {
	b.vocab = vocab
	if !b.dtype.IsFloat() {
		b.dtype = dtypes.Float32
	}
	return b
}

// DType sets the float type of the weights for OneHot input (for dense input
// the type of x is used).
func (b *Builder) DType(dtype dtypes.DType) *Builder { b.dtype = dtype; return b }

// Cell selects LSTM (default) or GRU.
func (b *Builder) Cell(c Cell) *Builder { b.cell = c; return b }

// Quantizer selects the weight quantizer of Wx and Wh (default full precision),
// e.g. Quantizer(quant.MustLookup("binary")).
func (b *Builder) Quantizer(q quant.Quantizer) *Builder { b.q = q; return b }

// Normalization selects PerStepBN (default), SharedBN or None.
func (b *Builder) Normalization(n Normalization) *Builder { b.norm = n; return b }

// Layers sets the number of stacked layers (default 1); layer k > 0 takes the
// hidden states of layer k-1 as dense input.
func (b *Builder) Layers(k int) *Builder { b.layers = k; return b }

// InitialState replaces the learned h_0 (and c_0) by given nodes, one [B, n]
// node per layer (c nil for a GRU), e.g. the final state of the previous
// batch for truncated back-propagation through time.
func (b *Builder) InitialState(h, c []*Node) *Builder { b.h0, b.c0 = h, c; return b }

// InitialStateNoise adds N(0, std^2) noise to h_0 in training (sequential
// MNIST uses std = 0.1). Default 0.
func (b *Builder) InitialStateNoise(std float64) *Builder { b.noiseStd = std; return b }

// Inference selects the behaviour outside training: CodeMode (default) or DeployMode.
func (b *Builder) Inference(mode Inference) *Builder { b.mode = mode; return b }

// MaxSteps sets S, the number of per-time-step population statistics stored
// (default: T of the first graph that creates the variables). In deploy mode
// steps t >= S use the statistics of step S-1; in training steps t >= S do not
// update the population statistics.
func (b *Builder) MaxSteps(s int) *Builder { b.maxSteps = s; return b }

// State is the final recurrent state, one [B, n] node per layer.
type State struct {
	H []*Node
	C []*Node // LSTM cell states; nil for GRU
}

// Weights returns the quantized matrices Q(Wx), Q(Wh) that layer k used in
// this pass (the one sample shared by all time steps), after Done.
func (b *Builder) Weights(k int) (wx, wh *Node) { return b.weights[k][0], b.weights[k][1] }

// Done builds the layers and returns the hidden states of the last layer,
// [B, T, n], and the final state of every layer.
//
// In training (scope.IsTraining(g)) the quantizer's sample and the batch
// statistics are used and the population statistics are updated; outside
// training the Inference mode decides.
func (b *Builder) Done() (hidden *Node, final State) {
	g := b.x.Graph()
	if b.layers < 1 {
		exceptions.Panicf("recurrent: Layers(%d), want >= 1", b.layers)
	}
	if b.cell != LSTM && b.cell != GRU {
		exceptions.Panicf("recurrent: unknown cell %d", b.cell)
	}
	if b.q.Fn == nil {
		exceptions.Panicf("recurrent: Quantizer not set (zero value)")
	}
	var batch, steps int
	input := b.x // [B, T] tokens or [B, T, d] features (layer 0)
	if b.vocab > 0 {
		if b.x.Rank() != 2 || !b.x.DType().IsInt() {
			exceptions.Panicf("recurrent: OneHot(%d) wants int token ids [B, T], got %s", b.vocab, b.x.Shape())
		}
		batch, steps = b.x.Shape().Dim(0), b.x.Shape().Dim(1)
	} else {
		if b.x.Rank() != 3 || !b.x.DType().IsFloat() {
			exceptions.Panicf("recurrent: want float features [B, T, d] (or OneHot for tokens [B, T]), got %s", b.x.Shape())
		}
		batch, steps = b.x.Shape().Dim(0), b.x.Shape().Dim(1)
		if input.DType() != b.dtype {
			input = ConvertDType(input, b.dtype)
		}
	}
	if b.h0 != nil && (len(b.h0) != b.layers || (b.cell == LSTM && len(b.c0) != b.layers)) {
		exceptions.Panicf("recurrent: InitialState got %d h and %d c nodes for %d layers", len(b.h0), len(b.c0), b.layers)
	}
	b.scope.SetParam(ParamConfig, fmt.Sprintf("cell=%s;quantizer=%s;normalization=%s;layers=%d;hidden=%d",
		cellName(b.cell), b.q.Name, b.norm, b.layers, b.hidden))

	training := b.scope.IsTraining(g)
	deploy := !training && b.mode == DeployMode
	calibrate := !training && b.mode == CalibrateMode
	q := b.q
	if deploy || calibrate {
		q = q.Deterministic()
	}
	final.H = make([]*Node, b.layers)
	if b.cell == LSTM {
		final.C = make([]*Node, b.layers)
	}
	b.weights = make([][2]*Node, b.layers)
	// Layer k > 0 takes the hidden states of layer k-1, [B, T, n].
	var hs []*Node
	for k := range b.layers {
		if k > 0 {
			input = Stack(hs, 1)
		}
		ls := b.scope.In("layer_%d", k)
		lr := &layerRun{
			b: b, scope: ls, k: k, g: g, q: q, batch: batch, steps: steps,
			training: training, deploy: deploy, calibrate: calibrate, tokens: k == 0 && b.vocab > 0,
		}
		hs = lr.run(input)
		final.H[k] = lr.hLast
		if b.cell == LSTM {
			final.C[k] = lr.cLast
		}
	}
	hidden = Stack(hs, 1) // [B, T, n]
	return hidden, final
}

// layerRun builds one layer.
type layerRun struct {
	b        *Builder
	scope    *model.Scope
	k        int
	g        *Graph
	q        quant.Quantizer
	batch    int
	steps    int
	training bool
	deploy   bool
	// calibrate: CalibrateMode outside training: deterministic weights,
	// batch statistics, population statistics averaged over the passes.
	calibrate bool
	tokens    bool

	hLast, cLast *Node
}

func (r *layerRun) gates() int { return r.b.cell.Gates() }

// constInit returns an initializer filling with v.
func constInit(v float64) model.VariableInitializer {
	return func(g *Graph, shape shapes.Shape) *Node {
		return BroadcastToShape(Scalar(g, shape.DType, v), shape)
	}
}

// biasInit is 0 except the LSTM forget block (the second n units) = ForgetBias.
func biasInit(cell Cell, n int) model.VariableInitializer {
	return func(g *Graph, shape shapes.Shape) *Node {
		if cell != LSTM {
			return Zeros(g, shape)
		}
		z := Zeros(g, shapes.Make(shape.DType, n))
		f := BroadcastToShape(Scalar(g, shape.DType, ForgetBias), shapes.Make(shape.DType, n))
		return Concatenate([]*Node{z, f, z, z}, 0)
	}
}

// statVar returns a population-statistics variable [S, width], creating it
// with S rows when absent (an existing variable keeps its S).
func (r *layerRun) statVar(name string, width int, init float64) *model.Variable {
	if v := r.scope.GetVariable(name); v != nil {
		return v.SetTrainable(false)
	}
	s := 1
	if r.b.norm == PerStepBN {
		s = r.b.maxSteps
		if s <= 0 {
			s = r.steps
		}
	}
	return r.scope.WithInitializer(constInit(init)).
		VariableWithShape(name, shapes.Make(r.b.dtype, s, width)).SetTrainable(false)
}

// bnStats is a pair of population-statistics variables and the layer's
// per-step count of training passes that updated them (shared by x, h and c).
type bnStats struct{ mean, variance, updates *model.Variable }

func (r *layerRun) stats(suffix string, width int) bnStats {
	mean := r.statVar("pop_mean_"+suffix, width, 0)
	return bnStats{
		mean:     mean,
		variance: r.statVar("pop_var_"+suffix, width, 1),
		updates:  r.updatesVar(mean.Shape().Dim(0)),
	}
}

// updatesVar returns the layer's count of population-statistics updates
// (VarPopUpdates), one per stored step ([S]), creating it at 0. Per step,
// because a step is updated only by the passes long enough to reach it: with
// sequences of varying length (the QA documents, bucketed by length) the
// late steps see far fewer updates than the first. A scalar count, as
// checkpoints written before it was per step hold, is kept as it is: the
// same for every step, exact when every pass has the same length.
func (r *layerRun) updatesVar(steps int) *model.Variable {
	if v := r.scope.GetVariable(VarPopUpdates); v != nil {
		return v.SetTrainable(false)
	}
	return r.scope.WithInitializer(constInit(0)).
		VariableWithShape(VarPopUpdates, shapes.Make(r.b.dtype, steps)).SetTrainable(false)
}

// momentum is the weight of the old population statistics of the first t
// stored steps in the next update, [t, 1] (a scalar for a scalar count):
// min(Momentum, n/(n+1)) after n updates of the step. The first update copies
// the batch statistics and the next ones average them, until the plain EMA of
// METHOD.md (0.95/0.05) takes over after 19 updates. A plain EMA from the
// initial 0 / 1 keeps 0.95^k of them after k updates (4.6% after 60): on
// products whose variance is far below 1 that overestimates the variance
// several times, which made deploy mode of short runs much worse than code
// mode (issue 16: War and Peace at 60 steps). After a few hundred updates
// both rules give the same statistics.
//
// With mean (CalibrateMode) it is n/(n+1) without the cap: after a
// ResetPopulationCounts the statistics become the plain mean over the
// calibration passes.
func (st bnStats) momentum(g *Graph, t int, mean bool) *Node {
	n := st.updates.NodeValue(g)
	if n.Rank() == 1 {
		n = Reshape(Slice(n, AxisRange(0, t)), t, 1)
	}
	m := Div(n, AddScalar(n, 1))
	if mean {
		return m
	}
	return Min(m, Scalar(g, n.DType(), Momentum))
}

// countUpdate adds one to the update count of the first t stored steps (those
// a pass of t steps updated); call it once per training pass, after every
// update of the pass.
func (st bnStats) countUpdate(g *Graph, t int) {
	n := st.updates.NodeValue(g)
	if n.Rank() == 1 {
		s := n.Shape().Dim(0)
		t = min(t, s)
		inc := OnesLike(Slice(n, AxisRange(0, t)))
		if t < s {
			inc = Concatenate([]*Node{inc, ZerosLike(Slice(n, AxisRange(t, s)))}, 0)
		}
		st.updates.SetNodeValue(Add(n, inc))
		return
	}
	st.updates.SetNodeValue(AddScalar(n, 1))
}

// folded returns the deploy scale and shift, [S, width]:
// scale = gamma/sqrt(var+eps), shift = beta - mean*scale.
func (st bnStats) folded(g *Graph, gamma, beta *Node) (scale, shift *Node) {
	mean, variance := st.mean.NodeValue(g), st.variance.NodeValue(g)
	scale = Mul(Rsqrt(AddScalar(variance, Epsilon)), ExpandAxes(gamma, 0))
	shift = Neg(Mul(mean, scale))
	if beta != nil {
		shift = Add(shift, ExpandAxes(beta, 0))
	}
	return
}

// update writes the running average of the batch statistics [T', width]
// (T' <= T steps) into the population variables (training and calibration
// only), with the weight of momentum (the plain mean when mean is set).
func (st bnStats) update(norm Normalization, means, variances *Node, mean bool) {
	var m *Node
	for _, p := range []struct {
		v     *model.Variable
		batch *Node
	}{{st.mean, means}, {st.variance, variances}} {
		g := p.batch.Graph()
		old := p.v.NodeValue(g)
		batch := StopGradient(p.batch)
		if norm == SharedBN {
			batch = ReduceAndKeep(batch, ReduceMean, 0) // [1, width]
		}
		s, t := old.Shape().Dim(0), batch.Shape().Dim(0)
		if t > s {
			batch = Slice(batch, AxisRange(0, s))
			t = s
		}
		head := Slice(old, AxisRange(0, t))
		if m == nil {
			m = st.momentum(g, t, mean)
		}
		upd := Add(Mul(head, m), Mul(batch, OneMinus(m)))
		if t < s {
			upd = Concatenate([]*Node{upd, Slice(old, AxisRange(t, s))}, 0)
		}
		p.v.SetNodeValue(upd)
	}
}

// zeroStepZero returns the folded h-side scale or shift v [S, width] with
// step 0's row set to zero, as [max(S, 2), width] (a single shared row stays
// the row of the steps t >= 1). With the learned initial state, h_0 . Q(Wh)
// is the same for every row of a batch, so its batch variance is 0 and batch
// normalization makes it exactly 0 in training; the population statistics
// cannot: their variance is ~0, so the folded scale gamma_h/sqrt(eps) (about
// 316*gamma_h) would amplify the lag of the running mean behind the changing
// h_0 . Q(Wh) (and, for stochastic quantizers, the difference between the
// training samples and the deterministic weights) into errors of whole units
// in the pre-activations of every sequence's first steps.
func zeroStepZero(v *Node) *Node {
	rest := v
	if s := v.Shape().Dim(0); s > 1 {
		rest = Slice(v, AxisRange(1, s))
	}
	return Concatenate([]*Node{ZerosLike(row(v, 0)), rest}, 0)
}

// row returns row min(t, S-1) of v [S, width] as [1, width].
func row(v *Node, t int) *Node {
	s := min(t, v.Shape().Dim(0)-1)
	return Slice(v, AxisRange(s, s+1))
}

// rows returns rows min(t, S-1) of v [S, width] for t = 0..T-1, as [T, width]
// (see row).
func rows(v *Node, T int) *Node {
	s := v.Shape().Dim(0)
	if T <= s {
		return Slice(v, AxisRange(0, T))
	}
	last := BroadcastToDims(row(v, s-1), T-s, v.Shape().Dim(1))
	return Concatenate([]*Node{v, last}, 0)
}

// inputSide returns the input-side pre-activations of every step, [B, G*n]
// each: gamma_x*BN_t(x_t . Q(Wx)) + bias in training and code mode,
// ScaleX[s]*(x_t . Q(Wx)) + ShiftX[s] in deploy mode, x_t . Q(Wx) + bias
// without normalization.
//
// The input does not feed the recurrence, so all steps are done at once: one
// gather of the rows of Q(Wx) for token input (whose gradient is one scatter
// into [V, G*n]) or one [B*T, d] x [d, G*n] product for dense input, and the
// per-step BN of all steps as a reduction over the leading (batch) axis of
// [B, T*G*n], the layout the Go backend has fast kernels for (a reduction
// over the middle axis of [T, B, G*n] and its [T, 1, G*n] broadcasts take
// its generic, slower path). A colSplit then hands out the steps.
func (r *layerRun) inputSide(input, qx, bias, gammaX *Node, stX bnStats) []*Node {
	b, g := r.b, r.g
	T, B, width := r.steps, r.batch, qx.Shape().Dim(1)
	var bx *Node // [B, T*G*n]
	if r.tokens {
		bx = Gather(qx, InsertAxes(input, -1))
	} else {
		flat := Reshape(input, B*T, input.Shape().Dim(2))
		bx = DotGeneral(flat, []int{1}, nil, qx, []int{0}, nil)
	}
	bx = Reshape(bx, B, T*width)
	// perStep lays out per-step (or per-unit) values [T, width] (or [width])
	// as [1, T*width], matching bx.
	perStep := func(v *Node) *Node {
		if v.Rank() == 1 {
			v = BroadcastToDims(ExpandAxes(v, 0), T, width)
		}
		return Reshape(v, 1, T*width)
	}
	switch {
	case b.norm == None:
		bx = Add(bx, perStep(bias))
	case r.deploy:
		scaleX, shiftX := stX.folded(g, gammaX, bias)
		bx = Add(Mul(bx, perStep(rows(scaleX, T))), perStep(rows(shiftX, T)))
	default:
		norm, means, variances := newBatchNormalizer(perStep(gammaX)).normalize(bx)
		bx = Add(norm, perStep(bias))
		if r.training || r.calibrate {
			stX.update(b.norm, Reshape(means, T, width), Reshape(variances, T, width), r.calibrate)
		}
	}
	widths := make([]int, T)
	for t := range widths {
		widths[t] = width
	}
	return newColSplit(g, B, T*width, widths).split(bx)
}

// run builds the layer over all steps of input ([B, T] tokens or [B, T, d]
// features); it returns the T hidden states [B, n].
func (r *layerRun) run(input *Node) []*Node {
	b, g, scope := r.b, r.g, r.scope
	n, G, dt := b.hidden, r.gates(), b.dtype
	T, B := r.steps, r.batch
	var d int
	if r.tokens {
		d = b.vocab
	} else {
		d = input.Shape().Dim(2)
	}
	w0x, w0h := quant.W0(d, G*n), quant.W0(n, G*n)

	// Parameters. Wx, Wh ~ U(-W0, W0) from the scope's RNG (BinaryConnect's
	// convention: latent weights start within [-W0, W0]).
	wx := scope.WithInitializer(initializer.RandomUniformFn(scope, -w0x, w0x)).VariableWithShape(VarWx, shapes.Make(dt, d, G*n)).NodeValue(g)
	wh := scope.WithInitializer(initializer.RandomUniformFn(scope, -w0h, w0h)).VariableWithShape(VarWh, shapes.Make(dt, n, G*n)).NodeValue(g)
	bias := scope.WithInitializer(biasInit(b.cell, n)).VariableWithShape(VarBias, shapes.Make(dt, G*n)).NodeValue(g)
	useBN := b.norm != None
	lstm := b.cell == LSTM
	var gammaX, gammaH, gammaC, betaC *Node
	var stX, stH, stC bnStats
	if useBN {
		gi := scope.WithInitializer(constInit(GammaInit))
		gammaX = gi.VariableWithShape(VarGammaX, shapes.Make(dt, G*n)).NodeValue(g)
		gammaH = gi.VariableWithShape(VarGammaH, shapes.Make(dt, G*n)).NodeValue(g)
		stX, stH = r.stats("x", G*n), r.stats("h", G*n)
		if lstm {
			gammaC = gi.VariableWithShape(VarGammaC, shapes.Make(dt, n)).NodeValue(g)
			betaC = scope.WithInitializer(constInit(0)).VariableWithShape(VarBetaC, shapes.Make(dt, n)).NodeValue(g)
			stC = r.stats("c", n)
		}
	}

	// Initial state.
	var h, c *Node
	if b.h0 != nil {
		h = b.h0[r.k]
		if lstm {
			c = b.c0[r.k]
		}
	} else {
		zi := scope.WithInitializer(constInit(0))
		h = BroadcastToDims(ExpandAxes(zi.VariableWithShape(VarH0, shapes.Make(dt, n)).NodeValue(g), 0), B, n)
		if lstm {
			c = BroadcastToDims(ExpandAxes(zi.VariableWithShape(VarC0, shapes.Make(dt, n)).NodeValue(g), 0), B, n)
		}
	}
	if r.training && b.noiseStd > 0 {
		h = Add(h, MulScalar(scope.RandomNormal(g, shapes.Make(dt, B, n)), b.noiseStd))
	}

	// One weight sample per pass, shared by all steps.
	qx := r.q.Sample(scope, wx, w0x)
	qh := r.q.Sample(scope, wh, w0h)
	b.weights[r.k] = [2]*Node{qx, qh}

	pxs := r.inputSide(input, qx, bias, gammaX, stX)

	// Deploy: folded recurrent and cell statistics.
	var scaleH, shiftH, scaleC, shiftC *Node
	if useBN && r.deploy {
		scaleH, shiftH = stH.folded(g, gammaH, nil)
		if b.h0 == nil {
			scaleH, shiftH = zeroStepZero(scaleH), zeroStepZero(shiftH)
		}
		if lstm {
			scaleC, shiftC = stC.folded(g, gammaC, betaC)
		}
	}
	gammaH2 := func() *Node {
		if gammaH == nil {
			return nil
		}
		return ExpandAxes(gammaH, 0)
	}()
	var gammaC2, betaC2 *Node
	if lstm && useBN {
		gammaC2, betaC2 = ExpandAxes(gammaC, 0), ExpandAxes(betaC, 0)
	}
	var bnH, bnC *batchNormalizer
	if useBN && !r.deploy {
		bnH = newBatchNormalizer(gammaH2)
		if lstm {
			bnC = newBatchNormalizer(gammaC2)
		}
	}
	var meansH, varsH, meansC, varsC []*Node

	// Gate blocks: LSTM [g | f i o] then [f | i | o]; GRU [r z | m] then [r | z].
	var gateSplit, sigmoidSplit *colSplit
	if lstm {
		gateSplit, sigmoidSplit = newColSplit(g, B, G*n, []int{n, 3 * n}), newColSplit(g, B, 3*n, []int{n, n, n})
	} else {
		gateSplit, sigmoidSplit = newColSplit(g, B, G*n, []int{2 * n, n}), newColSplit(g, B, 2*n, []int{n, n})
	}
	hs := make([]*Node, T)
	// The recurrent product uses Q(Wh) transposed, [G*n, n], contracting its
	// axis 1: the gradient of each step's product is then already in that
	// layout, so the backward pass needs no per-step transpose of a G*n x n
	// matrix (one transpose per pass instead of T).
	recurrentProducts := newStepProducts(qh, T, B, G)
	for t := range T {
		pxt := pxs[t]                      // [B, G*n]
		ah := recurrentProducts.step(t, h) // h . Q(Wh): [B, G*n]
		switch {
		case !useBN:
		case r.deploy:
			ah = Add(Mul(ah, row(scaleH, t)), row(shiftH, t))
		default:
			norm, mean, variance := bnH.normalize(ah)
			ah = norm
			meansH, varsH = append(meansH, mean), append(varsH, variance)
		}
		if lstm {
			z := gateSplit.split(Add(ah, pxt))
			gg := Tanh(z[0])
			sg := sigmoidSplit.split(Sigmoid(z[1]))
			f, i, o := sg[0], sg[1], sg[2]
			c = Add(Mul(f, c), Mul(i, gg))
			cn := c
			switch {
			case !useBN:
			case r.deploy:
				cn = Add(Mul(c, row(scaleC, t)), row(shiftC, t))
			default:
				norm, mean, variance := bnC.normalize(c)
				cn = Add(norm, betaC2)
				meansC, varsC = append(meansC, mean), append(varsC, variance)
			}
			h = Mul(o, Tanh(cn))
		} else {
			px, a := gateSplit.split(pxt), gateSplit.split(ah)
			rz := sigmoidSplit.split(Sigmoid(Add(px[0], a[0])))
			rg, zg := rz[0], rz[1]
			m := Tanh(Add(px[1], Mul(rg, a[1])))
			h = Add(Mul(OneMinus(zg), m), Mul(zg, h))
		}
		hs[t] = h
	}
	if useBN && (r.training || r.calibrate) {
		stH.update(b.norm, Stack(meansH, 0), Stack(varsH, 0), r.calibrate)
		if lstm {
			stC.update(b.norm, Stack(meansC, 0), Stack(varsC, 0), r.calibrate)
		}
		stH.countUpdate(g, T)
	}
	r.hLast, r.cLast = h, c
	return hs
}

// Package optim holds the optimizers and learning-rate schedules of rbt.
//
// Adam is the optimizer of every run of the paper except word-level PTB. It is
// written exactly as the authors' released code does it (their layer.py,
// "parameters_updates"), which is Kingma & Ba's "efficient" form:
//
//	t   = t + 1
//	m   = beta1*m + (1-beta1)*g
//	v   = beta2*v + (1-beta2)*g^2
//	a_t = lr * sqrt(1-beta2^t) / (1-beta1^t)
//	step = a_t * m / (sqrt(v) + eps)
//	w   = w - step
//
// with beta1 = 0.9, beta2 = 0.999, eps = 1e-8 (GoMLX's own Adam adds eps to the
// bias-corrected sqrt(v^) instead, which differs when gradients are tiny).
//
// For binary runs the step of every latent quantized matrix (a variable whose
// name satisfies quant.IsLatent, "qw_...") is clipped element-wise to
// [-W0, W0], W0 = quant.W0(rows, cols) of that matrix's shape; the latent
// weights themselves are never clipped (METHOD.md, "Optimizer"). See
// AdamConfig.ClipLatent.
//
// Two options serve the ablations without normalization: ClipGradient
// (element-wise gradient clipping, so that exploding back-propagation through
// time cannot overflow the second moment) and LatentBound (BinaryConnect's
// clipping of the latent weights to [-1, 1]).
//
// The released code also zeroes Adam's moments and its step counter t after
// every validation pass (every 500 batches and at each epoch end). That quirk
// is offered, off by default, in two forms: AdamConfig.ResetEvery (in the
// graph, every N batches) and ResetMoments (from the host, e.g. after each
// validation).
//
// SGD is plain stochastic gradient descent with clipping of the global
// gradient norm (word-level PTB: lr 20, divided by 4 on plateau, clip 0.25).
//
// The learning rate lives in the store variable "/optimizers/learning_rate"
// (GoMLX's convention, optimizer.LearningRateVar); the schedules of this
// package (Constant, Geometric, Plateau) compute a value per epoch or per
// validation, and SetLearningRate writes it into the store between steps
// without recompiling the graph.
package optim

import (
	"fmt"
	"path"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/rbt-project/rbt/rbt/quant"
)

// AdamScope is the default scope (absolute, under the store root) holding
// Adam's moments ("<var>_m", "<var>_v" under the variable's own scope path)
// and its counters "step" (t, in the loss dtype) and "batches" (int64, only
// with ResetEvery).
const AdamScope = "rbt_adam"

// DefaultLearningRate is Adam's learning rate when none is configured.
const DefaultLearningRate = 0.001

// AdamConfig configures Adam; create it with Adam and finish with Done.
type AdamConfig struct {
	scopeName    string
	learningRate float64
	beta1, beta2 float64
	epsilon      float64
	clipLatent   bool
	clipGradient float64
	latentBound  float64
	latentScale  float64
	resetEvery   int
	isLatent     func(name string) bool
}

// Adam returns the configuration of the authors' Adam: betas 0.9 and 0.999,
// epsilon 1e-8, learning rate DefaultLearningRate, no step clipping, no moment
// reset.
func Adam() *AdamConfig {
	return &AdamConfig{
		scopeName:    AdamScope,
		learningRate: DefaultLearningRate,
		beta1:        0.9,
		beta2:        0.999,
		epsilon:      1e-8,
		isLatent:     quant.IsLatent,
	}
}

// LearningRate sets the initial learning rate (the value the learning-rate
// variable gets when it does not exist yet; SetLearningRate changes it later).
func (c *AdamConfig) LearningRate(lr float64) *AdamConfig { c.learningRate = lr; return c }

// Betas sets the decay of the first and second moments.
func (c *AdamConfig) Betas(beta1, beta2 float64) *AdamConfig {
	c.beta1, c.beta2 = beta1, beta2
	return c
}

// Epsilon sets the constant added to sqrt(v).
func (c *AdamConfig) Epsilon(eps float64) *AdamConfig { c.epsilon = eps; return c }

// ClipLatent enables (binary runs) the element-wise clipping of the Adam step
// of every latent quantized matrix to [-W0, W0], W0 = quant.W0(rows, cols) of
// the variable's [rows, cols] shape. A latent variable of another rank makes
// graph building fail with an error naming it.
func (c *AdamConfig) ClipLatent(enabled bool) *AdamConfig { c.clipLatent = enabled; return c }

// ClipGradient clips every gradient element-wise to [-c, c] before it enters
// the moments (char-rnn's grad_clip; c <= 0, the default, disables it). The
// no-normalization ablations need it: BinaryConnect's unscaled +-1 recurrent
// weights make back-propagation through time explode (gradients ~1e26 at the
// first step of the PTB char LM, 1x256, T = 100), and their square overflows
// float32 in the second moment, which then turns the weights into NaN.
// Unlike a global-norm clip, it leaves the parameters whose gradients do not
// explode (the softmax layer) untouched.
func (c *AdamConfig) ClipGradient(limit float64) *AdamConfig { c.clipGradient = limit; return c }

// LatentBound clips the latent quantized matrices (the LatentRule variables)
// to [-b, b] after every update (b <= 0, the default, disables it):
// BinaryConnect's rule (Courbariaux et al. 2015 clip the real-valued weights to
// [-1, 1], so that a sign can always flip back), also used by ternary connect
// (Lin et al. 2016). The paper's binary/ternary recipe uses ClipLatent instead.
func (c *AdamConfig) LatentBound(b float64) *AdamConfig { c.latentBound = b; return c }

// LatentStepScale multiplies the Adam step of the latent quantized matrices
// (the LatentRule variables) by s, before ClipLatent's clip; every other
// parameter keeps the configured learning rate (s <= 0 or 1, the default:
// no scaling). It is BinaryConnect's per-layer learning-rate scale
// (Courbariaux et al. 2015 multiply the rate of each binarized layer by a
// constant of its Glorot range) adapted to Adam, whose step is about the
// learning rate whatever the gradient's size: the latent weights set the
// sampling probability of each quantized weight (clip((W/W0+1)/2, 0, 1) for
// binary, clip(|W|/W0, 0, 1) for ternary), so the scale sets how many steps a
// weight takes to cross [-W0, W0] without changing the rate of the batch-norm
// gains, biases and softmax, which a model's full-precision learning rate
// fits.
func (c *AdamConfig) LatentStepScale(s float64) *AdamConfig { c.latentScale = s; return c }

// LatentRule replaces quant.IsLatent as the rule (on the variable's base name)
// that selects the matrices whose step ClipLatent clips.
func (c *AdamConfig) LatentRule(isLatent func(name string) bool) *AdamConfig {
	c.isLatent = isLatent
	return c
}

// ResetEvery zeroes the moments m, v and the step counter t after every n
// batches, so that batches n+1, 2n+1, ... start a fresh Adam (the released
// code's reset after each validation pass, every 500 batches). n <= 0 (the
// default) disables it.
func (c *AdamConfig) ResetEvery(n int) *AdamConfig { c.resetEvery = n; return c }

// Scope sets the absolute scope name of Adam's state (default AdamScope).
func (c *AdamConfig) Scope(name string) *AdamConfig { c.scopeName = name; return c }

// Done returns the optimizer, usable with train.NewTrainer.
func (c *AdamConfig) Done() optimizer.Interface {
	cfg := *c
	return &adam{cfg: cfg}
}

type adam struct{ cfg AdamConfig }

// UpdateGraph implements optimizer.Interface.
func (o *adam) UpdateGraph(scope *model.Scope, _ *Graph, loss *Node) {
	updateGraph("optim.Adam", scope, loss, o.UpdateGraphWithGradients)
}

// UpdateGraphWithGradients applies the update with given gradients (one per
// trainable variable in use, in scope.IterVariables order): it also makes Adam
// usable with GoMLX's gradient accumulation.
func (o *adam) UpdateGraphWithGradients(scope *model.Scope, grads []*Node, dtype dtypes.DType) {
	if len(grads) == 0 {
		exceptions.Panicf("optim.Adam: no trainable variables are used by the graph")
	}
	g := grads[0].Graph()
	c := &o.cfg
	lr := learningRateNode(scope, g, dtype, c.learningRate)
	_ = optimizer.IncrementGlobalStep(g, dtype)

	st := scope.Store().Scope(path.Join("/", c.scopeName))
	tVar := st.WithInitializer(initializer.Zero).VariableWithShape("step", shapes.Make(dtype)).SetTrainable(false)
	tPrev := tVar.NodeValue(g)
	var keep *Node // 1 normally, 0 on the batch that follows a reset point.
	if c.resetEvery > 0 {
		batches := optimizer.IncrementCounter(st, g, "batches", dtypes.Int64) // 1-based index of this batch.
		prev := AddScalar(batches, -1)
		isReset := LogicalAnd(
			Equal(Rem(prev, Scalar(g, dtypes.Int64, c.resetEvery)), ScalarZero(g, dtypes.Int64)),
			GreaterThan(prev, ScalarZero(g, dtypes.Int64)))
		keep = Where(isReset, ScalarZero(g, dtype), ScalarOne(g, dtype))
		tPrev = Mul(tPrev, keep)
	}
	t := AddScalar(tPrev, 1)
	tVar.SetNodeValue(t)

	beta1 := Scalar(g, dtype, c.beta1)
	beta2 := Scalar(g, dtype, c.beta2)
	at := Div(Mul(lr, Sqrt(OneMinus(Pow(beta2, t)))), OneMinus(Pow(beta1, t)))
	eps := Scalar(g, dtype, c.epsilon)

	forEachGradient("optim.Adam", scope, g, grads, func(v *model.Variable, grad *Node) {
		if grad.DType() != dtype {
			grad = ConvertDType(grad, dtype)
		}
		if c.clipGradient > 0 {
			grad = ClipScalar(grad, -c.clipGradient, c.clipGradient)
		}
		latent := c.isLatent != nil && c.isLatent(v.Name())
		m1Var, m2Var := moments(scope.Store(), c.scopeName, v, dtype)
		m, vv := m1Var.NodeValue(g), m2Var.NodeValue(g)
		if keep != nil {
			m, vv = Mul(m, keep), Mul(vv, keep)
		}
		m = Add(Mul(beta1, m), Mul(OneMinus(beta1), grad))
		vv = Add(Mul(beta2, vv), Mul(OneMinus(beta2), Square(grad)))
		m1Var.SetNodeValue(m)
		m2Var.SetNodeValue(vv)
		step := Div(Mul(at, m), Add(Sqrt(vv), eps))
		if latent && c.latentScale > 0 && c.latentScale != 1 {
			step = MulScalar(step, c.latentScale)
		}
		if c.clipLatent && latent {
			w0, err := LatentW0(v.Name(), v.Shape())
			if err != nil {
				exceptions.Panicf("optim.Adam: %v", err)
			}
			step = ClipScalar(step, -w0, w0)
		}
		value := v.NodeValue(g)
		if value.DType() != dtype {
			value = ConvertDType(value, dtype)
		}
		updated := Sub(value, step)
		if c.latentBound > 0 && latent {
			updated = ClipScalar(updated, -c.latentBound, c.latentBound)
		}
		if updated.DType() != v.DType() {
			updated = ConvertDType(updated, v.DType())
		}
		v.SetNodeValue(updated)
	})
}

// updateGraph implements optimizer.Interface.UpdateGraph for the optimizer
// name: it checks that loss is a scalar and calls update with the gradients
// of the trainable variables in use.
func updateGraph(name string, scope *model.Scope, loss *Node, update func(*model.Scope, []*Node, dtypes.DType)) {
	if !loss.Shape().IsScalar() {
		exceptions.Panicf("%s: the loss must be a scalar, got shape %s", name, loss.Shape())
	}
	update(scope, scope.BuildTrainableVariablesGradientsGraph(loss), loss.DType())
}

// forEachGradient calls fn with every trainable variable in use by g, in
// scope.IterVariables order, and its gradient: grads holds one per such
// variable, in that order (as BuildTrainableVariablesGradientsGraph returns
// them); the optimizer name's panic reports a mismatch.
func forEachGradient(name string, scope *model.Scope, g *Graph, grads []*Node, fn func(v *model.Variable, grad *Node)) {
	i := 0
	for v := range scope.IterVariables() {
		if !v.Trainable || !v.InUseByGraph(g) {
			continue
		}
		if i >= len(grads) {
			exceptions.Panicf("%s: more trainable variables in use than gradients (%d)", name, len(grads))
		}
		grad := grads[i]
		i++
		fn(v, grad)
	}
	if i != len(grads) {
		exceptions.Panicf("%s: %d gradients but %d trainable variables in use", name, len(grads), i)
	}
}

// LatentW0 returns the step clip W0 = quant.W0(rows, cols) of a latent matrix
// of shape [rows, cols]; other ranks are an error naming the variable.
func LatentW0(name string, shape shapes.Shape) (float64, error) {
	if shape.Rank() != 2 {
		return 0, fmt.Errorf("latent quantized variable %q has shape %s: want a [fanIn, fanOut] matrix", name, shape)
	}
	return quant.W0(shape.Dim(0), shape.Dim(1)), nil
}

// moments returns (creating them at zero) the first and second moment
// variables of v, under /<scopeName>/<v's scope>/<name>_m and _v.
func moments(store *model.Store, scopeName string, v *model.Variable, dtype dtypes.DType) (m, vv *model.Variable) {
	sc := store.Scope(path.Join("/", scopeName, v.Scope())).WithInitializer(initializer.Zero)
	shape := v.Shape().Clone()
	shape.DType = dtype
	m = sc.VariableWithShape(v.Name()+"_m", shape).SetTrainable(false)
	vv = sc.VariableWithShape(v.Name()+"_v", shape).SetTrainable(false)
	return
}

// Clear implements optimizer.Interface: it deletes Adam's state.
func (o *adam) Clear(scope *model.Scope) error {
	return scope.Store().DeleteVariablesInScope(path.Join("/", o.cfg.scopeName))
}

// learningRateNode returns the learning-rate variable's value (creating it
// with initial when absent), converted to dtype.
func learningRateNode(scope *model.Scope, g *Graph, dtype dtypes.DType, initial float64) *Node {
	v := scope.Store().GetVariable(LearningRatePath)
	if v == nil {
		v = optimizer.LearningRateVarWithValue(scope.Store().RootScope(), dtype, initial)
	}
	v.SetTrainable(false)
	lr := v.NodeValue(g)
	if lr.DType() != dtype {
		lr = ConvertDType(lr, dtype)
	}
	return lr
}

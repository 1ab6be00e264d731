package optim

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/gomlx/compute/dtypes"
)

// SGDConfig configures plain SGD with global gradient-norm clipping; create it
// with SGD and finish with Done.
type SGDConfig struct {
	learningRate float64
	clipNorm     float64
}

// SGD returns plain stochastic gradient descent, w -= lr * c * g, where
// c = min(1, clip / (||g|| + 1e-6)) scales all gradients together when their
// global L2 norm ||g|| (over every trainable variable in use) exceeds the
// clip (as PyTorch's clip_grad_norm_, used by the word-level PTB recipe: lr
// 20, clip 0.25). Unlike GoMLX's SGD there is no 1/sqrt(step) decay: the
// learning rate is whatever the learning-rate variable holds (see
// SetLearningRate and the schedules). Defaults: lr 1, no clipping.
func SGD() *SGDConfig { return &SGDConfig{learningRate: 1} }

// LearningRate sets the initial learning rate.
func (c *SGDConfig) LearningRate(lr float64) *SGDConfig { c.learningRate = lr; return c }

// ClipNorm sets the maximal global gradient norm; <= 0 disables clipping.
func (c *SGDConfig) ClipNorm(clip float64) *SGDConfig { c.clipNorm = clip; return c }

// Done returns the optimizer.
func (c *SGDConfig) Done() optimizer.Interface { cfg := *c; return &sgd{cfg: cfg} }

type sgd struct{ cfg SGDConfig }

// UpdateGraph implements optimizer.Interface.
func (o *sgd) UpdateGraph(scope *model.Scope, _ *Graph, loss *Node) {
	updateGraph("optim.SGD", scope, loss, o.UpdateGraphWithGradients)
}

// UpdateGraphWithGradients applies the update with the given gradients.
func (o *sgd) UpdateGraphWithGradients(scope *model.Scope, grads []*Node, dtype dtypes.DType) {
	if len(grads) == 0 {
		exceptions.Panicf("optim.SGD: no trainable variables are used by the graph")
	}
	g := grads[0].Graph()
	lr := learningRateNode(scope, g, dtype, o.cfg.learningRate)
	_ = optimizer.IncrementGlobalStep(g, dtype)
	scale := lr
	if o.cfg.clipNorm > 0 {
		sumSq := ScalarZero(g, dtype)
		for _, gr := range grads {
			if gr.DType() != dtype {
				gr = ConvertDType(gr, dtype)
			}
			sumSq = Add(sumSq, ReduceAllSum(Square(gr)))
		}
		coef := Div(Scalar(g, dtype, o.cfg.clipNorm), AddScalar(Sqrt(sumSq), 1e-6))
		coef = Min(coef, ScalarOne(g, dtype))
		scale = Mul(lr, coef)
	}
	forEachGradient("optim.SGD", scope, g, grads, func(v *model.Variable, gr *Node) {
		s := scale
		if s.DType() != gr.DType() {
			s = ConvertDType(s, gr.DType())
		}
		v.SetNodeValue(Sub(v.NodeValue(g), Mul(gr, s)))
	})
}

// Clear implements optimizer.Interface; SGD has no state.
func (o *sgd) Clear(*model.Scope) error { return nil }

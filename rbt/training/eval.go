package training

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
)

// SumFn builds the evaluation graph of one batch: the sum of the per-item
// losses and the number of items, e.g. the total bits of a batch's characters
// and the number of characters, so that totals over a split give bits per
// character. It runs in inference mode (scope.IsTraining(g) is false); which
// inference mode (the authors' "code" or "deploy") is the model's choice.
type SumFn func(scope *model.Scope, inputs, labels []*graph.Node) (sum, count *graph.Node)

// Totals accumulates an evaluation in float64.
type Totals struct {
	Sum, Count float64
	Batches    int
}

// Mean is Sum / Count (NaN when Count is 0): bits per character when the sum
// is in bits.
func (t Totals) Mean() float64 {
	if t.Count == 0 {
		return math.NaN()
	}
	return t.Sum / t.Count
}

// Evaluator runs a SumFn over every batch of a split.
//
// The evaluation graph is compiled afresh by every Eval call: GoMLX's pure-Go
// backend prefers constants for variables (PreferConstantsForVariables), so
// an inference graph embeds the weights' values at compilation, and a graph
// cached across training steps would keep evaluating the old weights. (The
// same holds for GoMLX's own train.Trainer.Eval.) The store's RNG state is
// kept a graph parameter, so stochastic inference (the "code" mode) draws new
// weights for every batch and advances the RNG, as in training.
type Evaluator struct {
	backend compute.Backend
	store   *model.Store
	fn      SumFn
}

// NewEvaluator returns an evaluator of fn on the store's current variables.
func NewEvaluator(backend compute.Backend, store *model.Store, fn SumFn) *Evaluator {
	return &Evaluator{backend: backend, store: store, fn: fn}
}

// PrepareInference puts g, a graph built on store's variables, in inference
// mode (store.SetTraining(g, false)) and makes the store's RNG state, when it
// has a value, a parameter of g rather than a constant (it reads it once in
// training mode): GoMLX's pure-Go backend embeds the variables of an
// inference graph as constants, which would have every call draw the same
// random numbers. With the parameter, stochastic inference (the "code" mode)
// draws new ones at every call and advances the RNG, as in training. Call it
// first in the graph function.
func PrepareInference(store *model.Store, g *graph.Graph) {
	if v := store.GetVariable(model.JoinPath(model.RootScopePath, model.RNGStateVariableName)); v != nil && v.HasValue() {
		store.SetTraining(g, true)
		_ = v.NodeValue(g)
	}
	store.SetTraining(g, false)
}

// Eval runs over every batch of epoch 0 of src.
func (e *Evaluator) Eval(ctx context.Context, src Source) (Totals, error) {
	return e.EvalBatches(ctx, src.BatchesPerEpoch(), func(i int) (train.Batch, error) { return src.Batch(0, i) })
}

// EvalBatches runs over batches 0..n-1 given by batch. It takes ownership of
// the batches' tensors.
func (e *Evaluator) EvalBatches(ctx context.Context, n int, batch func(i int) (train.Batch, error)) (Totals, error) {
	var tot Totals
	if n <= 0 {
		return tot, errors.New("training: evaluation over no batches")
	}
	nInputs := -1
	exec, err := model.NewExec(e.backend, e.store, func(scope *model.Scope, args []*graph.Node) []*graph.Node {
		PrepareInference(scope.Store(), args[0].Graph())
		sum, count := e.fn(scope, args[:nInputs], args[nInputs:])
		if sum == nil || count == nil {
			panic(errors.New("training: SumFn returned a nil node"))
		}
		if !sum.Shape().IsScalar() {
			sum = graph.ReduceAllSum(sum)
		}
		if !count.Shape().IsScalar() {
			count = graph.ReduceAllSum(count)
		}
		return []*graph.Node{sum, count}
	})
	if err != nil {
		return tot, fmt.Errorf("training: building the evaluator: %w", err)
	}
	defer exec.Finalize()
	exec.SetMaxCache(-1) // a last, smaller batch compiles a second graph.
	for i := range n {
		if err := ctx.Err(); err != nil {
			return tot, fmt.Errorf("training: evaluation stopped at batch %d of %d: %w", i, n, err)
		}
		b, err := batch(i)
		if err != nil {
			return tot, fmt.Errorf("training: evaluation batch %d: %w", i, err)
		}
		if len(b.Inputs) == 0 {
			return tot, fmt.Errorf("training: evaluation batch %d has no inputs", i)
		}
		if nInputs >= 0 && nInputs != len(b.Inputs) {
			return tot, fmt.Errorf("training: evaluation batch %d has %d inputs, previous ones %d", i, len(b.Inputs), nInputs)
		}
		nInputs = len(b.Inputs)
		args := make([]any, 0, len(b.Inputs)+len(b.Labels))
		for _, t := range b.Inputs {
			args = append(args, t)
		}
		for _, t := range b.Labels {
			args = append(args, t)
		}
		out, err := exec.Call(args...)
		for _, t := range b.Inputs {
			_ = t.FinalizeAll()
		}
		for _, t := range b.Labels {
			_ = t.FinalizeAll()
		}
		if err != nil {
			return tot, fmt.Errorf("training: evaluation batch %d: %w", i, err)
		}
		s, err1 := scalarValue(out[0])
		c, err2 := scalarValue(out[1])
		for _, t := range out {
			_ = t.FinalizeAll()
		}
		if err := errors.Join(err1, err2); err != nil {
			return tot, fmt.Errorf("training: evaluation batch %d: %w", i, err)
		}
		tot.Sum += s
		tot.Count += c
		tot.Batches++
	}
	return tot, nil
}

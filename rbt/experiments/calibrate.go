package experiments

import (
	"context"
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/training"
)

// CalibrationBatches is how many training batches re-estimate the population
// statistics of a trained model before its deploy-mode scores (sequential
// MNIST, QA): 100 batches of 32-100 examples, a few seconds of forward passes.
const CalibrationBatches = 100

// calibratedStore returns a copy of store whose population statistics were
// re-estimated for deploy mode (recurrent.CalibrateMode): the mean, over n
// training batches (batch(i), i < n), of the batch statistics of the
// deterministic weights, at every step. logits builds the model in
// CalibrateMode. The training store is left alone (its statistics and
// counts belong to its checkpoints); a store without recurrent batch
// normalization is returned as it is.
//
// Why: the statistics training keeps are running averages of batch
// statistics over the stochastic samples of binary and ternary weights, and
// at the steps that few passes reach (the late steps of the QA documents,
// bucketed by length) averages over weights long since changed. Measured at
// the cpu budget before this existed: the full-precision Attentive Reader
// scored 57.1% in deploy mode against 99.6% in code mode, the BN binary
// sequential-MNIST LSTM 48.8% against 60.1% for its deterministic weights
// with batch statistics.
func calibratedStore(ctx context.Context, b compute.Backend, store *model.Store, n int,
	batch func(i int) (train.Batch, error), logits func(scope *model.Scope, inputs []*Node) *Node) (*model.Store, error) {
	c, err := store.Clone()
	if err != nil {
		return nil, fmt.Errorf("calibration: copying the store: %w", err)
	}
	if recurrent.ResetPopulationCounts(c) == 0 {
		return store, nil
	}
	ev := training.NewEvaluator(b, c, func(scope *model.Scope, inputs, labels []*Node) (*Node, *Node) {
		out := logits(scope, inputs)
		return MulScalar(ReduceAllSum(out), 0), Scalar(out.Graph(), out.DType(), 1)
	})
	if _, err := ev.EvalBatches(ctx, n, batch); err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	return c, nil
}

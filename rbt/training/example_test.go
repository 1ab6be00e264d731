package training_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/training"
)

// Example trains a linear model y = x.w for 3 epochs of 4 batches with Adam
// and a geometric learning-rate decay, validating at each epoch end, then
// loads the best checkpoint. Running it again with the same directory would
// resume (here: find the run complete).
func Example() {
	dir, _ := os.MkdirTemp("", "rbt-example-")
	defer os.RemoveAll(dir)

	// Batches are a pure function of (epoch, index).
	batch := func(epoch, index int) (train.Batch, error) {
		x := make([]float32, 8*2)
		y := make([]float32, 8)
		for i := range 8 {
			x[2*i], x[2*i+1] = float32((epoch+index+i)%5)/5, float32((3*index+i)%7)/7
			y[i] = 2*x[2*i] - x[2*i+1]
		}
		return train.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, 8, 2)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(y, 8, 1)}}, nil
	}
	modelFn := func(scope *model.Scope, x *Node) *Node {
		return MatMul(x, scope.VariableWithValue("w", [][]float32{{0}, {0}}).NodeValue(x.Graph()))
	}

	store := model.NewStore()
	trainer := train.NewTrainer(backend.Must(), store, modelFn, loss.MeanSquaredError, optim.Adam().Done(), nil, nil)
	loop, err := training.New(trainer, training.SourceFunc{N: 4, Fn: batch}, training.Config{
		Dir: dir, Epochs: 3, EvalAtEpochEnd: true, Seed: 1,
		Schedule: optim.Geometric{Start: 0.1, Final: 0.05, Epochs: 2}, ExamplesPerStep: 8, Metric: "MSE",
	})
	if err != nil {
		panic(err)
	}
	// Validation: mean squared error over a 2-batch split, in inference mode.
	ev := training.NewEvaluator(backend.Must(), store, func(scope *model.Scope, in, labels []*Node) (*Node, *Node) {
		d := Sub(modelFn(scope, in[0]), labels[0])
		return ReduceAllSum(Square(d)), Scalar(d.Graph(), d.DType(), float64(d.Shape().Size()))
	})
	loop.WithEval(func(ctx context.Context) (float64, error) {
		tot, err := ev.Eval(ctx, training.SourceFunc{N: 2, Fn: func(_, i int) (train.Batch, error) { return batch(99, i) }})
		return tot.Mean(), err
	})
	if err := loop.Run(context.Background()); err != nil {
		panic(err)
	}
	h := loop.History()
	best, _ := h.Best(false)
	fmt.Printf("steps %d, validations %d, best at step %d\n", loop.State().Step, len(h.Valid()), best.Step)
	fmt.Println("best checkpoint:", filepath.Base(loop.BestCheckpoint()))
	fmt.Println("improved:", h.Valid()[2].Valid < h.Valid()[0].Valid)
	// Output:
	// steps 12, validations 3, best at step 12
	// best checkpoint: best-00000012
	// improved: true
}

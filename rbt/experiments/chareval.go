package experiments

import (
	"context"
	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/datasets/batches"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/training"
)

// This file holds what every character-level experiment (quickstart, char LM,
// GRU, packed inference, hardware) shares: turning [B, T+1] windows into
// inputs and targets, the training source over datasets.CharWindows, and the
// masked bits-per-character evaluation over datasets.CharEval.

// windowSplit turns b windows of t+1 ids (row-major) into inputs x[:, :t]
// and targets x[:, 1:], each b*t long.
func windowSplit(flat []int32, b, t int) (in, out []int32) {
	in, out = make([]int32, b*t), make([]int32, b*t)
	for r := range b {
		copy(in[r*t:(r+1)*t], flat[r*(t+1):r*(t+1)+t])
		copy(out[r*t:(r+1)*t], flat[r*(t+1)+1:(r+1)*(t+1)])
	}
	return in, out
}

// splitWindow turns a [B, T+1] window batch into inputs x[:, :T] and targets x[:, 1:].
func splitWindow(batch *tensors.Tensor, b, t int) (inputs, labels *tensors.Tensor) {
	in, out := windowSplit(tensors.MustCopyFlatData[int32](batch), b, t)
	return tensors.FromFlatDataAndDimensions(in, b, t), tensors.FromFlatDataAndDimensions(out, b, t)
}

// charWindowSource serves the training batches of windows (B windows of T+1
// characters) as inputs [B, T] and next-character labels [B, T].
func charWindowSource(windows *datasets.CharWindows, b, t int) training.SourceFunc {
	return training.SourceFunc{N: windows.BatchesPerEpoch(), Fn: func(epoch, index int) (train.Batch, error) {
		batch, err := batches.Char(windows, epoch, index)
		if err != nil {
			return train.Batch{}, err
		}
		in, lab := splitWindow(batch, b, t)
		_ = batch.FinalizeAll()
		return train.Batch{Inputs: []*tensors.Tensor{in}, Labels: []*tensors.Tensor{lab}}, nil
	}}
}

// charBits scores text with the GoMLX graph of lm: windows of t+1 characters
// from the initial state, b at a time (datasets.CharEval), so that every
// character after the first is predicted exactly once; padding is masked.
// Totals.Sum is in bits, Totals.Mean() the bits per character.
func charBits(ctx context.Context, be compute.Backend, store *model.Store, lm models.CharLM, text []uint8, t, b int) (training.Totals, error) {
	ev, err := datasets.NewCharEval(text, t, b)
	if err != nil {
		return training.Totals{}, err
	}
	fn := func(scope *model.Scope, inputs, labels []*Node) (*Node, *Node) {
		nll := models.TokenNLL(lm.Logits(scope, inputs[0]), labels[0]) // [B, T] nats
		mask := ConvertDType(labels[1], nll.DType())
		return DivScalar(ReduceAllSum(Mul(nll, mask)), math.Ln2), ReduceAllSum(mask)
	}
	tokens := make([]int32, b*(t+1))
	mask := make([]float32, b*t)
	return training.NewEvaluator(be, store, fn).EvalBatches(ctx, ev.NumBatches(), func(i int) (train.Batch, error) {
		if _, err := ev.BatchInto(i, tokens, mask); err != nil {
			return train.Batch{}, err
		}
		in, out := windowSplit(tokens, b, t)
		return train.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, b, t)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(out, b, t),
				tensors.FromFlatDataAndDimensions(append([]float32(nil), mask...), b, t)}}, nil
	})
}

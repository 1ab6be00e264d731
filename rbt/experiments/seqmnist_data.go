package experiments

import (
	"context"
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/training"
)

// The sequential-MNIST data: images as pixel sequences, optionally pooled and permuted.

// seqData is one split prepared for the network: Side x Side images, one
// float32 pixel per step, already in the variant's step order.
type seqData struct {
	n, steps int
	pix      []float32 // n*steps
	labels   []int32
	raw      datasets.MNISTSplit // the n source images (a view, not a copy): the batcher's shuffling
}

func prepareSplit(s datasets.MNISTSplit, limit, side int, perm []int) seqData {
	n := s.N
	if limit > 0 && limit < n {
		n = limit
	}
	k := 28 / side
	steps := side * side
	d := seqData{n: n, steps: steps, pix: make([]float32, n*steps), labels: make([]int32, n),
		raw: datasets.MNISTSplit{N: n, Images: s.Images[:n*784], Labels: s.Labels[:n]}}
	img := make([]float32, steps)
	for i := range n {
		raw := s.Images[i*784 : (i+1)*784]
		for r := range side {
			for c := range side {
				sum := 0
				for dr := range k {
					for dc := range k {
						sum += int(raw[(r*k+dr)*28+c*k+dc])
					}
				}
				img[r*side+c] = float32(sum) / float32(255*k*k)
			}
		}
		out := d.pix[i*steps : (i+1)*steps]
		if perm != nil {
			for t, p := range perm {
				out[t] = img[p]
			}
		} else {
			copy(out, img)
		}
		d.labels[i] = int32(s.Labels[i])
	}
	return d
}

// batch gathers rows idx into tensors [B, steps, 1] and [B] (idx has B entries).
func (d seqData) batch(idx []int) (*tensors.Tensor, *tensors.Tensor) {
	B := len(idx)
	x := make([]float32, B*d.steps)
	y := make([]int32, B)
	for r, i := range idx {
		copy(x[r*d.steps:(r+1)*d.steps], d.pix[i*d.steps:(i+1)*d.steps])
		y[r] = d.labels[i]
	}
	return tensors.FromFlatDataAndDimensions(x, B, d.steps, 1), tensors.FromValue(y)
}

// cellName is the cell's name in model labels and run directories.
func cellName(c recurrent.Cell) string {
	if c == recurrent.GRU {
		return "gru"
	}
	return "lstm"
}

// trainBatchesPerEpoch is the number of training batches of one pass over the training images.
func (c SeqMNISTConfig) trainBatchesPerEpoch() int {
	n := c.TrainImages
	if n == 0 || n > datasets.MNISTTrainSize {
		n = datasets.MNISTTrainSize
	}
	return max(1, n/c.Batch)
}

// evalImages is the evaluation size: k (0 = all) rounded down to a multiple of the evaluation batch.
func (c SeqMNISTConfig) evalImages(k, all int) int {
	if k == 0 || k > all {
		k = all
	}
	eb := c.evalBatch()
	return max(eb, k/eb*eb)
}

// evalBatch is the evaluation batch size (EvalBatch, else Batch).
func (c SeqMNISTConfig) evalBatch() int {
	if c.EvalBatch > 0 {
		return c.EvalBatch
	}
	return c.Batch
}

// seqAccuracy is the accuracy of net (its Inference mode) on d, in batches
// of B (d.n is a multiple of B).
func seqAccuracy(ctx context.Context, b compute.Backend, store *model.Store, net models.SeqMNIST, d seqData, B int) (float64, error) {
	ev := training.NewEvaluator(b, store, func(scope *model.Scope, inputs, labels []*Node) (*Node, *Node) {
		logits := net.Logits(scope, inputs[0])
		pred := ConvertDType(ArgMax(logits, -1), labels[0].DType())
		correct := ConvertDType(Equal(pred, labels[0]), logits.DType())
		return ReduceAllSum(correct), Scalar(logits.Graph(), logits.DType(), float64(labels[0].Shape().Dim(0)))
	})
	nb := d.n / B
	idx := make([]int, B)
	tot, err := ev.EvalBatches(ctx, nb, func(i int) (train.Batch, error) {
		for r := range B {
			idx[r] = i*B + r
		}
		x, y := d.batch(idx)
		return train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}}, nil
	})
	if err != nil {
		return 0, fmt.Errorf("seqmnist: evaluation: %w", err)
	}
	return tot.Mean(), nil
}

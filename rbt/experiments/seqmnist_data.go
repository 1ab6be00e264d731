package experiments

import (
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/rbt-project/rbt/datasets"
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

package datasets

import (
	"fmt"
	"sync"
)

// MNISTBatches serves pixel-by-pixel MNIST: each image is a sequence of 784
// one-pixel steps (row-major, or in a fixed permuted order for permuted
// MNIST), scaled to [0,1], with its label.
//
// Built with NewMNISTBatches(...)[.Permuted(p)][.Sequential()].Done().
// Training mode (default): every epoch visits the images in a fresh random
// order derived from (seed, epoch); floor(N/B) batches, the N mod B left over
// are skipped. Sequential mode (evaluation): images in file order,
// ceil(N/B) batches, the last one padded with zero images, label 0 and mask 0.
// A batch is a pure function of (seed, epoch, i).
type MNISTBatches struct {
	split      MNISTSplit
	B          int
	seed       uint64
	perm       []int
	sequential bool
	err        error

	mu    sync.Mutex
	epoch int
	order []int32
}

// NewMNISTBatches starts building batches of B images of split (not copied).
func NewMNISTBatches(split MNISTSplit, B int, seed uint64) *MNISTBatches {
	m := &MNISTBatches{split: split, B: B, seed: seed, epoch: -1}
	if B < 1 {
		m.err = fmt.Errorf("datasets: MNISTBatches needs B >= 1, got %d", B)
	}
	return m
}

// Permuted feeds the pixels in order perm (a permutation of 0..783, e.g.
// Permutation(784, seed)): step t reads pixel perm[t].
func (m *MNISTBatches) Permuted(perm []int) *MNISTBatches {
	if len(perm) != MNISTPixels {
		m.err = fmt.Errorf("datasets: MNIST permutation has %d entries, want %d", len(perm), MNISTPixels)
		return m
	}
	seen := make([]bool, MNISTPixels)
	for _, p := range perm {
		if p < 0 || p >= MNISTPixels || seen[p] {
			m.err = fmt.Errorf("datasets: MNIST pixel order is not a permutation of 0..%d (entry %d)", MNISTPixels-1, p)
			return m
		}
		seen[p] = true
	}
	m.perm = append([]int(nil), perm...)
	return m
}

// Sequential selects evaluation order (no shuffling, last batch padded).
func (m *MNISTBatches) Sequential() *MNISTBatches { m.sequential = true; return m }

// Done checks the configuration.
func (m *MNISTBatches) Done() (*MNISTBatches, error) {
	if m.err != nil {
		return nil, m.err
	}
	if len(m.split.Images) != m.split.N*MNISTPixels || len(m.split.Labels) != m.split.N {
		return nil, fmt.Errorf("datasets: MNIST split has %d images bytes and %d labels for N=%d", len(m.split.Images), len(m.split.Labels), m.split.N)
	}
	if m.BatchesPerEpoch() < 1 {
		return nil, fmt.Errorf("datasets: %d MNIST images make no batch of %d", m.split.N, m.B)
	}
	return m, nil
}

// BatchesPerEpoch is floor(N/B) in training mode, ceil(N/B) in sequential mode.
func (m *MNISTBatches) BatchesPerEpoch() int {
	if m.sequential {
		return (m.split.N + m.B - 1) / m.B
	}
	return m.split.N / m.B
}

// Indices returns the image indices of batch i of epoch (fewer than B only
// in the last sequential batch).
func (m *MNISTBatches) Indices(epoch, i int) ([]int, error) {
	if epoch < 0 || i < 0 || i >= m.BatchesPerEpoch() {
		return nil, fmt.Errorf("datasets: MNIST batch (epoch %d, %d) out of range (%d batches per epoch)", epoch, i, m.BatchesPerEpoch())
	}
	lo, hi := i*m.B, min((i+1)*m.B, m.split.N)
	idx := make([]int, 0, hi-lo)
	if m.sequential {
		for k := lo; k < hi; k++ {
			idx = append(idx, k)
		}
		return idx, nil
	}
	m.mu.Lock()
	if m.epoch != epoch || m.order == nil {
		m.order = newStream(m.seed, 0x6d6e6973 /* "mnis" */, uint64(epoch)).permutation(m.split.N)
		m.epoch = epoch
	}
	for _, k := range m.order[lo:hi] {
		idx = append(idx, int(k))
	}
	m.mu.Unlock()
	return idx, nil
}

// BatchInto writes batch i of epoch into pixels (flat [B, 784, 1]), labels
// ([B]) and mask ([B]) and returns the number of real rows.
func (m *MNISTBatches) BatchInto(epoch, i int, pixels []float32, labels []int32, mask []float32) (int, error) {
	if len(pixels) != m.B*MNISTPixels || len(labels) != m.B || len(mask) != m.B {
		return 0, fmt.Errorf("datasets: MNISTBatches.BatchInto: got %d pixels, %d labels, %d mask entries, want %d, %d, %d",
			len(pixels), len(labels), len(mask), m.B*MNISTPixels, m.B, m.B)
	}
	idx, err := m.Indices(epoch, i)
	if err != nil {
		return 0, err
	}
	clear(pixels)
	clear(labels)
	clear(mask)
	for b, k := range idx {
		img := m.split.Images[k*MNISTPixels : (k+1)*MNISTPixels]
		row := pixels[b*MNISTPixels : (b+1)*MNISTPixels]
		if m.perm == nil {
			for t, v := range img {
				row[t] = float32(v) / 255
			}
		} else {
			for t, p := range m.perm {
				row[t] = float32(img[p]) / 255
			}
		}
		labels[b] = int32(m.split.Labels[k])
		mask[b] = 1
	}
	return len(idx), nil
}

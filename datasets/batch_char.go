package datasets

import (
	"fmt"
	"sync"
)

// CharWindows serves training batches for a character-level language model
// the way the paper's code does: each epoch cuts the split into
// non-overlapping windows of T+1 characters starting at a random offset, and
// visits them in a random order, B windows per batch. A model reads
// x[:, :T] and predicts x[:, 1:].
//
// A batch is a pure function of (seed, epoch, i): Batch(epoch, i) can be
// called in any order, from any goroutine, and a training run resumed at
// (epoch, i) sees bit-identical batches.
//
// With N characters and L = T+1, every epoch has W = floor((N-T)/L) windows
// (so that they fit for any offset in [0, T]) and W/B batches; the W mod B
// windows left over (a different set each epoch) are skipped.
type CharWindows struct {
	data       []uint8
	T, B       int
	seed       uint64
	numWindows int

	mu    sync.Mutex
	epoch int // cached epoch, -1 = none
	off   int
	order []int32
}

// NewCharWindows prepares random windows of length T+1 over data (not copied)
// in batches of B.
func NewCharWindows(data []uint8, T, B int, seed uint64) (*CharWindows, error) {
	if T < 1 || B < 1 {
		return nil, fmt.Errorf("datasets: CharWindows needs T >= 1 and B >= 1, got T=%d B=%d", T, B)
	}
	w := &CharWindows{data: data, T: T, B: B, seed: seed, epoch: -1}
	if len(data) > T {
		w.numWindows = (len(data) - T) / (T + 1)
	}
	if w.numWindows < B {
		return nil, fmt.Errorf("datasets: %d characters make only %d windows of length %d, fewer than a batch of %d",
			len(data), w.numWindows, T+1, B)
	}
	return w, nil
}

// BatchesPerEpoch is floor(W/B).
func (w *CharWindows) BatchesPerEpoch() int { return w.numWindows / w.B }

// Shape is [B, T+1].
func (w *CharWindows) Shape() []int { return []int{w.B, w.T + 1} }

// plan returns the offset and window order of an epoch.
func (w *CharWindows) plan(epoch int) (int, []int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.epoch != epoch || w.order == nil {
		rng := newStream(w.seed, 0x63686172 /* "char" */, uint64(epoch))
		w.off = rng.intn(w.T + 1)
		w.order = rng.permutation(w.numWindows)
		w.epoch = epoch
	}
	return w.off, w.order
}

// Starts returns the start offsets in data of the B windows of batch i of
// epoch (row b of the batch is data[s[b] : s[b]+T+1]).
func (w *CharWindows) Starts(epoch, i int) ([]int, error) {
	if epoch < 0 || i < 0 || i >= w.BatchesPerEpoch() {
		return nil, fmt.Errorf("datasets: CharWindows batch (epoch %d, %d) out of range (%d batches per epoch)", epoch, i, w.BatchesPerEpoch())
	}
	off, order := w.plan(epoch)
	s := make([]int, w.B)
	for b := range s {
		s[b] = off + int(order[i*w.B+b])*(w.T+1)
	}
	return s, nil
}

// BatchInto writes batch i of epoch into dst, flat [B, T+1] (len B*(T+1)).
func (w *CharWindows) BatchInto(epoch, i int, dst []int32) error {
	if len(dst) != w.B*(w.T+1) {
		return fmt.Errorf("datasets: CharWindows.BatchInto: dst has %d elements, want %d", len(dst), w.B*(w.T+1))
	}
	starts, err := w.Starts(epoch, i)
	if err != nil {
		return err
	}
	w.fill(starts, dst)
	return nil
}

// fill writes the windows at starts (from Starts) into dst, flat [B, T+1].
func (w *CharWindows) fill(starts []int, dst []int32) {
	L := w.T + 1
	for b, s := range starts {
		row := dst[b*L : (b+1)*L]
		for j, c := range w.data[s : s+L] {
			row[j] = int32(c)
		}
	}
}

// CharEval serves a whole split for evaluation so that every character after
// the first is predicted exactly once (BPC over the full split).
//
// Window k holds data[k·T : k·T+T+1]: T+1 consecutive characters, overlapping
// the next window by one, so window k predicts characters k·T+1 ... k·T+T.
// There are ceil((N-1)/T) windows, B per batch, in order. The last window may
// be shorter and the last batch may have fewer windows: those positions are
// padded with id 0 and have mask 0. Each window starts from the model's
// initial state (the paper's h_0), as in training.
//
// Note for batch-statistics BN ("code" mode): padded rows of the last batch
// take part in the batch statistics unless the model masks them.
type CharEval struct {
	data       []uint8
	T, B       int
	numWindows int
}

// NewCharEval prepares sequential evaluation windows over data (not copied).
func NewCharEval(data []uint8, T, B int) (*CharEval, error) {
	if T < 1 || B < 1 {
		return nil, fmt.Errorf("datasets: CharEval needs T >= 1 and B >= 1, got T=%d B=%d", T, B)
	}
	if len(data) < 2 {
		return nil, fmt.Errorf("datasets: CharEval needs at least 2 characters, got %d", len(data))
	}
	return &CharEval{data: data, T: T, B: B, numWindows: (len(data) - 1 + T - 1) / T}, nil
}

// NumBatches is ceil(windows / B).
func (e *CharEval) NumBatches() int { return (e.numWindows + e.B - 1) / e.B }

// NumTargets is N-1, the number of predicted characters over all batches.
func (e *CharEval) NumTargets() int { return len(e.data) - 1 }

// BatchInto writes batch i into tokens (flat [B, T+1]) and mask (flat
// [B, T]) and returns the number of real targets.
func (e *CharEval) BatchInto(i int, tokens []int32, mask []float32) (int, error) {
	L := e.T + 1
	if len(tokens) != e.B*L || len(mask) != e.B*e.T {
		return 0, fmt.Errorf("datasets: CharEval.BatchInto: got %d tokens and %d mask entries, want %d and %d",
			len(tokens), len(mask), e.B*L, e.B*e.T)
	}
	if i < 0 || i >= e.NumBatches() {
		return 0, fmt.Errorf("datasets: CharEval batch %d out of range (%d batches)", i, e.NumBatches())
	}
	clear(tokens)
	clear(mask)
	targets := 0
	for b := range e.B {
		k := i*e.B + b
		if k >= e.numWindows {
			break
		}
		start := k * e.T
		end := min(start+L, len(e.data))
		for j, c := range e.data[start:end] {
			tokens[b*L+j] = int32(c)
		}
		n := end - start - 1
		for j := range n {
			mask[b*e.T+j] = 1
		}
		targets += n
	}
	return targets, nil
}

package datasets

import (
	"fmt"
)

// WordStreams is the classic `batchify` of word-level language modelling
// (Zaremba et al.; pytorch/examples word_language_model, which the paper's
// PTB code follows): the token sequence is cut into B equal contiguous
// streams of S = floor(N/B) tokens (the N mod B last tokens are dropped),
// and batch i holds steps [i·T, i·T+T) of every stream as inputs and the
// next token of each as targets. The recurrent state is carried from batch
// i to batch i+1 (truncated BPTT) and reset at the start of an epoch.
//
// There are ceil((S-1)/T) batches; the last one may have fewer real steps
// (Steps < T): its remaining positions are padded with id 0 and mask 0, so
// every batch has the same shape [B, T]. The batches are the same every
// epoch (there is no randomness in this scheme).
type WordStreams struct {
	data []int32
	B, T int
	S    int // tokens per stream
}

// NewWordStreams batchifies data (not copied) into B streams with BPTT
// length T (the paper: B=64, T=35).
func NewWordStreams(data []int32, B, T int) (*WordStreams, error) {
	if B < 1 || T < 1 {
		return nil, fmt.Errorf("datasets: WordStreams needs B >= 1 and T >= 1, got B=%d T=%d", B, T)
	}
	s := len(data) / B
	if s < 2 {
		return nil, fmt.Errorf("datasets: %d tokens are too few for %d streams", len(data), B)
	}
	return &WordStreams{data: data, B: B, T: T, S: s}, nil
}

// NumBatches is ceil((S-1)/T).
func (w *WordStreams) NumBatches() int { return (w.S - 1 + w.T - 1) / w.T }

// NumTargets is B·(S-1): the tokens predicted over a whole pass.
func (w *WordStreams) NumTargets() int { return w.B * (w.S - 1) }

// StreamLen is S, the tokens per stream.
func (w *WordStreams) StreamLen() int { return w.S }

// BatchInto writes batch i into inputs and targets (flat [B, T] each) and
// returns the number of real steps; padded positions are 0.
func (w *WordStreams) BatchInto(i int, inputs, targets []int32) (int, error) {
	if len(inputs) != w.B*w.T || len(targets) != w.B*w.T {
		return 0, fmt.Errorf("datasets: WordStreams.BatchInto: got %d inputs and %d targets, want %d each",
			len(inputs), len(targets), w.B*w.T)
	}
	if i < 0 || i >= w.NumBatches() {
		return 0, fmt.Errorf("datasets: WordStreams batch %d out of range (%d batches)", i, w.NumBatches())
	}
	start := i * w.T
	steps := min(w.T, w.S-1-start)
	clear(inputs)
	clear(targets)
	for b := range w.B {
		stream := w.data[b*w.S : (b+1)*w.S]
		copy(inputs[b*w.T:b*w.T+steps], stream[start:start+steps])
		copy(targets[b*w.T:b*w.T+steps], stream[start+1:start+1+steps])
	}
	return steps, nil
}

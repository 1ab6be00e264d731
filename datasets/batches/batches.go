// Package batches turns the batches that package datasets serves as plain
// Go slices into GoMLX tensors, ready to feed a graph.
//
// It is the only part of the data path that depends on GoMLX: datasets itself
// (the loaders, checksums and batch plans) stays GoMLX-free so that the
// hardware simulator (hwsim) and the packed inference engine can read the same
// corpora without pulling the training stack in.
//
// Each function is a pure function of the batcher and the batch index, as the
// batchers are: the same (epoch, i) gives bit-identical tensors.
package batches

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/gotype"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/rbt-project/rbt/datasets"
)

// newTensor allocates a tensor of the given dimensions and lets fill write
// its flat data in place (one pass, no intermediate slice).
func newTensor[T gotype.Supported](fill func(flat []T), dims ...int) (*tensors.Tensor, error) {
	t := tensors.FromShape(shapes.Make(dtypes.FromGenericsType[T](), dims...))
	if err := tensors.MutableFlatData(t, fill); err != nil {
		return nil, err
	}
	return t, nil
}

// Char returns training batch i of epoch as an int32 tensor [B, T+1] of
// symbol ids: a model reads x[:, :T] and predicts x[:, 1:].
func Char(w *datasets.CharWindows, epoch, i int) (*tensors.Tensor, error) {
	var ferr error
	t, err := newTensor(func(flat []int32) { ferr = w.BatchInto(epoch, i, flat) }, w.B, w.T+1)
	if err == nil {
		err = ferr
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// CharEvalBatch is one evaluation batch of a character split.
type CharEvalBatch struct {
	Tokens *tensors.Tensor // int32 [B, T+1]: inputs Tokens[:, :T], targets Tokens[:, 1:]
	Mask   *tensors.Tensor // float32 [B, T]: 1 where the target at that step is real
	// Targets is the number of real targets (the sum of Mask).
	Targets int
}

// CharEval returns evaluation batch i of e as tensors.
func CharEval(e *datasets.CharEval, i int) (CharEvalBatch, error) {
	tok := make([]int32, e.B*(e.T+1))
	mask := make([]float32, e.B*e.T)
	n, err := e.BatchInto(i, tok, mask)
	if err != nil {
		return CharEvalBatch{}, err
	}
	return CharEvalBatch{
		Tokens:  tensors.FromFlatDataAndDimensions(tok, e.B, e.T+1),
		Mask:    tensors.FromFlatDataAndDimensions(mask, e.B, e.T),
		Targets: n,
	}, nil
}

// WordBatch is one truncated-BPTT batch of a word corpus.
type WordBatch struct {
	Inputs  *tensors.Tensor // int32 [B, T]
	Targets *tensors.Tensor // int32 [B, T]: the token after each input
	Mask    *tensors.Tensor // float32 [B, T]: 1 for the first Steps columns
	Steps   int             // real time steps (T except possibly in the last batch)
}

// Word returns batch i of w as tensors.
func Word(w *datasets.WordStreams, i int) (WordBatch, error) {
	in := make([]int32, w.B*w.T)
	tg := make([]int32, w.B*w.T)
	steps, err := w.BatchInto(i, in, tg)
	if err != nil {
		return WordBatch{}, err
	}
	mask, err := newTensor(func(flat []float32) {
		for b := range w.B {
			for t := range steps {
				flat[b*w.T+t] = 1
			}
		}
	}, w.B, w.T)
	if err != nil {
		return WordBatch{}, err
	}
	return WordBatch{
		Inputs:  tensors.FromFlatDataAndDimensions(in, w.B, w.T),
		Targets: tensors.FromFlatDataAndDimensions(tg, w.B, w.T),
		Mask:    mask,
		Steps:   steps,
	}, nil
}

// MNISTBatch is one batch of sequential-MNIST images.
type MNISTBatch struct {
	Pixels *tensors.Tensor // float32 [B, 784, 1] in [0,1]
	Labels *tensors.Tensor // int32 [B]
	Mask   *tensors.Tensor // float32 [B]: 1 for real rows
	N      int             // real rows (B except in a padded last batch)
}

// MNIST returns batch i of epoch of m as tensors.
func MNIST(m *datasets.MNISTBatches, epoch, i int) (MNISTBatch, error) {
	labels := make([]int32, m.B)
	mask := make([]float32, m.B)
	var n int
	var ferr error
	pix, err := newTensor(func(flat []float32) { n, ferr = m.BatchInto(epoch, i, flat, labels, mask) }, m.B, datasets.MNISTPixels, 1)
	if err == nil {
		err = ferr
	}
	if err != nil {
		return MNISTBatch{}, err
	}
	return MNISTBatch{
		Pixels: pix,
		Labels: tensors.FromFlatDataAndDimensions(labels, m.B),
		Mask:   tensors.FromFlatDataAndDimensions(mask, m.B),
		N:      n,
	}, nil
}

// QABatch is a reading-comprehension batch as tensors.
type QABatch struct {
	Document     *tensors.Tensor // int32 [B, DocLen]
	DocumentLen  *tensors.Tensor // int32 [B]
	DocumentMask *tensors.Tensor // float32 [B, DocLen]
	Question     *tensors.Tensor // int32 [B, QLen]
	QuestionLen  *tensors.Tensor // int32 [B]
	QuestionMask *tensors.Tensor // float32 [B, QLen]
	Candidates   *tensors.Tensor // float32 [B, NumEntities]
	Answer       *tensors.Tensor // int32 [B]
	Mask         *tensors.Tensor // float32 [B]
	N            int
}

// QA returns batch i of epoch of q as tensors.
func QA(q *datasets.QABatches, epoch, i int) (QABatch, error) {
	d, err := q.BatchData(epoch, i)
	if err != nil {
		return QABatch{}, err
	}
	return QABatch{
		Document:     tensors.FromFlatDataAndDimensions(d.Document, d.B, d.DocLen),
		DocumentLen:  tensors.FromFlatDataAndDimensions(d.DocumentLen, d.B),
		DocumentMask: tensors.FromFlatDataAndDimensions(d.DocumentMask, d.B, d.DocLen),
		Question:     tensors.FromFlatDataAndDimensions(d.Question, d.B, d.QLen),
		QuestionLen:  tensors.FromFlatDataAndDimensions(d.QuestionLen, d.B),
		QuestionMask: tensors.FromFlatDataAndDimensions(d.QuestionMask, d.B, d.QLen),
		Candidates:   tensors.FromFlatDataAndDimensions(d.Candidates, d.B, d.NumEntities),
		Answer:       tensors.FromFlatDataAndDimensions(d.Answer, d.B),
		Mask:         tensors.FromFlatDataAndDimensions(d.Mask, d.B),
		N:            d.N,
	}, nil
}

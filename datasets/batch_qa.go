package datasets

import (
	"fmt"
	"slices"
	"sync"
)

// QABatches serves CNN QA batches for an attentive reader: documents and
// questions as padded id matrices with their lengths and masks, the mask of
// candidate answers (the entities listed in each file) and the answer's
// entity number.
//
// Built with NewQABatches(...)[.Bucket(k)][.Sequential()][.PermuteEntities()]
// [.PadTo(m)].Done().
//
// Training mode (default), per epoch from (seed, epoch): shuffle the
// examples, keep floor(n/B)·B of them, cut them into buckets of k·B (default
// k = 20), sort each bucket by document length, cut buckets into batches and
// shuffle the batch order. Batches thus hold documents of similar length and
// little padding. Sequential mode (evaluation): all examples sorted by
// document length (ties by input order), ceil(n/B) batches, the last one
// padded with empty rows of mask 0.
//
// Padding uses id 0 and mask 0; each batch is padded to its own longest
// document and question, rounded up to a multiple of PadTo (default 1) so
// that fewer distinct shapes reach the compiler.
type QABatches struct {
	ex         []encodedQA
	vocab      *QAVocab
	B          int
	seed       uint64
	bucket     int
	sequential bool
	permute    bool
	padTo      int
	err        error

	mu      sync.Mutex
	epoch   int
	batches [][]int32 // example indices per batch of the cached epoch
}

type encodedQA struct {
	doc, q []int32
	answer int32   // entity number
	cands  []int32 // entity numbers listed in the file (< NumEntities)
}

// QABatchData is a batch as plain slices (row-major), for tests and for
// callers that build their own tensors.
type QABatchData struct {
	B, DocLen, QLen, NumEntities int
	Document                     []int32   // [B, DocLen]
	DocumentLen                  []int32   // [B]
	DocumentMask                 []float32 // [B, DocLen]
	Question                     []int32   // [B, QLen]
	QuestionLen                  []int32   // [B]
	QuestionMask                 []float32 // [B, QLen]
	Candidates                   []float32 // [B, NumEntities]: 1 for the entities of the example
	Answer                       []int32   // [B]: entity number of the answer
	Mask                         []float32 // [B]: 1 for real rows
	N                            int       // real rows
	Examples                     []int     // indices of the examples in the rows
}

// NewQABatches encodes examples with vocab and starts building batches of B.
// An answer numbered beyond vocab.NumEntities is an error naming the file.
func NewQABatches(examples []*QAExample, vocab *QAVocab, B int, seed uint64) *QABatches {
	q := &QABatches{vocab: vocab, B: B, seed: seed, bucket: 20, padTo: 1, epoch: -1}
	if B < 1 {
		q.err = fmt.Errorf("datasets: QABatches needs B >= 1, got %d", B)
		return q
	}
	if vocab == nil {
		q.err = fmt.Errorf("datasets: QABatches needs a vocabulary")
		return q
	}
	for _, ex := range examples {
		a, _ := EntityNumber(ex.Answer)
		if a >= vocab.NumEntities {
			q.err = fmt.Errorf("datasets: %s: answer %s is beyond the %d entity ids of the vocabulary", ex.File, ex.Answer, vocab.NumEntities)
			return q
		}
		e := encodedQA{doc: vocab.Encode(ex.Context), q: vocab.Encode(ex.Question), answer: int32(a)}
		for k := range ex.Entities {
			if n, ok := EntityNumber(k); ok && n < vocab.NumEntities {
				e.cands = append(e.cands, int32(n))
			}
		}
		slices.Sort(e.cands)
		q.ex = append(q.ex, e)
	}
	return q
}

// Bucket sets the bucket size in batches (k >= 1).
func (q *QABatches) Bucket(k int) *QABatches {
	if k < 1 {
		q.err = fmt.Errorf("datasets: QA bucket size must be >= 1, got %d", k)
	}
	q.bucket = k
	return q
}

// Sequential selects evaluation order (sorted by length, no shuffling).
func (q *QABatches) Sequential() *QABatches { q.sequential = true; return q }

// PermuteEntities relabels the entities of every example with a random
// permutation of 0..NumEntities-1 drawn from (seed, epoch, example), applied
// to document, question, candidates and answer alike: the per-example entity
// anonymisation of Hermann et al., redrawn each epoch so the model cannot
// learn entity identities.
func (q *QABatches) PermuteEntities() *QABatches { q.permute = true; return q }

// PadTo rounds padded lengths up to a multiple of m.
func (q *QABatches) PadTo(m int) *QABatches {
	if m < 1 {
		q.err = fmt.Errorf("datasets: QA PadTo must be >= 1, got %d", m)
	}
	q.padTo = m
	return q
}

// Done checks the configuration.
func (q *QABatches) Done() (*QABatches, error) {
	if q.err != nil {
		return nil, q.err
	}
	if q.BatchesPerEpoch() < 1 {
		return nil, fmt.Errorf("datasets: %d QA examples make no batch of %d", len(q.ex), q.B)
	}
	return q, nil
}

// BatchesPerEpoch is floor(n/B) in training mode, ceil(n/B) in sequential mode.
func (q *QABatches) BatchesPerEpoch() int {
	if q.sequential {
		return (len(q.ex) + q.B - 1) / q.B
	}
	return len(q.ex) / q.B
}

// plan returns the batches (example indices) of an epoch.
func (q *QABatches) plan(epoch int) [][]int32 {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.batches != nil && (q.sequential || q.epoch == epoch) {
		return q.batches
	}
	n := len(q.ex)
	byLen := func(a, b int32) int {
		if d := len(q.ex[a].doc) - len(q.ex[b].doc); d != 0 {
			return d
		}
		return int(a - b)
	}
	var batches [][]int32
	if q.sequential {
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(i)
		}
		slices.SortFunc(idx, byLen)
		for lo := 0; lo < n; lo += q.B {
			batches = append(batches, idx[lo:min(lo+q.B, n)])
		}
	} else {
		rng := newStream(q.seed, 0x71612020 /* "qa" */, uint64(epoch))
		idx := rng.permutation(n)
		idx = idx[:n/q.B*q.B]
		for lo := 0; lo < len(idx); lo += q.bucket * q.B {
			bucket := idx[lo:min(lo+q.bucket*q.B, len(idx))]
			slices.SortFunc(bucket, byLen)
			for b := 0; b < len(bucket); b += q.B {
				batches = append(batches, bucket[b:b+q.B])
			}
		}
		for i := len(batches) - 1; i > 0; i-- {
			j := rng.intn(i + 1)
			batches[i], batches[j] = batches[j], batches[i]
		}
	}
	q.batches, q.epoch = batches, epoch
	return batches
}

// BatchData returns batch i of epoch as plain slices.
func (q *QABatches) BatchData(epoch, i int) (*QABatchData, error) {
	if epoch < 0 || i < 0 || i >= q.BatchesPerEpoch() {
		return nil, fmt.Errorf("datasets: QA batch (epoch %d, %d) out of range (%d batches per epoch)", epoch, i, q.BatchesPerEpoch())
	}
	rows := q.plan(epoch)[i]
	E := q.vocab.NumEntities
	roundUp := func(n int) int { return max(q.padTo, (n+q.padTo-1)/q.padTo*q.padTo) }
	dl, ql := 0, 0
	for _, k := range rows {
		dl, ql = max(dl, len(q.ex[k].doc)), max(ql, len(q.ex[k].q))
	}
	dl, ql = roundUp(dl), roundUp(ql)
	B := q.B
	d := &QABatchData{B: B, DocLen: dl, QLen: ql, NumEntities: E, N: len(rows),
		Document: make([]int32, B*dl), DocumentLen: make([]int32, B), DocumentMask: make([]float32, B*dl),
		Question: make([]int32, B*ql), QuestionLen: make([]int32, B), QuestionMask: make([]float32, B*ql),
		Candidates: make([]float32, B*E), Answer: make([]int32, B), Mask: make([]float32, B)}
	var perm []int32
	relabel := func(id int32) int32 {
		if perm != nil && q.vocab.isEntity(id) {
			return perm[id]
		}
		return id
	}
	for b, k := range rows {
		ex := &q.ex[k]
		perm = nil
		if q.permute {
			perm = newStream(q.seed, 0x656e7473 /* "ents" */, uint64(epoch), uint64(k)).permutation(E)
		}
		for t, id := range ex.doc {
			d.Document[b*dl+t] = relabel(id)
			d.DocumentMask[b*dl+t] = 1
		}
		for t, id := range ex.q {
			d.Question[b*ql+t] = relabel(id)
			d.QuestionMask[b*ql+t] = 1
		}
		d.DocumentLen[b], d.QuestionLen[b] = int32(len(ex.doc)), int32(len(ex.q))
		for _, c := range ex.cands {
			d.Candidates[b*E+int(relabel(c))] = 1
		}
		d.Answer[b] = relabel(ex.answer)
		d.Mask[b] = 1
		d.Examples = append(d.Examples, int(k))
	}
	return d, nil
}

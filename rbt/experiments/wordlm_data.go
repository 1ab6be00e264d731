package experiments

// The word-level data: the PTB corpus (or a generated stand-in), its streams
// for truncated BPTT, and the evaluation of a model on them.

import (
	"context"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/datasets/batches"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/training"
)

// LoadWordLMCorpus loads word-level PTB (datasets.LoadPTBWord). With
// allowSample, a missing PTB is replaced by SyntheticWordCorpus (for tests on
// a checkout without data; its Name says so).
func LoadWordLMCorpus(allowSample bool) (*datasets.WordCorpus, error) {
	c, err := datasets.LoadPTBWord()
	if err == nil || !allowSample {
		return c, err
	}
	return SyntheticWordCorpus(200, 40_000, 1), nil
}

// SyntheticWordCorpus is a generated stand-in for PTB: vocab words, n tokens
// per training split (n/10 for valid and test) drawn from a fixed random
// bigram model with a few likely successors per word, so that a recurrent
// model has something to learn. Its Name is "synthetic".
func SyntheticWordCorpus(vocab, n int, seed uint64) *datasets.WordCorpus {
	x := seed*0x9E3779B97F4A7C15 + 1
	next := func() uint64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x
	}
	succ := make([][4]int32, vocab)
	for i := range succ {
		for k := range succ[i] {
			succ[i][k] = int32(next() % uint64(vocab))
		}
	}
	gen := func(n int) []int32 {
		out := make([]int32, n)
		cur := int32(0)
		for i := range out {
			r := next() % 10
			if r < 8 {
				cur = succ[cur][r%4]
			} else {
				cur = int32(next() % uint64(vocab))
			}
			out[i] = cur
		}
		return out
	}
	c := &datasets.WordCorpus{Name: "synthetic", Index: map[string]int32{}}
	for i := range vocab {
		w := fmt.Sprintf("w%d", i)
		c.Words = append(c.Words, w)
		c.Index[w] = int32(i)
	}
	c.Train, c.Valid, c.Test = gen(n), gen(n/10), gen(n/10)
	return c
}

type wordLMJob struct {
	cfg    WordLMConfig
	corpus *datasets.WordCorpus
	m      Recipe
	dir    string
	be     compute.Backend
}

func (j *wordLMJob) lm(mode recurrent.Inference) models.WordLM {
	return models.WordLM{Vocab: j.corpus.VocabSize(), Embed: j.cfg.Embed, Hidden: j.cfg.Hidden,
		Quantizer: j.m.Quantizer, Normalization: j.m.Normalization, Inference: mode, Dropout: j.cfg.Dropout}
}

// wordLMSettings is what must match for a checkpoint directory to resume.
type wordLMSettings struct {
	Corpus, Model, Quantizer, Normalization string
	Vocab, Embed, Hidden, Batch, BPTT       int
	Epochs                                  int
	Steps                                   int64
	LR, Factor, Clip, Dropout               float64
	EvalEvery                               int64
	ValidWindows                            int
	Seed                                    uint64
}

const wordLMSettingsFile = "wordlm.json"

// checkDir writes the run's settings into a new directory, or checks that
// an existing one was written with the same settings (resume).
func (j *wordLMJob) checkDir() error {
	c := j.cfg
	want := wordLMSettings{Corpus: j.corpus.Name, Model: j.m.Name, Quantizer: j.m.Quantizer, Normalization: j.m.Normalization.String(),
		Vocab: j.corpus.VocabSize(), Embed: c.Embed, Hidden: c.Hidden, Batch: c.Batch, BPTT: c.BPTT, Epochs: c.Epochs, Steps: c.Steps,
		LR: c.LR, Factor: c.Factor, Clip: c.Clip, Dropout: c.Dropout, EvalEvery: c.EvalEvery, ValidWindows: c.ValidWindows, Seed: c.Seed}
	return checkRunSettings(j.dir, wordLMSettingsFile, want)
}

// source serves the training windows: inputs [tokens, reset], labels
// [targets, mask]; reset is 1 at the first window of an epoch. A last window
// shorter than BPTT is left out (its padding would enter the per-step batch
// statistics).
func (j *wordLMJob) source() (training.Source, error) {
	ws, err := datasets.NewWordStreams(j.corpus.Train, j.cfg.Batch, j.cfg.BPTT)
	if err != nil {
		return nil, fmt.Errorf("experiments: %s training streams: %w", j.corpus.Name, err)
	}
	n := ws.NumBatches()
	if (ws.StreamLen()-1)%ws.T != 0 && n > 1 {
		n--
	}
	return training.SourceFunc{N: n, Fn: func(_, index int) (train.Batch, error) {
		b, err := batches.Word(ws, index)
		if err != nil {
			return train.Batch{}, err
		}
		reset := float32(0)
		if index == 0 {
			reset = 1
		}
		return train.Batch{Inputs: []*tensors.Tensor{b.Inputs, tensors.FromValue(reset)},
			Labels: []*tensors.Tensor{b.Targets, b.Mask}}, nil
	}}, nil
}

func (j *wordLMJob) streams(split []int32) (*datasets.WordStreams, error) {
	return datasets.NewWordStreams(split, j.cfg.Batch, j.cfg.BPTT)
}

// evaluate returns the perplexity over the first windows of split (all when 0).
func (j *wordLMJob) evaluate(ctx context.Context, store *model.Store, mode recurrent.Inference, split []int32, windows int) (float64, error) {
	ws, err := j.streams(split)
	if err != nil {
		return 0, err
	}
	nll, err := models.EvalWordLM(ctx, j.be, store, j.lm(mode), ws, windows)
	if err != nil {
		return 0, err
	}
	return nll.Perplexity(), nil
}

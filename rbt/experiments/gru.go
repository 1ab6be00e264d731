package experiments

// The GRU study of the camera-ready paper (METHOD.md, "GRU"): the same recipe
// as the LSTM — per-time-step BN on Wx.x_t and Wh.h_{t-1} (gamma 0.1),
// quantized Wx and Wh, full-precision biases — applied to a GRU, compared
// with the full-precision BN-GRU on PTB characters (bits per character) and
// on sequential MNIST (test accuracy, through SeqMNIST with Cell = GRU).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// GRUConfig is the setting of the GRU study.
type GRUConfig struct {
	Budget budget.Budget
	// Char is the PTB-character setting: the LSTM notebook's (CharLMSettings
	// of TaskPTBChar at the same budget, so both train as long) with Cell =
	// GRU and the GRU models (GRUCharLMModels).
	Char CharLMConfig
	// MNIST is the sequential-MNIST setting (SeqMNISTSettings with Cell =
	// GRU and the three BN models); nil skips that part.
	MNIST *SeqMNISTConfig
}

// GRUSettings returns the study's settings at a budget: the PTB-character
// setting of notebook 01 at that budget (same hidden size, length, batch,
// steps and learning rate as the LSTMs, so that the GRU and LSTM rows are
// trained equally) with a GRU, and sequential MNIST at the setting of
// notebook 06 with a GRU, raster order only. At smoke and quick it is not
// the paper's setting; at paper it is METHOD.md's PTB-character run with a
// GRU and sequential MNIST at 784 steps.
func GRUSettings(b budget.Budget) GRUConfig {
	mn := SeqMNISTSettings(b)
	mn.Cell = recurrent.GRU
	mn.Models = []Recipe{SeqMNISTModels[0], SeqMNISTModels[1], SeqMNISTModels[2]}
	mn.Permuted = []bool{false}
	char, _ := CharLMSettings(TaskPTBChar, b) // a known task: no error
	char.Cell = recurrent.GRU
	char.Models = recipeNames(gruCharLMModels)
	char.TradeOffSteps = 0
	return GRUConfig{Budget: b, Char: char, MNIST: &mn}
}

// Validate checks the configuration.
func (c GRUConfig) Validate() error {
	if c.Char.Cell != recurrent.GRU {
		return errors.New("experiments: GRU: the character part must use Cell = recurrent.GRU")
	}
	if err := c.Char.Validate(); err != nil {
		return err
	}
	if c.MNIST != nil {
		if c.MNIST.Cell != recurrent.GRU {
			return errors.New("experiments: GRU: the MNIST part must use Cell = recurrent.GRU")
		}
		if err := c.MNIST.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// String describes the setting, for notebooks.
func (c GRUConfig) String() string {
	s := "PTB characters: " + c.Char.String()
	if c.MNIST != nil {
		s += "\nsequential MNIST: " + c.MNIST.Describe()
	}
	return s
}

// GRUResult is the whole GRU study.
type GRUResult struct {
	Config  GRUConfig
	Corpus  string // the character corpus
	Char    []*CharLMRun
	Seeded  map[string][]*CharLMRun // every seed's run of each char model (CharLMResult.Seeded)
	MNIST   *SeqMNISTResult         // nil when skipped
	Elapsed time.Duration
}

// CharRun returns the char-LM run of the model with the given short name.
func (r *GRUResult) CharRun(name string) *CharLMRun {
	for _, run := range r.Char {
		if run.Model.Name == name {
			return run
		}
	}
	return nil
}

// LoadGRUCorpus loads PTB characters; with allowSample a missing PTB is
// replaced by a generated stand-in (its Name says so).
func LoadGRUCorpus(allowSample bool) (*datasets.CharCorpus, error) {
	c, err := datasets.LoadPTBChar()
	if err == nil || !allowSample {
		return c, err
	}
	words := SyntheticWordCorpus(30, 8000, 3)
	text := func(ids []int32) []uint8 {
		var out []uint8
		for _, id := range ids {
			out = append(out, uint8(id%26)+1, 0)
		}
		return out
	}
	sym := []rune{'_'}
	for ch := 'a'; ch <= 'z'; ch++ {
		sym = append(sym, ch)
	}
	return &datasets.CharCorpus{Name: "synthetic characters (PTB not found)", Symbols: sym,
		Train: text(words.Train), Valid: text(words.Valid), Test: text(words.Test)}, nil
}

// RunGRU trains and evaluates the GRU models on PTB characters and, when
// cfg.MNIST is set, on sequential MNIST (SeqMNIST with Cell = GRU; a missing
// MNIST is an error). Checkpoints go under dir ("" = a temporary directory
// removed at the end). Progress goes to w.
func RunGRU(ctx context.Context, cfg GRUConfig, corpus *datasets.CharCorpus, dir string, w io.Writer) (*GRUResult, error) {
	if w == nil {
		w = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, cleanup, err := runDir(dir, "rbt-gru-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	res := &GRUResult{Config: cfg, Corpus: corpus.Name}
	start := time.Now()
	chars, err := RunCharLM(ctx, cfg.Char, &CharLMData{Corpus: corpus, Label: corpus.Name}, filepath.Join(dir, "char"), w)
	if err != nil {
		return nil, err
	}
	res.Char, res.Seeded = chars.Runs, chars.Seeded
	if cfg.MNIST != nil {
		mn := *cfg.MNIST
		mn.Dir = filepath.Join(dir, "mnist")
		fmt.Fprintf(w, "\n[sequential MNIST] %s\n", strings.Join(recipeNames(mn.Models), ", "))
		r, err := SeqMNIST(ctx, mn, w)
		if err != nil {
			return nil, err
		}
		res.MNIST = r
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

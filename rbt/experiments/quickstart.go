package experiments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/plots"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// QuickstartConfig is the tiny character-level language model of the
// quickstart notebook: a one-layer BN-LSTM with binary weights.
type QuickstartConfig struct {
	Budget                       budget.Budget // the budget the settings came from (tables, sources)
	Hidden, SeqLen, Batch, Steps int
	Quantizer                    string  // quant registry name, e.g. "binary"
	LearningRate                 float64 // Adam
	Seed                         uint64
}

// QuickstartSettings returns the quickstart's settings at a budget: a few
// dozen steps at smoke, a few hundred at quick, the PTB-char model size of the
// paper (1000 units, length 100, batch 64) for 2000 steps at paper.
func QuickstartSettings(b budget.Budget) QuickstartConfig {
	return QuickstartConfig{
		Budget:       b,
		Hidden:       budget.Pick(b, 64, 256, 256, 1000),
		SeqLen:       budget.Pick(b, 32, 100, 100, 100),
		Batch:        budget.Pick(b, 16, 32, 32, 64),
		Steps:        budget.Pick(b, 60, 300, 2000, 2000),
		Quantizer:    "binary",
		LearningRate: budget.Pick(b, 0.01, 0.005, 0.002, 0.002),
		Seed:         1,
	}
}

// QuickstartResult is what Quickstart measured.
type QuickstartResult struct {
	Config  QuickstartConfig
	Corpus  string    // what the model read
	Symbols int       // vocabulary size
	Loss    []float64 // training loss per step, bits per character
	Run     *CharLMRun
	Elapsed time.Duration
}

// Epochs is the number of passes over the training text.
func (r *QuickstartResult) Epochs() float64 { return lastEpoch(r.Run.History) }

// String is the settings line.
func (c QuickstartConfig) String() string {
	return fmt.Sprintf("budget %s: %s LSTM 1x%d, windows of %d, batch %d, %d Adam steps at %g, seed %d",
		c.Budget, c.Quantizer, c.Hidden, c.SeqLen, c.Batch, c.Steps, c.LearningRate, c.Seed)
}

// log2 is the bits of a uniform guess over n symbols.
func log2(n int) float64 { return math.Log2(float64(n)) }

// Quickstart trains the tiny BN-binary LSTM on PTB characters (from the data
// root of package datasets) with the char-LM trainer (TrainCharLM), and
// returns the loss of every step in bits per character. Without the PTB
// files it trains on the text of the repository's README.md instead (split
// 90/5/5), and says so in Corpus. Progress goes to w (nil: none).
func Quickstart(ctx context.Context, cfg QuickstartConfig, w io.Writer) (*QuickstartResult, error) {
	data, err := quickstartData()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	run, err := cfg.train(ctx, data, RunsDir("quickstart", cfg.Budget), 10*cfg.SeqLen*cfg.Batch+1, w)
	if err != nil {
		return nil, err
	}
	res := &QuickstartResult{Config: cfg, Corpus: data.Label, Symbols: data.Corpus.NumSymbols(), Run: run, Elapsed: time.Since(start)}
	for _, p := range run.History.Points {
		res.Loss = append(res.Loss, p.TrainLoss/math.Ln2)
	}
	return res, nil
}

// charLM is the char-LM trainer's setting of these small models (notebooks
// 00, 09 and 10): one validation at the end on a short valid prefix, a test
// score on the first testChars test characters, a training-loss point at
// every step.
func (c QuickstartConfig) charLM(testChars int) CharLMConfig {
	return CharLMConfig{Task: TaskPTBChar, Budget: c.Budget, Cell: recurrent.LSTM, Hidden: c.Hidden, SeqLen: c.SeqLen, Batch: c.Batch,
		Steps: int64(c.Steps), LR: c.LearningRate, LRFinal: c.LearningRate, EvalEvery: int64(c.Steps),
		ValidChars: 4*c.Batch*c.SeqLen + 1, TestChars: testChars, Seed: c.Seed, LogEvery: 1}
}

// train trains the BN model of c.Quantizer on data with TrainCharLM, in a
// sub-directory of dir named after the model ("": a temporary directory).
func (c QuickstartConfig) train(ctx context.Context, data *CharLMData, dir string, testChars int, w io.Writer) (*CharLMRun, error) {
	m, err := LookupCharLMModel("bn-" + c.Quantizer)
	if err != nil {
		return nil, err
	}
	dir, cleanup, err := runDir(dir, "rbt-small-charlm-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	return TrainCharLM(ctx, c.charLM(testChars), data, m, filepath.Join(dir, fmt.Sprintf("%s-h%d-s%d", m.Name, c.Hidden, c.Steps)), w)
}

// LossFigure plots the loss per step, with the unigram entropy of nothing
// learned (log2 of the vocabulary) as a reference line.
func (r *QuickstartResult) LossFigure() ([]byte, error) {
	steps := make([]float64, len(r.Loss))
	for i := range steps {
		steps[i] = float64(i + 1)
	}
	uniform := math.Log2(float64(r.Symbols))
	return plots.Lines(plots.Options{
		Title:  fmt.Sprintf("BN-%s LSTM %d units on %s", r.Config.Quantizer, r.Config.Hidden, r.Corpus),
		XLabel: "training step", YLabel: "training loss (bits/char)"},
		plots.Series{Name: "training loss", X: steps, Y: r.Loss},
		plots.Series{Name: fmt.Sprintf("uniform guess (log2 %d)", r.Symbols), X: []float64{1, steps[len(steps)-1]}, Y: []float64{uniform, uniform}, Dashed: true},
	)
}

// quickstartData is PTB characters or, without them, README.md as text
// (90/5/5 split), labelled.
func quickstartData() (*CharLMData, error) {
	if c, err := datasets.LoadPTBChar(); err == nil {
		return &CharLMData{Corpus: c, Label: "PTB characters"}, nil
	}
	// Fallback: real English text that every checkout has.
	root, ok := datasets.RepoRoot()
	if !ok {
		return nil, errors.New("quickstart: PTB characters not found and no README.md fallback: no go.mod above the working directory")
	}
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		return nil, fmt.Errorf("quickstart: PTB characters not found (%s ptb-char) and %w", datasets.FetchCommand, err)
	}
	text := []rune(string(data))
	symbols := slices.Compact(slices.Sorted(slices.Values(text)))
	if len(symbols) > 256 {
		return nil, fmt.Errorf("quickstart: README.md has %d distinct characters, more than 256", len(symbols))
	}
	ids := make([]uint8, len(text))
	for i, ch := range text {
		id, _ := slices.BinarySearch(symbols, ch)
		ids[i] = uint8(id)
	}
	a, b := len(ids)*90/100, len(ids)*95/100
	c := &datasets.CharCorpus{Name: "README.md", Symbols: symbols, Train: ids[:a], Valid: ids[a:b], Test: ids[b:]}
	return &CharLMData{Corpus: c, Label: "README.md (PTB characters not found)", Note: "PTB characters not found: the model read this repository's README.md"}, nil
}

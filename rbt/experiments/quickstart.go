package experiments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/plots"
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
	Elapsed time.Duration
}

// String is the settings line.
func (c QuickstartConfig) String() string {
	return fmt.Sprintf("budget %s: %s LSTM 1x%d, windows of %d, batch %d, %d Adam steps at %g, seed %d",
		c.Budget, c.Quantizer, c.Hidden, c.SeqLen, c.Batch, c.Steps, c.LearningRate, c.Seed)
}

// log2 is the bits of a uniform guess over n symbols.
func log2(n int) float64 { return math.Log2(float64(n)) }

// Quickstart trains the tiny BN-binary LSTM on PTB characters (the training
// split, from the data root of package datasets) and returns the loss of every
// step in bits per character. Without the PTB files it trains on the text of
// the repository's README.md instead, and says so in Corpus. Progress lines go
// to w (nil: none).
func Quickstart(ctx context.Context, cfg QuickstartConfig, w io.Writer) (*QuickstartResult, error) {
	text, err := quickstartText()
	if err != nil {
		return nil, err
	}
	run, err := trainSmallCharLM(ctx, cfg, text, w)
	if err != nil {
		return nil, err
	}
	return &QuickstartResult{Config: cfg, Corpus: text.name, Symbols: len(text.symbols), Loss: run.loss, Elapsed: run.elapsed}, nil
}

// smallCharRun is a character LM trained for a fixed number of steps, with no
// validation: the quickstart and the packed-inference experiment use it.
type smallCharRun struct {
	store   *model.Store
	lm      models.CharLM
	loss    []float64 // bits per character, per step
	elapsed time.Duration
}

// trainSmallCharLM trains models.CharLM on text.ids with random windows
// (datasets.CharWindows) and the released code's Adam (step clipping for
// binary weights), printing progress to w.
func trainSmallCharLM(ctx context.Context, cfg QuickstartConfig, text idText, w io.Writer) (*smallCharRun, error) {
	if w == nil {
		w = io.Discard
	}
	windows, err := datasets.NewCharWindows(text.ids, cfg.SeqLen, cfg.Batch, cfg.Seed)
	if err != nil {
		return nil, err
	}
	b, err := backend.New()
	if err != nil {
		return nil, err
	}
	lm := models.CharLM{Vocab: len(text.symbols), Hidden: cfg.Hidden, Quantizer: cfg.Quantizer}
	if err := lm.Validate(); err != nil {
		return nil, err
	}
	store := model.NewStore()
	store.SetRNGStateFromSeed(int64(cfg.Seed))
	opt := optim.Adam().LearningRate(cfg.LearningRate).ClipLatent(cfg.Quantizer == "binary").Done()
	trainer := train.NewTrainer(b, store, lm.Logits, models.CharLMLoss, opt, nil, nil)

	run := &smallCharRun{store: store, lm: lm}
	start := time.Now()
	src := charWindowSource(windows, cfg.Batch, cfg.SeqLen)
	for step := 0; step < cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch, err := src.Batch(step/src.N, step%src.N)
		if err != nil {
			return nil, err
		}
		metrics, err := trainer.TrainStep(batch)
		if err != nil {
			return nil, fmt.Errorf("training %s: step %d: %w", lm.Quantizer, step, err)
		}
		bpc := float64(tensors.ToScalar[float32](metrics[0])) / math.Ln2
		if math.IsNaN(bpc) || math.IsInf(bpc, 0) {
			return nil, fmt.Errorf("training %s: loss is %v at step %d: training diverged", lm.Quantizer, bpc, step)
		}
		run.loss = append(run.loss, bpc)
		if step == 0 || (step+1)%max(1, cfg.Steps/20) == 0 || step == cfg.Steps-1 {
			elapsed := time.Since(start).Seconds()
			fmt.Fprintf(w, "step %4d/%d  loss %.3f bits/char  %6.0f chars/s\n", step+1, cfg.Steps, bpc,
				float64((step+1)*cfg.Batch*cfg.SeqLen)/elapsed)
		}
	}
	run.elapsed = time.Since(start)
	return run, nil
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

// idText is a text as symbol ids, with its symbol table.
type idText struct {
	name    string
	ids     []uint8
	symbols []string
}

func quickstartText() (idText, error) {
	if c, err := datasets.LoadPTBChar(); err == nil {
		return idText{"PTB characters (train split)", c.Train, runeStrings(c.Symbols)}, nil
	}
	// Fallback: real English text that every checkout has.
	root, ok := datasets.RepoRoot()
	if !ok {
		return idText{}, errors.New("quickstart: PTB characters not found and no README.md fallback: no go.mod above the working directory")
	}
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		return idText{}, fmt.Errorf("quickstart: PTB characters not found (%s ptb-char) and %w", datasets.FetchCommand, err)
	}
	index := map[byte]uint8{}
	text := idText{name: "README.md (PTB characters not found)", ids: make([]uint8, len(data))}
	for i, ch := range data {
		id, ok := index[ch]
		if !ok {
			id = uint8(len(index))
			index[ch] = id
			text.symbols = append(text.symbols, string(rune(ch)))
		}
		text.ids[i] = id
	}
	return text, nil
}

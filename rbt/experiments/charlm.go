package experiments

// The character-level language-modelling experiments of the paper (its main
// table): full-precision, BinaryConnect/TernaryConnect-style and the proposed
// BN binary/ternary LSTMs on PTB characters, War and Peace, the Linux kernel
// and text8, with test bits per character in both inference modes and the
// weight memory of each model.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/quant"
	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/summary"
	"github.com/rbt-project/rbt/rbt/training"
)

// The char-LM tasks (corpora), as accepted by CharLMSettings and LoadCharLMData.
const (
	TaskPTBChar     = "ptb-char" // Penn Treebank characters, 50 symbols
	TaskWarAndPeace = "warpeace" // War and Peace, 83 symbols, 80/10/10
	TaskLinux       = "linux"    // Linux kernel source, 101 symbols, 90/5/5
	TaskText8       = "text8"    // text8, 27 symbols, 90M/5M/5M
)

// CharLMTasks lists the tasks in the order of the notebooks.
func CharLMTasks() []string {
	return []string{TaskPTBChar, TaskWarAndPeace, TaskLinux, TaskText8}
}

// charLMModels are the rows of the char-LM results table: the six of the
// paper's table, the binary LSTM without BN scaled by W0 (the ablation that
// isolates batch norm: the same quantizer and scale as the BN binary LSTM),
// and the k-bit points of the trade-off plot.
var charLMModels = []Recipe{
	{Name: "bn-fp", Label: "BN-LSTM, full precision", Quantizer: "fp", Normalization: recurrent.PerStepBN},
	{Name: "fp", Label: "LSTM, full precision, no BN", Quantizer: "fp", Normalization: recurrent.None},
	{Name: "bc", Label: "BinaryConnect LSTM, no BN", Quantizer: "bc", Normalization: recurrent.None},
	{Name: "tc", Label: "TernaryConnect LSTM, no BN", Quantizer: "tc", Normalization: recurrent.None},
	{Name: "bn-binary", Label: "BN binary LSTM (this paper)", Quantizer: "binary", Normalization: recurrent.PerStepBN, ClipLatent: true},
	{Name: "bn-ternary", Label: "BN ternary LSTM (this paper)", Quantizer: "ternary", Normalization: recurrent.PerStepBN, ClipLatent: true},
	{Name: "binary", Label: "binary LSTM, no BN, scaled by W0", Quantizer: "binary", Normalization: recurrent.None, ClipLatent: true},
	{Name: "bn-k2", Label: "BN LSTM, 2-bit uniform", Quantizer: "k2", Normalization: recurrent.PerStepBN, TradeOff: true},
	{Name: "bn-k3", Label: "BN LSTM, 3-bit uniform", Quantizer: "k3", Normalization: recurrent.PerStepBN, TradeOff: true},
	{Name: "bn-k4", Label: "BN LSTM, 4-bit uniform", Quantizer: "k4", Normalization: recurrent.PerStepBN, TradeOff: true},
}

// gruCharLMModels are the GRU study's char-LM models (METHOD.md, "GRU"): the
// LSTM recipe applied to a GRU, all with per-time-step BN.
var gruCharLMModels = []Recipe{
	{Name: "bn-fp", Label: "BN-GRU, full precision", Cell: recurrent.GRU, Quantizer: "fp", Normalization: recurrent.PerStepBN},
	{Name: "bn-binary", Label: "BN binary GRU", Cell: recurrent.GRU, Quantizer: "binary", Normalization: recurrent.PerStepBN, ClipLatent: true},
	{Name: "bn-ternary", Label: "BN ternary GRU", Cell: recurrent.GRU, Quantizer: "ternary", Normalization: recurrent.PerStepBN, ClipLatent: true},
}

func init() {
	for i := range charLMModels {
		charLMModels[i].Cell = recurrent.LSTM
	}
}

// charLMList is the model list of a cell.
func charLMList(cell recurrent.Cell) []Recipe {
	if cell == recurrent.GRU {
		return gruCharLMModels
	}
	return charLMModels
}

// CharLMModels lists every LSTM model of the char-LM notebooks: the six of the
// paper's table (full-precision BN-LSTM and LSTM, BinaryConnect,
// TernaryConnect, BN binary, BN ternary), the no-BN binary ablation, then the
// k-bit trade-off points.
func CharLMModels() []Recipe { return append([]Recipe(nil), charLMModels...) }

// GRUCharLMModels lists the GRU study's char-LM models.
func GRUCharLMModels() []Recipe { return append([]Recipe(nil), gruCharLMModels...) }

// LookupCharLMModel returns the LSTM model with the given short name.
func LookupCharLMModel(name string) (Recipe, error) {
	return lookupRecipe("char-LM", charLMModels, name)
}

// LookupCharLMRecipe returns the model of cell with the given short name.
func LookupCharLMRecipe(cell recurrent.Cell, name string) (Recipe, error) {
	return lookupRecipe(fmt.Sprintf("char-LM %s", strings.ToUpper(cellName(cell))), charLMList(cell), name)
}

// CharLMConfig is the setting of one char-LM experiment (one corpus).
type CharLMConfig struct {
	Task   string
	Budget budget.Budget
	// Cell is the recurrent cell of every model (recurrent.LSTM, the default
	// when zero, or recurrent.GRU); Models are looked up in its list.
	Cell recurrent.Cell
	// Model: one layer of Hidden units; windows of SeqLen characters, Batch per step.
	Hidden, SeqLen, Batch int
	// The run stops after Epochs epochs or Steps steps, whichever comes first
	// (0: no bound on that count). TradeOffSteps bounds the k-bit points
	// (0: as Steps).
	Epochs        int
	Steps         int64
	TradeOffSteps int64
	// Adam's learning rate decays geometrically per epoch from LR to LRFinal
	// over Epochs epochs (constant when equal), METHOD.md's schedule.
	LR, LRFinal float64
	// EvalEvery validates every that many steps (and at each epoch end when
	// EvalAtEpochEnd); the test score is taken at the best validation.
	EvalEvery      int64
	EvalAtEpochEnd bool
	// ValidChars and TestChars evaluate the first that many characters of the
	// valid and test splits (0: every character of the split). Validation
	// during training (learning curves, model selection) uses the valid prefix.
	ValidChars, TestChars int
	// Models are the short names of the models to train (CharLMModels or,
	// for a GRU, GRUCharLMModels).
	Models []string
	Seed   uint64
}

// CharLMSettings returns the settings of task at budget b.
//
//   - smoke: 1x32 LSTM, length 20, batch 8, a dozen steps, evaluation on a
//     few hundred characters (seconds; CI).
//   - quick: 1x256 LSTM, length 100, batch 32, 100 steps (PTB) or 60 (the
//     other corpora) at Adam 0.005, the k-bit points 30 steps (not the paper's
//     setting: a 2-core CPU budget of about ten minutes per notebook),
//     evaluation on fixed prefixes of the valid (12,801 chars) and test
//     (32,001 chars) splits.
//   - cpu (provisional, about an hour per notebook on a 2-core CPU): 1x256,
//     length 100, batch 32, one whole epoch per model (text8: 3,000 steps)
//     at Adam 0.002, validation every 500 steps and at the epoch end, valid
//     and test on the whole splits.
//   - paper: METHOD.md exactly: 1x1000 (PTB), 1x512 (War and Peace, Linux),
//     1x2000 (text8); length 100 (180 for text8); batch 64; Adam 0.002 constant
//     (PTB), 0.002 -> 0.001 geometric (War and Peace, Linux), 0.001 (text8);
//     50 / 200 / 200 / 100 epochs; validation every 500 batches and at each
//     epoch end; test over the whole split at the best validation.
func CharLMSettings(task string, b budget.Budget) (CharLMConfig, error) {
	cfg := CharLMConfig{Task: task, Budget: b, Cell: recurrent.LSTM, Models: recipeNames(charLMModels), Seed: 1}
	switch b {
	case budget.Smoke:
		cfg.Hidden, cfg.SeqLen, cfg.Batch = 32, 20, 8
		cfg.Steps, cfg.TradeOffSteps, cfg.EvalEvery = 12, 6, 6
		cfg.LR, cfg.LRFinal = 0.01, 0.01
		cfg.ValidChars, cfg.TestChars = 2*8*20+1, 2*8*20+1
		return cfg, checkTask(task)
	case budget.Quick:
		cfg.Hidden, cfg.SeqLen, cfg.Batch = 256, 100, 32
		// Measured on an idle 2-core machine: about 0.33 s per step for the BN
		// models (BenchmarkLength, T=100), 0.1-0.2 s per evaluation batch; so
		// the PTB notebook (6 models x 300 steps + 3 k-bit x 100) takes about
		// 13 minutes. The other corpora keep 60 steps (about 1.7 s per step on
		// the shared machine they were measured on, load 10-20).
		cfg.Steps, cfg.TradeOffSteps, cfg.EvalEvery = 300, 100, 50
		if task != TaskPTBChar {
			cfg.TradeOffSteps = 30
			cfg.Steps, cfg.EvalEvery = 60, 20
		}
		cfg.LR, cfg.LRFinal = 0.005, 0.005
		cfg.ValidChars, cfg.TestChars = 4*32*100+1, 10*32*100+1
		return cfg, checkTask(task)
	case budget.CPU:
		// Provisional, to be sized by measurement: about 0.33 s per step of
		// 1x256 at batch 32 (the quick measurement) makes an epoch of PTB
		// characters (1,568 steps) about 9 minutes per model. Every model,
		// the k-bit points included, trains one whole epoch (text8: 3,000
		// steps, a fraction of its 90M characters) at the paper's Adam 0.002,
		// and is scored on the whole valid and test splits.
		cfg.Hidden, cfg.SeqLen, cfg.Batch = 256, 100, 32
		cfg.Epochs, cfg.EvalEvery, cfg.EvalAtEpochEnd = 1, 500, true
		if task == TaskText8 {
			cfg.Steps = 3000
		}
		cfg.LR, cfg.LRFinal = 0.002, 0.002
		return cfg, checkTask(task)
	case budget.Paper:
		cfg.SeqLen, cfg.Batch, cfg.EvalEvery, cfg.EvalAtEpochEnd = 100, 64, 500, true
		switch task {
		case TaskPTBChar:
			cfg.Hidden, cfg.Epochs, cfg.LR, cfg.LRFinal = 1000, 50, 0.002, 0.002
		case TaskWarAndPeace, TaskLinux:
			cfg.Hidden, cfg.Epochs, cfg.LR, cfg.LRFinal = 512, 200, 0.002, 0.001
		case TaskText8:
			cfg.Hidden, cfg.SeqLen, cfg.Epochs, cfg.LR, cfg.LRFinal = 2000, 180, 100, 0.001, 0.001
		}
		return cfg, checkTask(task)
	}
	return cfg, fmt.Errorf("experiments: unknown budget %q", b)
}

func checkTask(task string) error {
	for _, t := range CharLMTasks() {
		if t == task {
			return nil
		}
	}
	return fmt.Errorf("experiments: unknown char-LM task %q (known: %s)", task, strings.Join(CharLMTasks(), ", "))
}

// Validate checks the configuration.
func (c CharLMConfig) Validate() error {
	if err := checkTask(c.Task); err != nil {
		return err
	}
	if c.Hidden < 1 || c.SeqLen < 2 || c.Batch < 2 {
		return fmt.Errorf("experiments: char-LM config: hidden %d, length %d, batch %d: want hidden >= 1, length >= 2, batch >= 2", c.Hidden, c.SeqLen, c.Batch)
	}
	if c.Epochs <= 0 && c.Steps <= 0 {
		return errors.New("experiments: char-LM config: one of Epochs or Steps must be > 0")
	}
	if !(c.LR > 0) || !(c.LRFinal > 0) {
		return fmt.Errorf("experiments: char-LM config: learning rates %v -> %v, want > 0", c.LR, c.LRFinal)
	}
	if c.ValidChars < 0 || c.TestChars < 0 || c.ValidChars == 1 || c.TestChars == 1 {
		return fmt.Errorf("experiments: char-LM config: valid/test chars %d/%d, want 0 (whole split) or >= 2", c.ValidChars, c.TestChars)
	}
	for _, m := range c.Models {
		if _, err := LookupCharLMRecipe(c.cell(), m); err != nil {
			return err
		}
	}
	return nil
}

// cell is the configured cell, LSTM when unset.
func (c CharLMConfig) cell() recurrent.Cell {
	if c.Cell == 0 {
		return recurrent.LSTM
	}
	return c.Cell
}

// String is a one-line summary of the settings, for notebooks and logs.
func (c CharLMConfig) String() string {
	bound := fmt.Sprintf("%d steps", c.Steps)
	if c.Steps == 0 {
		bound = fmt.Sprintf("%d epochs", c.Epochs)
	} else if c.Epochs > 0 {
		bound += fmt.Sprintf(" (at most %d epochs)", c.Epochs)
	}
	lr := fmt.Sprintf("Adam lr %g constant", c.LR)
	if c.LRFinal != c.LR {
		lr = fmt.Sprintf("Adam lr %g -> %g geometric over %d epochs", c.LR, c.LRFinal, c.Epochs)
	}
	chars := func(n int) string {
		if n == 0 {
			return "whole split"
		}
		return fmt.Sprintf("first %d chars", n)
	}
	trade := ""
	if c.TradeOffSteps > 0 && c.TradeOffSteps != c.Steps {
		trade = fmt.Sprintf(", k-bit points %d steps", c.TradeOffSteps)
	}
	return fmt.Sprintf("budget %s, task %s: %s 1x%d, length %d, batch %d, %s%s, %s, validation every %d steps on %s, test on %s, seed %d",
		c.Budget, c.Task, strings.ToUpper(cellName(c.cell())), c.Hidden, c.SeqLen, c.Batch, bound, trade, lr, c.EvalEvery, chars(c.ValidChars), chars(c.TestChars), c.Seed)
}

// CharLMData is a corpus ready for the char-LM experiments.
type CharLMData struct {
	Corpus *datasets.CharCorpus
	// Label names what was loaded, e.g. "PTB characters" or "Linux kernel
	// stand-in (linux_input.txt absent)".
	Label string
	// Note is non-empty when the data is not the paper's (a stand-in or a
	// sample): scores are then not comparable with the paper's.
	Note string
}

// LoadCharLMData loads the corpus of task from the data root (package
// datasets). Linux falls back to the stand-in when linux_input.txt is absent
// (Note says so). text8 falls back, when the real file is absent and allowSample
// is true, to a text8-like sample made from War and Peace (lowercase a-z and
// single spaces, 27 symbols, 90/5/5), clearly labelled; with allowSample false
// its absence is an error naming the fetch command.
func LoadCharLMData(task string, allowSample bool) (*CharLMData, error) {
	switch task {
	case TaskPTBChar:
		c, err := datasets.LoadPTBChar()
		if err != nil {
			return nil, err
		}
		return &CharLMData{Corpus: c, Label: "PTB characters"}, nil
	case TaskWarAndPeace:
		c, err := datasets.LoadWarAndPeace()
		if err != nil {
			return nil, err
		}
		return &CharLMData{Corpus: c, Label: "War and Peace"}, nil
	case TaskLinux:
		c, err := datasets.LoadLinux()
		if err != nil {
			return nil, err
		}
		if c.Substitute {
			return &CharLMData{Corpus: c, Label: "Linux kernel stand-in (kernel 6.1 sources)",
				Note: "linux_input.txt (Karpathy's file, the paper's data) is absent: this run uses the same-size stand-in " +
					"linux_substitute_kernel6.1.txt, whose BPC is not comparable with the paper's"}, nil
		}
		return &CharLMData{Corpus: c, Label: "Linux kernel (linux_input.txt)"}, nil
	case TaskText8:
		c, err := datasets.LoadText8()
		if err == nil {
			return &CharLMData{Corpus: c, Label: "text8"}, nil
		}
		if !allowSample {
			return nil, err
		}
		wp, err2 := datasets.LoadWarAndPeace()
		if err2 != nil {
			return nil, fmt.Errorf("experiments: text8 is absent (%v) and War and Peace, the source of its stand-in sample, too: %w", err, err2)
		}
		s := Text8Sample(wp.Decode(wp.Train) + wp.Decode(wp.Valid) + wp.Decode(wp.Test))
		return &CharLMData{Corpus: s, Label: "text8-like SAMPLE made from War and Peace (real text8 absent)",
			Note: "the real text8 (100M chars of Wikipedia) is absent: this run uses a text8-like sample, War and Peace " +
				"lowercased to a-z and single spaces (27 symbols, split 90/5/5); its BPC is not comparable with text8's. " +
				"Get the real file with `" + datasets.FetchCommand + " text8` (http://mattmahoney.net/dc/text8.zip)"}, nil
	}
	return nil, checkTask(task)
}

// Text8Sample turns text into a text8-like corpus the way Mahoney's wikifil.pl
// cleans Wikipedia: letters lowercased to a-z, every other run of characters
// one space; split 90/5/5 contiguous like text8. Name is "text8-sample".
func Text8Sample(text string) *datasets.CharCorpus {
	ids := make([]uint8, 0, len(text))
	space := true // no leading space
	for _, r := range text {
		switch {
		case r >= 'a' && r <= 'z':
			ids = append(ids, uint8(r-'a'+1))
			space = false
		case r >= 'A' && r <= 'Z':
			ids = append(ids, uint8(r-'A'+1))
			space = false
		default:
			if !space {
				ids = append(ids, 0)
				space = true
			}
		}
	}
	n := len(ids)
	a, b := n*9/10, n*95/100
	return &datasets.CharCorpus{Name: "text8-sample", Symbols: []rune(datasets.Text8Alphabet),
		Train: ids[:a], Valid: ids[a:b], Test: ids[b:], Substitute: true}
}

// CharLMRun is one trained and evaluated model.
type CharLMRun struct {
	Model Recipe
	// WeightBytes is the memory of the quantized matrices Wx, Wh at the model's
	// precision (summary.FromStore); Weights is their number.
	WeightBytes, Weights int64
	Steps                int64 // steps trained
	BestStep             int64 // the step of the best validation (the evaluated weights)
	History              training.History
	// Valid and Test BPC of the best checkpoint by inference mode ("code",
	// "deploy"), over the configured prefixes.
	Valid, Test map[string]float64
	// Diverged is the divergence message when training stopped on a
	// non-finite value (the best, else the last, good checkpoint was
	// evaluated), else ""; DivergedStep is the step that produced it.
	Diverged     string
	DivergedStep int64
	TrainSeconds float64 // wall time of training (all sessions)
	EvalSeconds  float64 // wall time of the final evaluation
	// Packed is the deploy form of the best checkpoint (models.ExportCharLM);
	// PackedBPC and DeployBPC are the test BPC of the packed engine and of the
	// GoMLX deploy mode on the first batch of test windows (the check that
	// the export computes what was trained).
	Packed               *packed.Model
	PackedBPC, DeployBPC float64
}

// The inference modes of METHOD.md, as table columns.
var charLMModes = []recurrent.Inference{recurrent.CodeMode, recurrent.DeployMode}

// charLMJob holds what training and evaluating one model needs.
type charLMJob struct {
	cfg   CharLMConfig
	data  *CharLMData
	m     Recipe
	dir   string
	steps int64
	be    compute.Backend
}

func newCharLMJob(cfg CharLMConfig, data *CharLMData, m Recipe, dir string) (*charLMJob, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errors.New("experiments: a char-LM run needs a checkpoint directory")
	}
	be, err := backend.New()
	if err != nil {
		return nil, err
	}
	steps := cfg.Steps
	if m.TradeOff && cfg.TradeOffSteps > 0 {
		steps = cfg.TradeOffSteps
	}
	return &charLMJob{cfg: cfg, data: data, m: m, dir: dir, steps: steps, be: be}, nil
}

func (j *charLMJob) lm(mode recurrent.Inference) models.CharLM {
	return models.CharLM{Vocab: j.data.Corpus.NumSymbols(), Hidden: j.cfg.Hidden, Cell: j.m.Cell, Quantizer: j.m.Quantizer,
		Normalization: j.m.Normalization, Inference: mode}
}

// runSettings is what must match for a checkpoint directory to be resumed.
type runSettings struct {
	Task, Corpus, Model, Quantizer, Normalization string
	Hidden, SeqLen, Batch, Epochs                 int
	Steps                                         int64
	LR, LRFinal                                   float64
	EvalEvery                                     int64
	EvalAtEpochEnd                                bool
	ValidChars                                    int
	Seed                                          uint64
}

const runSettingsFile = "charlm.json"

func (j *charLMJob) settings() runSettings {
	return runSettings{Task: j.cfg.Task, Corpus: j.data.Corpus.Name, Model: j.m.Name, Quantizer: j.m.Quantizer,
		Normalization: j.m.Normalization.String(), Hidden: j.cfg.Hidden, SeqLen: j.cfg.SeqLen, Batch: j.cfg.Batch,
		Epochs: j.cfg.Epochs, Steps: j.steps, LR: j.cfg.LR, LRFinal: j.cfg.LRFinal, EvalEvery: j.cfg.EvalEvery,
		EvalAtEpochEnd: j.cfg.EvalAtEpochEnd, ValidChars: j.cfg.ValidChars, Seed: j.cfg.Seed}
}

// checkDir writes the run's settings into a new directory, or checks that an
// existing one was written by the same settings (resume).
func (j *charLMJob) checkDir() error {
	return checkRunSettings(j.dir, runSettingsFile, j.settings())
}

// loop builds the training loop (fresh store, trainer, optimizer).
func (j *charLMJob) loop(progress io.Writer, onStep func(*training.Loop, training.StepInfo) error) (*training.Loop, error) {
	c := j.data.Corpus
	windows, err := datasets.NewCharWindows(c.Train, j.cfg.SeqLen, j.cfg.Batch, j.cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("experiments: %s training windows: %w", c.Name, err)
	}
	B, T := j.cfg.Batch, j.cfg.SeqLen
	src := charWindowSource(windows, B, T)
	store := model.NewStore()
	opt := optim.Adam().LearningRate(j.cfg.LR).ClipLatent(j.m.ClipLatent).Done()
	lm := j.lm(recurrent.CodeMode)
	if err := lm.Validate(); err != nil {
		return nil, err
	}
	trainer := train.NewTrainer(j.be, store, lm.Logits, models.CharLMLoss, opt, nil, nil)
	var sched optim.Schedule = optim.Constant(j.cfg.LR)
	if j.cfg.LRFinal != j.cfg.LR {
		sched = optim.Geometric{Start: j.cfg.LR, Final: j.cfg.LRFinal, Epochs: max(j.cfg.Epochs, 1)}
	}
	// Frequent checkpoints and weight checks, so that a run that diverges keeps
	// a recent good checkpoint to score: every step for the no-BN ablations
	// (their +-1 recurrent products make gradients explode within a few steps),
	// every fifth of the validation interval otherwise.
	ckptEvery := max(j.cfg.EvalEvery/5, 1)
	if j.m.Normalization == recurrent.None && j.m.Quantizer != "fp" {
		ckptEvery = 1
	}
	every := 30 * time.Second
	if j.cfg.Budget == budget.Smoke {
		every = time.Hour // a line per validation is enough
	} else if j.cfg.Budget == budget.Quick {
		every = 10 * time.Second
	}
	loop, err := training.New(trainer, src, training.Config{
		Dir: j.dir, Epochs: j.cfg.Epochs, Steps: j.steps, EvalEvery: j.cfg.EvalEvery, EvalAtEpochEnd: j.cfg.EvalAtEpochEnd,
		Seed: int64(j.cfg.Seed), Schedule: sched, ExamplesPerStep: int64(B * T), Unit: "chars", Metric: "valid BPC",
		CheckpointEvery: ckptEvery, CheckWeightsEvery: ckptEvery,
		Progress: progress, ProgressEvery: every, OnStep: onStep,
	})
	if err != nil {
		return nil, err
	}
	loop.WithEval(func(ctx context.Context) (float64, error) {
		tot, err := j.evaluate(ctx, store, recurrent.CodeMode, c.Valid, j.cfg.ValidChars)
		return tot.Mean(), err
	})
	return loop, nil
}

// evaluate returns the bits over the first chars characters of split (all
// when chars is 0), in evaluation windows of SeqLen and batches of Batch
// (datasets.CharEval: every character after the first predicted once).
func (j *charLMJob) evaluate(ctx context.Context, store *model.Store, mode recurrent.Inference, split []uint8, chars int) (training.Totals, error) {
	if chars > 0 && chars < len(split) {
		split = split[:chars]
	}
	return charBits(ctx, j.be, store, j.lm(mode), split, j.cfg.SeqLen, j.cfg.Batch)
}

// TrainCharLM trains model m at cfg on data, with checkpoints in dir (resuming
// from it when it holds an unfinished run of the same settings), then loads
// the best-validation checkpoint and evaluates it on the valid and test
// splits in both inference modes, and exports its deploy form. A divergence
// (non-finite loss or weights) is not an error: the run stops, its last good
// checkpoint is evaluated and CharLMRun.Diverged says what happened. Progress
// goes to w (nil: none).
func TrainCharLM(ctx context.Context, cfg CharLMConfig, data *CharLMData, m Recipe, dir string, w io.Writer) (*CharLMRun, error) {
	if w == nil {
		w = io.Discard
	}
	j, err := newCharLMJob(cfg, data, m, dir)
	if err != nil {
		return nil, err
	}
	if err := j.checkDir(); err != nil {
		return nil, err
	}
	loop, err := j.loop(w, nil)
	if err != nil {
		return nil, err
	}
	run := &CharLMRun{Model: m}
	div, err := loop.RunUntilDiverged(ctx)
	if err != nil {
		return nil, err
	}
	if div != nil {
		run.Diverged, run.DivergedStep = div.Error(), div.Step
		fmt.Fprintf(w, "%s: %s\n", m.Name, run.Diverged)
	}
	st := loop.State()
	run.Steps, run.History, run.TrainSeconds = st.Step, st.History, st.Seconds
	best, bestStep, ok, err := training.SelectCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	store := loop.Store()
	switch {
	case ok:
		if _, err := training.LoadCheckpoint(store, best); err != nil {
			return nil, err
		}
	case run.Diverged != "":
		// Diverged before the first checkpoint (BinaryConnect does at step 1):
		// score the initial weights, drawn from the run's seed.
		fmt.Fprintf(w, "%s: no good checkpoint: scoring the initial weights (step 0)\n", m.Name)
		store, bestStep = model.NewStore(), 0
		if err := store.SetRNGStateFromSeed(int64(cfg.Seed)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("experiments: %s: no checkpoint to evaluate in %s", m.Name, dir)
	}
	run.BestStep = bestStep
	start := time.Now()
	run.Valid, run.Test = map[string]float64{}, map[string]float64{}
	for _, mode := range charLMModes {
		for _, split := range []struct {
			name  string
			data  []uint8
			chars int
			out   map[string]float64
		}{{"valid", data.Corpus.Valid, cfg.ValidChars, run.Valid}, {"test", data.Corpus.Test, cfg.TestChars, run.Test}} {
			tot, err := j.evaluate(ctx, store, mode, split.data, split.chars)
			if err != nil {
				return nil, fmt.Errorf("experiments: %s: %s %s evaluation: %w", m.Name, split.name, mode, err)
			}
			split.out[mode.String()] = tot.Mean()
		}
	}
	run.EvalSeconds = time.Since(start).Seconds()
	sum := summary.FromStore(m.Label, store, m.Precision(), quant.IsLatent)
	run.Weights, run.WeightBytes = sum.Weights(), sum.QuantizedBytes()
	run.Packed, err = models.ExportCharLM(j.be, store, model.RootScopePath, runeStrings(data.Corpus.Symbols))
	if err != nil {
		return nil, fmt.Errorf("experiments: %s: export: %w", m.Name, err)
	}
	if err := run.packedCheck(ctx, j, store); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "%s: best step %d of %d; valid BPC code %.4f deploy %.4f; test BPC code %.4f deploy %.4f; packed engine %.4f vs GoMLX deploy %.4f on the first test batch (train %.0fs, eval %.0fs)\n",
		m.Name, run.BestStep, run.Steps, run.Valid["code"], run.Valid["deploy"], run.Test["code"], run.Test["deploy"],
		run.PackedBPC, run.DeployBPC, run.TrainSeconds, run.EvalSeconds)
	return run, nil
}

// packedCheck runs the exported model on the packed engine over the first
// batch of test windows (each from the initial state, as in evaluation) and
// the GoMLX deploy mode on the same characters.
func (run *CharLMRun) packedCheck(ctx context.Context, j *charLMJob, store *model.Store) error {
	B, T := j.cfg.Batch, j.cfg.SeqLen
	test := j.data.Corpus.Test
	data := test[:min(B*T+1, len(test))]
	tot, err := j.evaluate(ctx, store, recurrent.DeployMode, data, 0)
	if err != nil {
		return err
	}
	run.DeployBPC = tot.Mean()
	e, err := packed.NewEngine(run.Packed)
	if err != nil {
		return fmt.Errorf("experiments: %s: packed engine: %w", run.Model.Name, err)
	}
	toks := make([]int, len(data))
	for i, c := range data {
		toks[i] = int(c)
	}
	score, err := packed.EvaluateLM(e, toks, packed.LMEval{Window: T})
	if err != nil {
		return err
	}
	run.PackedBPC = score.BPC()
	return nil
}

// CharLMResult is a whole char-LM experiment: every model of the config.
type CharLMResult struct {
	Config  CharLMConfig
	Data    *CharLMData
	Runs    []*CharLMRun
	Elapsed time.Duration
}

// Run returns the run of the model with the given short name (nil if absent).
func (r *CharLMResult) Run(name string) *CharLMRun {
	for _, run := range r.Runs {
		if run.Model.Name == name {
			return run
		}
	}
	return nil
}

// RunCharLM trains and evaluates every model of cfg on data, each in its own
// subdirectory of dir (which resumes unfinished runs; "" uses a temporary
// directory removed at the end). Progress goes to w.
func RunCharLM(ctx context.Context, cfg CharLMConfig, data *CharLMData, dir string, w io.Writer) (*CharLMResult, error) {
	if w == nil {
		w = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, cleanup, err := runDir(dir, "rbt-charlm-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	res := &CharLMResult{Config: cfg, Data: data}
	start := time.Now()
	for i, name := range cfg.Models {
		m, _ := LookupCharLMRecipe(cfg.cell(), name)
		fmt.Fprintf(w, "\n[%d/%d] %s (%s, %s)\n", i+1, len(cfg.Models), m.Label, m.Quantizer, m.Normalization)
		run, err := TrainCharLM(ctx, cfg, data, m, filepath.Join(dir, m.Name), w)
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, run)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

package experiments

// The one trainer of the character-level language models: every char-LM
// notebook, LSTM or GRU, trains and scores its models through TrainCharLM.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/quant"
	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/summary"
	"github.com/rbt-project/rbt/rbt/training"
)

// CharLMRun is one trained and evaluated model.
type CharLMRun struct {
	Model Recipe
	Seed  uint64 // the seed of its initial weights and window order
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
	// The options of the recipe that apply to this model (the quantized
	// ones: the latent-weight scale and distillation), else zero.
	latentScale float64
	distill     Distillation
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
	j := &charLMJob{cfg: cfg, data: data, m: m, dir: dir, steps: steps, be: be}
	if quantized, err := m.Quantized(); err != nil {
		return nil, err
	} else if quantized {
		j.latentScale, j.distill = cfg.LatentLRScale, cfg.Distill
		if j.latentScale == 1 {
			j.latentScale = 0
		}
	}
	return j, nil
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
	// The options beyond the paper's recipe, absent from the file when off
	// (so run directories of the paper's recipe read as before).
	LatentLRScale float64 `json:",omitempty"`
	ResetMoments  bool    `json:",omitempty"`
	Teacher       string  `json:",omitempty"`
	Temperature   float64 `json:",omitempty"`
	Mix           float64 `json:",omitempty"`
}

const runSettingsFile = "charlm.json"

func (j *charLMJob) settings() runSettings {
	return runSettings{Task: j.cfg.Task, Corpus: j.data.Corpus.Name, Model: j.m.Name, Quantizer: j.m.Quantizer,
		Normalization: j.m.Normalization.String(), Hidden: j.cfg.Hidden, SeqLen: j.cfg.SeqLen, Batch: j.cfg.Batch,
		Epochs: j.cfg.Epochs, Steps: j.steps, LR: j.cfg.LR, LRFinal: j.cfg.LRFinal, EvalEvery: j.cfg.EvalEvery,
		EvalAtEpochEnd: j.cfg.EvalAtEpochEnd, ValidChars: j.cfg.ValidChars, Seed: j.cfg.Seed,
		LatentLRScale: j.latentScale, ResetMoments: j.cfg.ResetMoments,
		Teacher: j.distill.Teacher, Temperature: j.distill.Temperature, Mix: j.distill.Mix}
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
	opt := j.m.AdamWith(j.cfg.LR, j.latentScale)
	lm := j.lm(recurrent.CodeMode)
	if err := lm.Validate(); err != nil {
		return nil, err
	}
	lossFn := models.CharLMLoss
	if j.distill.Enabled() {
		teacher, err := loadTeacher(j.be, j.distill, j.data)
		if err != nil {
			return nil, err
		}
		src = withTeacher(src, teacher)
		lossFn = models.DistillLoss(j.distill.Temperature, j.distill.Mix)
	}
	trainer := train.NewTrainer(j.be, store, lm.Logits, lossFn, opt, nil, nil)
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
	loop, err := training.New(trainer, src, training.Config{
		Dir: j.dir, Epochs: j.cfg.Epochs, Steps: j.steps, EvalEvery: j.cfg.EvalEvery, EvalAtEpochEnd: j.cfg.EvalAtEpochEnd,
		Seed: int64(j.cfg.Seed), Schedule: sched, ExamplesPerStep: int64(B * T), Unit: "chars", Metric: "valid BPC",
		CheckpointEvery: ckptEvery, CheckWeightsEvery: ckptEvery, LogEvery: j.cfg.LogEvery, ResetMomentsAfterEval: j.cfg.ResetMoments,
		Progress: progress, ProgressEvery: progressEvery(j.cfg.Budget), OnStep: onStep,
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
	run := &CharLMRun{Model: m, Seed: cfg.Seed}
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
		// Diverged before the first checkpoint (BinaryConnect did at step 1 before its gradients were clipped):
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
	if !run.loadEval(dir, cfg) {
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
		if err := run.saveEval(dir, cfg); err != nil {
			return nil, err
		}
	}
	sum := summary.FromStore(m.Label, store, m.Precision(), quant.IsLatent)
	run.Weights, run.WeightBytes = sum.Weights(), sum.QuantizedBytes()
	// The GoMLX deploy mode on the first batch of test windows, for the packed
	// engine's check; it also builds the graph, whose layer parameters the
	// export reads (when the scores came from the cache, nothing else has).
	first := data.Corpus.Test[:min(cfg.Batch*cfg.SeqLen+1, len(data.Corpus.Test))]
	tot, err := j.evaluate(ctx, store, recurrent.DeployMode, first, 0)
	if err != nil {
		return nil, err
	}
	run.DeployBPC = tot.Mean()
	run.Packed, err = models.ExportCharLM(j.be, store, model.RootScopePath, runeStrings(data.Corpus.Symbols))
	if err != nil {
		return nil, fmt.Errorf("experiments: %s: export: %w", m.Name, err)
	}
	if err := run.packedCheck(first, cfg.SeqLen); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "%s: best step %d of %d; valid BPC code %.4f deploy %.4f; test BPC code %.4f deploy %.4f; packed engine %.4f vs GoMLX deploy %.4f on the first test batch (train %.0fs, eval %.0fs)\n",
		m.Name, run.BestStep, run.Steps, run.Valid["code"], run.Valid["deploy"], run.Test["code"], run.Test["deploy"],
		run.PackedBPC, run.DeployBPC, run.TrainSeconds, run.EvalSeconds)
	return run, nil
}

// evalFile caches a finished run's final scores, so that showing a finished
// run again (a notebook re-executed, a report rewritten) does not score it
// again. It is keyed by everything the scores depend on; evalVersion changes
// whenever the evaluation code does.
const (
	evalFile    = "eval.json"
	evalVersion = 1
)

type evalCache struct {
	Version               int
	BestStep, Steps       int64
	ValidChars, TestChars int
	SeqLen, Batch         int
	Valid, Test           map[string]float64
	EvalSeconds           float64
}

func (run *CharLMRun) evalKey(cfg CharLMConfig) evalCache {
	return evalCache{Version: evalVersion, BestStep: run.BestStep, Steps: run.Steps, ValidChars: cfg.ValidChars, TestChars: cfg.TestChars,
		SeqLen: cfg.SeqLen, Batch: cfg.Batch}
}

// loadEval fills Valid, Test and EvalSeconds from dir's cache when it holds
// this run's scores.
func (run *CharLMRun) loadEval(dir string, cfg CharLMConfig) bool {
	data, err := os.ReadFile(filepath.Join(dir, evalFile))
	if err != nil {
		return false
	}
	var c evalCache
	if json.Unmarshal(data, &c) != nil || len(c.Valid) != len(charLMModes) || len(c.Test) != len(charLMModes) {
		return false
	}
	want := run.evalKey(cfg)
	want.Valid, want.Test, want.EvalSeconds = c.Valid, c.Test, c.EvalSeconds
	if !reflect.DeepEqual(c, want) {
		return false
	}
	run.Valid, run.Test, run.EvalSeconds = c.Valid, c.Test, c.EvalSeconds
	return true
}

func (run *CharLMRun) saveEval(dir string, cfg CharLMConfig) error {
	c := run.evalKey(cfg)
	c.Valid, c.Test, c.EvalSeconds = run.Valid, run.Test, run.EvalSeconds
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil // a non-finite score (a diverged run) is not cached: it is cheap to score again
	}
	tmp := filepath.Join(dir, evalFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, evalFile))
}

// packedCheck runs the exported model on the packed engine over data (the
// first batch of test windows, each from the initial state, as in
// evaluation): PackedBPC, to set against DeployBPC.
func (run *CharLMRun) packedCheck(data []uint8, window int) error {
	e, err := packed.NewEngine(run.Packed)
	if err != nil {
		return fmt.Errorf("experiments: %s: packed engine: %w", run.Model.Name, err)
	}
	toks := make([]int, len(data))
	for i, c := range data {
		toks[i] = int(c)
	}
	score, err := packed.EvaluateLM(e, toks, packed.LMEval{Window: window})
	if err != nil {
		return err
	}
	run.PackedBPC = score.BPC()
	return nil
}

package experiments

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
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

// SeqMNISTModels are the paper's four models: full-precision BN-LSTM, BN
// binary, BN ternary, and binary without normalization (plain
// BinaryConnect, the ablation that should fail).
var SeqMNISTModels = []Recipe{
	{Name: "bn-fp", Label: "full precision (BN)", Quantizer: "fp", Normalization: recurrent.PerStepBN},
	{Name: "bn-binary", Label: "BN binary", Quantizer: "binary", Normalization: recurrent.PerStepBN, ClipLatent: true},
	{Name: "bn-ternary", Label: "BN ternary", Quantizer: "ternary", Normalization: recurrent.PerStepBN},
	{Name: "binary", Label: "binary, no BN", Quantizer: "binary", Normalization: recurrent.None, ClipLatent: true},
}

// SeqMNISTConfig configures the sequential (pixel-by-pixel) MNIST experiment.
//
// The paper's setting (METHOD.md) is Side 28 (784 steps of one pixel), a
// 100-unit LSTM, batch 100, all 50,000 training images, Adam 0.004 -> 0.001
// over 200 epochs and N(0, 0.1^2) noise on h_0. Smaller budgets shrink the
// image (Side 14: 2x2 average pooling, 196 steps; Side 7: 4x4, 49 steps), the
// training subset and the number of steps; the results then say so.
type SeqMNISTConfig struct {
	Budget budget.Budget  // the budget the settings came from (tables, sources)
	Cell   recurrent.Cell // recurrent.LSTM (the paper) or recurrent.GRU
	Hidden int            // n
	Batch  int            // B of training
	// EvalBatch is the batch of evaluation (0: Batch); the "code" inference
	// mode normalizes with the statistics of these batches.
	EvalBatch int
	// Side is the side of the image fed to the network, one pixel per step:
	// 28 (784 steps, the paper), 14 or 7 (average-pooled).
	Side int
	// TrainImages, ValidImages, TestImages limit the splits to their first
	// images (0: the whole split). Evaluation sets are rounded down to a
	// multiple of EvalBatch, so that the "code" inference mode (batch statistics)
	// never sees padding rows.
	TrainImages, ValidImages, TestImages int
	// Steps is the number of training batches per model; the learning rate
	// decays geometrically per epoch (one pass over TrainImages) from LRStart
	// to LRFinal over the epochs those steps span.
	Steps            int
	LRStart, LRFinal float64
	// LREpoch is the number of batches per learning-rate epoch: the rate
	// decays geometrically per LREpoch batches (0: per pass over the training
	// images, as the released code does). Short runs that see a fraction of an
	// epoch use it to still end at LRFinal.
	LREpoch int
	Noise   float64 // std of the noise on h_0 in training
	// EvalPoints is the number of validation points of each accuracy curve
	// (deploy mode, on ValidImages).
	EvalPoints int
	Models     []Recipe
	// Permuted lists the variants to run: false = pixels in raster order,
	// true = in one fixed random order (datasets.Permutation(Side^2, PermSeed)).
	Permuted []bool
	PermSeed uint64
	Seed     uint64
	// Dir holds the checkpoints (one sub-directory per run); "" = a fresh
	// temporary directory removed at the end.
	Dir string
}

// SeqMNISTSettings returns the experiment's settings at a budget.
//
//   - smoke (seconds, CI): 7x7 images, 16 units, 10 steps on 320 images.
//   - quick (about ten minutes for all eight runs on a shared 2-core CPU):
//     MNIST average-pooled to 7x7, i.e. 49 steps of one pixel, the paper's
//     100-unit LSTM, batch 32, 400 steps (12,800 images, a quarter of an
//     epoch) per model, validation on 1,000 and test on the first 2,000 test
//     images; the learning rate decays from 0.004 to 0.001 per 50 batches
//     (the paper: per epoch over 200 epochs). Measured here: a training step over 784 unrolled steps costs
//     about 20 s on this machine (196 steps: about 4 s; 49 steps: 0.12-0.8 s),
//     so 784 steps cannot train at this budget. It is NOT the paper's setting.
//   - cpu (about an hour for the eight runs on a 2-core CPU): 14x14 images
//     (196 steps), the paper's 100 units and batch 100, 1,000 steps per model
//     (two epochs of the 50,000 training images), Adam 0.004 -> 0.001 per
//     epoch, validation on 5,000 images at 10 points, test on all 10,000.
//     Measured here while another training shared the machine: 375 ms per
//     step, 7 minutes per run with its evaluations. The full 784-step images
//     cost 1.35 s per step (make bench-peer), four times as much: two epochs
//     of them would take four hours.
//   - paper: METHOD.md's: 28x28 (784 steps), 100 units, batch 100, 200 epochs
//     of the 50,000 training images, validation every 500 batches, the whole
//     test set.
func SeqMNISTSettings(b budget.Budget) SeqMNISTConfig {
	return SeqMNISTConfig{
		Budget:      b,
		Cell:        recurrent.LSTM,
		Hidden:      budget.Pick(b, 16, 100, 100, 100),
		Batch:       budget.Pick(b, 32, 32, 100, 100),
		EvalBatch:   budget.Pick(b, 32, 200, 100, 100),
		Side:        budget.Pick(b, 7, 7, 14, 28),
		TrainImages: budget.Pick(b, 320, 0, 0, 0),
		ValidImages: budget.Pick(b, 64, 1000, 5000, 0),
		TestImages:  budget.Pick(b, 64, 2000, 0, 0),
		Steps:       budget.Pick(b, 10, 400, 2*500, 200*500),
		LRStart:     0.004,
		LRFinal:     0.001,
		Noise:       0.1,
		LREpoch:     budget.Pick(b, 0, 50, 0, 0),
		EvalPoints:  budget.Pick(b, 1, 4, 10, 200),
		Models:      SeqMNISTModels,
		Permuted:    []bool{false, true},
		PermSeed:    1,
		Seed:        1,
		Dir:         RunsDir("smnist", b), // $RBT_RUNS/smnist/<budget>: resumable; "" without RBT_RUNS
	}
}

// Validate checks the configuration.
func (c SeqMNISTConfig) Validate() error {
	switch {
	case c.Cell != recurrent.LSTM && c.Cell != recurrent.GRU:
		return fmt.Errorf("seqmnist: Cell %d, want recurrent.LSTM or recurrent.GRU", c.Cell)
	case c.Hidden < 1 || c.Batch < 2 || c.Steps < 1:
		return fmt.Errorf("seqmnist: Hidden=%d Batch=%d Steps=%d, want Hidden >= 1, Batch >= 2, Steps >= 1", c.Hidden, c.Batch, c.Steps)
	case c.Side != 28 && c.Side != 14 && c.Side != 7:
		return fmt.Errorf("seqmnist: Side=%d, want 28, 14 or 7", c.Side)
	case c.TrainImages < 0 || c.ValidImages < 0 || c.TestImages < 0:
		return fmt.Errorf("seqmnist: negative image counts")
	case c.LRStart <= 0 || c.LRFinal <= 0 || c.Noise < 0 || c.LREpoch < 0:
		return fmt.Errorf("seqmnist: LRStart=%g LRFinal=%g Noise=%g", c.LRStart, c.LRFinal, c.Noise)
	case len(c.Models) == 0 || len(c.Permuted) == 0:
		return fmt.Errorf("seqmnist: no models or no variants to run")
	}
	for _, m := range c.Models {
		if _, err := quant.Lookup(m.Quantizer); err != nil {
			return fmt.Errorf("seqmnist: model %q: %w", m.Name, err)
		}
	}
	return nil
}

// TimeSteps is the sequence length, Side^2.
func (c SeqMNISTConfig) TimeSteps() int { return c.Side * c.Side }

// Describe is a one-paragraph statement of the settings.
func (c SeqMNISTConfig) Describe() string {
	img := fmt.Sprintf("%dx%d images (%d steps of one pixel)", c.Side, c.Side, c.TimeSteps())
	if c.Side != 28 {
		img = fmt.Sprintf("MNIST downsampled to %dx%d by %dx%d average pooling (%d steps of one pixel; the paper: 28x28, 784 steps)",
			c.Side, c.Side, 28/c.Side, 28/c.Side, c.TimeSteps())
	}
	n := func(k, all int) string {
		if k == 0 || k >= all {
			return fmt.Sprintf("all %d", all)
		}
		return fmt.Sprintf("first %d of %d", k, all)
	}
	per := "epoch"
	if c.LREpoch > 0 {
		per = fmt.Sprintf("%d batches", c.LREpoch)
	}
	return fmt.Sprintf("%s %d units, batch %d, %s; train: %s images, %d steps (%.2f epochs), Adam %g -> %g geometric per %s, "+
		"N(0, %g^2) noise on h_0; valid: %s; test: %s.",
		strings.ToUpper(cellName(c.Cell)), c.Hidden, c.Batch, img, n(c.TrainImages, datasets.MNISTTrainSize), c.Steps,
		float64(c.Steps)/float64(c.trainBatchesPerEpoch()), c.LRStart, c.LRFinal, per, c.Noise,
		n(c.evalImages(c.ValidImages, datasets.MNISTValidSize), datasets.MNISTValidSize),
		n(c.evalImages(c.TestImages, datasets.MNISTTestSize), datasets.MNISTTestSize))
}

// SeqMNISTRun is the result of one model on one variant.
type SeqMNISTRun struct {
	Model    Recipe
	Permuted bool
	// Test accuracy in [0, 1] in the two inference modes (METHOD.md,
	// "Inference"): deploy (deterministic weights, population statistics) and
	// code (as released: sampled weights, the test batch's statistics).
	TestDeploy, TestCode float64
	// Curve is the validation accuracy (deploy mode) against training steps.
	CurveSteps []float64
	CurveAcc   []float64
	TrainLoss  []float64 // mean training loss between validation points
	// WeightBytes is the memory of the quantized matrices Wx, Wh at the
	// model's precision; FP32Bytes the same matrices at 32 bits.
	WeightBytes, FP32Bytes int64
	Weights                int64
	// Timings: the first step (graph build and compilation included), the
	// mean of the other steps, and the whole run with evaluations.
	FirstStep, Step, Total time.Duration
	Diverged               string // non-empty when training stopped on a non-finite value
	// Packed is the exported deploy model (packed.Model) of this run.
	Packed *packed.Model
}

// Label names the run, e.g. "BN binary, permuted".
func (r *SeqMNISTRun) Label() string {
	if r.Permuted {
		return r.Model.Label + ", permuted"
	}
	return r.Model.Label
}

// SeqMNISTResult is what SeqMNIST measured.
type SeqMNISTResult struct {
	Config SeqMNISTConfig
	Runs   []*SeqMNISTRun
	// Digits are a few test images (Side x Side, in raster order) with their
	// labels and the predictions of the packed (deploy) export of the first
	// BN binary model on raster-order pixels (or the first model when none).
	Digits         [][]float32
	DigitLabels    []int
	DigitPredicted []int
	DigitModel     string
	Elapsed        time.Duration
}

// SeqMNIST runs every model of cfg on every variant and evaluates them.
// Progress lines go to w (nil: none).
func SeqMNIST(ctx context.Context, cfg SeqMNISTConfig, w io.Writer) (*SeqMNISTResult, error) {
	if w == nil {
		w = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	data, err := datasets.LoadMNIST()
	if err != nil {
		return nil, fmt.Errorf("seqmnist: %w", err)
	}
	b, err := backend.New()
	if err != nil {
		return nil, err
	}
	dir, cleanup, err := runDir(cfg.Dir, "rbt-seqmnist-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	start := time.Now()
	res := &SeqMNISTResult{Config: cfg}
	for _, permuted := range cfg.Permuted {
		var perm []int
		if permuted {
			perm = datasets.Permutation(cfg.TimeSteps(), cfg.PermSeed)
		}
		tr := prepareSplit(data.Train, cfg.TrainImages, cfg.Side, perm)
		va := prepareSplit(data.Valid, cfg.evalImages(cfg.ValidImages, data.Valid.N), cfg.Side, perm)
		te := prepareSplit(data.Test, cfg.evalImages(cfg.TestImages, data.Test.N), cfg.Side, perm)
		for _, m := range cfg.Models {
			run, err := seqMNISTRun(ctx, b, cfg, m, permuted, tr, va, te, filepath.Join(dir, runDirName(m.Name, permuted)), w)
			if err != nil {
				return nil, err
			}
			res.Runs = append(res.Runs, run)
		}
	}
	res.Elapsed = time.Since(start)
	if err := res.predictDigits(data.Test, 8); err != nil {
		return nil, err
	}
	return res, nil
}

// seqMNISTRun trains and evaluates one model on one variant.
func seqMNISTRun(ctx context.Context, b compute.Backend, cfg SeqMNISTConfig, m Recipe, permuted bool, tr, va, te seqData, dir string, w io.Writer) (*SeqMNISTRun, error) {
	run := &SeqMNISTRun{Model: m, Permuted: permuted}
	start := time.Now()
	net := models.SeqMNIST{Hidden: cfg.Hidden, Cell: cfg.Cell, Quantizer: m.Quantizer, Normalization: m.Normalization, Noise: cfg.Noise}
	if err := net.Validate(); err != nil {
		return nil, err
	}
	store := model.NewStore()
	opt := m.Adam(cfg.LRStart)
	trainer := train.NewTrainer(b, store, net.Logits, models.ClassifierLoss, opt, nil, nil)

	batcher, err := datasets.NewMNISTBatches(tr.raw, cfg.Batch, cfg.Seed).Done()
	if err != nil {
		return nil, fmt.Errorf("seqmnist: %w", err)
	}
	base := training.SourceFunc{N: batcher.BatchesPerEpoch(), Fn: func(epoch, index int) (train.Batch, error) {
		idx, err := batcher.Indices(epoch, index)
		if err != nil {
			return train.Batch{}, err
		}
		x, y := tr.batch(idx)
		return train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}}, nil
	}}
	src := base
	if cfg.LREpoch > 0 {
		// Virtual epochs of LREpoch batches over the real epoch sequence.
		real, per := src, cfg.LREpoch
		src = training.SourceFunc{N: per, Fn: func(epoch, index int) (train.Batch, error) {
			g := epoch*per + index
			return real.Fn(g/real.N, g%real.N)
		}}
	}
	epochs := max(1, (cfg.Steps+src.N-1)/src.N)
	var stepTimes []time.Duration
	last := time.Now()
	evalEvery := int64(max(1, cfg.Steps/max(1, cfg.EvalPoints)))
	loop, err := training.New(trainer, src, training.Config{
		Dir: dir, Steps: int64(cfg.Steps), EvalEvery: evalEvery, CheckpointEvery: int64(cfg.Steps), Keep: 1,
		Seed: int64(cfg.Seed), Schedule: optim.Geometric{Start: cfg.LRStart, Final: cfg.LRFinal, Epochs: epochs},
		ExamplesPerStep: int64(cfg.Batch), Unit: "images", Metric: "valid accuracy", HigherIsBetter: true,
		CheckWeightsEvery: 50, Progress: w, ProgressEvery: progressEvery(cfg.Budget),
		OnStep: func(l *training.Loop, s training.StepInfo) error {
			now := time.Now()
			stepTimes = append(stepTimes, now.Sub(last))
			last = now
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	deploy := net
	deploy.Inference = recurrent.DeployMode
	code := net
	code.Inference = recurrent.CodeMode
	loop.WithEval(func(ctx context.Context) (float64, error) {
		acc, err := seqAccuracy(ctx, b, store, deploy, va, cfg.evalBatch())
		last = time.Now() // evaluation time is not step time
		return acc, err
	})
	fmt.Fprintf(w, "%s%s: training %d steps\n", m.Label, map[bool]string{true: ", permuted"}[permuted], cfg.Steps)
	div, err := loop.RunUntilDiverged(ctx)
	if err != nil {
		return nil, fmt.Errorf("seqmnist: %s: %w", run.Label(), err)
	}
	if div != nil {
		run.Diverged = div.Error()
		fmt.Fprintf(w, "  stopped: %v\n", div)
	}
	hist := loop.History()
	for _, p := range hist.Valid() {
		run.CurveSteps = append(run.CurveSteps, float64(p.Step))
		run.CurveAcc = append(run.CurveAcc, p.Valid)
		run.TrainLoss = append(run.TrainLoss, p.TrainLoss)
		fmt.Fprintf(w, "  step %5d  train loss %.3f  valid accuracy (deploy) %.2f%%\n", p.Step, p.TrainLoss, 100*p.Valid)
	}
	run.FirstStep, run.Step = stepTiming(stepTimes)
	if run.Diverged == "" {
		calib := net
		calib.Inference = recurrent.CalibrateMode
		deployStore, err := calibratedStore(ctx, b, store, min(CalibrationBatches, base.N),
			func(i int) (train.Batch, error) { return base.Fn(0, i) },
			func(scope *model.Scope, inputs []*graph.Node) *graph.Node { return calib.Logits(scope, inputs[0]) })
		if err != nil {
			return nil, fmt.Errorf("seqmnist: %s: %w", run.Label(), err)
		}
		if run.TestDeploy, err = seqAccuracy(ctx, b, deployStore, deploy, te, cfg.evalBatch()); err != nil {
			return nil, err
		}
		if run.TestCode, err = seqAccuracy(ctx, b, store, code, te, cfg.evalBatch()); err != nil {
			return nil, err
		}
		if run.Packed, err = models.ExportSeqMNIST(b, deployStore, "/"); err != nil {
			return nil, err
		}
	} else {
		run.TestDeploy, run.TestCode = math.NaN(), math.NaN()
	}
	sum := summary.FromStore(run.Label(), store, quantizerPrecision(m.Quantizer), quant.IsLatent)
	run.Weights = sum.Weights()
	run.WeightBytes = sum.QuantizedBytes()
	run.FP32Bytes = sum.Bytes(summary.Float32)
	run.Total = time.Since(start)
	fmt.Fprintf(w, "  test accuracy: deploy %.2f%%, code %.2f%%  (first step %.1fs, then %.0f ms/step; run %.0fs)\n",
		100*run.TestDeploy, 100*run.TestCode, run.FirstStep.Seconds(), float64(run.Step.Milliseconds()), run.Total.Seconds())
	return run, nil
}

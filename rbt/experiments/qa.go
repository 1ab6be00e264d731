package experiments

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/datasets/batches"
	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/quant"
	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/summary"
	"github.com/rbt-project/rbt/rbt/training"
)

// QAModels are the paper's three QA models: the full-precision BN
// Attentive Reader and its BN binary and BN ternary versions (all four LSTMs
// quantized).
var QAModels = []Recipe{
	{Name: "bn-fp", Label: "full precision (BN)", Cell: recurrent.LSTM, Quantizer: "fp", Normalization: recurrent.PerStepBN},
	{Name: "bn-binary", Label: "BN binary", Cell: recurrent.LSTM, Quantizer: "binary", Normalization: recurrent.PerStepBN, ClipLatent: true},
	{Name: "bn-ternary", Label: "BN ternary", Cell: recurrent.LSTM, Quantizer: "ternary", Normalization: recurrent.PerStepBN},
}

// QAConfig configures the CNN question-answering experiment.
type QAConfig struct {
	Budget                       budget.Budget // the budget the settings came from (tables, sources)
	Embedding, Hidden, Attention int           // 200, 256, 100 in the paper
	Batch                        int           // 32 in the paper (also the evaluation batch)
	Steps                        int           // training batches per model
	LRStart, LRFinal             float64
	// LREpoch is the number of batches per learning-rate epoch (0: one pass
	// over the training examples).
	LREpoch    int
	EvalPoints int // validation points per run
	Models     []Recipe

	// Synthetic is the generated stand-in used when the CNN corpus is not
	// found (or always, with ForceSynthetic).
	Synthetic      SyntheticQA
	ForceSynthetic bool
	// On the real corpus: keep the examples whose document has at most
	// MaxDocLen tokens (0: all) and at most Train/Valid/TestExamples of them
	// (0: all); MaxWords bounds the vocabulary (0: all words of training).
	MaxDocLen                                  int
	TrainExamples, ValidExamples, TestExamples int
	MaxWords                                   int
	// PadTo rounds padded lengths up to a multiple (fewer graph shapes).
	PadTo int
	Seed  uint64
	Dir   string // checkpoints; "" = a temporary directory
}

// QASettings returns the settings at a budget.
//
//   - smoke: a tiny reader on 64 generated stories, a few steps.
//   - quick (at most about ten minutes for three models on a shared 2-core
//     CPU): on the generated stories (12,800 for training, each seen once;
//     3 facts, 4 cue words, 12 entity numbers) a reduced reader, embedding
//     64, 64 units per direction, attention 32, batch 32, 400 steps
//     (measured about 0.3 s per step here), the learning rate decaying
//     0.003 -> 0.001 per 100 batches. Not the paper's setting. On the real
//     corpus (when present) the same reader on the first 8,000 training
//     questions whose documents have at most 300 tokens.
//   - cpu (about an hour for three models on a 2-core CPU): embedding 128,
//     128 units per direction, attention 64, batch 32, 4,000 steps over
//     128,000 generated stories, each seen once (the learning rate decaying
//     0.003 -> 0.001 per 800 batches), validation on 1,000 stories at 10
//     points, test on all 1,000. Each story is seen once: the generator
//     makes as many as the steps need, and fresh stories measure reading,
//     not recall (20,000 stories seen five times, 3,125 steps: 94.5% test
//     accuracy in code mode; 128,000 seen once: 99.6%; measured here,
//     2026-12-07). Measured: 0.22 s per step at this size while another
//     training shared the machine, 16 minutes per model.
//   - paper: METHOD.md's: embedding 200, biLSTMs 256 per direction, attention
//     100, batch 32, Adam 0.003 -> 0.001 over 80 epochs of the whole corpus
//     (without it, 200,000 generated stories).
func QASettings(b budget.Budget) QAConfig {
	return QAConfig{
		Budget:     b,
		Embedding:  budget.Pick(b, 16, 64, 128, 200),
		Hidden:     budget.Pick(b, 16, 64, 128, 256),
		Attention:  budget.Pick(b, 8, 32, 64, 100),
		Batch:      32,
		Steps:      budget.Pick(b, 6, 400, 4000, 80*11884),
		LRStart:    0.003,
		LRFinal:    0.001,
		LREpoch:    budget.Pick(b, 0, 100, 800, 0),
		EvalPoints: budget.Pick(b, 1, 4, 10, 160),
		Models:     QAModels,
		Synthetic: SyntheticQA{
			// quick, cpu: Steps*Batch stories, every one seen once.
			Train: budget.Pick(b, 64, 400*32, 4000*32, 200000), Valid: budget.Pick(b, 32, 320, 1000, 1000), Test: budget.Pick(b, 32, 640, 1000, 1000),
			Facts: 3, Cues: 4, EntityRange: 12, Seed: 1,
		},
		MaxDocLen:     budget.Pick(b, 300, 300, 300, 0),
		TrainExamples: budget.Pick(b, 64, 8000, 20000, 0),
		ValidExamples: budget.Pick(b, 32, 320, 1000, 0),
		TestExamples:  budget.Pick(b, 32, 640, 0, 0),
		PadTo:         8,
		Seed:          1,
		Dir:           RunsDir("qa", b), // $RBT_RUNS/qa/<budget>: resumable; "" without RBT_RUNS
	}
}

// Validate checks the configuration.
func (c QAConfig) Validate() error {
	switch {
	case c.Embedding < 1 || c.Hidden < 1 || c.Attention < 1 || c.Batch < 2 || c.Steps < 1:
		return fmt.Errorf("qa: Embedding=%d Hidden=%d Attention=%d Batch=%d Steps=%d, want widths >= 1, Batch >= 2, Steps >= 1",
			c.Embedding, c.Hidden, c.Attention, c.Batch, c.Steps)
	case c.LRStart <= 0 || c.LRFinal <= 0 || c.LREpoch < 0 || c.PadTo < 0 || c.MaxDocLen < 0:
		return fmt.Errorf("qa: LRStart=%g LRFinal=%g LREpoch=%d PadTo=%d MaxDocLen=%d", c.LRStart, c.LRFinal, c.LREpoch, c.PadTo, c.MaxDocLen)
	case len(c.Models) == 0:
		return fmt.Errorf("qa: no models")
	}
	for _, m := range c.Models {
		if _, err := quant.Lookup(m.Quantizer); err != nil {
			return fmt.Errorf("qa: model %q: %w", m.Name, err)
		}
	}
	return nil
}

// QARun is the result of one model.
type QARun struct {
	Model                  Recipe
	ValidDeploy            float64 // last validation accuracy (deploy)
	TestDeploy, TestCode   float64 // test accuracy in [0, 1] in both inference modes
	CurveSteps, CurveAcc   []float64
	TrainLoss              []float64
	Weights                int64 // quantized weights of the four LSTMs
	WeightBytes, FP32Bytes int64
	FirstStep, Step, Total time.Duration
	Diverged               string
}

// QAResult is what QA measured.
type QAResult struct {
	Config    QAConfig
	Synthetic bool   // true: the generated stand-in, not the CNN corpus
	Data      string // what the models read
	Missing   string // why the real corpus was not used (synthetic only)
	// Sizes of the splits used, the vocabulary, the mean number of
	// candidates per test question (1/that is roughly chance).
	Train, Valid, Test int
	Vocab              int
	MeanCandidates     float64
	Runs               []*QARun
	Elapsed            time.Duration
}

// QA trains and evaluates every model of cfg. Progress goes to w (nil: none).
func QA(ctx context.Context, cfg QAConfig, w io.Writer) (*QAResult, error) {
	if w == nil {
		w = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	dir, cleanup, err := runDir(cfg.Dir, "rbt-qa-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	res := &QAResult{Config: cfg}
	var corpus *datasets.QACorpus
	if !cfg.ForceSynthetic {
		corpus, err = datasets.LoadCNNQA()
		if err != nil {
			res.Missing = err.Error()
		}
	} else {
		res.Missing = "synthetic data requested (ForceSynthetic)"
	}
	if corpus == nil {
		res.Synthetic = true
		synth := filepath.Join(dir, "synthetic-cnn")
		if err := cfg.Synthetic.Write(synth); err != nil {
			return nil, fmt.Errorf("qa: writing the synthetic stories: %w", err)
		}
		if corpus, err = datasets.LoadCNNQAFrom(synth); err != nil {
			return nil, fmt.Errorf("qa: reading the synthetic stories: %w", err)
		}
		res.Data = cfg.Synthetic.Summary()
	} else {
		filter := func(xs []*datasets.QAExample, limit int) []*datasets.QAExample {
			var out []*datasets.QAExample
			for _, x := range xs {
				if cfg.MaxDocLen > 0 && len(x.Context) > cfg.MaxDocLen {
					continue
				}
				out = append(out, x)
				if limit > 0 && len(out) == limit {
					break
				}
			}
			return out
		}
		corpus = &datasets.QACorpus{Dir: corpus.Dir, Train: filter(corpus.Train, cfg.TrainExamples),
			Valid: filter(corpus.Valid, cfg.ValidExamples), Test: filter(corpus.Test, cfg.TestExamples)}
		res.Data = fmt.Sprintf("CNN corpus (%s)", corpus.Dir)
		if cfg.MaxDocLen > 0 || cfg.TrainExamples > 0 {
			res.Data += fmt.Sprintf(", subset: documents of at most %d tokens, first %d/%d/%d such questions",
				cfg.MaxDocLen, len(corpus.Train), len(corpus.Valid), len(corpus.Test))
		}
	}
	if len(corpus.Train) < cfg.Batch || len(corpus.Valid) == 0 || len(corpus.Test) == 0 {
		return nil, fmt.Errorf("qa: %d/%d/%d examples, need at least a batch of training and some validation and test examples",
			len(corpus.Train), len(corpus.Valid), len(corpus.Test))
	}
	vocab, err := datasets.BuildQAVocab(corpus.Train, datasets.QAEntities, cfg.MaxWords)
	if err != nil {
		return nil, fmt.Errorf("qa: %w", err)
	}
	res.Train, res.Valid, res.Test, res.Vocab = len(corpus.Train), len(corpus.Valid), len(corpus.Test), vocab.Size()
	cands := 0
	for _, x := range corpus.Test {
		cands += len(x.Entities)
	}
	res.MeanCandidates = float64(cands) / float64(len(corpus.Test))
	maxDoc, maxQ := 1, 1
	for _, xs := range [][]*datasets.QAExample{corpus.Train, corpus.Valid, corpus.Test} {
		for _, x := range xs {
			maxDoc, maxQ = max(maxDoc, len(x.Context)), max(maxQ, len(x.Question))
		}
	}
	pad := max(1, cfg.PadTo)
	roundUp := func(n int) int { return (n + pad - 1) / pad * pad }
	mk := func(xs []*datasets.QAExample, seq bool) (*datasets.QABatches, error) {
		q := datasets.NewQABatches(xs, vocab, cfg.Batch, cfg.Seed).PadTo(pad)
		if seq {
			q = q.Sequential()
		}
		return q.Done()
	}
	trainB, err := mk(corpus.Train, false)
	if err != nil {
		return nil, fmt.Errorf("qa: %w", err)
	}
	validB, err := mk(corpus.Valid, true)
	if err != nil {
		return nil, fmt.Errorf("qa: %w", err)
	}
	testB, err := mk(corpus.Test, true)
	if err != nil {
		return nil, fmt.Errorf("qa: %w", err)
	}
	b, err := backend.New()
	if err != nil {
		return nil, err
	}
	for _, m := range cfg.Models {
		net := models.AttentiveReader{Vocab: vocab.Size(), Entities: datasets.QAEntities, Embedding: cfg.Embedding,
			Hidden: cfg.Hidden, Attention: cfg.Attention, Quantizer: m.Quantizer, Normalization: m.Normalization,
			MaxDocSteps: roundUp(maxDoc), MaxQuestionSteps: roundUp(maxQ)}
		run, err := qaRun(ctx, b, cfg, m, net, trainB, validB, testB, filepath.Join(dir, runDirName(m.Name, false)), w)
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, run)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func qaTrainBatch(bt batches.QABatch) train.Batch {
	return train.Batch{
		Inputs: []*tensors.Tensor{bt.Document, bt.DocumentLen, bt.Question, bt.QuestionLen, bt.Candidates},
		Labels: []*tensors.Tensor{bt.Answer, bt.Mask},
	}
}

func qaRun(ctx context.Context, b compute.Backend, cfg QAConfig, m Recipe, net models.AttentiveReader, trainB, validB, testB *datasets.QABatches, dir string, w io.Writer) (*QARun, error) {
	run := &QARun{Model: m}
	start := time.Now()
	store := model.NewStore()
	opt := m.Adam(cfg.LRStart)
	trainer := train.NewTrainer(b, store, net.Logits, models.QALoss, opt, nil, nil)
	base := training.SourceFunc{N: trainB.BatchesPerEpoch(), Fn: func(epoch, index int) (train.Batch, error) {
		bt, err := batches.QA(trainB, epoch, index)
		if err != nil {
			return train.Batch{}, err
		}
		return qaTrainBatch(bt), nil
	}}
	src := base
	if cfg.LREpoch > 0 {
		per := cfg.LREpoch
		src = training.SourceFunc{N: per, Fn: func(epoch, index int) (train.Batch, error) {
			g := epoch*per + index
			return base.Fn(g/base.N, g%base.N)
		}}
	}
	epochs := max(1, (cfg.Steps+src.N-1)/src.N)
	var stepTimes []time.Duration
	last := time.Now()
	deploy, code := net, net
	deploy.Inference, code.Inference = recurrent.DeployMode, recurrent.CodeMode
	loop, err := training.New(trainer, src, training.Config{
		Dir: dir, Steps: int64(cfg.Steps), EvalEvery: int64(max(1, cfg.Steps/max(1, cfg.EvalPoints))),
		CheckpointEvery: int64(cfg.Steps), Keep: 1, Seed: int64(cfg.Seed),
		Schedule:        optim.Geometric{Start: cfg.LRStart, Final: cfg.LRFinal, Epochs: epochs},
		ExamplesPerStep: int64(cfg.Batch), Unit: "questions", Metric: "valid accuracy", HigherIsBetter: true,
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
	loop.WithEval(func(ctx context.Context) (float64, error) {
		acc, err := qaAccuracy(ctx, b, store, deploy, validB)
		last = time.Now()
		return acc, err
	})
	fmt.Fprintf(w, "%s: training %d steps\n", m.Label, cfg.Steps)
	div, err := loop.RunUntilDiverged(ctx)
	if err != nil {
		return nil, fmt.Errorf("qa: %s: %w", m.Name, err)
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
		run.ValidDeploy = p.Valid
		fmt.Fprintf(w, "  step %5d  train loss %.3f  valid accuracy (deploy) %.2f%%\n", p.Step, p.TrainLoss, 100*p.Valid)
	}
	run.FirstStep, run.Step = stepTiming(stepTimes)
	if run.Diverged == "" {
		calib := net
		calib.Inference = recurrent.CalibrateMode
		deployStore, err := calibratedStore(ctx, b, store, min(CalibrationBatches, trainB.BatchesPerEpoch()),
			func(i int) (train.Batch, error) {
				bt, err := batches.QA(trainB, 0, i)
				return qaTrainBatch(bt), err
			}, calib.Logits)
		if err != nil {
			return nil, fmt.Errorf("qa: %s: %w", m.Name, err)
		}
		if run.TestDeploy, err = qaAccuracy(ctx, b, deployStore, deploy, testB); err != nil {
			return nil, err
		}
		if run.TestCode, err = qaAccuracy(ctx, b, store, code, testB); err != nil {
			return nil, err
		}
	} else {
		run.TestDeploy, run.TestCode = math.NaN(), math.NaN()
	}
	sum := summary.FromStore(m.Label, store, quantizerPrecision(m.Quantizer), quant.IsLatent)
	run.Weights, run.WeightBytes, run.FP32Bytes = sum.Weights(), sum.QuantizedBytes(), sum.Bytes(summary.Float32)
	run.Total = time.Since(start)
	fmt.Fprintf(w, "  test accuracy: deploy %.2f%%, code %.2f%%  (first step %.1fs, then %.0f ms/step; run %.0fs)\n",
		100*run.TestDeploy, 100*run.TestCode, run.FirstStep.Seconds(), float64(run.Step.Milliseconds()), run.Total.Seconds())
	return run, nil
}

// qaAccuracy is the accuracy of net (its Inference mode) over every real
// question of the sequential batches q (padding rows excluded).
func qaAccuracy(ctx context.Context, b compute.Backend, store *model.Store, net models.AttentiveReader, q *datasets.QABatches) (float64, error) {
	ev := training.NewEvaluator(b, store, func(scope *model.Scope, inputs, labels []*Node) (*Node, *Node) {
		logits := net.Logits(scope, inputs)
		pred := ConvertDType(ArgMax(logits, -1), labels[0].DType())
		mask := ConvertDType(labels[1], logits.DType())
		correct := Mul(ConvertDType(Equal(pred, labels[0]), logits.DType()), mask)
		return ReduceAllSum(correct), ReduceAllSum(mask)
	})
	tot, err := ev.EvalBatches(ctx, q.BatchesPerEpoch(), func(i int) (train.Batch, error) {
		bt, err := batches.QA(q, 0, i)
		if err != nil {
			return train.Batch{}, err
		}
		return qaTrainBatch(bt), nil
	})
	if err != nil {
		return 0, fmt.Errorf("qa: evaluation: %w", err)
	}
	return tot.Mean(), nil
}

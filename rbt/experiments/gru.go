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

// GRUModel is one GRU recipe of the study; all use per-time-step BN.
type GRUModel struct {
	Name      string // short name, e.g. "bn-binary"
	Label     string // for tables and plots
	Quantizer string // quant registry name of Wx, Wh
	// ClipLatent clips the Adam step of Wx, Wh to [-W0, W0] (METHOD.md's
	// binary recipe; used for binary and ternary, as in the LSTM notebooks).
	ClipLatent bool
}

var gruModels = []GRUModel{
	{Name: "bn-fp", Label: "BN-GRU, full precision", Quantizer: "fp"},
	{Name: "bn-binary", Label: "BN binary GRU", Quantizer: "binary", ClipLatent: true},
	{Name: "bn-ternary", Label: "BN ternary GRU", Quantizer: "ternary", ClipLatent: true},
}

// GRUModels lists the study's models: full-precision, binary and ternary
// BN-GRUs.
func GRUModels() []GRUModel { return append([]GRUModel(nil), gruModels...) }

// Precision is the storage precision of the model's quantized matrices.
func (m GRUModel) Precision() summary.Precision { return quantizerPrecision(m.Quantizer) }

// GRUConfig is the setting of the GRU study.
type GRUConfig struct {
	Budget budget.Budget
	// Character-level LM on PTB characters: one GRU of CharHidden units,
	// random windows of CharSeqLen, CharBatch per step, CharSteps Adam steps
	// at CharLR (constant, as the paper's PTB run), validation every
	// CharEvalEvery steps on the first CharValidChars characters (0: all);
	// the test BPC over the first CharTestChars (0: all) at the best
	// validation.
	CharHidden, CharSeqLen, CharBatch int
	CharEpochs                        int
	CharSteps                         int64
	CharLR                            float64
	CharEvalEvery                     int64
	CharValidChars, CharTestChars     int
	// MNIST is the sequential-MNIST setting (SeqMNISTSettings with Cell =
	// GRU and the three BN models); nil skips that part.
	MNIST *SeqMNISTConfig
	// Models are the GRU recipes (GRUModels).
	Models []GRUModel
	Seed   int64
}

// GRUSettings returns the study's settings at a budget.
//
//   - smoke (seconds, CI): a 1x32 GRU on windows of 20 characters, batch 8,
//     a dozen steps; sequential MNIST at its smoke setting (7x7 images, 16
//     units, 10 steps).
//   - quick (about ten minutes on a shared 2-core CPU): a 1x256 GRU, windows
//     of 100, batch 32, 100 Adam steps at 0.005 (about 1/16 of an epoch;
//     validation on 12,801 characters, test on 32,001), the setting of the
//     LSTM notebook 01_ptb_char at quick; sequential MNIST at the quick
//     setting of the LSTM notebook 06_seq_mnist (MNIST average-pooled to 7x7,
//     49 steps of one pixel, 100 units, 400 steps of batch 32), raster order
//     only. It is NOT the paper's setting.
//   - paper: METHOD.md's PTB-character run with a GRU (1x1000, length 100,
//     batch 64, Adam 0.002, 50 epochs, whole splits) and sequential MNIST at
//     its paper setting (784 steps, 100 units, batch 100, 200 epochs).
func GRUSettings(b budget.Budget) GRUConfig {
	mn := SeqMNISTSettings(b)
	mn.Cell = recurrent.GRU
	mn.Models = []SeqMNISTModel{SeqMNISTModels[0], SeqMNISTModels[1], SeqMNISTModels[2]}
	mn.Permuted = []bool{false}
	return GRUConfig{
		Budget:         b,
		CharHidden:     budget.Pick(b, 32, 256, 1000),
		CharSeqLen:     budget.Pick(b, 20, 100, 100),
		CharBatch:      budget.Pick(b, 8, 32, 64),
		CharEpochs:     budget.Pick(b, 0, 0, 50),
		CharSteps:      budget.Pick[int64](b, 12, 100, 0),
		CharLR:         budget.Pick(b, 0.01, 0.005, 0.002),
		CharEvalEvery:  budget.Pick[int64](b, 6, 25, 500),
		CharValidChars: budget.Pick(b, 2*8*20+1, 4*32*100+1, 0),
		CharTestChars:  budget.Pick(b, 2*8*20+1, 10*32*100+1, 0),
		MNIST:          &mn,
		Models:         GRUModels(),
		Seed:           1,
	}
}

// Validate checks the configuration.
func (c GRUConfig) Validate() error {
	if c.CharHidden < 1 || c.CharSeqLen < 1 || c.CharBatch < 1 {
		return fmt.Errorf("experiments: GRU: CharHidden=%d CharSeqLen=%d CharBatch=%d, want >= 1", c.CharHidden, c.CharSeqLen, c.CharBatch)
	}
	if c.CharEpochs <= 0 && c.CharSteps <= 0 {
		return errors.New("experiments: GRU: set CharEpochs or CharSteps")
	}
	if !(c.CharLR > 0) {
		return fmt.Errorf("experiments: GRU: CharLR=%g, want > 0", c.CharLR)
	}
	if len(c.Models) == 0 {
		return errors.New("experiments: GRU: no models")
	}
	for _, m := range c.Models {
		if _, err := quant.Lookup(m.Quantizer); err != nil {
			return fmt.Errorf("experiments: GRU: model %s: %w", m.Name, err)
		}
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
	length := fmt.Sprintf("%d steps", c.CharSteps)
	if c.CharEpochs > 0 {
		length = fmt.Sprintf("%d epochs", c.CharEpochs)
	}
	chars := func(n int) string {
		if n == 0 {
			return "the whole split"
		}
		return fmt.Sprintf("the first %s characters", summary.FormatInt(int64(n)))
	}
	s := fmt.Sprintf("budget %s: PTB characters, GRU 1x%d, windows of %d, batch %d, %s per model, Adam %g; validation every %d steps on %s, test on %s",
		c.Budget, c.CharHidden, c.CharSeqLen, c.CharBatch, length, c.CharLR, c.CharEvalEvery, chars(c.CharValidChars), chars(c.CharTestChars))
	if c.MNIST != nil {
		s += "\nsequential MNIST: " + c.MNIST.Describe()
	}
	return s
}

// GRUCharRun is one GRU trained and evaluated on PTB characters.
type GRUCharRun struct {
	Model GRUModel
	// WeightBytes is the memory of Wx, Wh at the model's precision; Weights
	// their number (3n(d+n)).
	WeightBytes, Weights int64
	Steps, BestStep      int64
	History              training.History
	// Valid and Test BPC of the best checkpoint by inference mode ("code",
	// "deploy").
	Valid, Test  map[string]float64
	Diverged     string
	TrainSeconds float64
	// Packed is the deploy form (models.ExportCharLM); PackedBPC and
	// DeployBPC are the test BPC of the packed engine and of the GoMLX deploy
	// mode on the first test windows (one evaluation batch).
	Packed               *packed.Model
	PackedBPC, DeployBPC float64
}

type gruCharJob struct {
	cfg    GRUConfig
	corpus *datasets.CharCorpus
	m      GRUModel
	be     compute.Backend
}

func (j *gruCharJob) lm(mode recurrent.Inference) models.CharLM {
	return models.CharLM{Vocab: j.corpus.NumSymbols(), Hidden: j.cfg.CharHidden, Cell: recurrent.GRU,
		Quantizer: j.m.Quantizer, Normalization: recurrent.PerStepBN, Inference: mode}
}

// evaluate returns the bits over the first chars characters of split (all
// when 0), every character after the first predicted once (datasets.CharEval).
func (j *gruCharJob) evaluate(ctx context.Context, store *model.Store, mode recurrent.Inference, split []uint8, chars int) (training.Totals, error) {
	if chars > 0 && chars < len(split) {
		split = split[:chars]
	}
	return charBits(ctx, j.be, store, j.lm(mode), split, j.cfg.CharSeqLen, j.cfg.CharBatch)
}

// TrainGRUCharLM trains the GRU model m on corpus (PTB characters) with
// checkpoints in dir, loads the best-validation checkpoint, evaluates the
// valid and test BPC in both inference modes, exports the deploy form and
// checks the packed engine on the first test batch of windows. A divergence
// is not an error (the last good checkpoint is evaluated; Diverged says so).
func TrainGRUCharLM(ctx context.Context, cfg GRUConfig, corpus *datasets.CharCorpus, m GRUModel, dir string, w io.Writer) (*GRUCharRun, error) {
	if w == nil {
		w = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	be, err := backend.New()
	if err != nil {
		return nil, err
	}
	j := &gruCharJob{cfg: cfg, corpus: corpus, m: m, be: be}
	B, T := cfg.CharBatch, cfg.CharSeqLen
	windows, err := datasets.NewCharWindows(corpus.Train, T, B, uint64(cfg.Seed))
	if err != nil {
		return nil, fmt.Errorf("experiments: GRU %s training windows: %w", corpus.Name, err)
	}
	src := charWindowSource(windows, B, T)
	lm := j.lm(recurrent.CodeMode)
	if err := lm.Validate(); err != nil {
		return nil, err
	}
	store := model.NewStore()
	opt := optim.Adam().LearningRate(cfg.CharLR).ClipLatent(m.ClipLatent).Done()
	trainer := train.NewTrainer(be, store, lm.Logits, models.CharLMLoss, opt, nil, nil)
	every := map[budget.Budget]time.Duration{budget.Smoke: time.Hour, budget.Quick: 15 * time.Second}[cfg.Budget]
	if every == 0 {
		every = 30 * time.Second
	}
	loop, err := training.New(trainer, src, training.Config{
		Dir: dir, Epochs: cfg.CharEpochs, Steps: cfg.CharSteps, EvalEvery: cfg.CharEvalEvery, EvalAtEpochEnd: cfg.Budget == budget.Paper,
		Seed: cfg.Seed, Schedule: optim.Constant(cfg.CharLR), ExamplesPerStep: int64(B * T), Unit: "chars", Metric: "valid BPC",
		CheckWeightsEvery: max(cfg.CharEvalEvery, 1), Progress: w, ProgressEvery: every,
	})
	if err != nil {
		return nil, err
	}
	loop.WithEval(func(ctx context.Context) (float64, error) {
		tot, err := j.evaluate(ctx, store, recurrent.CodeMode, corpus.Valid, cfg.CharValidChars)
		return tot.Mean(), err
	})
	run := &GRUCharRun{Model: m}
	div, err := loop.RunUntilDiverged(ctx)
	if err != nil {
		return nil, err
	}
	if div != nil {
		run.Diverged = div.Error()
		fmt.Fprintf(w, "%s: %s\n", m.Name, run.Diverged)
	}
	st := loop.State()
	run.Steps, run.History, run.TrainSeconds = st.Step, st.History, st.Seconds
	best, bestStep, ok, err := training.SelectCheckpoint(dir)
	if err != nil || !ok {
		return nil, fmt.Errorf("experiments: GRU %s: no checkpoint to evaluate in %s (%v)", m.Name, dir, err)
	}
	run.BestStep = bestStep
	if _, err := training.LoadCheckpoint(store, best); err != nil {
		return nil, err
	}
	run.Valid, run.Test = map[string]float64{}, map[string]float64{}
	for _, mode := range []recurrent.Inference{recurrent.CodeMode, recurrent.DeployMode} {
		for _, split := range []struct {
			data  []uint8
			chars int
			out   map[string]float64
		}{{corpus.Valid, cfg.CharValidChars, run.Valid}, {corpus.Test, cfg.CharTestChars, run.Test}} {
			tot, err := j.evaluate(ctx, store, mode, split.data, split.chars)
			if err != nil {
				if run.Diverged == "" {
					return nil, fmt.Errorf("experiments: GRU %s: %s evaluation: %w", m.Name, mode, err)
				}
				tot = training.Totals{}
			}
			split.out[mode.String()] = tot.Mean()
		}
	}
	sum := summary.FromStore(m.Label, store, m.Precision(), quant.IsLatent)
	run.Weights, run.WeightBytes = sum.Weights(), sum.QuantizedBytes()
	run.Packed, err = models.ExportCharLM(be, store, model.RootScopePath, runeStrings(corpus.Symbols))
	if err != nil {
		return nil, fmt.Errorf("experiments: GRU %s: export: %w", m.Name, err)
	}
	if err := run.packedCheck(ctx, j, store); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "%s: best step %d of %d; valid BPC code %.4f deploy %.4f; test BPC code %.4f deploy %.4f; packed engine %.4f vs GoMLX deploy %.4f on %d test windows (train %.0fs)\n",
		m.Name, run.BestStep, run.Steps, run.Valid["code"], run.Valid["deploy"], run.Test["code"], run.Test["deploy"],
		run.PackedBPC, run.DeployBPC, cfg.CharBatch, run.TrainSeconds)
	return run, nil
}

// packedCheck runs the exported model on the packed engine over the first
// batch of test windows (each from the initial state, as in evaluation) and
// the GoMLX deploy mode on the same characters.
func (run *GRUCharRun) packedCheck(ctx context.Context, j *gruCharJob, store *model.Store) error {
	B, T := j.cfg.CharBatch, j.cfg.CharSeqLen
	n := min(B*T+1, len(j.corpus.Test))
	data := j.corpus.Test[:n]
	tot, err := j.evaluate(ctx, store, recurrent.DeployMode, data, 0)
	if err != nil {
		return err
	}
	run.DeployBPC = tot.Mean()
	e, err := packed.NewEngine(run.Packed)
	if err != nil {
		return fmt.Errorf("experiments: GRU %s: packed engine: %w", run.Model.Name, err)
	}
	toks := make([]int, n)
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

// GRUResult is the whole GRU study.
type GRUResult struct {
	Config  GRUConfig
	Corpus  string // the character corpus
	Char    []*GRUCharRun
	MNIST   *SeqMNISTResult // nil when skipped
	Elapsed time.Duration
}

// CharRun returns the char-LM run of the model with the given short name.
func (r *GRUResult) CharRun(name string) *GRUCharRun {
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
	for i, m := range cfg.Models {
		fmt.Fprintf(w, "\n[char %d/%d] %s on %s\n", i+1, len(cfg.Models), m.Label, corpus.Name)
		run, err := TrainGRUCharLM(ctx, cfg, corpus, m, filepath.Join(dir, "char-"+m.Name), w)
		if err != nil {
			return nil, err
		}
		res.Char = append(res.Char, run)
	}
	if cfg.MNIST != nil {
		mn := *cfg.MNIST
		mn.Dir = filepath.Join(dir, "mnist")
		fmt.Fprintf(w, "\n[sequential MNIST] %s\n", strings.Join(gruMNISTNames(mn.Models), ", "))
		r, err := SeqMNIST(mn, w)
		if err != nil {
			return nil, err
		}
		res.MNIST = r
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func gruMNISTNames(ms []SeqMNISTModel) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

package experiments

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/plots"
	"github.com/rbt-project/rbt/rbt/report"
)

// PackedConfig sets up the packed-inference experiment (notebook 09): train
// small binary and ternary character LMs, export them to packed files, check
// the CPU engine against GoMLX, generate text, and measure memory and speed.
type PackedConfig struct {
	Train      QuickstartConfig // model size and training of each char LM
	Quantizers []string         // e.g. "binary", "ternary"
	EvalChars  int              // PTB test characters scored by GoMLX and by the engine
	Generate   int              // characters of sampled text per model
	// Speed: one LSTM step, batch 1, dense input width = hidden, for each size.
	SpeedHidden []int
	SpeedSteps  int // steps timed per measurement (the best of 3 is kept)
	Dir         string
}

// PackedSettings returns the settings at a budget. The speed sizes are the
// issue's: hidden 256 and the PTB-char size 1000 (input 1000).
func PackedSettings(b budget.Budget) PackedConfig {
	tr := QuickstartSettings(b)
	tr.Steps = budget.Pick(b, 30, 400, 2000, 5000)
	return PackedConfig{
		Train:       tr,
		Quantizers:  []string{"binary", "ternary"},
		EvalChars:   budget.Pick(b, 2_000, 50_000, 442_423, 442_423),
		Generate:    budget.Pick(b, 80, 300, 600, 600),
		SpeedHidden: budget.Pick(b, []int{256}, []int{256, 1000}, []int{256, 1000}, []int{256, 1000}),
		SpeedSteps:  budget.Pick(b, 20, 200, 1000, 1000),
	}
}

// PackedModelResult is one trained, exported and re-evaluated model.
type PackedModelResult struct {
	Quantizer   string
	File        string
	Memory      packed.Memory
	BPCGoMLX    float64 // deploy mode, GoMLX graph
	BPCEngine   float64 // packed file, accumulate-only kernels
	BPCFloatRef float64 // packed file, float32 multiply-add reference
	Sample      string
	Loss        []float64 // training loss per step, bits per character
	Epochs      float64   // passes over the training split
}

// SpeedRow is one measured inference path.
type SpeedRow struct {
	Hidden      int
	Path        string // "float32 reference", "packed binary", "packed ternary", ... "(portable Go)"
	Kernel      string // the code that ran (packed.Kernel.Implementation)
	NsPerStep   float64
	StepsPerSec float64
	WeightBytes int64
	Speedup     float64 // vs the float32 reference at the same size
}

// PackedResult is everything notebook 09 shows.
type PackedResult struct {
	Config    PackedConfig
	Models    []PackedModelResult
	Speed     []SpeedRow
	EvalChars int
}

// Packed runs the experiment. Progress goes to w.
func Packed(ctx context.Context, cfg PackedConfig, w io.Writer) (*PackedResult, error) {
	if w == nil {
		w = io.Discard
	}
	corpus, err := datasets.LoadPTBChar()
	if err != nil {
		return nil, fmt.Errorf("packed inference needs PTB characters: %w", err)
	}
	data := &CharLMData{Corpus: corpus, Label: "PTB characters"}
	if cfg.Dir == "" {
		if cfg.Dir, err = os.MkdirTemp("", "rbt-packed-"); err != nil {
			return nil, err
		}
	}
	test := corpus.Test[:min(cfg.EvalChars, len(corpus.Test))]
	res := &PackedResult{Config: cfg, EvalChars: len(test)}
	for _, q := range cfg.Quantizers {
		tc := cfg.Train
		tc.Quantizer = q
		fmt.Fprintf(w, "== training BN-%s LSTM 1x%d on %s (%d steps)\n", q, tc.Hidden, data.Label, tc.Steps)
		run, err := tc.train(ctx, data, RunsDir("packed", tc.Budget), len(test), w)
		if err != nil {
			return nil, err
		}
		m, err := packedResult(run, tc, test, cfg, w)
		if err != nil {
			return nil, err
		}
		res.Models = append(res.Models, *m)
	}
	for _, n := range cfg.SpeedHidden {
		rows, err := MeasureStepSpeed(n, cfg.SpeedSteps)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			fmt.Fprintf(w, "speed: hidden %4d  %-18s %10.0f ns/step  %8.0f steps/s  %.1fx\n", r.Hidden, r.Path, r.NsPerStep, r.StepsPerSec, r.Speedup)
		}
		res.Speed = append(res.Speed, rows...)
	}
	return res, nil
}

// packedResult writes run's deploy form (exported by TrainCharLM) to a
// packed file, reads it back as a user would, and scores it on test with the
// accumulate-only kernels and the float32 reference, beside the GoMLX deploy
// mode's score of the same characters (run.Test, TestChars = len(test)).
func packedResult(run *CharLMRun, tc QuickstartConfig, test []uint8, cfg PackedConfig, w io.Writer) (*PackedModelResult, error) {
	pm := run.Packed
	pm.Task = "charlm"
	pm.Meta["dataset"] = "ptb-char"
	pm.Meta["train_steps"] = fmt.Sprint(run.Steps)
	pm.Meta["hidden"] = fmt.Sprint(tc.Hidden)
	file := filepath.Join(cfg.Dir, fmt.Sprintf("ptb-char-%s-%d.rbtm", tc.Quantizer, tc.Hidden))
	if err := packed.WriteFile(file, pm); err != nil {
		return nil, err
	}
	// Everything below reads the file back, as a user of the packed model would.
	loaded, err := packed.ReadFile(file)
	if err != nil {
		return nil, err
	}
	r := &PackedModelResult{Quantizer: tc.Quantizer, File: file, Memory: loaded.Memory(), Epochs: lastEpoch(run.History),
		BPCGoMLX: run.Test["deploy"]}
	for _, p := range run.History.Points {
		r.Loss = append(r.Loss, p.TrainLoss/math.Ln2)
	}
	tokens := make([]int, len(test))
	for i, t := range test {
		tokens[i] = int(t)
	}
	for _, path := range []struct {
		kernel packed.Kernel
		dst    *float64
	}{{packed.DefaultKernel, &r.BPCEngine}, {packed.KernelFloat32, &r.BPCFloatRef}} {
		e, err := packed.NewEngineKernel(loaded, path.kernel)
		if err != nil {
			return nil, err
		}
		score, err := packed.EvaluateLM(e, tokens, packed.LMEval{Window: tc.SeqLen, Batch: 8})
		if err != nil {
			return nil, err
		}
		*path.dst = score.BPC()
	}
	fmt.Fprintf(w, "test BPC on %d chars: GoMLX deploy %.4f, packed engine %.4f, float32 reference %.4f\n",
		len(test), r.BPCGoMLX, r.BPCEngine, r.BPCFloatRef)
	// PTB writes spaces as "_".
	if r.Sample, err = packed.Generate(loaded, "the_", cfg.Generate, 0.8, 1); err != nil {
		return nil, err
	}
	return r, nil
}

// MeasureStepSpeed times one LSTM step at batch 1 (dense input of width
// hidden, the benchmark shape) for the float32 reference, the packed
// binary and ternary kernels (KernelLUT: AVX2 assembly where the CPU has it)
// and the same in portable Go (KernelLUTPortable), on random models, keeping
// the best of 3 repetitions of steps steps each. It is a measurement, not a benchmark
// harness: `go test -bench` in rbt/packed gives the same figures with
// statistics.
func MeasureStepSpeed(hidden, steps int) ([]SpeedRow, error) {
	paths := []struct {
		name    string
		weights packed.WeightKind
		kernel  packed.Kernel
	}{
		{"float32 reference", packed.Float32, packed.KernelFloat32},
		{"packed binary", packed.Binary, packed.KernelLUT},
		{"packed ternary", packed.Ternary, packed.KernelLUT},
		{"packed binary (portable Go)", packed.Binary, packed.KernelLUTPortable},
		{"packed ternary (portable Go)", packed.Ternary, packed.KernelLUTPortable},
	}
	var rows []SpeedRow
	for _, p := range paths {
		m, err := packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: p.weights, Input: packed.Dense,
			Features: hidden, Hidden: []int{hidden}, Classes: 2, Seed: 1})
		if err != nil {
			return nil, err
		}
		e, err := packed.NewEngineKernel(m, p.kernel)
		if err != nil {
			return nil, err
		}
		x := make([]float32, hidden)
		for i := range x {
			x[i] = float32(math.Sin(float64(i)))
		}
		s := e.NewState(1)
		best := math.Inf(1)
		for rep := 0; rep < 3; rep++ {
			start := time.Now()
			for i := 0; i < steps; i++ {
				if err := e.StepDense(s, x); err != nil {
					return nil, err
				}
			}
			best = min(best, float64(time.Since(start).Nanoseconds())/float64(steps))
		}
		rows = append(rows, SpeedRow{Hidden: hidden, Path: p.name, Kernel: p.kernel.Implementation(), NsPerStep: best, StepsPerSec: 1e9 / best, WeightBytes: e.WeightBytes()})
	}
	for i := range rows {
		rows[i].Speedup = rows[0].NsPerStep / rows[i].NsPerStep
	}
	return rows, nil
}

// Tables returns the accuracy/memory table and the speed table.
func (r *PackedResult) Tables() (models, speed report.Table) {
	models = report.Table{Header: []string{"model", "weights", "float32 bytes", "packed bytes", "ratio", "file bytes",
		fmt.Sprintf("BPC GoMLX deploy (%d test chars)", r.EvalChars), "BPC packed engine", "BPC float32 ref", "source"}}
	src := report.Measured(string(r.Config.budget()))
	for _, m := range r.Models {
		models.Rows = append(models.Rows, []string{
			fmt.Sprintf("BN-%s LSTM 1x%d", m.Quantizer, r.Config.Train.Hidden),
			fmt.Sprint(m.Memory.Weights), fmt.Sprint(m.Memory.Float32Bytes), fmt.Sprint(m.Memory.PackedBytes),
			fmt.Sprintf("%.1fx", float64(m.Memory.Float32Bytes)/float64(m.Memory.PackedBytes)), fmt.Sprint(m.Memory.FileBytes),
			fmt.Sprintf("%.4f", m.BPCGoMLX), fmt.Sprintf("%.4f", m.BPCEngine), fmt.Sprintf("%.4f", m.BPCFloatRef), src})
	}
	speed = report.Table{Header: []string{"hidden", "path", "kernel", "ns/step", "steps/s", "weight bytes", "speed-up vs float32", "source"}}
	for _, s := range r.Speed {
		speed.Rows = append(speed.Rows, []string{fmt.Sprint(s.Hidden), s.Path, s.Kernel, fmt.Sprintf("%.0f", s.NsPerStep),
			fmt.Sprintf("%.0f", s.StepsPerSec), fmt.Sprint(s.WeightBytes), fmt.Sprintf("%.2fx", s.Speedup), src})
	}
	return models, speed
}

func (c PackedConfig) budget() budget.Budget { return c.Train.Budget }

// Record sends every measured figure to the run's results file.
func (r *PackedResult) Record() error { return report.Record(r.Results()...) }

// String is the settings line.
func (c PackedConfig) String() string {
	return fmt.Sprintf("budget %s: models %v trained with %s; %d test characters scored; speed at hidden %v, %d steps",
		c.budget(), c.Quantizers, c.Train, c.EvalChars, c.SpeedHidden, c.SpeedSteps)
}

// Results lists every measured figure.
func (r *PackedResult) Results() []report.Result {
	src := report.Measured(string(r.Config.budget()))
	var rs []report.Result
	for _, m := range r.Models {
		name := fmt.Sprintf("BN-%s LSTM 1x%d (packed)", m.Quantizer, r.Config.Train.Hidden)
		rs = append(rs,
			report.Result{Experiment: "packed inference", Model: name, Metric: "test BPC, GoMLX deploy", Value: m.BPCGoMLX, Source: src},
			report.Result{Experiment: "packed inference", Model: name, Metric: "test BPC, packed engine", Value: m.BPCEngine, Source: src},
			report.Result{Experiment: "packed inference", Model: name, Metric: "weight memory ratio vs float32", Value: float64(m.Memory.Float32Bytes) / float64(m.Memory.PackedBytes), Source: src})
	}
	for _, s := range r.Speed {
		if s.Path == "float32 reference" {
			continue // the baseline of the ratios
		}
		rs = append(rs, report.Result{Experiment: "packed inference", Model: fmt.Sprintf("LSTM step, hidden %d, batch 1", s.Hidden),
			Metric: s.Path + " speed-up vs float32", Value: s.Speedup, Source: src})
	}
	return rs
}

// SpeedFigure plots steps per second of each path against the hidden size.
func (r *PackedResult) SpeedFigure() ([]byte, error) {
	byPath := map[string]*plots.Series{}
	var order []string
	for _, s := range r.Speed {
		p, ok := byPath[s.Path]
		if !ok {
			p = &plots.Series{Name: s.Path}
			byPath[s.Path] = p
			order = append(order, s.Path)
		}
		p.X = append(p.X, float64(s.Hidden))
		p.Y = append(p.Y, s.StepsPerSec)
	}
	var series []plots.Series
	for _, name := range order {
		series = append(series, *byPath[name])
	}
	return plots.Lines(plots.Options{Title: "One LSTM step, batch 1, on this CPU", XLabel: "hidden units (= input width)",
		YLabel: "steps per second", LogX: true, LogY: true}, series...)
}

// MemoryFigure plots weight memory (float32 vs packed) against test BPC.
func (r *PackedResult) MemoryFigure() ([]byte, error) {
	var pts []plots.Labeled
	for i, m := range r.Models {
		pts = append(pts,
			plots.Labeled{Label: m.Quantizer + " packed", X: float64(m.Memory.PackedBytes) / 1000, Y: m.BPCEngine, Group: i},
			plots.Labeled{Label: m.Quantizer + " as float32", X: float64(m.Memory.Float32Bytes) / 1000, Y: m.BPCGoMLX, Group: i})
	}
	return plots.Scatter(plots.Options{Title: "Same model, same BPC: packed vs float32 weights", XLabel: "weight memory (KB)",
		YLabel: "test BPC", LogX: true}, pts)
}

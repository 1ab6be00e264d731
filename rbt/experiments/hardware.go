package experiments

import (
	"context"
	"fmt"
	"io"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/hwsim"
	"github.com/rbt-project/rbt/hwsim/hwplot"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/report"
)

// HardwareConfig sets up the hardware notebook (10): the accelerator study of
// package hwsim on the paper's PTB-char model size (1x1000 LSTM), plus the
// accuracy the accelerator's fixed-point datapath would reach with small
// models trained here (full precision on the 12-bit design, binary and
// ternary on theirs), at several activation widths.
type HardwareConfig struct {
	Train      QuickstartConfig
	Quantizers []string // models trained for the accuracy-vs-energy part
	EvalChars  int      // PTB test characters run through the fixed-point datapath
	ActBits    []int
}

// HardwareSettings returns the settings at a budget.
func HardwareSettings(b budget.Budget) HardwareConfig {
	tr := QuickstartSettings(b)
	tr.Steps = budget.Pick(b, 30, 300, 2000, 5000)
	return HardwareConfig{
		Train:      tr,
		Quantizers: budget.Pick(b, []string{"binary"}, []string{"fp", "binary", "ternary"}, []string{"fp", "binary", "ternary"}, []string{"fp", "binary", "ternary"}),
		EvalChars:  budget.Pick(b, 1_000, 20_000, 442_423, 442_423),
		ActBits:    budget.Pick(b, []int{8, 12}, []int{6, 8, 10, 12, 16}, []int{6, 8, 10, 12, 16}, []int{6, 8, 10, 12, 16}),
	}
}

// HardwareResult is the study with its figures, and the trained models' files.
type HardwareResult struct {
	*hwplot.Result
	Config HardwareConfig
}

// Hardware trains the small models, then runs the hwsim study with them.
func Hardware(ctx context.Context, cfg HardwareConfig, w io.Writer) (*HardwareResult, error) {
	if w == nil {
		w = io.Discard
	}
	corpus, err := datasets.LoadPTBChar()
	if err != nil {
		return nil, fmt.Errorf("the hardware study's accuracy part needs PTB characters: %w", err)
	}
	data := &CharLMData{Corpus: corpus, Label: "PTB characters"}
	var trained []*packed.Model
	for _, q := range cfg.Quantizers {
		tc := cfg.Train
		tc.Quantizer = q
		fmt.Fprintf(w, "== training BN-%s LSTM 1x%d (%d steps)\n", q, tc.Hidden, tc.Steps)
		run, err := tc.train(ctx, data, RunsDir("hardware", tc.Budget), 4*tc.Batch*tc.SeqLen+1, w)
		if err != nil {
			return nil, err
		}
		m := run.Packed
		m.Task = fmt.Sprintf("BN-%s 1x%d", q, tc.Hidden)
		trained = append(trained, m)
	}
	tokens := make([]int, min(cfg.EvalChars, len(corpus.Test)))
	for i := range tokens {
		tokens[i] = int(corpus.Test[i])
	}
	fmt.Fprintf(w, "== hardware study: designs, comparisons, sweeps; %d models x %d activation widths on %d test characters\n",
		len(trained), len(cfg.ActBits), len(tokens))
	res, err := hwplot.Run(hwsim.StudyOptions{Models: trained, Tokens: tokens, ActBits: cfg.ActBits, Reference: true,
		Segment: cfg.Train.SeqLen})
	if err != nil {
		return nil, err
	}
	return &HardwareResult{Result: res, Config: cfg}, nil
}

// Tables returns the tables the notebook shows, in order, with their titles.
func (r *HardwareResult) Tables() (titles []string, tables []report.Table) {
	s := r.Study
	add := func(title string, t report.Table) {
		titles = append(titles, title)
		tables = append(tables, t)
	}
	add("Where the abstract's 12x memory and 10x speed-up come from (simulated, "+s.Workload.Name+")",
		report.FromStructs(s.Ratios, "quantity", "assumption", "value", "paper", "how"))
	add("The shipped designs on the paper's PTB-char model",
		report.FromStructs(s.Reports, "design", "weights", "units", "lanes", "cycles_per_step", "steps_per_s", "gops",
			"weight_memory_bits", "onchip_fraction", "energy_nj_per_step", "power_mw", "area_mm2", "gops_per_w", "gops_per_mm2"))
	add("Equal area: each design given the baseline's silicon",
		report.FromStructs(s.EqualArea, "design", "baseline", "units", "area_mm2", "steps_per_s", "speedup", "energy_gain", "memory_saving"))
	add("Equal throughput: each design sized to the baseline's steps/s",
		report.FromStructs(s.EqualThroughput, "design", "baseline", "units", "area_mm2", "steps_per_s", "area_ratio", "energy_gain"))
	if len(s.Accuracy) > 0 {
		add("Accuracy in the datapath's fixed point (models trained here, PTB test characters)",
			report.FromStructs(s.Accuracy, "model", "design", "act_bits", "chars", "bpc", "float_bpc", "max_abs_dh", "energy_nj_per_char"))
	}
	return titles, tables
}

// Record sends the ratio table and the fixed-point accuracies to the results.
func (r *HardwareResult) Record() error { return report.Record(r.Results()...) }

// String is the settings line.
func (c HardwareConfig) String() string {
	return fmt.Sprintf("budget %s: models %v trained with %s; fixed-point evaluation on %d PTB test characters at activation widths %v",
		c.Train.Budget, c.Quantizers, c.Train, c.EvalChars, c.ActBits)
}

// Results lists the ratio table and the fixed-point accuracies.
func (r *HardwareResult) Results() []report.Result {
	src := report.Measured(string(r.Config.Train.Budget)) + ", simulated by hwsim"
	var rs []report.Result
	for _, q := range r.Study.Ratios {
		rs = append(rs, report.Result{Experiment: "hardware (hwsim, " + r.Study.Workload.Name + ")", Model: q.Assumption,
			Metric: q.Quantity, Value: q.Value, Source: src})
	}
	for _, a := range r.Study.Accuracy {
		rs = append(rs, report.Result{Experiment: "hardware (hwsim, PTB char test)", Model: a.Model + " on " + a.Design,
			Metric: fmt.Sprintf("BPC at %d-bit activations", a.ActBits), Value: a.BPC, Source: src})
	}
	return rs
}

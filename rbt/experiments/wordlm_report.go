package experiments

import (
	"fmt"
	"math"
	"strings"

	"github.com/rbt-project/rbt/rbt/plots"
	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/report"
	"github.com/rbt-project/rbt/rbt/summary"
)

// WordLMExperiment names the experiment in recorded results.
const WordLMExperiment = "PTB word"

// wordLMPPL formats a perplexity ("diverged" for NaN/Inf).
func wordLMPPL(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "diverged"
	}
	return fmt.Sprintf("%.1f", v)
}

// ModelLabel names a run's model with its size, e.g. "BN binary LSTM (this
// paper), 1x128".
func (r *WordLMResult) ModelLabel(run *WordLMRun) string {
	return fmt.Sprintf("%s, emb %d, 1x%d", run.Model.Label, r.Config.Embed, r.Config.Hidden)
}

// Table is the results table: model, precision, weight memory of the LSTM
// matrices (at the trained size and at the paper's 300/300), valid and test
// perplexity in both inference modes, training time.
func (r *WordLMResult) Table() report.Table {
	t := report.Table{Header: []string{"model", "precision", "LSTM weights", "weight memory",
		"memory at paper size (300/300)", "valid ppl code", "valid ppl deploy", "test ppl code", "test ppl deploy",
		"steps (best)", "final lr", "train time", "source"}}
	src := report.Measured(string(r.Config.Budget))
	for _, run := range r.Runs {
		p := run.Model.Precision()
		paper := summary.LSTM("PTB word 300", 300, 300, p)
		note := ""
		if run.Diverged != "" {
			note = " (diverged)"
		}
		t.Rows = append(t.Rows, []string{run.Model.Label + note, p.String(), summary.FormatInt(run.Weights),
			summary.FormatKB(run.WeightBytes), summary.FormatKB(paper.QuantizedBytes()),
			wordLMPPL(run.Valid["code"]), wordLMPPL(run.Valid["deploy"]),
			wordLMPPL(run.Test["code"]), wordLMPPL(run.Test["deploy"]),
			fmt.Sprintf("%d (%d)", run.Steps, run.BestStep), run.finalLR(), fmt.Sprintf("%.0f s", run.TrainSeconds), src})
	}
	return t
}

// Results lists the measured figures for report.Record: valid and test
// perplexity in both modes, the weight memory in KB, and the packed-engine
// check where it ran.
func (r *WordLMResult) Results() []report.Result {
	src := report.Measured(string(r.Config.Budget))
	var out []report.Result
	for _, run := range r.Runs {
		name := r.ModelLabel(run)
		for _, mode := range []string{"code", "deploy"} {
			out = append(out,
				report.Result{Experiment: WordLMExperiment, Model: name, Metric: "valid perplexity (" + mode + ")", Value: run.Valid[mode], Source: src},
				report.Result{Experiment: WordLMExperiment, Model: name, Metric: "test perplexity (" + mode + ")", Value: run.Test[mode], Source: src})
		}
		out = append(out, report.Result{Experiment: WordLMExperiment, Model: name, Metric: "LSTM weight memory (KB)",
			Value: summary.KB(run.WeightBytes), Source: src})
		if run.PackedPPL > 0 {
			out = append(out,
				report.Result{Experiment: WordLMExperiment, Model: name, Metric: "test perplexity, packed engine (check windows)", Value: run.PackedPPL, Source: src},
				report.Result{Experiment: WordLMExperiment, Model: name, Metric: "test perplexity, GoMLX deploy (check windows)", Value: run.DeployPPL, Source: src})
		}
	}
	return out
}

// wordLMShort is the short label of a model in the trade-off plot.
var wordLMShort = map[string]string{"bn-fp": "full precision", "bn-binary": "binary", "bn-ternary": "ternary",
	"bc": "BinaryConnect, no BN", "bn-k2": "2-bit", "bn-k4": "4-bit"}

// wordLMOffScale splits the runs by a value: those whose value is finite and
// at most twice the smallest value are plotted, the others (a failed
// ablation would squash the other curves) are named in the title.
func wordLMOffScale(runs []*WordLMRun, value func(*WordLMRun) float64) (keep []*WordLMRun, note string) {
	best := math.Inf(1)
	for _, run := range runs {
		if v := value(run); v < best {
			best = v
		}
	}
	var off []string
	for _, run := range runs {
		v := value(run)
		if math.IsNaN(v) || math.IsInf(v, 0) || v > 2*best {
			off = append(off, fmt.Sprintf("%s (%s)", run.Model.Label, wordLMPPL(v)))
			continue
		}
		keep = append(keep, run)
	}
	if len(off) > 0 {
		note = "\noff the scale: " + strings.Join(off, ", ")
	}
	return keep, note
}

// finalLR is the learning rate of the last training step (after the plateau
// schedule's cuts), "-" when unknown.
func (run *WordLMRun) finalLR() string {
	p := run.History.Points
	if len(p) == 0 || p[len(p)-1].LR == 0 {
		return "-"
	}
	return report.FormatValue(p[len(p)-1].LR)
}

// lastValid is the last validation value of a run's history (NaN if none).
func (run *WordLMRun) lastValid() float64 {
	v := run.History.Valid()
	if len(v) == 0 {
		return math.NaN()
	}
	return v[len(v)-1].Valid
}

// CurvesFigure plots the validation perplexity (code mode, on the validation
// windows of the config) of every model against the words trained on; a
// model ending above twice the best final value is left out and named in
// the title.
func (r *WordLMResult) CurvesFigure() ([]byte, error) {
	runs, note := wordLMOffScale(r.Runs, (*WordLMRun).lastValid)
	var series []plots.Series
	for _, run := range runs {
		var x, y []float64
		for _, p := range run.History.Valid() {
			x = append(x, float64(p.Examples))
			y = append(y, p.Valid)
		}
		series = append(series, plots.Series{Name: run.Model.Label, X: x, Y: y})
	}
	return plots.Lines(plots.Options{
		Title:  fmt.Sprintf("Word-level PTB (%s, budget %s): validation perplexity%s", r.Corpus, r.Config.Budget, note),
		XLabel: "training words", YLabel: "validation perplexity (code mode)",
	}, series...)
}

// MemoryFigure plots the test perplexity (deploy mode) of every model against
// the memory of its LSTM weight matrices (a model above twice the best
// perplexity is named in the title instead).
func (r *WordLMResult) MemoryFigure() ([]byte, error) {
	runs, note := wordLMOffScale(r.Runs, func(run *WordLMRun) float64 { return run.Test["deploy"] })
	var pts []plots.Labeled
	for _, run := range runs {
		group := 0
		switch {
		case run.Model.Normalization == recurrent.None:
			group = 3
		case run.Model.Quantizer == "binary" || run.Model.Quantizer == "ternary":
			group = 1
		case run.Model.Quantizer != "fp":
			group = 2
		}
		label := wordLMShort[run.Model.Name]
		if label == "" {
			label = run.Model.Label
		}
		pts = append(pts, plots.Labeled{Label: fmt.Sprintf("%s %s", label, wordLMPPL(run.Test["deploy"])),
			X: summary.KB(run.WeightBytes), Y: run.Test["deploy"], Group: group})
	}
	return plots.Scatter(plots.Options{
		Title:  fmt.Sprintf("Word-level PTB (budget %s): test perplexity vs LSTM weight memory%s", r.Config.Budget, note),
		XLabel: "LSTM weight memory (KB, log scale)", YLabel: "test perplexity (deploy mode)", LogX: true,
	}, pts)
}

// Verdict compares the BN binary and BN ternary test perplexities with full
// precision in both inference modes (the project's target: within 10 %), and
// the model without normalization, as measured. Each line states its numbers.
func (r *WordLMResult) Verdict() []string {
	fp := r.Run("bn-fp")
	if fp == nil {
		return []string{"no full-precision run to compare with"}
	}
	var out []string
	for _, run := range r.Runs {
		if run == fp {
			continue
		}
		for _, mode := range []string{"deploy", "code"} {
			got, ref := run.Test[mode], fp.Test[mode]
			rel := got/ref - 1
			var judge string
			switch {
			case math.IsNaN(got) || math.IsInf(got, 0):
				judge = "diverged"
			case run.Model.Normalization == recurrent.None && rel > 0.10:
				judge = "clearly worse than full precision, as the paper expects without BN"
			case run.Model.Normalization == recurrent.None:
				judge = "NOT clearly worse than full precision (the paper expects a failure without BN)"
			case rel <= 0:
				judge = "at or below (better than) full precision, so within the 10 % target"
			case rel <= 0.10:
				judge = "within 10 % of full precision"
			default:
				judge = "MORE than 10 % above full precision"
			}
			out = append(out, fmt.Sprintf("%s (%s): test ppl %s vs full precision %s (%+.1f %%): %s",
				run.Model.Label, mode, wordLMPPL(got), wordLMPPL(ref), 100*rel, judge))
		}
	}
	return out
}

package experiments

import (
	"fmt"
	"math"

	"github.com/rbt-project/rbt/rbt/plots"
	"github.com/rbt-project/rbt/rbt/report"
	"github.com/rbt-project/rbt/rbt/summary"
)

// Experiment names of the GRU study's recorded results.
const (
	GRUCharExperiment  = "PTB char (GRU)"
	GRUMNISTExperiment = "sequential MNIST (GRU)"
)

func gruNum(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "diverged"
	}
	return fmt.Sprintf(format, v)
}

// Table is the results table of both tasks: task, model, precision, weights
// and memory of Wx, Wh, the metric in both inference modes, steps and time.
func (r *GRUResult) Table() report.Table {
	t := report.Table{Header: []string{"task", "model", "precision", "GRU weights", "weight memory",
		"metric", "code", "deploy", "steps", "train time", "source"}}
	src := report.Measured(string(r.Config.Budget))
	for _, run := range r.Char {
		name := run.Model.Label
		if run.Diverged != "" {
			name += " (diverged)"
		}
		t.Rows = append(t.Rows, []string{fmt.Sprintf("%s, 1x%d", r.Corpus, r.Config.Char.Hidden), name,
			run.Model.Precision().String(), summary.FormatInt(run.Weights), summary.FormatKB(run.WeightBytes),
			"test BPC", gruNum(run.Test["code"], "%.3f"), gruNum(run.Test["deploy"], "%.3f"),
			fmt.Sprintf("%d (best %d)", run.Steps, run.BestStep), fmt.Sprintf("%.0f s", run.TrainSeconds), src})
	}
	if r.MNIST != nil {
		c := r.MNIST.Config
		for _, run := range r.MNIST.Runs {
			name := run.Model.Label + " GRU"
			if run.Diverged != "" {
				name += " (diverged)"
			}
			t.Rows = append(t.Rows, []string{fmt.Sprintf("sequential MNIST %dx%d (%d steps), 1x%d", c.Side, c.Side, c.Side*c.Side, c.Hidden),
				name, quantizerPrecision(run.Model.Quantizer).String(), summary.FormatInt(run.Weights), formatBytes(run.WeightBytes),
				"test accuracy %", gruNum(100*run.TestCode, "%.2f"), gruNum(100*run.TestDeploy, "%.2f"),
				fmt.Sprint(c.Steps), fmt.Sprintf("%.0f s", run.Total.Seconds()), src})
		}
	}
	return t
}

// Results lists the measured figures for report.Record.
func (r *GRUResult) Results() []report.Result {
	src := report.Measured(string(r.Config.Budget))
	var out []report.Result
	for _, run := range r.Char {
		name := fmt.Sprintf("%s 1x%d", run.Model.Label, r.Config.Char.Hidden)
		for _, mode := range []string{"code", "deploy"} {
			out = append(out,
				report.Result{Experiment: GRUCharExperiment, Model: name, Metric: "valid BPC (" + mode + ")", Value: run.Valid[mode], Source: src},
				report.Result{Experiment: GRUCharExperiment, Model: name, Metric: "test BPC (" + mode + ")", Value: run.Test[mode], Source: src})
		}
		out = append(out,
			report.Result{Experiment: GRUCharExperiment, Model: name, Metric: "GRU weight memory (KB)", Value: summary.KB(run.WeightBytes), Source: src},
			report.Result{Experiment: GRUCharExperiment, Model: name, Metric: "test BPC, packed engine (first test batch)", Value: run.PackedBPC, Source: src},
			report.Result{Experiment: GRUCharExperiment, Model: name, Metric: "test BPC, GoMLX deploy (first test batch)", Value: run.DeployBPC, Source: src})
	}
	if r.MNIST != nil {
		c := r.MNIST.Config
		for _, run := range r.MNIST.Runs {
			name := fmt.Sprintf("%s GRU 1x%d, %dx%d pixels", run.Model.Label, c.Hidden, c.Side, c.Side)
			out = append(out,
				report.Result{Experiment: GRUMNISTExperiment, Model: name, Metric: "test accuracy % (deploy)", Value: 100 * run.TestDeploy, Source: src},
				report.Result{Experiment: GRUMNISTExperiment, Model: name, Metric: "test accuracy % (code)", Value: 100 * run.TestCode, Source: src},
				report.Result{Experiment: GRUMNISTExperiment, Model: name, Metric: "GRU weight memory (KB)", Value: summary.KB(run.WeightBytes), Source: src})
		}
	}
	return out
}

// CharCurvesFigure plots the validation BPC (code mode) of every char-LM GRU
// against the characters trained on.
func (r *GRUResult) CharCurvesFigure() ([]byte, error) {
	var series []plots.Series
	for _, run := range r.Char {
		var x, y []float64
		for _, p := range run.History.Valid() {
			if math.IsNaN(p.Valid) || math.IsInf(p.Valid, 0) {
				continue
			}
			x = append(x, float64(p.Examples))
			y = append(y, p.Valid)
		}
		if len(x) > 0 {
			series = append(series, plots.Series{Name: run.Model.Label, X: x, Y: y})
		}
	}
	return plots.Lines(plots.Options{
		Title:  fmt.Sprintf("GRU 1x%d on %s (budget %s): validation BPC", r.Config.Char.Hidden, r.Corpus, r.Config.Budget),
		XLabel: "training characters", YLabel: "validation bits per character (code mode)",
	}, series...)
}

// MNISTCurvesFigure plots the validation accuracy (deploy mode) of the
// sequential-MNIST GRUs against training steps.
func (r *GRUResult) MNISTCurvesFigure() ([]byte, error) {
	if r.MNIST == nil {
		return nil, fmt.Errorf("experiments: GRU: no sequential-MNIST part")
	}
	var series []plots.Series
	last := 0.0
	for _, run := range r.MNIST.Runs {
		if len(run.CurveSteps) == 0 {
			continue
		}
		y := make([]float64, len(run.CurveAcc))
		for i, a := range run.CurveAcc {
			y[i] = 100 * a
		}
		series = append(series, plots.Series{Name: run.Model.Label + " GRU", X: run.CurveSteps, Y: y})
		last = max(last, run.CurveSteps[len(run.CurveSteps)-1])
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("experiments: GRU: no sequential-MNIST accuracy curve")
	}
	series = append(series, plots.Series{Name: "chance (10 %)", X: []float64{0, last}, Y: []float64{10, 10}, Dashed: true})
	c := r.MNIST.Config
	return plots.Lines(plots.Options{
		Title: fmt.Sprintf("GRU 1x%d on sequential MNIST %dx%d (%d steps), budget %s\nvalidation accuracy (deploy mode)",
			c.Hidden, c.Side, c.Side, c.Side*c.Side, r.Config.Budget),
		XLabel: "training step", YLabel: "validation accuracy (%)"}, series...)
}

// Verdict compares the binary and ternary GRUs with the full-precision GRU on
// each task, in both inference modes, as measured: for BPC the relative gap
// (the LSTM's targets: ternary within 3 %, binary within 6 %), for accuracy
// the gap in points (the sequential-MNIST target: within 3 points).
func (r *GRUResult) Verdict() []string {
	var out []string
	if fp := r.CharRun("bn-fp"); fp != nil {
		for _, run := range r.Char {
			if run == fp {
				continue
			}
			for _, mode := range []string{"deploy", "code"} {
				got, ref := run.Test[mode], fp.Test[mode]
				target := targetBinaryPct
				if run.Model.Quantizer == "ternary" {
					target = targetTernaryPct
				}
				judge := fmt.Sprintf("within the %g %% target", target)
				if !(100*(got/ref-1) <= target) {
					judge = fmt.Sprintf("MISSES the %g %% target", target)
				}
				out = append(out, fmt.Sprintf("PTB char, %s (%s): test BPC %s vs full precision %s (%+.3f bits, %+.1f %%): %s",
					run.Model.Label, mode, gruNum(got, "%.3f"), gruNum(ref, "%.3f"), got-ref, 100*(got/ref-1), judge))
			}
		}
	}
	if r.MNIST != nil {
		for _, line := range r.MNIST.Verdict() {
			out = append(out, "sequential MNIST, GRU: "+line)
		}
	}
	return out
}

package experiments

// The QA experiment's verdicts, tables, recorded results and figure.

import (
	"fmt"

	"github.com/rbt-project/rbt/rbt/plots"
	"github.com/rbt-project/rbt/rbt/report"
	"github.com/rbt-project/rbt/rbt/summary"
)

// Verdict compares, as measured, every model's test accuracy with chance
// (one over the mean number of candidates) and the binary and ternary
// readers with the full-precision one (the paper: within a few points).
func (r *QAResult) Verdict() []string {
	var out []string
	chance := 0.0
	if r.MeanCandidates > 0 {
		chance = 1 / r.MeanCandidates
	}
	var fp *QARun
	for _, run := range r.Runs {
		if run.Model.Quantizer == "fp" {
			fp = run
		}
	}
	for _, run := range r.Runs {
		line := fmt.Sprintf("%s: test accuracy (deploy) %.1f%% vs chance %.1f%%", run.Model.Label, 100*run.TestDeploy, 100*chance)
		if run.TestDeploy < chance+0.05 {
			line += ": within 5 points of chance, the reader has not learned the task"
		}
		if fp != nil && run != fp {
			line += fmt.Sprintf("; %+.1f points from full precision", 100*(run.TestDeploy-fp.TestDeploy))
		}
		out = append(out, line)
	}
	return out
}

// Describe states the data and settings in one paragraph.
func (r *QAResult) Describe() string {
	c := r.Config
	return fmt.Sprintf("Data: %s. %d/%d/%d questions, vocabulary %d (550 entity ids first), %.1f candidates per test question on average "+
		"(chance about %.1f %%). Attentive Reader: embedding %d, biLSTMs %d units per direction (question and document), attention MLP %d, "+
		"batch %d, %d steps per model, Adam %g -> %g.",
		r.Data, r.Train, r.Valid, r.Test, r.Vocab, r.MeanCandidates, 100/r.MeanCandidates, c.Embedding, c.Hidden, c.Attention,
		c.Batch, c.Steps, c.LRStart, c.LRFinal)
}

// Table is the results table: model, weight memory of the four LSTMs,
// accuracy (validation deploy, test deploy and code), timings.
func (r *QAResult) Table() report.Table {
	b := r.Config.Budget
	data := "CNN"
	if r.Synthetic {
		data = "generated stand-in"
	}
	t := report.Table{Header: []string{"model", "data", "LSTM weights", "weight memory", "valid acc. deploy", "test acc. deploy", "test acc. code",
		"first step (build+compile)", "step", "source"}}
	for _, run := range r.Runs {
		t.Rows = append(t.Rows, []string{run.Model.Label, data, summary.FormatInt(run.Weights),
			fmt.Sprintf("%s (fp32: %s)", formatBytes(run.WeightBytes), formatBytes(run.FP32Bytes)),
			accuracyCell(run.ValidDeploy), accuracyCell(run.TestDeploy), accuracyCell(run.TestCode),
			fmt.Sprintf("%.1f s", run.FirstStep.Seconds()), fmt.Sprintf("%.0f ms", float64(run.Step.Microseconds())/1000),
			report.Measured(string(b))})
	}
	return t
}

// Results lists the measured accuracies (percent) and weight memories (KB).
func (r *QAResult) Results() []report.Result {
	b := r.Config.Budget
	exp := "CNN QA (Attentive Reader)"
	if r.Synthetic {
		exp = "QA, generated stand-in for CNN (Attentive Reader)"
	}
	src := report.Measured(string(b))
	var out []report.Result
	for _, run := range r.Runs {
		out = append(out,
			report.Result{Experiment: exp, Model: run.Model.Label, Metric: "test accuracy % (deploy)", Value: 100 * run.TestDeploy, Source: src},
			report.Result{Experiment: exp, Model: run.Model.Label, Metric: "test accuracy % (code)", Value: 100 * run.TestCode, Source: src},
			report.Result{Experiment: exp, Model: run.Model.Label, Metric: "LSTM weight memory KB", Value: summary.KB(run.WeightBytes), Source: src},
		)
	}
	return out
}

// CurveFigure plots the validation accuracy (deploy) against training steps,
// with chance (one over the mean number of candidates) for reference.
func (r *QAResult) CurveFigure() ([]byte, error) {
	var series []plots.Series
	lastX := 1.0
	for _, run := range r.Runs {
		if len(run.CurveSteps) == 0 {
			continue
		}
		y := make([]float64, len(run.CurveAcc))
		for i, a := range run.CurveAcc {
			y[i] = 100 * a
		}
		series = append(series, plots.Series{Name: run.Model.Label, X: run.CurveSteps, Y: y})
		lastX = max(lastX, run.CurveSteps[len(run.CurveSteps)-1])
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("qa: no accuracy curve")
	}
	chance := 100 / r.MeanCandidates
	series = append(series, plots.Series{Name: fmt.Sprintf("chance (~%.0f %%)", chance), X: []float64{0, lastX}, Y: []float64{chance, chance}, Dashed: true})
	data := "CNN"
	if r.Synthetic {
		data = "generated stand-in (not CNN)"
	}
	return plots.Lines(plots.Options{Title: "Attentive Reader, " + data + ": validation accuracy (deploy)",
		XLabel: "training step", YLabel: "validation accuracy (%)"}, series...)
}

package experiments

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/plots"
	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/report"
	"github.com/rbt-project/rbt/rbt/summary"
)

// CurveFigure plots the validation accuracy (deploy mode, percent) against
// training steps of every run of one variant (permuted or not).
func (r *SeqMNISTResult) CurveFigure(permuted bool) ([]byte, error) {
	var series []plots.Series
	for _, run := range r.Runs {
		if run.Permuted != permuted || len(run.CurveSteps) == 0 {
			continue
		}
		y := make([]float64, len(run.CurveAcc))
		for i, a := range run.CurveAcc {
			y[i] = 100 * a
		}
		series = append(series, plots.Series{Name: run.Model.Label, X: run.CurveSteps, Y: y})
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("seqmnist: no accuracy curve for permuted=%v", permuted)
	}
	last := series[0].X[len(series[0].X)-1]
	series = append(series, plots.Series{Name: "chance (10 %)", X: []float64{0, last}, Y: []float64{10, 10}, Dashed: true})
	order := "raster order"
	if permuted {
		order = "permuted"
	}
	return plots.Lines(plots.Options{
		Title:  fmt.Sprintf("sequential MNIST %dx%d, %s: validation accuracy (deploy mode)", r.Config.Side, r.Config.Side, order),
		XLabel: "training step", YLabel: "validation accuracy (%)"}, series...)
}

// DigitsFigure draws the test digits of r.Digits as gray images with their
// true labels and the packed model's predictions.
func (r *SeqMNISTResult) DigitsFigure() ([]byte, error) {
	k := len(r.Digits)
	if k == 0 {
		return nil, fmt.Errorf("seqmnist: no digits to draw (no model was exported)")
	}
	side := r.Config.Side
	cols := min(k, 4)
	rows := (k + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	for i, px := range r.Digits {
		// Nearest-neighbour upscaling keeps the pixels crisp when drawn.
		const up = 8
		img := image.NewGray(image.Rect(0, 0, side*up, side*up))
		for y := range side * up {
			for x := range side * up {
				img.SetGray(x, y, color.Gray{Y: uint8(255 - 255*clamp01(px[(y/up)*side+x/up]))})
			}
		}
		p := plot.New()
		mark := "ok"
		if r.DigitPredicted[i] != r.DigitLabels[i] {
			mark = "WRONG"
		}
		p.Title.Text = fmt.Sprintf("predicted %d, true %d (%s)", r.DigitPredicted[i], r.DigitLabels[i], mark)
		p.Title.TextStyle.Font.Size = vg.Points(9)
		p.Add(plotter.NewImage(img, 0, 0, float64(side), float64(side)))
		p.HideAxes()
		grid[i/cols][i%cols] = p
	}
	w, h := vg.Length(cols)*1.8*vg.Inch, vg.Length(rows)*2*vg.Inch+0.3*vg.Inch
	return plots.Grid(fmt.Sprintf("test digits (%dx%d), predictions of %s", side, side, r.DigitModel), grid, w, h)
}

func clamp01(v float32) float32 {
	return max(0, min(1, v))
}

// predictDigits classifies the first k test images with the packed export of
// the chosen model (raster order), through the packed engine.
func (r *SeqMNISTResult) predictDigits(test datasets.MNISTSplit, k int) error {
	var pick *SeqMNISTRun
	for _, run := range r.Runs {
		if run.Packed == nil || run.Permuted {
			continue
		}
		if pick == nil || (run.Model.Quantizer == "binary" && run.Model.Normalization != recurrent.None && pick.Model.Quantizer != "binary") {
			pick = run
		}
	}
	if pick == nil {
		return nil
	}
	eng, err := packed.NewEngine(pick.Packed)
	if err != nil {
		return fmt.Errorf("seqmnist: packed engine: %w", err)
	}
	d := prepareSplit(test, k, r.Config.Side, nil)
	steps := d.steps
	for i := range d.n {
		x := d.pix[i*steps : (i+1)*steps]
		logits, err := eng.RunDense(x)
		if err != nil {
			return fmt.Errorf("seqmnist: packed engine: %w", err)
		}
		r.Digits = append(r.Digits, x)
		r.DigitLabels = append(r.DigitLabels, int(d.labels[i]))
		r.DigitPredicted = append(r.DigitPredicted, packed.Argmax(logits[(steps-1)*eng.Classes():]))
	}
	r.DigitModel = pick.Label() + " (packed deploy export)"
	return nil
}

// Results lists the measured figures (test accuracy in percent, both modes,
// and the weight memory in KB) for report.Record.
func (r *SeqMNISTResult) Results() []report.Result {
	b := r.Config.Budget
	src := report.Measured(string(b))
	exp := fmt.Sprintf("sequential MNIST %dx%d (%s %d)", r.Config.Side, r.Config.Side, strings.ToUpper(cellName(r.Config.Cell)), r.Config.Hidden)
	var out []report.Result
	for _, run := range r.Runs {
		out = append(out,
			report.Result{Experiment: exp, Model: run.Label(), Metric: "test accuracy % (deploy)", Value: 100 * run.TestDeploy, Source: src},
			report.Result{Experiment: exp, Model: run.Label(), Metric: "test accuracy % (code)", Value: 100 * run.TestCode, Source: src},
			report.Result{Experiment: exp, Model: run.Label(), Metric: "weight memory KB", Value: summary.KB(run.WeightBytes), Source: src},
		)
	}
	return out
}

// Table is the results table: model, variant, precision, weight memory,
// test accuracy in both inference modes, timings.
func (r *SeqMNISTResult) Table() report.Table {
	b := r.Config.Budget
	t := report.Table{Header: []string{"model", "pixels", "weights (Wx, Wh)", "weight memory", "test acc. deploy", "test acc. code",
		"first step (build+compile)", "step", "source"}}
	for _, run := range r.Runs {
		order := "raster"
		if run.Permuted {
			order = "permuted"
		}
		t.Rows = append(t.Rows, []string{run.Model.Label, order, summary.FormatInt(run.Weights),
			fmt.Sprintf("%s (fp32: %s)", formatBytes(run.WeightBytes), formatBytes(run.FP32Bytes)),
			accuracyCell(run.TestDeploy), accuracyCell(run.TestCode),
			fmt.Sprintf("%.1f s", run.FirstStep.Seconds()), fmt.Sprintf("%.0f ms", float64(run.Step.Microseconds())/1000),
			report.Measured(string(b))})
	}
	return t
}

// Verdict compares, for each variant, the BN binary and BN ternary test
// accuracies (deploy and code mode) with full precision (the project's target:
// within targetMNISTPoints = 3 points) and the model without normalization (expected clearly
// worse), as measured. Each line states the numbers it is based on.
func (r *SeqMNISTResult) Verdict() []string {
	var out []string
	for _, permuted := range r.Config.Permuted {
		var fp *SeqMNISTRun
		for _, run := range r.Runs {
			if run.Permuted == permuted && run.Model.Quantizer == "fp" && run.Model.Normalization != recurrent.None {
				fp = run
			}
		}
		if fp == nil {
			continue
		}
		for _, run := range r.Runs {
			if run.Permuted != permuted || run == fp {
				continue
			}
			for _, mode := range []struct {
				name     string
				got, ref float64
			}{{"deploy", run.TestDeploy, fp.TestDeploy}, {"code", run.TestCode, fp.TestCode}} {
				gap := 100 * (mode.ref - mode.got)
				var judge string
				switch {
				case math.IsNaN(mode.got):
					judge = "diverged"
				case run.Model.Normalization == recurrent.None && gap > targetMNISTPoints:
					judge = "clearly worse than full precision, as the paper expects without BN"
				case run.Model.Normalization == recurrent.None:
					judge = "NOT clearly worse than full precision (the paper expects a failure without BN)"
				case gap <= targetMNISTPoints:
					judge = fmt.Sprintf("within %g points of full precision", targetMNISTPoints)
				default:
					judge = fmt.Sprintf("MORE than %g points below full precision", targetMNISTPoints)
				}
				out = append(out, fmt.Sprintf("%s (%s): %.2f %% vs full precision %.2f %% (%+.2f points): %s",
					run.Label(), mode.name, 100*mode.got, 100*mode.ref, -gap, judge))
			}
		}
	}
	return out
}

package experiments

import (
	"fmt"
	"image"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/rbt-project/rbt/rbt/plots"
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

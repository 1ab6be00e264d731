// Package plots draws the project's figures with gonum.org/v1/plot and returns
// them as PNG bytes, ready for gonbui.DisplayPNG in a notebook or for a file.
//
// Three shapes cover the experiments: Lines (learning curves, sweeps),
// Scatter (trade-offs such as accuracy against memory, with a label per point)
// and Histograms (distributions, e.g. gate values, as small multiples).
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one named curve or point set.
type Series struct {
	Name   string
	X, Y   []float64
	Dashed bool // a reference line rather than a measurement
}

// Options are the labels and axes of a figure.
type Options struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Width, Height         vg.Length // default 6 x 4 inches
}

func (o Options) size() (vg.Length, vg.Length) {
	w, h := o.Width, o.Height
	if w == 0 {
		w = 6 * vg.Inch
	}
	if h == 0 {
		h = 4 * vg.Inch
	}
	return w, h
}

// dark2 is the qualitative palette of Color (nil if brewer lacks it).
var dark2 = func() []color.Color {
	p, err := brewer.GetPalette(brewer.TypeQualitative, "Dark2", 8)
	if err != nil {
		return nil
	}
	return p.Colors()
}()

// Color returns the i-th color of a qualitative palette (cycling after 8).
func Color(i int) color.Color {
	if len(dark2) == 0 {
		return color.Black
	}
	return dark2[i%len(dark2)]
}

func newPlot(o Options) *plot.Plot {
	p := plot.New()
	p.Title.Text = o.Title
	p.X.Label.Text = o.XLabel
	p.Y.Label.Text = o.YLabel
	p.X.Tick.Marker, p.Y.Tick.Marker = DistinctTicks{plot.DefaultTicks{}}, DistinctTicks{plot.DefaultTicks{}}
	if o.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = DistinctTicks{LogTicks{}}
	}
	if o.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = DistinctTicks{LogTicks{}}
	}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

func xys(s Series, logX, logY bool) (plotter.XYs, error) {
	if len(s.X) != len(s.Y) {
		return nil, fmt.Errorf("plots: series %q has %d x values and %d y values", s.Name, len(s.X), len(s.Y))
	}
	pts := make(plotter.XYs, 0, len(s.X))
	for i := range s.X {
		x, y := s.X[i], s.Y[i]
		// Non-finite points (a diverged run) and non-positive points on a log axis cannot be drawn:
		// they are left out rather than breaking the figure.
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) || (logX && x <= 0) || (logY && y <= 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: x, Y: y})
	}
	return pts, nil
}

// Lines draws each series as a line with point markers.
func Lines(o Options, series ...Series) ([]byte, error) {
	p := newPlot(o)
	for i, s := range series {
		pts, err := xys(s, o.LogX, o.LogY)
		if err != nil {
			return nil, err
		}
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, sc.Color = Color(i), Color(i)
		l.Width = vg.Points(1.5)
		if s.Dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			p.Add(l)
		} else {
			sc.Shape = draw.CircleGlyph{}
			sc.Radius = vg.Points(1.5)
			p.Add(l, sc)
		}
		p.Legend.Add(s.Name, l)
	}
	Headroom(p, len(series))
	return PNG(p, o)
}

// Headroom extends the y axis upwards so that a legend at the top (entries
// lines) does not cover the data: one legend line is about 6% of the height.
// On a log axis the extension is in decades.
func Headroom(p *plot.Plot, entries int) {
	if entries == 0 || p.Y.Max <= p.Y.Min {
		return
	}
	if _, log := p.Y.Scale.(plot.LogScale); log {
		if p.Y.Min > 0 {
			p.Y.Max *= math.Pow(10, math.Max(math.Log10(p.Y.Max/p.Y.Min), 0.3)*0.08*float64(entries))
		}
		return
	}
	p.Y.Max += (p.Y.Max - p.Y.Min) * 0.07 * float64(entries)
}

// pad widens an axis by fractions of its range (of its decades on a log axis),
// so that points do not sit on the frame.
func pad(a *plot.Axis, log bool, low, high float64) {
	if a.Max < a.Min {
		return
	}
	if log {
		if a.Min <= 0 {
			return
		}
		decades := math.Max(math.Log10(a.Max/a.Min), 0.3)
		a.Min /= math.Pow(10, low*decades)
		a.Max *= math.Pow(10, high*decades)
		return
	}
	span := a.Max - a.Min
	if span == 0 {
		span = math.Max(math.Abs(a.Max), 1) * 0.1
	}
	a.Min -= low * span
	a.Max += high * span
}

// Labeled is a point of a scatter plot with its label.
type Labeled struct {
	Label string
	X, Y  float64
	Group int // color index, e.g. one per method family
}

// Scatter draws labeled points, e.g. test BPC against weight memory. Labels
// that would overlap are moved apart vertically (LabelOffsets).
func Scatter(o Options, pts []Labeled) ([]byte, error) {
	p := newPlot(o)
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, pt := range pts {
		xs[i], ys[i] = pt.X, pt.Y
	}
	w, h := o.size()
	offsets := LabelOffsets(xs, ys, o.LogX, o.LogY, w, h)
	for i, pt := range pts {
		xy, _ := xys(Series{X: []float64{pt.X}, Y: []float64{pt.Y}}, o.LogX, o.LogY)
		if len(xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return nil, err
		}
		sc.Color = Color(pt.Group)
		sc.Shape = draw.CircleGlyph{}
		sc.Radius = vg.Points(4)
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: []string{"  " + pt.Label}})
		if err != nil {
			return nil, err
		}
		labels.Offset.Y = offsets[i]
		p.Add(sc, labels)
	}
	pad(&p.X, o.LogX, 0.05, 0.25) // room on the right for the labels
	pad(&p.Y, o.LogY, 0.08, 0.08)
	return PNG(p, o)
}

// Histogram is one panel of Histograms: several overlaid distributions.
type Histogram struct {
	Title  string
	Series []Series // only Y is used: the samples
	Bins   int      // default 40
}

// Histograms draws panels side by side (cols per row), each overlaying the
// normalized histograms (densities) of its series.
func Histograms(o Options, cols int, panels []Histogram) ([]byte, error) {
	if cols <= 0 {
		cols = len(panels)
	}
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for i, panel := range panels {
		p := newPlot(Options{Title: panel.Title, XLabel: o.XLabel, YLabel: o.YLabel})
		bins := panel.Bins
		if bins == 0 {
			bins = 40
		}
		for j, s := range panel.Series {
			vals := make(plotter.Values, 0, len(s.Y))
			for _, v := range s.Y {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					vals = append(vals, v)
				}
			}
			if len(vals) == 0 {
				continue
			}
			h := densityHist(vals, bins)
			c := Color(j)
			h.LineStyle.Color = c
			r, g, b, _ := c.RGBA()
			h.FillColor = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 70}
			p.Add(h)
			if i == 0 {
				p.Legend.Add(s.Name, h)
			}
		}
		grid[i/cols][i%cols] = p
	}
	w, h := o.Width, o.Height
	if w == 0 {
		w = vg.Length(cols) * 3 * vg.Inch
	}
	if h == 0 {
		h = vg.Length(rows) * 2.6 * vg.Inch
	}
	return Grid(o.Title, grid, w, h)
}

// Grid draws plots side by side (nil cells stay empty) on a w x h canvas,
// with an optional title above them, as one PNG.
func Grid(title string, grid [][]*plot.Plot, w, h vg.Length) ([]byte, error) {
	if len(grid) == 0 {
		return nil, fmt.Errorf("plots: Grid of no rows")
	}
	img := vgimg.New(w, h)
	dc := draw.New(img)
	if title != "" {
		style := plot.New().Title.TextStyle
		style.XAlign, style.YAlign = draw.XCenter, draw.YCenter
		dc.FillText(style, vg.Point{X: w / 2, Y: h - 0.17*vg.Inch}, title)
		dc = draw.Crop(dc, 0, 0, 0, -0.35*vg.Inch)
	}
	tiles := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Points(2), PadBottom: vg.Points(2), PadLeft: vg.Points(2), PadRight: vg.Points(2)}
	canvases := plot.Align(grid, tiles, dc)
	for r := range grid {
		for c := range grid[r] {
			if grid[r][c] != nil {
				grid[r][c].Draw(canvases[r][c])
			}
		}
	}
	return encodePNG(img)
}

// densityHist bins samples into n equal bins normalized to a density (area 1).
// It bins by itself: gonum's NewHist panics on values a rounding error below
// the maximum (a saturated sigmoid gate, say).
func densityHist(vals []float64, n int) *plotter.Histogram {
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	w := (hi - lo) / float64(n)
	bins := make([]plotter.HistogramBin, n)
	for i := range bins {
		bins[i].Min, bins[i].Max = lo+float64(i)*w, lo+float64(i+1)*w
	}
	for _, v := range vals {
		i := min(max(int((v-lo)/w), 0), n-1)
		bins[i].Weight++
	}
	for i := range bins {
		bins[i].Weight /= float64(len(vals)) * w
	}
	return &plotter.Histogram{Bins: bins, Width: w, LineStyle: plotter.DefaultLineStyle}
}

// PNG renders a plot at the options' size.
func PNG(p *plot.Plot, o Options) ([]byte, error) {
	w, h := o.size()
	img := vgimg.New(w, h)
	p.Draw(draw.New(img))
	return encodePNG(img)
}

func encodePNG(img *vgimg.Canvas) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

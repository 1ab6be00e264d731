// Package hwplot draws the figures of the hardware study (hwsim.Study) with
// gonum/plot and the accelerator's architecture diagram as SVG text, so that
// a notebook only has to call Run and display what it returns.
//
//	res, err := hwplot.Run(hwsim.StudyOptions{})  // tables + figures
//	for _, f := range res.Figures { display PNG f.PNG }
//	display SVG res.DiagramSVG; show res.Study.Ratios, res.Study.EqualArea ...
package hwplot

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/rbt-project/rbt/hwsim"
	"github.com/rbt-project/rbt/rbt/plots"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Figure is one rendered plot.
type Figure struct {
	Name  string // file-name stem, e.g. "pareto_area_throughput"
	Title string
	PNG   []byte
}

// Result is the whole study: the tables (hwsim.Study), the PNG figures and
// the architecture diagram of the first (baseline) and binary designs.
type Result struct {
	Study      *hwsim.Study
	Figures    []Figure
	DiagramSVG string
}

// Run computes the study (hwsim.RunStudy) and draws every figure: the one
// call the hardware notebook needs.
func Run(opt hwsim.StudyOptions) (*Result, error) {
	s, err := hwsim.RunStudy(opt)
	if err != nil {
		return nil, err
	}
	res := &Result{Study: s}
	type mk struct {
		name, title string
		f           func() (*plot.Plot, error)
	}
	for _, m := range []mk{
		{"pareto_area_throughput", "Throughput vs area (units swept)", func() (*plot.Plot, error) {
			return sweepPlot(s.Sweeps, "units", "area (mm^2)", "steps/s", func(p hwsim.SweepPoint) (float64, float64) { return p.AreaMM2, p.StepsPerS }, true)
		}},
		{"pareto_energy_throughput", "Energy per step vs throughput (units swept)", func() (*plot.Plot, error) {
			return sweepPlot(s.Sweeps, "units", "steps/s", "energy per step (nJ)", func(p hwsim.SweepPoint) (float64, float64) { return p.StepsPerS, p.EnergyNJ }, true)
		}},
		{"sweep_hidden_energy", "Energy per step vs hidden size (fixed designs: SRAM may overflow)", func() (*plot.Plot, error) {
			return sweepPlot(s.Sweeps, "hidden", "hidden units n", "energy per step (nJ)", func(p hwsim.SweepPoint) (float64, float64) { return p.X, p.EnergyNJ }, true)
		}},
		{"sweep_hidden_throughput", "Throughput vs hidden size", func() (*plot.Plot, error) {
			return sweepPlot(s.Sweeps, "hidden", "hidden units n", "steps/s", func(p hwsim.SweepPoint) (float64, float64) { return p.X, p.StepsPerS }, true)
		}},
		{"sweep_actbits_energy", "Energy per step vs activation width", func() (*plot.Plot, error) {
			return sweepPlot(s.Sweeps, "act_bits", "activation bits", "energy per step (nJ)", func(p hwsim.SweepPoint) (float64, float64) { return p.X, p.EnergyNJ }, false)
		}},
		{"energy_breakdown", "Energy per step by part", func() (*plot.Plot, error) { return energyBars(s.Reports) }},
		{"area_breakdown", "Area by part", func() (*plot.Plot, error) { return areaBars(s.Reports) }},
		{"accuracy_energy", "BPC vs energy per character", func() (*plot.Plot, error) { return accuracyPlot(s.Accuracy) }},
	} {
		if m.name == "accuracy_energy" && len(s.Accuracy) == 0 {
			continue
		}
		p, err := m.f()
		if err != nil {
			return nil, fmt.Errorf("hwplot: %s: %w", m.name, err)
		}
		p.Title.Text = m.title
		png, err := PNG(p, 16*vg.Centimeter, 11*vg.Centimeter)
		if err != nil {
			return nil, fmt.Errorf("hwplot: %s: %w", m.name, err)
		}
		res.Figures = append(res.Figures, Figure{m.name, m.title, png})
	}
	var designs []hwsim.Config
	for _, d := range s.Designs {
		if d.Weights == hwsim.Binary || len(designs) == 0 {
			designs = append(designs, d)
		}
	}
	res.DiagramSVG = ArchitectureSVG(designs...)
	return res, nil
}

// PNG renders p.
func PNG(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// sweepPlot draws one line per design for the points of one sweep.
func sweepPlot(pts []hwsim.SweepPoint, sweep, xl, yl string, xy func(hwsim.SweepPoint) (float64, float64), logXY bool) (*plot.Plot, error) {
	p := plot.New()
	p.X.Label.Text, p.Y.Label.Text = xl, yl
	if logXY {
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = plots.DistinctTicks{Ticker: plots.LogTicks{}}, plots.DistinctTicks{Ticker: plots.LogTicks{}}
	}
	byDesign := map[string]plotter.XYs{}
	var order []string
	for _, q := range pts {
		if q.Sweep != sweep {
			continue
		}
		x, y := xy(q)
		if logXY && (x <= 0 || y <= 0 || math.IsNaN(x) || math.IsNaN(y)) {
			continue
		}
		if _, ok := byDesign[q.Design]; !ok {
			order = append(order, q.Design)
		}
		byDesign[q.Design] = append(byDesign[q.Design], plotter.XY{X: x, Y: y})
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("no points for sweep %q", sweep)
	}
	var args []any
	for _, d := range order {
		xys := byDesign[d]
		sort.Slice(xys, func(i, j int) bool { return xys[i].X < xys[j].X })
		args = append(args, d, xys)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, err
	}
	p.Legend.Top = true
	plots.Headroom(p, len(order)) // the legend above the lines, not on them
	p.Add(plotter.NewGrid())
	return p, nil
}

// stacked draws one stacked bar per design from parts[k][design].
func stacked(designs []string, names []string, parts [][]float64, yl string) (*plot.Plot, error) {
	p := plot.New()
	p.Y.Label.Text = yl
	w := vg.Points(22)
	var prev *plotter.BarChart
	for k, name := range names {
		b, err := plotter.NewBarChart(plotter.Values(parts[k]), w)
		if err != nil {
			return nil, err
		}
		b.Color = plotutil.Color(k)
		b.LineStyle.Width = 0
		if prev != nil {
			b.StackOn(prev)
		}
		p.Add(b)
		p.Legend.Add(name, b)
		prev = b
	}
	p.NominalX(designs...)
	p.Legend.Top = true
	return p, nil
}

func energyBars(rs []hwsim.Report) (*plot.Plot, error) {
	names := []string{"array", "element-wise", "nonlin", "weight SRAM", "act buffer", "DRAM", "param SRAM"}
	parts := make([][]float64, len(names))
	var ds []string
	for _, r := range rs {
		ds = append(ds, r.Design)
		for k, v := range []float64{r.EArrayNJ, r.EElementwiseNJ, r.ENonlinNJ, r.EWeightSRAMNJ, r.EActBufferNJ, r.EDRAMNJ, r.EParamSRAMNJ} {
			parts[k] = append(parts[k], v)
		}
	}
	return stacked(ds, names, parts, "energy per step (nJ)")
}

func areaBars(rs []hwsim.Report) (*plot.Plot, error) {
	names := []string{"array", "element-wise", "nonlin", "weight SRAM", "act buffer", "param SRAM"}
	parts := make([][]float64, len(names))
	var ds []string
	for _, r := range rs {
		ds = append(ds, r.Design)
		for k, v := range []float64{r.AArrayMM2, r.AElementwiseMM2, r.ANonlinMM2, r.AWeightSRAMMM2, r.AActBufferMM2, r.AParamSRAMMM2} {
			parts[k] = append(parts[k], v)
		}
	}
	return stacked(ds, names, parts, "area (mm^2)")
}

func accuracyPlot(acc []hwsim.AccuracyPoint) (*plot.Plot, error) {
	p := plot.New()
	p.X.Label.Text, p.Y.Label.Text = "energy per character (nJ)", "BPC (hardware arithmetic)"
	byModel := map[string]plotter.XYs{}
	var order []string
	for _, a := range acc {
		k := a.Model + " on " + a.Design
		if _, ok := byModel[k]; !ok {
			order = append(order, k)
		}
		byModel[k] = append(byModel[k], plotter.XY{X: a.EnergyNJ, Y: a.BPC})
	}
	var args []any
	for _, k := range order {
		args = append(args, k, byModel[k])
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, err
	}
	xs, ys := make([]float64, len(acc)), make([]float64, len(acc))
	for i, a := range acc {
		xs[i], ys[i] = a.EnergyNJ, a.BPC
	}
	offsets := plots.LabelOffsets(xs, ys, false, false, 6*vg.Inch, 4*vg.Inch)
	for i, a := range acc {
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: []plotter.XY{{X: a.EnergyNJ, Y: a.BPC}}, Labels: []string{fmt.Sprintf("%d b", a.ActBits)}})
		if err == nil {
			l.Offset.Y = offsets[i]
			p.Add(l)
		}
	}
	p.Y.Tick.Marker = plots.DistinctTicks{Ticker: plot.DefaultTicks{}}
	p.Legend.Top = true
	plots.Headroom(p, len(order)) // the legend above the curves, not on them
	p.Add(plotter.NewGrid())
	return p, nil
}

// ArchitectureSVG draws the accelerator's block diagram (SVG text) for one
// or more designs side by side: weight SRAM banks feeding P processing units
// of L lanes (multiply-accumulate or add/subtract/skip), the activation
// buffer broadcasting h_{t-1} and x_t, the element-wise unit (fold, LUT/PWL
// sigmoid/tanh, cell update) and the feedback of h_t.
func ArchitectureSVG(designs ...hwsim.Config) string {
	const W, H = 520, 360
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", W*len(designs), H)
	b.WriteString(`<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>` + "\n")
	box := func(x, y, w, h int, fill, text string) {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="%s" stroke="#333"/>`+"\n", x, y, w, h, fill)
		for i, line := range strings.Split(text, "\n") {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", x+w/2, y+18+15*i, escape(line))
		}
	}
	arrow := func(x1, y1, x2, y2 int, label string) {
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333" stroke-width="1.5" marker-end="url(#a)"/>`+"\n", x1, y1, x2, y2)
		if label != "" {
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" fill="#555">%s</text>`+"\n", (x1+x2)/2+4, (y1+y2)/2-3, escape(label))
		}
	}
	for i, c := range designs {
		ox := i * W
		fmt.Fprintf(&b, `<g transform="translate(%d,0)">`+"\n", ox)
		fmt.Fprintf(&b, `<text x="%d" y="20" text-anchor="middle" font-size="14" font-weight="bold">%s</text>`+"\n", W/2, escape(c.Name))
		lane := "multiply-accumulate"
		fill := "#f6d5c0"
		switch c.Weights {
		case hwsim.Binary:
			lane, fill = "add / subtract", "#c9e7c9"
		case hwsim.Ternary:
			lane, fill = "add / subtract / skip 0", "#cfe0f5"
		}
		box(20, 40, 170, 70, "#eeeeee", fmt.Sprintf("weight SRAM\n%d banks x %d KiB\n%d bits/cycle", c.SRAM.Banks, int(c.SRAM.BankKB), c.SRAM.Banks*c.SRAM.BankWidth))
		box(20, 140, 170, 55, "#eeeeee", fmt.Sprintf("activation buffer\nh(t-1), x(t): %d-bit", c.Datapath.ActBits))
		box(240, 40, 260, 155, fill, fmt.Sprintf("processing array\n%d units x %d lanes\nlane: %s\n%d-bit weights, %d-bit acc.\nadder tree per unit\n(output-stationary)", c.Units, c.Lanes, lane, c.WeightBits, c.Datapath.AccBits))
		nl := fmt.Sprintf("%s, %d entries", strings.ToUpper(string(c.Nonlin.Kind)), c.Nonlin.Entries)
		box(240, 230, 260, 95, "#f5ecc4", fmt.Sprintf("element-wise unit (%d lanes)\nfold BN: scale*acc + shift\nsigm/tanh: %s\nc(t), h(t) at %d bits", c.Elementwise.Lanes, nl, c.Datapath.InternalBits))
		box(20, 240, 170, 55, "#eeeeee", "DRAM\n(weights that do not fit)")
		arrow(190, 75, 240, 75, "weights")
		arrow(190, 167, 240, 167, "broadcast")
		arrow(370, 195, 370, 230, "G*n sums")
		arrow(240, 300, 105, 196, "h(t)")
		arrow(105, 240, 105, 112, "")
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

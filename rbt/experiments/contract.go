package experiments

import (
	"fmt"
	"html"
	"strings"

	"github.com/rbt-project/rbt/rbt/report"
)

// Report is the one result contract: what every experiment's result gives,
// under the same names, whatever it measured. A notebook shows it (Show), a
// headless run writes it (Markdown) and the summary collects its Rows
// (Record).
type Report struct {
	Title    string
	Settings string          // every setting the run used, one line per part
	Notes    []string        // caveats on the data (a stand-in, a sample)
	Tables   []NamedTable    // the results tables
	Verdicts []string        // each claim, the measured figures it rests on, and whether they agree
	Figures  []Figure        // the plots
	Rows     []report.Result // machine-readable: every measured figure, for summary.md / .csv
}

// NamedTable is a table with its title.
type NamedTable struct {
	Title string
	report.Table
}

// Figure is one plot: a PNG, or an SVG drawing.
type Figure struct {
	Title string
	PNG   []byte
	SVG   string
}

// Result is implemented by every experiment's result.
type Result interface {
	Report() (*Report, error)
}

// Record sends the rows to the run's results file (report.Record).
func (r *Report) Record() error { return report.Record(r.Rows...) }

// Show displays the report in order — settings, notes, tables, verdicts,
// figures — through a notebook's display functions (GoNB:
// gonbui.DisplayHTML and gonbui.DisplayPNG).
func (r *Report) Show(showHTML func(string), showPNG func([]byte)) {
	var b strings.Builder
	if r.Title != "" {
		fmt.Fprintf(&b, "<h3>%s</h3>", html.EscapeString(r.Title))
	}
	if r.Settings != "" {
		fmt.Fprintf(&b, "<p><b>Settings.</b> %s</p>", strings.ReplaceAll(html.EscapeString(r.Settings), "\n", "<br>"))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "<p><b>Note.</b> %s</p>", html.EscapeString(n))
	}
	for _, t := range r.Tables {
		if t.Title != "" {
			fmt.Fprintf(&b, "<h4>%s</h4>", html.EscapeString(t.Title))
		}
		b.WriteString(t.HTML())
	}
	if len(r.Verdicts) > 0 {
		b.WriteString("<h4>Measured against the claims</h4><ul>")
		for _, v := range r.Verdicts {
			fmt.Fprintf(&b, "<li>%s</li>", html.EscapeString(v))
		}
		b.WriteString("</ul>")
	}
	showHTML(b.String())
	for _, f := range r.Figures {
		if f.Title != "" {
			showHTML("<h4>" + html.EscapeString(f.Title) + "</h4>")
		}
		if f.SVG != "" {
			showHTML(f.SVG)
		}
		if len(f.PNG) > 0 {
			showPNG(f.PNG)
		}
	}
}

// Markdown writes the report as a Markdown document (figures not included).
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", r.Title, r.Settings)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "**Note:** %s\n\n", n)
	}
	for _, t := range r.Tables {
		if t.Title != "" {
			fmt.Fprintf(&b, "## %s\n\n", t.Title)
		}
		b.WriteString(t.Markdown())
		b.WriteString("\n")
	}
	if len(r.Verdicts) > 0 {
		b.WriteString("## Measured against the claims\n\n")
		for _, v := range r.Verdicts {
			fmt.Fprintf(&b, "- %s\n", v)
		}
	}
	return b.String()
}

// rows concatenates a report's row sets.
func rows(sets ...[]report.Result) []report.Result {
	var out []report.Result
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

// figures draws each named figure, stopping at the first error.
func figures(named ...namedFigure) ([]Figure, error) {
	var out []Figure
	for _, n := range named {
		png, err := n.draw()
		if err != nil {
			return nil, fmt.Errorf("experiments: figure %q: %w", n.title, err)
		}
		out = append(out, Figure{Title: n.title, PNG: png})
	}
	return out, nil
}

type namedFigure struct {
	title string
	draw  func() ([]byte, error)
}

// Report implements Result.
func (r *CharLMResult) Report() (*Report, error) {
	named := []namedFigure{{"Learning curves", r.CurvesFigure}}
	if r.hasGap() {
		named = append(named, namedFigure{"Gap to full precision while training", r.GapFigure})
	}
	named = append(named, namedFigure{"Accuracy against weight memory", r.TradeoffFigure},
		namedFigure{"Gate distributions (Figure 1 analogue)", func() ([]byte, error) { png, _, err := r.GatesFigure(8); return png, err }})
	figs, err := figures(named...)
	if err != nil {
		return nil, err
	}
	rep := &Report{Title: "Character-level LM: " + r.Data.Label, Settings: r.Config.String(),
		Tables:   []NamedTable{{"Results", r.Table()}, comparisonTable(string(r.Config.Budget), charLMComparisons(r))},
		Verdicts: r.Claims(), Figures: figs, Rows: rows(r.Results(), comparisonRows(r.Experiment(), charLMComparisons(r)), r.Headlines())}
	if r.Run("bn-binary") != nil {
		lines, err := r.Samples("bn-binary", 3, 200, 0.8)
		if err != nil {
			return nil, err
		}
		t := report.Table{Header: []string{"test-split prime -> text sampled from the BN binary LSTM (packed deploy form: +-1 weights; temperature 0.8)"}}
		for _, l := range lines {
			t.Rows = append(t.Rows, []string{l})
		}
		rep.Tables = append(rep.Tables, NamedTable{"Samples", t})
	}
	if r.Data.Note != "" {
		rep.Notes = append(rep.Notes, r.Data.Note)
	}
	return rep, nil
}

// Report implements Result.
func (r *GRUResult) Report() (*Report, error) {
	named := []namedFigure{{"PTB characters: validation BPC", r.CharCurvesFigure}}
	if r.MNIST != nil {
		named = append(named, namedFigure{"Sequential MNIST: validation accuracy", r.MNISTCurvesFigure})
	}
	figs, err := figures(named...)
	if err != nil {
		return nil, err
	}
	return &Report{Title: "GRU study", Settings: r.Config.String(),
		Tables:   []NamedTable{{"Results", r.Table()}, comparisonTable(string(r.Config.Budget), gruComparisons(r))},
		Verdicts: r.Verdict(), Figures: figs, Rows: rows(r.Results(), r.Headlines())}, nil
}

// Report implements Result.
func (r *WordLMResult) Report() (*Report, error) {
	figs, err := figures(namedFigure{"Learning curves", r.CurvesFigure}, namedFigure{"Perplexity against weight memory", r.MemoryFigure})
	if err != nil {
		return nil, err
	}
	return &Report{Title: "Word-level PTB", Settings: r.Config.String(),
		Tables:   []NamedTable{{"Results", r.Table()}, comparisonTable(string(r.Config.Budget), wordLMComparisons(r))},
		Verdicts: r.Verdict(), Figures: figs, Rows: rows(r.Results(), r.Headlines())}, nil
}

// Report implements Result.
func (r *SeqMNISTResult) Report() (*Report, error) {
	var named []namedFigure
	for _, p := range r.Config.Permuted {
		title := "Validation accuracy, pixels in raster order"
		if p {
			title = "Validation accuracy, pixels in a fixed random order"
		}
		named = append(named, namedFigure{title, func() ([]byte, error) { return r.CurveFigure(p) }})
	}
	named = append(named, namedFigure{"Test digits and the packed model's answers", r.DigitsFigure})
	figs, err := figures(named...)
	if err != nil {
		return nil, err
	}
	return &Report{Title: "Sequential MNIST", Settings: r.Config.Describe(),
		Tables:   []NamedTable{{"Results", r.Table()}, comparisonTable(string(r.Config.Budget), seqMNISTComparisons(r))},
		Verdicts: r.Verdict(), Figures: figs, Rows: rows(r.Results(), comparisonRows("sequential MNIST 28x28", seqMNISTComparisons(r)), r.Headlines())}, nil
}

// Report implements Result.
func (r *QAResult) Report() (*Report, error) {
	figs, err := figures(namedFigure{"Validation accuracy", r.CurveFigure})
	if err != nil {
		return nil, err
	}
	rep := &Report{Title: "Question answering (Attentive Reader)", Settings: r.Describe(),
		Tables:   []NamedTable{{"Results", r.Table()}, comparisonTable(string(r.Config.Budget), qaComparisons(r))},
		Verdicts: r.Verdict(), Figures: figs, Rows: rows(r.Results(), r.Headlines())}
	if r.Synthetic {
		rep.Notes = append(rep.Notes, "the CNN corpus was not used ("+r.Missing+"): the models read the generated stand-in")
	}
	return rep, nil
}

// Report implements Result.
func (r *QuickstartResult) Report() (*Report, error) {
	figs, err := figures(namedFigure{"Training loss", r.LossFigure})
	if err != nil {
		return nil, err
	}
	first, last := r.Loss[0], r.Loss[len(r.Loss)-1]
	src := report.Measured(string(r.Config.Budget))
	model := fmt.Sprintf("BN-%s LSTM 1x%d", r.Config.Quantizer, r.Config.Hidden)
	return &Report{Title: "Quickstart", Settings: r.Config.String(),
		Verdicts: []string{fmt.Sprintf("trained on %s in %s: training loss %.3f -> %.3f bits/char (uniform guess over %d symbols: %.3f)",
			r.Corpus, r.Elapsed.Round(1e7), first, last, r.Symbols, log2(r.Symbols))},
		Figures: figs,
		Rows: rows([]report.Result{
			{Experiment: "quickstart", Model: model, Metric: "train loss, first step (bits/char)", Value: first, Source: src},
			{Experiment: "quickstart", Model: model, Metric: "train loss, last step (bits/char)", Value: last, Source: src},
			{Experiment: "quickstart", Model: model, Metric: "test BPC (deploy)", Value: r.Run.Test["deploy"], Source: src},
		}, r.Headlines())}, nil
}

// Report implements Result.
func (r *PackedResult) Report() (*Report, error) {
	figs, err := figures(namedFigure{"Weight memory", r.MemoryFigure}, namedFigure{"Speed of one LSTM step", r.SpeedFigure})
	if err != nil {
		return nil, err
	}
	models, speed := r.Tables()
	return &Report{Title: "Packed inference", Settings: r.Config.String(),
		Tables: []NamedTable{{"Memory and accuracy: the same weights, packed", models}, {"One LSTM step, batch 1, on this CPU", speed},
			comparisonTable(string(r.Config.budget()), packedComparisons(r))},
		Figures: figs, Rows: rows(r.Results(), r.Headlines())}, nil
}

// Report implements Result.
func (r *HardwareResult) Report() (*Report, error) {
	rep := &Report{Title: "Hardware (hwsim)", Settings: r.Config.String(), Rows: rows(r.Results(), r.Headlines())}
	titles, tables := r.Tables()
	for i, t := range tables {
		rep.Tables = append(rep.Tables, NamedTable{titles[i], t})
	}
	rep.Figures = append(rep.Figures, Figure{Title: "Architecture", SVG: r.DiagramSVG})
	for _, f := range r.Figures {
		rep.Figures = append(rep.Figures, Figure{Title: f.Title, PNG: f.PNG})
	}
	return rep, nil
}

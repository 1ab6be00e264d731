package experiments

// What the gap study reports: every setting's gap to the best full-precision
// model at the same budget, the gap against width and against characters
// seen, and a fitted trend that extrapolates to the paper's 1000 units and
// 50 epochs.

import (
	"errors"
	"fmt"
	"math"
	"maps"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/plots"
	"github.com/rbt-project/rbt/rbt/quant"
	"github.com/rbt-project/rbt/rbt/report"
)

// GapRow is one model of one setting, over its seeds.
type GapRow struct {
	Setting GapSetting
	Model   Recipe
	Runs    []*CharLMRun // one per seed
	Chars   int64        // characters seen per run (the last seed's)
	// Test is the mean test BPC by mode ("code", "deploy") over the seeds,
	// Spread its max - min.
	Test, Spread map[string]float64
	// Reference is the full-precision row the gap is taken against (nil for
	// a full-precision row), Gap the relative gap in percent of each seed's
	// test BPC to the reference's mean, averaged (GapSpread: max - min).
	Reference      *GapRow
	Gap, GapSpread map[string]float64
	// ValidGap is the mean gap in validation BPC (deploy mode), the figure
	// that selects the best setting, so that the test split only scores it.
	ValidGap float64
}

// budgetKey groups the settings that train for the same budget: the same
// width, window, epochs and steps (the batch may differ: an epoch is the
// same characters at any batch).
func budgetKey(c CharLMConfig) string {
	return fmt.Sprintf("h%d-t%d-e%d-s%d", c.Hidden, c.SeqLen, c.Epochs, c.Steps)
}

// family is "binary", "ternary" or "" (full precision, other k-bit) from
// the quantizer registry.
func family(r Recipe) string {
	q, err := quant.Lookup(r.Quantizer)
	if err != nil || q.Bits >= 32 {
		return ""
	}
	switch q.Kind {
	case packed.Binary:
		return "binary"
	case packed.Ternary:
		return "ternary"
	}
	return ""
}

func meanOf(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func spreadOf(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	return slices.Max(xs) - slices.Min(xs)
}

// Rows returns every model of every setting, the quantized ones with their
// gap to the full-precision row of lowest mean validation BPC (deploy mode)
// among the settings of the same budget.
func (r *GapStudyResult) Rows() []*GapRow {
	var out []*GapRow
	for i, res := range r.Settings {
		s := r.Config.Settings[i]
		for _, first := range res.Runs {
			runs := res.Seeded[first.Model.Name]
			row := &GapRow{Setting: s, Model: first.Model, Runs: runs, Chars: runs[len(runs)-1].Steps * int64(s.Char.Batch*s.Char.SeqLen),
				Test: map[string]float64{}, Spread: map[string]float64{}}
			for _, mode := range []string{"code", "deploy"} {
				var v []float64
				for _, run := range runs {
					v = append(v, run.Test[mode])
				}
				row.Test[mode], row.Spread[mode] = meanOf(v), spreadOf(v)
			}
			out = append(out, row)
		}
	}
	best := map[string]*GapRow{}
	validDeploy := func(g *GapRow) float64 {
		var v []float64
		for _, run := range g.Runs {
			v = append(v, run.Valid["deploy"])
		}
		return meanOf(v)
	}
	for _, g := range out {
		if g.Model.Quantizer != "fp" {
			continue
		}
		k := budgetKey(g.Setting.Char)
		if b := best[k]; b == nil || validDeploy(g) < validDeploy(b) {
			best[k] = g
		}
	}
	for _, g := range out {
		if g.Model.Quantizer == "fp" {
			continue
		}
		ref := best[budgetKey(g.Setting.Char)]
		if ref == nil {
			continue
		}
		g.Reference, g.Gap, g.GapSpread = ref, map[string]float64{}, map[string]float64{}
		for _, mode := range []string{"code", "deploy"} {
			var gaps []float64
			for _, run := range g.Runs {
				gaps = append(gaps, 100*(run.Test[mode]/ref.Test[mode]-1))
			}
			g.Gap[mode], g.GapSpread[mode] = meanOf(gaps), spreadOf(gaps)
		}
		g.ValidGap = 100 * (validDeploy(g)/validDeploy(ref) - 1)
	}
	return out
}

// refLabel names a reference row: its setting and learning rate.
func refLabel(g *GapRow) string {
	return fmt.Sprintf("%s (lr %g, batch %d)", g.Setting.Name, g.Setting.Char.LR, g.Setting.Char.Batch)
}

// Table is every setting's rows.
func (r *GapStudyResult) Table() report.Table {
	t := report.Table{Header: []string{"setting", "series: what differs", "model", "seeds", "characters seen",
		"test BPC deploy (spread)", "test BPC code", "full-precision reference", "gap deploy % (spread)", "gap code %", "train min"}}
	for _, g := range r.Rows() {
		ref, gapD, gapC := "-", "-", "-"
		if g.Reference != nil {
			ref = refLabel(g.Reference)
			gapD = fmt.Sprintf("%+.1f (%.1f)", g.Gap["deploy"], g.GapSpread["deploy"])
			gapC = fmt.Sprintf("%+.1f", g.Gap["code"])
		} else if g.Model.Quantizer != "fp" {
			ref = "none at this budget"
		}
		var mins float64
		for _, run := range g.Runs {
			mins += run.TrainSeconds / 60
		}
		t.Rows = append(t.Rows, []string{g.Setting.Name, g.Setting.Series + ": " + g.Setting.Label, g.Model.Label,
			fmt.Sprint(len(g.Runs)), formatChars(g.Chars),
			fmt.Sprintf("%.4f (%.4f)", g.Test["deploy"], g.Spread["deploy"]), fmt.Sprintf("%.4f", g.Test["code"]),
			ref, gapD, gapC, fmt.Sprintf("%.1f", mins/float64(len(g.Runs)))})
	}
	return t
}

// formatChars writes a character count with an SI suffix: 960, 3.8k, 1.60M.
func formatChars(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// GapPoint is one validation point of a quantized run against the
// full-precision run of the same setting at the same step: the relative gap
// in validation BPC (code mode, the metric every validation computes).
type GapPoint struct {
	Hidden int
	Chars  float64
	Gap    float64 // percent
}

// curvePoints returns the validation gaps of family fam over the width and
// length series, by setting name.
func (r *GapStudyResult) curvePoints(fam string) map[string][]GapPoint {
	out := map[string][]GapPoint{}
	for i, res := range r.Settings {
		s := r.Config.Settings[i]
		if s.Series == SeriesRecipe {
			continue
		}
		fp := res.Run("bn-fp")
		if fp == nil {
			continue
		}
		ref := map[int64]float64{}
		for _, p := range fp.History.Valid() {
			ref[p.Examples] = p.Valid
		}
		for _, run := range res.Runs {
			if family(run.Model) != fam {
				continue
			}
			for _, p := range run.History.Valid() {
				if v, ok := ref[p.Examples]; ok {
					out[s.Name] = append(out[s.Name], GapPoint{Hidden: s.Char.Hidden, Chars: float64(p.Examples), Gap: 100 * (p.Valid/v - 1)})
				}
			}
		}
	}
	return out
}

// GapTrend is a least-squares fit gap = A + B log10(hidden) + C log10(chars)
// over the validation gaps of the width and length series of one quantizer
// family, and what it predicts at the paper's setting.
type GapTrend struct {
	Family          string
	Points, Runs    int
	A, B, C         float64
	SEB, SEC        float64 // standard errors of B and C
	Residual        float64 // residual standard deviation, percent
	AtHidden        int
	AtChars         float64
	Predicted, SE   float64 // the prediction and its standard error (percent)
	Extrapolated    bool    // the prediction lies outside the fitted hidden sizes or characters
	FitDescription  string
	PredictionLabel string
}

// Trend fits the gap of family fam and predicts it at hidden units after
// chars characters. It needs at least two widths, two lengths and five
// points.
func (r *GapStudyResult) Trend(fam string, hidden int, chars float64) (GapTrend, error) {
	byRun := r.curvePoints(fam)
	var pts []GapPoint
	for _, name := range slices.Sorted(maps.Keys(byRun)) {
		pts = append(pts, byRun[name]...)
	}
	tr := GapTrend{Family: fam, Points: len(pts), Runs: len(byRun), AtHidden: hidden, AtChars: chars}
	widths, lengths := map[int]bool{}, map[float64]bool{}
	for _, p := range pts {
		widths[p.Hidden], lengths[p.Chars] = true, true
	}
	if len(pts) < 5 || len(widths) < 2 || len(lengths) < 2 {
		return tr, fmt.Errorf("experiments: gap trend of %s: %d points over %d widths and %d lengths: want at least 5 over 2 and 2", fam, len(pts), len(widths), len(lengths))
	}
	x := mat.NewDense(len(pts), 3, nil)
	y := mat.NewVecDense(len(pts), nil)
	minH, maxH, minC, maxC := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, p := range pts {
		x.Set(i, 0, 1)
		x.Set(i, 1, math.Log10(float64(p.Hidden)))
		x.Set(i, 2, math.Log10(p.Chars))
		y.SetVec(i, p.Gap)
		minH, maxH = min(minH, float64(p.Hidden)), max(maxH, float64(p.Hidden))
		minC, maxC = min(minC, p.Chars), max(maxC, p.Chars)
	}
	var xtx mat.Dense
	xtx.Mul(x.T(), x)
	var inv mat.Dense
	if err := inv.Inverse(&xtx); err != nil {
		return tr, fmt.Errorf("experiments: gap trend of %s: %w", fam, err)
	}
	var xty mat.VecDense
	xty.MulVec(x.T(), y)
	var beta mat.VecDense
	beta.MulVec(&inv, &xty)
	tr.A, tr.B, tr.C = beta.AtVec(0), beta.AtVec(1), beta.AtVec(2)
	var fit, res mat.VecDense
	fit.MulVec(x, &beta)
	res.SubVec(y, &fit)
	dof := float64(len(pts) - 3)
	sigma2 := mat.Dot(&res, &res) / max(dof, 1)
	tr.Residual = math.Sqrt(sigma2)
	tr.SEB, tr.SEC = math.Sqrt(sigma2*inv.At(1, 1)), math.Sqrt(sigma2*inv.At(2, 2))
	x0 := mat.NewVecDense(3, []float64{1, math.Log10(float64(hidden)), math.Log10(chars)})
	var t mat.VecDense
	t.MulVec(&inv, x0)
	tr.Predicted = mat.Dot(&beta, x0)
	tr.SE = math.Sqrt(sigma2 * (1 + mat.Dot(x0, &t)))
	tr.Extrapolated = float64(hidden) < minH || float64(hidden) > maxH || chars < minC || chars > maxC
	tr.FitDescription = fmt.Sprintf("gap %% = %.2f %+.2f (±%.2f) log10(hidden) %+.2f (±%.2f) log10(characters), residual s.d. %.2f, %d validation points of %d runs",
		tr.A, tr.B, tr.SEB, tr.C, tr.SEC, tr.Residual, tr.Points, tr.Runs)
	kind := "interpolation"
	if tr.Extrapolated {
		kind = fmt.Sprintf("EXTRAPOLATION beyond the fitted hidden %.0f-%.0f and %.2gM-%.3gM characters", minH, maxH, minC/1e6, maxC/1e6)
	}
	tr.PredictionLabel = fmt.Sprintf("%+.1f%% ± %.1f (1 s.e.) at 1x%d after %.0fM characters: %s; the points of one run are not independent, so the uncertainty is understated",
		tr.Predicted, tr.SE, hidden, chars/1e6, kind)
	return tr, nil
}

// paperChars is the characters the paper's PTB run sees: 50 epochs of the
// training split.
func (r *GapStudyResult) paperChars() float64 { return 50 * float64(len(r.Data.Corpus.Train)) }

// WidthFigure plots the test-BPC gap (deploy and code mode) against the
// hidden size (log axis) over the width series, at equal characters seen.
func (r *GapStudyResult) WidthFigure() ([]byte, error) {
	series := map[string]*plots.Series{}
	var order []string
	for _, g := range r.Rows() {
		if g.Setting.Series != SeriesWidth || g.Reference == nil {
			continue
		}
		for _, mode := range []string{"deploy", "code"} {
			name := fmt.Sprintf("BN %s (%s mode)", family(g.Model), mode)
			s := series[name]
			if s == nil {
				s = &plots.Series{Name: name, Dashed: mode == "code"}
				series[name] = s
				order = append(order, name)
			}
			s.X, s.Y = append(s.X, float64(g.Setting.Char.Hidden)), append(s.Y, g.Gap[mode])
		}
	}
	if len(order) == 0 {
		return nil, errors.New("experiments: gap study: no width series to plot")
	}
	var out []plots.Series
	for _, n := range order {
		out = append(out, *series[n])
	}
	chars := ""
	for _, g := range r.Rows() {
		if g.Setting.Series == SeriesWidth {
			chars = formatChars(g.Chars)
			break
		}
	}
	return plots.Lines(plots.Options{Title: fmt.Sprintf("Gap to full precision against width, %s characters each (budget %s)", chars, r.Config.Budget),
		XLabel: "hidden units (log scale)", YLabel: "test BPC above full precision (%)", LogX: true, Width: 7.5 * 72, Height: 4.5 * 72}, out...)
}

// lengthCurves returns the validation-gap curves of family fam with at
// least two points, by setting name.
func (r *GapStudyResult) lengthCurves(fam string) [][]GapPoint {
	byRun := r.curvePoints(fam)
	var out [][]GapPoint
	for _, name := range slices.Sorted(maps.Keys(byRun)) {
		if pts := byRun[name]; len(pts) >= 2 {
			out = append(out, pts)
		}
	}
	return out
}

// LengthFigure plots the validation gap (code mode) against characters
// seen, one curve per width and quantizer, over the runs with at least two
// validation points.
func (r *GapStudyResult) LengthFigure() ([]byte, error) {
	var out []plots.Series
	for _, fam := range []string{"binary", "ternary"} {
		for _, pts := range r.lengthCurves(fam) {
			s := plots.Series{Name: fmt.Sprintf("BN %s 1x%d", fam, pts[0].Hidden), Dashed: fam == "ternary"}
			for _, p := range pts {
				s.X, s.Y = append(s.X, p.Chars), append(s.Y, p.Gap)
			}
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("experiments: gap study: no run with two validation points to plot")
	}
	return plots.Lines(plots.Options{Title: fmt.Sprintf("Gap to full precision while training (validation, code mode; budget %s)", r.Config.Budget),
		XLabel: "characters seen", YLabel: "validation BPC above full precision (%)", Width: 7.5 * 72, Height: 4.5 * 72}, out...)
}

// TrendTable is the fitted trend of each family and its prediction at the
// paper's 1x1000 after 50 epochs.
func (r *GapStudyResult) TrendTable() (report.Table, []string) {
	t := report.Table{Header: []string{"quantizer", "fit", "predicted gap at the paper's 1x1000, 50 epochs"}}
	var notes []string
	for _, fam := range []string{"binary", "ternary"} {
		tr, err := r.Trend(fam, 1000, r.paperChars())
		if err != nil {
			notes = append(notes, err.Error())
			continue
		}
		t.Rows = append(t.Rows, []string{"BN " + fam, tr.FitDescription, tr.PredictionLabel})
	}
	return t, notes
}

// gapStudyExperiment is the experiment name of the study's rows.
const gapStudyExperiment = "PTB char gap study"

// Headlines are the study's rows for the reviewer's table: each quantized
// row's test BPC (deploy) against this project's targets (ternary within 3%,
// binary within 6%) of its full-precision reference, and the references.
func (r *GapStudyResult) Headlines() []report.Result {
	budget := string(r.Config.Budget)
	var rs []report.Result
	for _, g := range r.Rows() {
		var v []float64
		for _, run := range g.Runs {
			v = append(v, run.Test["deploy"])
		}
		model := fmt.Sprintf("%s 1x%d, %s: %s", g.Model.Label, g.Setting.Char.Hidden, g.Setting.Name, g.Setting.Label)
		h := report.Headline(gapStudyExperiment, model, "test BPC (deploy)", budget, lastEpoch(g.Runs[0].History), v...)
		switch {
		case g.Reference == nil:
		case family(g.Model) == "ternary":
			h = h.WithinPercent(g.Reference.Test["deploy"], targetTernaryPct, "of the best full-precision BN-LSTM at this budget, "+refLabel(g.Reference))
		case family(g.Model) == "binary":
			h = h.WithinPercent(g.Reference.Test["deploy"], targetBinaryPct, "of the best full-precision BN-LSTM at this budget, "+refLabel(g.Reference))
		}
		rs = append(rs, h)
	}
	return rs
}

// Report implements Result.
func (r *GapStudyResult) Report() (*Report, error) {
	named := []namedFigure{{"Gap against width", r.WidthFigure}}
	if r.hasLengthCurves() {
		named = append(named, namedFigure{"Gap against characters seen", r.LengthFigure})
	}
	figs, err := figures(named...)
	if err != nil {
		return nil, err
	}
	trend, notes := r.TrendTable()
	if len(r.Pending) > 0 {
		notes = append(notes, fmt.Sprintf("%d setting(s) still training, not shown: %s", len(r.Pending), strings.Join(r.Pending, ", ")))
	}
	rep := &Report{Title: "Gap study: " + r.Data.Label, Settings: r.Config.String(),
		Tables:   []NamedTable{{"Every setting", r.Table()}, {"Trend (an extrapolation where it says so)", trend}},
		Verdicts: r.Verdicts(), Figures: figs, Notes: notes, Rows: r.Headlines()}
	if r.Data.Note != "" {
		rep.Notes = append(rep.Notes, r.Data.Note)
	}
	return rep, nil
}

func (r *GapStudyResult) hasLengthCurves() bool {
	return len(r.lengthCurves("binary"))+len(r.lengthCurves("ternary")) > 0
}

// Verdicts say, per quantizer family, whether the setting with the smallest
// validation gap (deploy mode; chosen on the validation split so that the
// test gap it reports is not the luckiest of many) meets the project's
// target, and how far each recipe moved the test gap against the paper's
// recipe at the same budget.
func (r *GapStudyResult) Verdicts() []string {
	rows := r.Rows()
	var out []string
	for _, fam := range []string{"binary", "ternary"} {
		target := targetBinaryPct
		if fam == "ternary" {
			target = targetTernaryPct
		}
		var best *GapRow
		for _, g := range rows {
			if family(g.Model) == fam && g.Reference != nil && (best == nil || g.ValidGap < best.ValidGap) {
				best = g
			}
		}
		if best == nil {
			continue
		}
		verdict := "met"
		if best.Gap["deploy"] > target {
			verdict = fmt.Sprintf("MISSED by %.1f points", best.Gap["deploy"]-target)
		}
		seeds := fmt.Sprintf("%d seed(s)", len(best.Runs))
		if len(best.Runs) < 3 {
			seeds += "; the target asks for the mean of 3"
		}
		out = append(out, fmt.Sprintf("BN %s, target within %g%% of full precision (deploy): the setting of smallest validation gap (%+.1f%%) is %s (%s); its test gap %+.1f%% against %s: %s (%s)",
			fam, target, best.ValidGap, best.Setting.Name, best.Setting.Label, best.Gap["deploy"], refLabel(best.Reference), verdict, seeds))
	}
	// Each recipe against the paper's recipe at the same budget.
	base := map[string]*GapRow{}
	for _, g := range rows {
		if g.Setting.Series == SeriesRecipe && g.Setting.Label == "the paper's recipe" && g.Reference != nil {
			base[budgetKey(g.Setting.Char)+family(g.Model)] = g
		}
	}
	for _, g := range rows {
		b := base[budgetKey(g.Setting.Char)+family(g.Model)]
		if g.Setting.Series != SeriesRecipe || g.Reference == nil || b == nil || b == g {
			continue
		}
		d := g.Gap["deploy"] - b.Gap["deploy"]
		noise := max(b.GapSpread["deploy"], g.GapSpread["deploy"])
		read := "within the seeds' spread: no measured difference"
		switch {
		case len(b.Runs) < 2 && len(g.Runs) < 2:
			read = "one seed each: no spread to judge it by"
		case math.Abs(d) > 2*noise && d < 0:
			read = fmt.Sprintf("closer, by more than twice the spread (%.1f)", noise)
		case math.Abs(d) > 2*noise:
			read = fmt.Sprintf("further, by more than twice the spread (%.1f)", noise)
		}
		out = append(out, fmt.Sprintf("%s, %s: deploy gap %+.1f%% vs %+.1f%% with the paper's recipe (%+.1f points; %s)",
			g.Model.Label, g.Setting.Label, g.Gap["deploy"], b.Gap["deploy"], d, read))
	}
	return out
}

// Reading is the notebook's reading of this run, written from its numbers
// (Markdown): the gap at each width, how it moved while training, the best
// setting of each quantizer and the trend's prediction.
func (r *GapStudyResult) Reading() string {
	var b strings.Builder
	rows := r.Rows()
	b.WriteString("**What this run measured** (test BPC, deploy mode, against the best full-precision model of the same budget).\n\n")
	for _, fam := range []string{"binary", "ternary"} {
		var parts []string
		var xs, ys []float64
		for _, g := range rows {
			if g.Setting.Series == SeriesWidth && family(g.Model) == fam && g.Reference != nil {
				parts = append(parts, fmt.Sprintf("%+.1f%% at 1x%d", g.Gap["deploy"], g.Setting.Char.Hidden))
				xs, ys = append(xs, math.Log10(float64(g.Setting.Char.Hidden))), append(ys, g.Gap["deploy"])
			}
		}
		if len(parts) == 0 {
			continue
		}
		trend := ""
		if len(xs) >= 2 {
			slope := leastSquaresSlope(xs, ys)
			dir := "narrows"
			if slope > 0 {
				dir = "widens"
			}
			trend = fmt.Sprintf(": the gap %s with width, by %.1f points per doubling of the hidden size (least squares)", dir, math.Abs(slope)*math.Log10(2))
		}
		fmt.Fprintf(&b, "- *Width* (BN %s, %s characters each): %s%s.\n", fam, r.widthChars(), strings.Join(parts, ", "), trend)
	}
	for _, fam := range []string{"binary", "ternary"} {
		for _, pts := range r.lengthCurves(fam) {
			first, last := pts[0], pts[len(pts)-1]
			fmt.Fprintf(&b, "- *Length* (BN %s 1x%d, validation BPC in code mode): %+.1f%% after %s characters, %+.1f%% after %s.\n",
				fam, first.Hidden, first.Gap, formatChars(int64(first.Chars)), last.Gap, formatChars(int64(last.Chars)))
		}
	}
	for _, v := range r.Verdicts() {
		if strings.HasPrefix(v, "BN binary, target") || strings.HasPrefix(v, "BN ternary, target") {
			fmt.Fprintf(&b, "- *Best setting*: %s.\n", v)
		}
	}
	for _, fam := range []string{"binary", "ternary"} {
		if tr, err := r.Trend(fam, 1000, r.paperChars()); err == nil {
			fmt.Fprintf(&b, "- *Trend* (BN %s): %s.\n", fam, tr.PredictionLabel)
		}
	}
	return b.String()
}

// widthChars is the characters seen by each run of the width series.
func (r *GapStudyResult) widthChars() string {
	for _, g := range r.Rows() {
		if g.Setting.Series == SeriesWidth {
			return formatChars(g.Chars)
		}
	}
	return "?"
}

// leastSquaresSlope is the slope of the least-squares line through (xs, ys).
func leastSquaresSlope(xs, ys []float64) float64 {
	mx, my := meanOf(xs), meanOf(ys)
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	return sxy / sxx
}

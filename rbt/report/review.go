package report

// The reviewer's table, notebooks/RESULTS.md and RESULTS.csv: the headline
// rows of every notebook's latest run at each budget, side by side with the
// paper's or a public figure and the verdict against the claim.

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ReviewRow is one row of the reviewer's table: a headline Result with the
// notebook, budget, commit and date of the run that measured it.
type ReviewRow struct {
	Notebook, Budget, Commit, Date string
	Result
}

var reviewHeader = []string{"notebook", "budget", "commit", "date", "experiment", "model", "metric", "value", "seeds",
	"spread", "epochs", "published", "published_source", "claim", "verdict", "source"}

// ReadReview reads a RESULTS.csv (no rows when the file does not exist).
func ReadReview(path string) ([]ReviewRow, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w (delete it and rerun make reproduce to rebuild it)", path, err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], reviewHeader) {
		return nil, fmt.Errorf("report: %s: not a results table (header %q): delete it and rerun make reproduce", path, strings.Join(reviewHeader, ","))
	}
	var out []ReviewRow
	for i, rec := range recs[1:] {
		num := func(s string) float64 {
			if s == "" {
				return 0
			}
			v, e := strconv.ParseFloat(s, 64)
			if e != nil && err == nil {
				err = fmt.Errorf("report: %s: line %d: %q is not a number", path, i+2, s)
			}
			return v
		}
		r := ReviewRow{Notebook: rec[0], Budget: rec[1], Commit: rec[2], Date: rec[3], Result: Result{
			Experiment: rec[4], Model: rec[5], Metric: rec[6], Value: num(rec[7]), Seeds: int(num(rec[8])),
			Spread: num(rec[9]), Epochs: num(rec[10]), Published: rec[11], PublishedSource: rec[12],
			Claim: rec[13], Verdict: rec[14], Source: rec[15], Headline: true}}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// UpdateReview replaces, in rows, every row of each (budget, notebook) that
// fresh has rows for, keeping the others: the table holds each notebook's
// latest run at each budget.
func UpdateReview(rows, fresh []ReviewRow) []ReviewRow {
	type key struct{ budget, notebook string }
	replaced := map[key]bool{}
	for _, f := range fresh {
		replaced[key{f.Budget, f.Notebook}] = true
	}
	var out []ReviewRow
	for _, r := range rows {
		if !replaced[key{r.Budget, r.Notebook}] {
			out = append(out, r)
		}
	}
	return sortReview(append(out, fresh...))
}

// sortReview orders rows as the table shows them: the most trained budget
// first (cpu, paper, quick, smoke), then by notebook, each notebook's rows in
// their recorded order.
func sortReview(rows []ReviewRow) []ReviewRow {
	order := map[string]int{"cpu": 0, "paper": 1, "quick": 2, "smoke": 3}
	slices.SortStableFunc(rows, func(a, b ReviewRow) int {
		if d := order[a.Budget] - order[b.Budget]; d != 0 {
			return d
		}
		return strings.Compare(a.Notebook, b.Notebook)
	})
	return rows
}

// WriteReview writes rows as csvPath and renders them as the Markdown table
// mdPath, one section per budget and one table per notebook.
func WriteReview(csvPath, mdPath string, rows []ReviewRow) error {
	rows = sortReview(slices.Clone(rows))
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(reviewHeader)
	for _, r := range rows {
		spread := ""
		if r.Seeds > 1 {
			spread = FormatValue(r.Spread)
		}
		cw.Write([]string{r.Notebook, r.Budget, r.Commit, r.Date, r.Experiment, r.Model, r.Metric, FormatValue(r.Value),
			strconv.Itoa(max(r.Seeds, 1)), spread, fmt.Sprintf("%.3g", r.Epochs), r.Published, r.PublishedSource, r.Claim, r.Verdict, r.Source})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if err := writeAtomic(csvPath, buf.Bytes()); err != nil {
		return err
	}
	return writeAtomic(mdPath, []byte(ReviewMarkdown(rows)))
}

// ReviewMarkdown renders the reviewer's table.
func ReviewMarkdown(rows []ReviewRow) string {
	var b strings.Builder
	b.WriteString("# rbt next to the paper: the reviewer's table\n\n")
	b.WriteString("Written by `make reproduce` from the headline rows the notebooks recorded (`RESULTS.csv` beside this file has " +
		"the same rows); never edited by hand. Each notebook's latest run at each budget: `cpu` is the most a 2-core CPU " +
		"trains in about an hour per notebook, scored on the whole test splits; `quick` the committed notebooks' outputs " +
		"(minutes of training, scored on fixed prefixes of the test splits that each notebook states: not trained results). " +
		"*measured* is the mean over the seeds, *spread* their max - min; *epochs* the passes over the training split; " +
		"the claims are this project's own targets (thresholds that make testable the paper's claim that binary and ternary " +
		"BN-LSTMs come close to full precision once trained), and the published figures are cited beside them (\"not retrieved\": the " +
		"paper's table values could not be obtained here, METHOD.md). The executed `cpu` notebooks, with their learning " +
		"curves and figures, are in [`cpu/`](cpu/) beside this file.\n")
	if len(rows) == 0 {
		b.WriteString("\nNo rows yet: run `make reproduce`.\n")
		return b.String()
	}
	var sources []string
	cite := func(s string) string {
		if s == "" {
			return ""
		}
		i := slices.Index(sources, s)
		if i < 0 {
			sources = append(sources, s)
			i = len(sources) - 1
		}
		return fmt.Sprintf(" [%d]", i+1)
	}
	budget, notebook := "", ""
	var t Table
	flush := func() {
		if len(t.Rows) > 0 {
			b.WriteString(t.Markdown())
		}
		t = Table{}
	}
	for _, r := range rows {
		if r.Budget != budget {
			flush()
			budget, notebook = r.Budget, ""
			fmt.Fprintf(&b, "\n## RBT_BUDGET=%s\n", r.Budget)
		}
		if r.Notebook != notebook {
			flush()
			notebook = r.Notebook
			fmt.Fprintf(&b, "\n### %s — `%s`, commit %s, %s\n\n", r.Experiment, r.Notebook, r.Commit, r.Date)
			t.Header = []string{"model", "metric", "measured", "seeds", "spread", "epochs", "published", "claim", "verdict"}
		}
		seeds, spread := "1", ""
		if r.Seeds > 1 {
			seeds, spread = strconv.Itoa(r.Seeds), FormatValue(r.Spread)
		}
		pub := r.Published
		if pub != "" {
			pub += cite(r.PublishedSource)
		}
		value := fmt.Sprintf("%.3f", r.Value) // BPC, ratios
		if a := math.Abs(r.Value); a >= 10 {
			value = fmt.Sprintf("%.1f", r.Value) // perplexities, accuracies in percent
		}
		t.Rows = append(t.Rows, []string{r.Model, r.Metric, value, seeds, spread, fmt.Sprintf("%.2f", r.Epochs), pub, r.Claim, r.Verdict})
	}
	flush()
	if len(sources) > 0 {
		b.WriteString("\n## Sources\n\n")
		for i, s := range sources {
			fmt.Fprintf(&b, "%d. %s\n", i+1, s)
		}
	}
	return b.String()
}

// writeAtomic writes data to path through a temporary file and a rename, so
// that a crash never leaves a half-written table.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

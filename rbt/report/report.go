// Package report records the figures an experiment measured, so that the
// notebook runner (rbt/cmd/nbrun) can collect them into the summary table of
// results/, and renders tables for notebooks.
//
// Every number carries its source: "measured here" with its budget, or the
// publication it is cited from. A notebook calls Record for each figure it
// computed; when the runner executes the notebook it sets RBT_RESULTS_FILE and
// the rows are appended there as JSON lines.
package report

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"strings"
)

// ResultsFileEnv names the JSON-lines file that Record appends to.
const ResultsFileEnv = "RBT_RESULTS_FILE"

// Result is one figure of one experiment.
type Result struct {
	Experiment string  `json:"experiment"` // e.g. "PTB char"
	Model      string  `json:"model"`      // e.g. "BN binary LSTM 1x256"
	Metric     string  `json:"metric"`     // e.g. "test BPC (deploy)"
	Value      float64 `json:"value"`
	Source     string  `json:"source"` // "measured here (budget quick)" or a citation

	// The fields of a headline row (Headline true): one model's main figure,
	// the row of the reviewer's table notebooks/RESULTS.md (see Headline).
	Headline bool    `json:"headline,omitempty"`
	Seeds    int     `json:"seeds,omitempty"`  // runs averaged into Value (0 or 1: one)
	Spread   float64 `json:"spread,omitempty"` // max - min of the seeds' values
	Epochs   float64 `json:"epochs,omitempty"` // passes over the training split
	// Published is the paper's or a public figure for the same model
	// ("" when none is known) and PublishedSource its citation.
	Published       string `json:"published,omitempty"`
	PublishedSource string `json:"published_source,omitempty"`
	// Claim is the target the figure is checked against and Verdict the
	// outcome ("met", or by how much it is missed); "" when there is none.
	Claim   string `json:"claim,omitempty"`
	Verdict string `json:"verdict,omitempty"`
}

// Measured returns the Source of a figure measured in this run at budget b.
func Measured(budget string) string { return "measured here (RBT_BUDGET=" + budget + ")" }

// Record appends r to $RBT_RESULTS_FILE when it is set (a no-op otherwise).
// A non-finite value is recorded as it is: the summary shows it, never hides it.
func Record(rs ...Result) error {
	path := os.Getenv(ResultsFileEnv)
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("report: cannot open %s=%s: %w", ResultsFileEnv, path, err)
	}
	enc := json.NewEncoder(f)
	for _, r := range rs {
		if err := enc.Encode(jsonSafe(r)); err != nil {
			f.Close()
			return fmt.Errorf("report: writing %s: %w", path, err)
		}
	}
	return f.Close()
}

// jsonSafe keeps NaN/Inf representable: JSON has no NaN, so they travel as
// strings in the Source suffix and the value becomes 0 only in transit.
func jsonSafe(r Result) any {
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
		return struct {
			Result
			Value string `json:"value"`
		}{r, fmt.Sprint(r.Value)}
	}
	return r
}

// ReadFile reads the results recorded in a JSON-lines file.
func ReadFile(path string) ([]Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Result
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var raw struct {
			Result
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			return nil, fmt.Errorf("%s:%d: not a result line: %w", path, i+1, err)
		}
		r := raw.Result
		var s string
		if err := json.Unmarshal(raw.Value, &r.Value); err != nil {
			if json.Unmarshal(raw.Value, &s) != nil {
				return nil, fmt.Errorf("%s:%d: bad value %s", path, i+1, raw.Value)
			}
			fmt.Sscan(s, &r.Value) // "NaN", "+Inf", "-Inf"
		}
		out = append(out, r)
	}
	return out, nil
}

// Table is a small table with a header, rendered as Markdown, CSV or HTML.
type Table struct {
	Header []string
	Rows   [][]string
}

// Markdown renders the table in GitHub Markdown.
func (t Table) Markdown() string {
	var b strings.Builder
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	row(t.Header)
	sep := make([]string, len(t.Header))
	for i := range sep {
		sep[i] = "---"
	}
	row(sep)
	for _, r := range t.Rows {
		row(r)
	}
	return b.String()
}

// HTML renders the table as an HTML <table>, for gonbui.DisplayHtml.
func (t Table) HTML() string {
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse">` + "<thead><tr>")
	for _, h := range t.Header {
		b.WriteString(`<th style="text-align:left;padding:2px 8px;border-bottom:1px solid #888">` + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range t.Rows {
		b.WriteString("<tr>")
		for _, c := range r {
			b.WriteString(`<td style="text-align:left;padding:2px 8px">` + html.EscapeString(c) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

// ResultsTable lays out results one per row.
func ResultsTable(rs []Result) Table {
	t := Table{Header: []string{"experiment", "model", "metric", "value", "source"}}
	for _, r := range rs {
		t.Rows = append(t.Rows, []string{r.Experiment, r.Model, r.Metric, FormatValue(r.Value), r.Source})
	}
	return t
}

// FormatValue prints a figure with 4 significant digits (integers exactly).
func FormatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

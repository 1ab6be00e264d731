package experiments

import (
	"strings"
	"testing"
)

// Every experiment's result honours the contract.
var (
	_ Result = (*CharLMResult)(nil)
	_ Result = (*GRUResult)(nil)
	_ Result = (*WordLMResult)(nil)
	_ Result = (*SeqMNISTResult)(nil)
	_ Result = (*QAResult)(nil)
	_ Result = (*QuickstartResult)(nil)
	_ Result = (*PackedResult)(nil)
	_ Result = (*HardwareResult)(nil)
)

// checkReport checks what every report must hold: settings, at least one
// table (except the quickstart), figures that are PNG or SVG, rows with a
// source, and a display that shows every table and figure.
func checkReport(t *testing.T, res Result, wantTables bool) {
	t.Helper()
	rep, err := res.Report()
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	if rep.Title == "" || rep.Settings == "" {
		t.Errorf("report: title %q, settings %q", rep.Title, rep.Settings)
	}
	if wantTables && len(rep.Tables) == 0 {
		t.Error("report: no table")
	}
	for _, tab := range rep.Tables {
		for _, row := range tab.Rows {
			if len(row) != len(tab.Header) {
				t.Errorf("table %q: a row of %d cells, header %d", tab.Title, len(row), len(tab.Header))
			}
		}
	}
	if len(rep.Figures) == 0 || len(rep.Rows) == 0 {
		t.Errorf("report: %d figures, %d rows", len(rep.Figures), len(rep.Rows))
	}
	for _, f := range rep.Figures {
		if !strings.HasPrefix(string(f.PNG), "\x89PNG") && !strings.Contains(f.SVG, "<svg") {
			t.Errorf("figure %q is neither PNG nor SVG", f.Title)
		}
	}
	for _, r := range rep.Rows {
		published := strings.HasSuffix(r.Model, "(published)") && strings.Contains(r.Source, "et al.")
		if r.Experiment == "" || r.Metric == "" || !(strings.Contains(r.Source, "measured here") || published) {
			t.Errorf("row %+v: missing experiment or metric, or a source that is neither this run nor a citation", r)
		}
	}
	var html []string
	pngs := 0
	rep.Show(func(h string) { html = append(html, h) }, func([]byte) { pngs++ })
	all := strings.Join(html, "")
	if strings.Count(all, "<table") < len(rep.Tables) {
		t.Errorf("Show: %d tables shown, report has %d", strings.Count(all, "<table"), len(rep.Tables))
	}
	want := 0
	for _, f := range rep.Figures {
		if len(f.PNG) > 0 {
			want++
		}
	}
	if pngs != want {
		t.Errorf("Show: %d PNGs shown, report has %d", pngs, want)
	}
	if md := rep.Markdown(); !strings.Contains(md, rep.Title) {
		t.Error("Markdown: no title")
	}
}

package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/report"
)

// A 1x1 transparent PNG, base64.
const tinyPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		outputs  string
		wantErrs int
		wantFigs int
	}{
		{"clean with figure", `[{"output_type":"stream","name":"stdout","text":["loss 1\n"]},
			{"output_type":"display_data","data":{"image/png":"` + tinyPNG + `"},"metadata":{}}]`, 0, 1},
		{"error output", `[{"output_type":"error","ename":"panic","evalue":"boom","traceback":[]}]`, 1, 0},
		{"svg figure", `[{"output_type":"display_data","data":{"image/svg+xml":["<svg>","</svg>"]},"metadata":{}}]`, 0, 1},
		{"svg in html (GoNB)", `[{"output_type":"display_data","data":{"text/html":["<div><svg w='1'>","</svg></div>"]},"metadata":{}}]`, 0, 1},
		{"html without svg", `[{"output_type":"display_data","data":{"text/html":"<table></table>"},"metadata":{}}]`, 0, 0},
		{"no outputs", `[]`, 0, 0},
		{"broken png", `[{"output_type":"display_data","data":{"image/png":"@@@"},"metadata":{}}]`, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nb notebook
			doc := `{"cells":[{"cell_type":"code","source":"x","outputs":` + tc.outputs + `}]}`
			if err := json.Unmarshal([]byte(doc), &nb); err != nil {
				t.Fatal(err)
			}
			errs, figs := check(&nb)
			if len(errs) != tc.wantErrs || len(figs) != tc.wantFigs {
				t.Fatalf("check: %d errors %v, %d figures; want %d, %d", len(errs), errs, len(figs), tc.wantErrs, tc.wantFigs)
			}
		})
	}
}

// writeNotebook writes a GoNB notebook whose cells are the given sources.
func writeNotebook(t *testing.T, dir, name string, cells ...string) string {
	t.Helper()
	type cell struct {
		CellType       string         `json:"cell_type"`
		ExecutionCount any            `json:"execution_count"`
		Metadata       map[string]any `json:"metadata"`
		Outputs        []any          `json:"outputs"`
		Source         string         `json:"source"`
	}
	nb := map[string]any{
		"nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{"kernelspec": map[string]any{"name": "gonb-rbt", "display_name": "Go", "language": "go"}},
	}
	var cs []cell
	for _, src := range cells {
		cs = append(cs, cell{"code", nil, map[string]any{}, []any{}, src})
	}
	nb["cells"] = cs
	data, _ := json.Marshal(nb)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunnerFailsOnCellError executes real notebooks through Jupyter and the
// GoNB kernel: a panicking cell and a notebook without figures must fail the
// run, a clean one must pass. It needs `bash .ci/setup.sh`; under CI it is
// required, elsewhere it is skipped when the kernel is not installed.
func TestRunnerFailsOnCellError(t *testing.T) {
	if testing.Short() {
		t.Skip("executes notebooks")
	}
	jupyter, err := findJupyter("")
	if err == nil {
		err = exec.Command(jupyter, "kernelspec", "list").Run()
	}
	out, _ := exec.Command(jupyter, "kernelspec", "list").Output()
	if err != nil || !strings.Contains(string(out), "gonb-rbt") {
		if os.Getenv("CI") != "" {
			t.Fatalf("jupyter with the gonb-rbt kernel is required under CI: %v", err)
		}
		t.Skip("jupyter or the gonb-rbt kernel is not installed (bash .ci/setup.sh)")
	}
	dir := t.TempDir()
	root, err := filepath.Abs("../../..") // the module root, so gonbui resolves from go.mod
	if err != nil {
		t.Fatal(err)
	}
	setup := "%noautoget\n!*go work init 2>/dev/null; go work use . " + root
	figure := "import \"github.com/janpfeifer/gonb/gonbui\"\n%%\ngonbui.DisplaySVG(`<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"4\" height=\"4\"></svg>`)\nfmt.Println(\"ok\")"
	good := writeNotebook(t, dir, "good.ipynb", setup, "%%\nfmt.Println(\"hello\")", figure)
	bad := writeNotebook(t, dir, "bad.ipynb", setup, "%%\nfmt.Println(\"before\")", "%%\npanic(\"this cell fails\")", figure)
	nofig := writeNotebook(t, dir, "nofig.ipynb", setup, "%%\nfmt.Println(\"no figure here\")")
	o := options{budget: budget.Smoke, html: false, cellTimeout: 300e9, kernel: "gonb-rbt", jupyter: jupyter}
	for _, tc := range []struct {
		path    string
		wantErr string
	}{
		{good, ""},
		{bad, "execution failed"},
		{nofig, "no figure"},
	} {
		o.out = filepath.Join(dir, "out-"+filepath.Base(tc.path))
		err := runAll(context.Background(), o, []string{tc.path})
		switch {
		case tc.wantErr == "" && err != nil:
			executed, _ := os.ReadFile(filepath.Join(o.out, strings.TrimSuffix(filepath.Base(tc.path), ".ipynb")+".ipynb"))
			t.Errorf("%s: %v\nexecuted notebook:\n%s", tc.path, err, executed)
		case tc.wantErr != "" && err == nil:
			t.Errorf("%s: the run passed, want a failure", tc.path)
		}
		if tc.wantErr != "" {
			r := runOne(context.Background(), o, tc.path)
			if r.err == nil || !strings.Contains(r.err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", tc.path, r.err, tc.wantErr)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out-good.ipynb", "summary.md")); err != nil {
		t.Errorf("no summary written: %v", err)
	}
}

func TestSummaryAndTail(t *testing.T) {
	dir := t.TempDir()
	o := options{budget: budget.Smoke, out: dir}
	rs := []runResult{{name: "nb", figures: 1, results: []report.Result{{Experiment: "e", Model: "a, b", Metric: `say "x"`, Value: 1.5, Source: "s"}}}}
	if err := writeSummary(o, rs); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][1] != "a, b" || rows[1][2] != `say "x"` || rows[1][3] != "1.5" {
		t.Fatalf("summary.csv rows %q, err %v", rows, err)
	}
	log := filepath.Join(dir, "x.log")
	os.WriteFile(log, []byte("I1128 23:54:21.123 gonb: starting\npanic: this cell fails\n\nW1128 23:54:22.000 noise\n"), 0o644)
	if got := tail(log, 5); strings.Contains(got, "gonb: starting") || !strings.Contains(got, "panic: this cell fails") {
		t.Errorf("tail kept the kernel log or lost the error: %q", got)
	}
}

// TestReviewTable: a notebook's headline rows go to the reviewer's table,
// tagged with the notebook, budget and commit; other rows stay in the
// summary only; a later run of the same notebook and budget replaces its rows.
func TestReviewTable(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "RESULTS.md")
	o := options{budget: budget.Quick, out: dir, review: md, commit: "abc1234"}
	plain := report.Result{Experiment: "PTB char", Model: "bn-fp", Metric: "valid BPC (code)", Value: 2.2, Source: "s"}
	head := report.Headline("PTB char", "bn-fp", "test BPC (deploy)", "quick", 0.19, 2.01).AtMost(1.65)
	r := runResult{name: "01_ptb_char", figures: 1, results: []report.Result{plain, head}}
	if err := updateReview(o, r); err != nil {
		t.Fatal(err)
	}
	if err := writeSummary(o, []runResult{r}); err != nil {
		t.Fatal(err)
	}
	rows, err := report.ReadReview(reviewCSV(md))
	if err != nil || len(rows) != 1 || rows[0].Notebook != "01_ptb_char" || rows[0].Budget != "quick" || rows[0].Commit != "abc1234" ||
		!strings.HasPrefix(rows[0].Verdict, "MISSED") {
		t.Fatalf("review rows %+v, err %v", rows, err)
	}
	summary, _ := os.ReadFile(filepath.Join(dir, "summary.csv"))
	if strings.Count(string(summary), "\n") != 2 || strings.Contains(string(summary), "test BPC (deploy)") {
		t.Errorf("summary.csv should hold the plain row only:\n%s", summary)
	}
	head.Value = 1.6
	r.results = []report.Result{head.AtMost(1.65)}
	if err := updateReview(o, r); err != nil {
		t.Fatal(err)
	}
	if rows, _ = report.ReadReview(reviewCSV(md)); len(rows) != 1 || rows[0].Value != 1.6 || !strings.HasPrefix(rows[0].Verdict, "met") {
		t.Fatalf("after the second run: %+v", rows)
	}
	text, _ := os.ReadFile(md)
	if !strings.Contains(string(text), "`01_ptb_char`, commit abc1234") {
		t.Errorf("RESULTS.md:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(dir, "quick")); err == nil {
		t.Error("a quick run copied its notebook beside the table (the committed notebooks hold quick outputs)")
	}
	// At cpu the executed notebook is kept beside the table as well.
	o.budget = budget.CPU
	os.WriteFile(filepath.Join(dir, "01_ptb_char.ipynb"), []byte(`{"cells": []}`), 0o644)
	if err := updateReview(o, r); err != nil {
		t.Fatal(err)
	}
	if kept, err := os.ReadFile(filepath.Join(dir, "cpu", "01_ptb_char.ipynb")); err != nil || string(kept) != `{"cells": []}` {
		t.Errorf("executed cpu notebook beside the table: %q, %v", kept, err)
	}
}

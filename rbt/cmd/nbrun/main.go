// Command nbrun executes the project's GoNB notebooks headless, checks them and
// collects what they measured.
//
//	go run ./rbt/cmd/nbrun [-budget quick] [-out results] [-inplace] [notebooks/*.ipynb]
//
// For each notebook it runs `jupyter nbconvert --execute` with the GoNB kernel
// under a per-cell timeout and RBT_BUDGET set, then fails if any cell failed or
// printed an error, or if the notebook produced no figure (image/png or svg).
// It writes under -out: the executed notebook, an HTML rendering (opened in
// headless Chromium with the network off: a figure that does not load or is
// blank, or a resource fetched from outside the file, fails the notebook;
// -check-html=false skips it), the figures as
// files, the log of each run, and summary.md / summary.csv with every figure
// the notebooks recorded through rbt/report (experiment, model, metric, value,
// source). With -inplace the executed notebooks also replace the sources in
// notebooks/, so the committed notebooks show their outputs.
package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/report"
)

type options struct {
	budget      budget.Budget
	out         string
	inplace     bool
	html        bool
	checkHTML   bool
	chromium    string
	cellTimeout time.Duration
	kernel      string
	jupyter     string
	review      string // notebooks/RESULTS.md to update with the headline rows ("" = none)
	commit      string // the commit the notebooks run at, for the review table
}

func main() {
	var o options
	budgetName := flag.String("budget", os.Getenv(budget.EnvVar), "compute budget: smoke, quick or paper (default $RBT_BUDGET, else quick)")
	flag.StringVar(&o.out, "out", "results", "directory for executed notebooks, HTML, figures, logs and the summary")
	flag.BoolVar(&o.inplace, "inplace", false, "also write each executed notebook back over its source")
	flag.BoolVar(&o.html, "html", true, "render each executed notebook to HTML")
	flag.BoolVar(&o.checkHTML, "check-html", true, "open each HTML report in headless Chromium, network off, and fail on a missing or blank figure or a resource from outside the file (needs -html)")
	flag.StringVar(&o.chromium, "chromium", "", "headless browser for -check-html (default $RBT_CHROMIUM, else chromium on PATH)")
	flag.DurationVar(&o.cellTimeout, "cell-timeout", 0, "per-cell timeout (default: 10m at smoke, 3h otherwise)")
	flag.StringVar(&o.kernel, "kernel", "gonb-rbt", "Jupyter kernel name (installed by .ci/setup.sh)")
	flag.StringVar(&o.jupyter, "jupyter", "", "jupyter executable (default /usr/bin/jupyter, else jupyter on PATH)")
	render := flag.Bool("render", false, "with -review: only rewrite the Markdown table from the CSV beside it (no notebook runs)")
	flag.StringVar(&o.review, "review", "", "update this reviewer's table (e.g. notebooks/RESULTS.md, with RESULTS.csv beside it) with each notebook's headline rows as it finishes; never at smoke")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: nbrun [flags] [notebook.ipynb ...]   (default: notebooks/*.ipynb)")
		flag.PrintDefaults()
	}
	flag.Parse()
	var err error
	if o.budget, err = budget.Parse(*budgetName); err != nil {
		fail(err)
	}
	if *render {
		if o.review == "" {
			fail(errors.New("-render needs -review PATH.md"))
		}
		rows, err := report.ReadReview(reviewCSV(o.review))
		if err != nil {
			fail(err)
		}
		if err := report.WriteReview(reviewCSV(o.review), o.review, rows); err != nil {
			fail(err)
		}
		fmt.Printf("%s: %d rows rewritten from %s\n", o.review, len(rows), reviewCSV(o.review))
		return
	}
	if o.cellTimeout == 0 {
		o.cellTimeout = budget.Pick(o.budget, 10*time.Minute, 3*time.Hour, 6*time.Hour, 72*time.Hour)
	}
	if o.jupyter, err = findJupyter(o.jupyter); err != nil {
		fail(err)
	}
	if o.html && o.checkHTML {
		if o.chromium, err = findChromium(o.chromium); err != nil {
			fail(err)
		}
	}
	paths := flag.Args()
	if len(paths) == 0 {
		if paths, err = filepath.Glob("notebooks/*.ipynb"); err != nil || len(paths) == 0 {
			fail(fmt.Errorf("no notebooks given and none found in ./notebooks (run from the repository root)"))
		}
	}
	if o.review != "" {
		if o.budget == budget.Smoke {
			o.review = "" // smoke figures mean nothing: they never enter the table
		} else if _, err := report.ReadReview(reviewCSV(o.review)); err != nil {
			fail(err) // before hours of training, not after
		}
		o.commit = gitCommit()
	}
	// cpu and paper runs keep their checkpoints in ./runs (git-ignored), so
	// that an interrupted `make reproduce` resumes where it stopped.
	if os.Getenv("RBT_RUNS") == "" && (o.budget == budget.CPU || o.budget == budget.Paper) {
		runs, _ := filepath.Abs("runs")
		os.Setenv("RBT_RUNS", runs)
		fmt.Printf("checkpoints in %s (RBT_RUNS): rerun the same command to resume\n", runs)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := runAll(ctx, o, paths); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "nbrun:", err)
	os.Exit(1)
}

func findJupyter(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	// Debian's jupyter, not a pyenv/venv one that lacks nbclient (STACK.md).
	if _, err := os.Stat("/usr/bin/jupyter"); err == nil {
		return "/usr/bin/jupyter", nil
	}
	if p, err := exec.LookPath("jupyter"); err == nil {
		return p, nil
	}
	return "", errors.New("jupyter not found: run `bash .ci/setup.sh` first (it installs Debian's Jupyter and the GoNB kernel)")
}

// runResult is what one notebook produced.
type runResult struct {
	name    string
	elapsed time.Duration
	figures int
	results []report.Result
	err     error
}

func runAll(ctx context.Context, o options, paths []string) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	start := time.Now()
	var all []runResult
	for i, p := range paths {
		fmt.Printf("[%d/%d] %s (RBT_BUDGET=%s) ...\n", i+1, len(paths), p, o.budget)
		r := runOne(ctx, o, p)
		all = append(all, r)
		status := "ok"
		if r.err != nil {
			status = "FAILED: " + r.err.Error()
		}
		fmt.Printf("[%d/%d] %s: %s in %s, %d figure(s), %d result(s)\n", i+1, len(paths), r.name, status,
			r.elapsed.Round(time.Second), r.figures, len(r.results))
		if o.review != "" && r.err == nil {
			if err := updateReview(o, r); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := writeSummary(o, all); err != nil {
		return err
	}
	failed := 0
	for _, r := range all {
		if r.err != nil {
			failed++
		}
	}
	fmt.Printf("notebooks: %d passed, %d failed (total %s); summary in %s\n",
		len(all)-failed, failed, time.Since(start).Round(time.Second), filepath.Join(o.out, "summary.md"))
	if failed > 0 || len(all) < len(paths) {
		return fmt.Errorf("%d of %d notebooks failed or did not run", len(paths)-(len(all)-failed), len(paths))
	}
	return nil
}

// reviewCSV is the CSV beside the reviewer's Markdown table.
func reviewCSV(md string) string { return strings.TrimSuffix(md, filepath.Ext(md)) + ".csv" }

// updateReview replaces r's rows of this budget in the reviewer's table; at
// cpu and paper it also copies the executed notebook to <table dir>/<budget>/.
func updateReview(o options, r runResult) error {
	var fresh []report.ReviewRow
	date := time.Now().UTC().Format("2006-01-02")
	for _, res := range r.results {
		if res.Headline {
			fresh = append(fresh, report.ReviewRow{Notebook: r.name, Budget: string(o.budget), Commit: o.commit, Date: date, Result: res})
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	rows, err := report.ReadReview(reviewCSV(o.review))
	if err != nil {
		return err
	}
	if err := report.WriteReview(reviewCSV(o.review), o.review, report.UpdateReview(rows, fresh)); err != nil {
		return err
	}
	fmt.Printf("    %s: %d headline rows in %s\n", r.name, len(fresh), o.review)
	if o.budget == budget.CPU || o.budget == budget.Paper {
		// The trained runs' executed notebook (figures, logs) goes beside the
		// table, to be committed with it: the committed notebooks/*.ipynb show
		// quick outputs only.
		dst := filepath.Join(filepath.Dir(o.review), string(o.budget), r.name+".ipynb")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := copyFile(filepath.Join(o.out, r.name+".ipynb"), dst); err != nil {
			return fmt.Errorf("keeping the executed notebook beside the table: %w", err)
		}
		fmt.Printf("    %s: executed notebook in %s\n", r.name, dst)
	}
	return nil
}

// gitCommit is the short commit of the working tree, "+modified" when files
// other than the notebooks and the review table differ from it.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short=10", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	commit := strings.TrimSpace(string(out))
	status, _ := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
	for _, line := range strings.Split(string(status), "\n") {
		if len(line) > 3 && !strings.HasPrefix(line[3:], "notebooks/") {
			return commit + "+modified"
		}
	}
	return commit
}

func runOne(ctx context.Context, o options, path string) (r runResult) {
	r.name = strings.TrimSuffix(filepath.Base(path), ".ipynb")
	start := time.Now()
	defer func() { r.elapsed = time.Since(start) }()
	abs, err := filepath.Abs(path)
	if err != nil {
		r.err = err
		return r
	}
	if _, err := readNotebook(abs); err != nil {
		r.err = err
		return r
	}
	outAbs, err := filepath.Abs(o.out)
	if err != nil {
		r.err = err
		return r
	}
	executed := filepath.Join(outAbs, r.name+".ipynb")
	resultsFile := filepath.Join(outAbs, r.name+".results.jsonl")
	logFile := filepath.Join(outAbs, r.name+".log")
	os.Remove(executed)
	os.Remove(resultsFile)

	log, err := os.Create(logFile)
	if err != nil {
		r.err = err
		return r
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, o.jupyter, "nbconvert", "--to", "notebook", "--execute",
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", int(o.cellTimeout.Seconds())),
		"--ExecutePreprocessor.kernel_name="+o.kernel,
		"--output", executed, abs)
	cmd.Dir = filepath.Dir(abs) // GoNB starts in the notebook's folder (GONB_DIR).
	cmd.Env = append(os.Environ(),
		budget.EnvVar+"="+string(o.budget),
		report.ResultsFileEnv+"="+resultsFile,
		"PYDEVD_DISABLE_FILE_VALIDATION=1")
	cmd.Stdout, cmd.Stderr = log, log
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		r.err = fmt.Errorf("starting %s: %w", o.jupyter, err)
		return r
	}
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			fmt.Printf("    %s: running, %s elapsed\n", r.name, time.Since(start).Round(time.Second))
		}
	}
	if err != nil {
		r.err = fmt.Errorf("execution failed (%v); last lines of %s:\n%s", err, logFile, tail(logFile, 25))
		return r
	}
	nb, err := readNotebook(executed)
	if err != nil {
		r.err = err
		return r
	}
	errs, figs := check(nb)
	r.figures = len(figs)
	if len(errs) > 0 {
		r.err = fmt.Errorf("error output in %s:\n  %s", executed, strings.Join(errs, "\n  "))
		return r
	}
	if len(figs) == 0 {
		r.err = fmt.Errorf("%s produced no figure (image/png or image/svg+xml output)", path)
		return r
	}
	if err := saveFigures(outAbs, r.name, figs); err != nil {
		r.err = err
		return r
	}
	if _, err := os.Stat(resultsFile); err == nil {
		if r.results, err = report.ReadFile(resultsFile); err != nil {
			r.err = err
			return r
		}
	}
	if o.html {
		html := exec.CommandContext(ctx, o.jupyter, "nbconvert", "--to", "html", "--output", filepath.Join(outAbs, r.name+".html"), executed)
		html.Stdout, html.Stderr = log, log
		if err := html.Run(); err != nil {
			r.err = fmt.Errorf("HTML conversion of %s failed (%v); see %s", executed, err, logFile)
			return r
		}
		if o.checkHTML {
			if err := checkHTML(ctx, o.chromium, filepath.Join(outAbs, r.name+".html"), len(figs)); err != nil {
				r.err = err
				return r
			}
		}
	}
	if o.inplace {
		if err := copyFile(executed, abs); err != nil {
			r.err = err
		}
	}
	return r
}

func saveFigures(dir, name string, figs []figure) error {
	figDir := filepath.Join(dir, "figures")
	if err := os.MkdirAll(figDir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(figDir, name+"-*"))
	for _, f := range old {
		os.Remove(f)
	}
	for i, f := range figs {
		ext := ".png"
		if f.Mime == "image/svg+xml" {
			ext = ".svg"
		}
		if err := os.WriteFile(filepath.Join(figDir, fmt.Sprintf("%s-%02d%s", name, i+1, ext)), f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// copyFile writes src over dst atomically (temp file + rename).
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// klogLine matches the kernel's log lines (I1128 23:54:21.123 ...), left out
// of the error excerpt so that the cell's own error shows.
var klogLine = regexp.MustCompile(`^[IWEF]\d{4} \d\d:\d\d:\d\d`)

func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if !klogLine.MatchString(l) && strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

func writeSummary(o options, all []runResult) error {
	var rows []report.Result
	nbTable := report.Table{Header: []string{"notebook", "status", "wall time", "figures", "results"}}
	for _, r := range all {
		status := "ok"
		if r.err != nil {
			status = "FAILED"
		}
		nbTable.Rows = append(nbTable.Rows, []string{r.name, status, r.elapsed.Round(time.Second).String(),
			fmt.Sprint(r.figures), fmt.Sprint(len(r.results))})
		for _, res := range r.results {
			if !res.Headline { // headline rows repeat these figures; they go to the reviewer's table
				rows = append(rows, res)
			}
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Experiment < rows[j].Experiment })
	var md strings.Builder
	fmt.Fprintf(&md, "# rbt results (RBT_BUDGET=%s, %s)\n\n", o.budget, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	md.WriteString("Every value below was recorded by the notebook that computed it; `source` says where it comes from.\n\n")
	md.WriteString(report.ResultsTable(rows).Markdown())
	md.WriteString("\n## Notebooks\n\n")
	md.WriteString(nbTable.Markdown())
	md.WriteString("\nFigures are in `figures/`, executed notebooks and their HTML beside this file.\n")
	if err := os.WriteFile(filepath.Join(o.out, "summary.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"experiment", "model", "metric", "value", "source"})
	for _, r := range rows {
		cw.Write([]string{r.Experiment, r.Model, r.Metric, report.FormatValue(r.Value), r.Source})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(o.out, "summary.csv"), buf.Bytes(), 0o644)
}

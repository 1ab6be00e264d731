package experiments

// The char-LM experiments' tables, verdicts and recorded results.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/rbt-project/rbt/rbt/report"
	"github.com/rbt-project/rbt/rbt/summary"
)

// Table is the results table: model, precision, weight memory of the
// quantized matrices, valid and test BPC in both inference modes, steps and
// source; then the cited comparison points METHOD.md lists for the task.
func (r *CharLMResult) Table() report.Table {
	c := r.Config
	evalSet := func(n int) string {
		if n == 0 {
			return "whole split"
		}
		return fmt.Sprintf("first %s chars", summary.FormatInt(int64(n)))
	}
	src := fmt.Sprintf("%s; valid: %s, test: %s", report.Measured(string(c.Budget)), evalSet(c.ValidChars), evalSet(c.TestChars))
	if r.Data.Note != "" {
		src += "; " + r.Data.Label
	}
	t := report.Table{Header: []string{"model", "precision", "weight memory", "valid BPC (code)", "valid BPC (deploy)",
		"test BPC (code)", "test BPC (deploy)", "steps (best / run)", "source"}}
	for _, run := range r.Runs {
		name := run.Model.Label
		if run.Diverged != "" {
			name += fmt.Sprintf(" (diverged at step %d: scores of its step-%d weights)", run.DivergedStep, run.BestStep)
		}
		t.Rows = append(t.Rows, []string{name, run.Model.Precision().String(), summary.FormatKB(run.WeightBytes),
			bpc(run.Valid["code"]), bpc(run.Valid["deploy"]), bpc(run.Test["code"]), bpc(run.Test["deploy"]),
			fmt.Sprintf("%d / %d", run.BestStep, run.Steps), src})
	}
	for _, row := range citedCharLM(c.Task) {
		t.Rows = append(t.Rows, row)
	}
	return t
}

func bpc(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", v)
}

// citedCharLM are the comparison rows METHOD.md gives for a task (never
// invented: the paper's own table values were not available here).
func citedCharLM(task string) [][]string {
	na := "paper value not available here"
	rows := [][]string{{"BN binary / ternary LSTM (the paper's table)", "binary / ternary", "", "", "", na, "", "", "Ardakani et al., ICLR 2019"}}
	switch task {
	case TaskPTBChar:
		rows = append(rows, []string{"BN-LSTM 1x1000, full precision", "float32", "16,800 KB", "", "", "1.32", "", "",
			"Cooijmans et al., ICLR 2017: the commonly quoted figure, not checked here (METHOD.md)"})
	case TaskText8:
		rows = append(rows, []string{"BN-LSTM 1x2000, full precision", "float32", "64,864 KB", "", "", "1.36", "", "",
			"Cooijmans et al., ICLR 2017, as listed by public leaderboards (METHOD.md)"})
	}
	return rows
}

// Experiment is the name results are recorded under, e.g. "PTB char".
func (r *CharLMResult) Experiment() string {
	switch r.Config.Task {
	case TaskPTBChar:
		return "PTB char"
	case TaskWarAndPeace:
		return "War and Peace"
	case TaskLinux:
		if r.Data.Note != "" {
			return "Linux (stand-in)"
		}
		return "Linux"
	case TaskText8:
		if r.Data.Note != "" {
			return "text8 (sample)"
		}
		return "text8"
	}
	return r.Config.Task
}

// Claims compares the measured test BPC with the paper's claim (binary and
// ternary BN-LSTMs "close to" full precision; without normalization,
// training fails), made testable by thresholds that are this project's own,
// not the paper's (the targets of notebooks/RESULTS.md): BN ternary within 3% and BN binary
// within 6% of the full-precision BN-LSTM, the no-BN models at least 20% higher. Each line gives the
// figures, whether this run agrees, and when a model diverged, at which step
// and which weights were scored.
func (r *CharLMResult) Claims() []string {
	ref := r.Run("bn-fp")
	if ref == nil {
		return []string{"no full-precision BN-LSTM in this run: nothing to compare with"}
	}
	var out []string
	// A mode in which the full-precision BN-LSTM scores worse than the LSTM
	// without BN says more about BN's population statistics than about the
	// weights' precision: its comparisons are inconclusive, not agreements.
	weak := map[string]bool{}
	if noBN := r.Run("fp"); noBN != nil {
		for _, mode := range []string{"code", "deploy"} {
			if ref.Test[mode] > noBN.Test[mode] {
				weak[mode] = true
				out = append(out, fmt.Sprintf("BN-LSTM, full precision: test BPC (%s) %.3f is WORSE than the LSTM without BN (%.3f): the %s-mode comparisons below are inconclusive",
					mode, ref.Test[mode], noBN.Test[mode], mode))
			}
		}
	}
	check := func(name, want string, ok func(ratio float64) bool) {
		run := r.Run(name)
		if run == nil {
			return
		}
		for _, mode := range []string{"code", "deploy"} {
			v, b := run.Test[mode], ref.Test[mode]
			ratio := v / b
			verdict := "agrees"
			if !ok(ratio) {
				verdict = "DISAGREES"
			}
			if weak[mode] {
				verdict = "INCONCLUSIVE (the BN-LSTM it is measured against is worse than the no-BN LSTM)"
			}
			div := ""
			if run.Diverged != "" {
				div = fmt.Sprintf(" [training diverged at step %d; scored at step %d: not a trained result]", run.DivergedStep, run.BestStep)
				if ok(ratio) {
					verdict = "NOT A TRAINED RESULT"
				}
			}
			out = append(out, fmt.Sprintf("%s: test BPC (%s) %.3f vs BN-LSTM %.3f: %+.1f%% (project's check: %s) -> %s%s",
				run.Model.Label, mode, v, b, 100*(ratio-1), want, verdict, div))
		}
	}
	check("bn-binary", fmt.Sprintf("within %g%%", targetBinaryPct), func(x float64) bool { return x <= 1+targetBinaryPct/100 })
	check("bn-ternary", fmt.Sprintf("within %g%%", targetTernaryPct), func(x float64) bool { return x <= 1+targetTernaryPct/100 })
	check("bc", "at least 20% higher", func(x float64) bool { return x >= 1.20 })
	check("tc", "at least 20% higher (no-BN ablation)", func(x float64) bool { return x >= 1.20 })
	check("binary", "at least 20% higher (the no-BN ablation at the BN binary LSTM's scale)", func(x float64) bool { return x >= 1.20 })
	return out
}

// Record reports every measured figure (report.Record).
func (r *CharLMResult) Record() error { return report.Record(r.Results()...) }

// Results lists every measured figure: valid and test BPC in both modes and
// the weight memory of each model, and the ratios of the claims.
func (r *CharLMResult) Results() []report.Result {
	src := report.Measured(string(r.Config.Budget))
	exp := r.Experiment()
	var rs []report.Result
	for _, run := range r.Runs {
		m := fmt.Sprintf("%s 1x%d", run.Model.Label, r.Config.Hidden)
		for _, mode := range []string{"code", "deploy"} {
			rs = append(rs,
				report.Result{Experiment: exp, Model: m, Metric: "valid BPC (" + mode + ")", Value: run.Valid[mode], Source: src},
				report.Result{Experiment: exp, Model: m, Metric: "test BPC (" + mode + ")", Value: run.Test[mode], Source: src})
		}
		rs = append(rs, report.Result{Experiment: exp, Model: m, Metric: "weight memory (KB)", Value: summary.KB(run.WeightBytes), Source: src})
	}
	if ref := r.Run("bn-fp"); ref != nil {
		for _, name := range []string{"bn-binary", "bn-ternary", "bc", "tc"} {
			if run := r.Run(name); run != nil {
				rs = append(rs, report.Result{Experiment: exp, Model: run.Model.Label,
					Metric: "test BPC (code) / BN-LSTM's", Value: run.Test["code"] / ref.Test["code"], Source: src})
			}
		}
	}
	return rs
}

// WriteFiles writes the results into dir: results.md (settings, table,
// claims, samples), results.json (every run's figures and learning curve),
// curves.png, tradeoff.png and, when its models are present, gates.png.
func (r *CharLMResult) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# Character-level LM: %s\n\n%s\n\n", r.Data.Label, r.Config)
	if r.Data.Note != "" {
		fmt.Fprintf(&md, "**Note:** %s.\n\n", r.Data.Note)
	}
	md.WriteString(r.Table().Markdown())
	md.WriteString("\n")
	for _, line := range r.Claims() {
		fmt.Fprintf(&md, "- %s\n", line)
	}
	if r.Run("bn-binary") != nil {
		if lines, err := r.Samples("bn-binary", 3, 200, 0.8); err == nil {
			md.WriteString("\nSamples from the BN binary LSTM (deploy form, packed engine, temperature 0.8; prime ⟶ sample):\n\n")
			for _, l := range lines {
				fmt.Fprintf(&md, "    %s\n", l)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	type runJSON struct {
		Model                          string
		Quantizer, Normalization       string
		WeightBytes, Weights           int64
		Steps, BestStep                int64
		Valid, Test                    map[string]float64
		Diverged                       string
		TrainSeconds, EvalSeconds      float64
		CharsSeen, ValidBPC, TrainNats []float64
	}
	var runs []runJSON
	for _, run := range r.Runs {
		j := runJSON{Model: run.Model.Name, Quantizer: run.Model.Quantizer, Normalization: run.Model.Normalization.String(),
			WeightBytes: run.WeightBytes, Weights: run.Weights, Steps: run.Steps, BestStep: run.BestStep,
			Valid: run.Valid, Test: run.Test, Diverged: run.Diverged, TrainSeconds: run.TrainSeconds, EvalSeconds: run.EvalSeconds}
		for _, p := range run.History.Valid() {
			j.CharsSeen = append(j.CharsSeen, float64(p.Examples))
			j.ValidBPC = append(j.ValidBPC, p.Valid)
			j.TrainNats = append(j.TrainNats, p.TrainLoss)
		}
		runs = append(runs, j)
	}
	js, err := json.MarshalIndent(map[string]any{"config": r.Config, "data": r.Data.Label, "note": r.Data.Note, "runs": runs}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), js, 0o644); err != nil {
		return err
	}
	figs := map[string]func() ([]byte, error){"curves.png": r.CurvesFigure, "tradeoff.png": r.TradeoffFigure}
	for name, f := range figs {
		png, err := f()
		if err != nil {
			return fmt.Errorf("experiments: %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			return err
		}
	}
	if png, _, err := r.GatesFigure(8); err == nil {
		if err := os.WriteFile(filepath.Join(dir, "gates.png"), png, 0o644); err != nil {
			return err
		}
	}
	return nil
}

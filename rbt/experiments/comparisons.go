package experiments

import (
	"fmt"
	"math"

	"github.com/rbt-project/rbt/rbt/report"
)

// The published figures each notebook shows next to what it measured. Only
// figures with a source are listed (METHOD.md, "Known comparison points");
// the paper's own table values could not be retrieved here, and say so.

const (
	notRetrieved = "not retrieved"
	srcPaper     = "Ardakani et al., ICLR 2019 (the paper's table; its values could not be obtained here, METHOD.md)"
	srcCooijmans = "Cooijmans et al., Recurrent Batch Normalization, ICLR 2017, as listed by public leaderboards (METHOD.md); not checked here"
)

// comparison is one row: a published figure (or notRetrieved) and the figure
// this run measured for the closest model (NaN: not measured in this run).
type comparison struct {
	Model, Metric, Published, Source string
	Measured                         float64
	MeasuredModel                    string // the model of this run it is set against
}

// comparisonTable is the "published next to measured" table of a report.
func comparisonTable(b string, cs []comparison) NamedTable {
	t := report.Table{Header: []string{"published model", "metric", "published", "source", "measured here", "model measured (" + report.Measured(b) + ")"}}
	for _, c := range cs {
		m := "not run"
		if !math.IsNaN(c.Measured) {
			m = fmt.Sprintf("%.3f", c.Measured)
		}
		t.Rows = append(t.Rows, []string{c.Model, c.Metric, c.Published, c.Source, m, c.MeasuredModel})
	}
	return NamedTable{"Published figures next to this run", t}
}

// comparisonRows are the published numeric figures of cs as summary rows,
// with their sources (the measured ones are in the report's rows already).
func comparisonRows(experiment string, cs []comparison) []report.Result {
	var out []report.Result
	for _, c := range cs {
		var v float64
		if _, err := fmt.Sscanf(c.Published, "%g", &v); err == nil {
			out = append(out, report.Result{Experiment: experiment, Model: c.Model + " (published)", Metric: c.Metric, Value: v, Source: c.Source})
		}
	}
	return out
}

func charLMComparisons(r *CharLMResult) []comparison {
	test := func(name string) (float64, string) {
		if run := r.Run(name); run != nil {
			return run.Test["deploy"], fmt.Sprintf("%s 1x%d, deploy mode", run.Model.Label, r.Config.Hidden)
		}
		return math.NaN(), ""
	}
	var cs []comparison
	add := func(model, published, source, name string) {
		v, m := test(name)
		cs = append(cs, comparison{model, "test BPC", published, source, v, m})
	}
	switch r.Config.Task {
	case TaskPTBChar:
		add("BN-LSTM 1x1000, full precision", "1.32", srcCooijmans, "bn-fp")
	case TaskText8:
		add("BN-LSTM 1x2000, full precision", "1.36", srcCooijmans, "bn-fp")
	}
	add("BN binary LSTM (this paper)", notRetrieved, srcPaper, "bn-binary")
	add("BN ternary LSTM (this paper)", notRetrieved, srcPaper, "bn-ternary")
	return cs
}

func gruComparisons(r *GRUResult) []comparison {
	var cs []comparison
	for _, run := range r.Char {
		cs = append(cs, comparison{run.Model.Label + " on PTB characters", "test BPC", notRetrieved, srcPaper,
			run.Test["deploy"], fmt.Sprintf("%s 1x%d, deploy mode", run.Model.Label, r.Config.Char.Hidden)})
	}
	return cs
}

func wordLMComparisons(r *WordLMResult) []comparison {
	var cs []comparison
	for _, name := range []string{"bn-fp", "bn-binary", "bn-ternary"} {
		if run := r.Run(name); run != nil {
			cs = append(cs, comparison{run.Model.Label + ", 1x300", "test perplexity", notRetrieved, srcPaper,
				run.Test["deploy"], fmt.Sprintf("%s, deploy mode", r.ModelLabel(run))})
		}
	}
	return cs
}

func seqMNISTComparisons(r *SeqMNISTResult) []comparison {
	find := func(name string, permuted bool) (float64, string) {
		for _, run := range r.Runs {
			if run.Model.Name == name && run.Permuted == permuted {
				return 100 * run.TestDeploy, run.Label() + fmt.Sprintf(", %dx%d pixels, deploy mode", r.Config.Side, r.Config.Side)
			}
		}
		return math.NaN(), ""
	}
	var cs []comparison
	add := func(model, published, source, name string, permuted bool) {
		v, m := find(name, permuted)
		cs = append(cs, comparison{model, "test accuracy %", published, source, v, m})
	}
	add("BN-LSTM 1x100, full precision, raster order", "99.0", srcCooijmans, "bn-fp", false)
	add("BN-LSTM 1x100, full precision, permuted pixels", "95.4",
		srcCooijmans+"; permuted MNIST is Cooijmans et al.'s variant: the authors' code has raster order only", "bn-fp", true)
	add("BN binary LSTM 1x100 (this paper)", notRetrieved, srcPaper, "bn-binary", false)
	add("BN ternary LSTM 1x100 (this paper)", notRetrieved, srcPaper, "bn-ternary", false)
	return cs
}

func qaComparisons(r *QAResult) []comparison {
	var cs []comparison
	for _, run := range r.Runs {
		cs = append(cs, comparison{run.Model.Label + " Attentive Reader on CNN", "test accuracy %", notRetrieved, srcPaper,
			100 * run.TestDeploy, run.Model.Label + " on " + r.Data + ", deploy mode"})
	}
	return cs
}

func packedComparisons(r *PackedResult) []comparison {
	var cs []comparison
	for _, m := range r.Models {
		cs = append(cs, comparison{"the paper's accelerator, binary/ternary weights", "weight memory, float32 / packed",
			"up to 12x (on custom hardware)", "Ardakani et al., ICLR 2019, abstract",
			float64(m.Memory.Float32Bytes) / float64(m.Memory.PackedBytes),
			fmt.Sprintf("BN-%s LSTM 1x%d, packed file", m.Quantizer, r.Config.Train.Hidden)})
	}
	return cs
}

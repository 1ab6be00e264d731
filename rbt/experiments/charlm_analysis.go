package experiments

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/rbt-project/rbt/hwsim"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/plots"
	"github.com/rbt-project/rbt/rbt/summary"
)

// GateValues are samples of the first LSTM layer's gates and states over some
// text: i, f, o (sigmoid gates), g (tanh candidate), c (the un-normalized cell
// state carried between steps) and h, one value per unit and step.
type GateValues struct {
	I, F, O, G, C, H []float64
}

// RecordGates runs the deploy-form model pm (an LSTM with one-hot input, as
// exported by models.ExportCharLM) over consecutive windows of T characters
// of data, each from the learned initial state (as in training and in
// datasets.CharEval), for at most windows windows, in float64 from the
// equations of packed.Layer. It returns the gate values of the first layer at
// every unit and step, and the bits per character of the predictions of
// every character after the first of each window.
//
// This is the measurement behind the paper's Figure 1 (distributions of the
// gates of BinaryConnect vs full-precision LSTMs).
func RecordGates(pm *packed.Model, data []uint8, T, windows int) (*GateValues, float64, error) {
	if err := pm.Validate(); err != nil {
		return nil, 0, err
	}
	if pm.Input != packed.OneHot || pm.Layers[0].Cell != packed.LSTM {
		return nil, 0, errors.New("experiments: RecordGates needs an LSTM with one-hot input")
	}
	if T < 2 || windows < 1 {
		return nil, 0, fmt.Errorf("experiments: RecordGates: T=%d windows=%d, want T >= 2, windows >= 1", T, windows)
	}
	windows = min(windows, (len(data)-1)/T)
	if windows < 1 {
		return nil, 0, fmt.Errorf("experiments: RecordGates: %d characters, fewer than one window of %d", len(data), T+1)
	}
	for k, c := range data[:windows*T+1] {
		if int(c) >= pm.VocabSize() {
			return nil, 0, fmt.Errorf("experiments: RecordGates: symbol %d at offset %d outside the model's %d", c, k, pm.VocabSize())
		}
	}
	n0 := pm.Layers[0].Hidden
	size := windows * T * n0
	gv := &GateValues{I: make([]float64, 0, size), F: make([]float64, 0, size), O: make([]float64, 0, size),
		G: make([]float64, 0, size), C: make([]float64, 0, size), H: make([]float64, 0, size)}
	ref, err := packed.NewStepper64(pm)
	if err != nil {
		return nil, 0, err
	}
	ref.OnLSTMGates = func(layer, _ int, i, f, o, g, c, h float64) {
		if layer == 0 {
			gv.I, gv.F, gv.O, gv.G = append(gv.I, i), append(gv.F, f), append(gv.O, o), append(gv.G, g)
			gv.C, gv.H = append(gv.C, c), append(gv.H, h)
		}
	}
	logits := make([]float64, pm.Classes)
	bits, count := 0.0, 0
	for w := range windows {
		seq := data[w*T : w*T+T+1]
		ref.Reset()
		for t := range T {
			if err := ref.Step(int(seq[t]), nil); err != nil {
				return nil, 0, err
			}
			ref.Logits(logits)
			bits -= hwsim.LogProb2(logits, int(seq[t+1]))
			count++
		}
	}
	return gv, bits / float64(count), nil
}

// SampleText generates n symbols from the deploy-form model pm with the
// packed engine (package packed, the bit-packed inference of the binary and
// ternary weights): it feeds prime, then samples each next symbol from
// softmax(logits/temperature) (temperature 0: the most likely symbol) with a
// seeded generator. Same arguments, same text.
func SampleText(pm *packed.Model, prime []uint8, n int, temperature float64, seed uint64) ([]uint8, error) {
	if len(prime) == 0 {
		return nil, errors.New("experiments: SampleText needs a non-empty prime")
	}
	if temperature < 0 || n < 0 {
		return nil, fmt.Errorf("experiments: SampleText: n=%d temperature=%v, want >= 0", n, temperature)
	}
	e, err := packed.NewEngine(pm)
	if err != nil {
		return nil, err
	}
	st := e.NewState(1)
	logits, probs := make([]float32, e.Classes()), make([]float64, e.Classes())
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]uint8, 0, n)
	next := -1
	for k := 0; k < len(prime)+n; k++ {
		tok := next
		if k < len(prime) {
			tok = int(prime[k])
		} else {
			out = append(out, uint8(tok))
			if len(out) == n {
				break
			}
		}
		if err := e.StepTokens(st, []int{tok}); err != nil {
			return nil, err
		}
		if err := e.Logits(st, logits); err != nil {
			return nil, err
		}
		next = packed.SampleLogits(logits, probs, temperature, rng)
	}
	return out, nil
}

// Samples returns lines of text sampled from the named model of r (see
// SampleText), each primed with test-split text at a different offset (the
// prime is not part of the line). PTB's word-boundary symbol '_' is shown as
// a space and a newline as " | ".
func (r *CharLMResult) Samples(modelName string, lines, length int, temperature float64) ([]string, error) {
	run := r.Run(modelName)
	if run == nil || run.Packed == nil {
		return nil, fmt.Errorf("experiments: no trained model %q", modelName)
	}
	test := r.Data.Corpus.Test
	const primeLen = 20
	var out []string
	for k := range lines {
		off := (k * len(test) / max(lines, 1)) % max(len(test)-primeLen, 1)
		prime := test[off : off+primeLen]
		ids, err := SampleText(run.Packed, prime, length, temperature, r.Config.Seed+uint64(k))
		if err != nil {
			return nil, err
		}
		out = append(out, r.display(prime)+" ⟶ "+r.display(ids))
	}
	return out, nil
}

func (r *CharLMResult) display(ids []uint8) string {
	s := r.Data.Corpus.Decode(ids)
	if r.Data.Corpus.Name == "ptb-char" {
		s = strings.ReplaceAll(s, "_", " ")
	}
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", " | ")
}

// CurvesFigure plots validation BPC (code mode, the validation prefix)
// against characters seen, one line per model.
func (r *CharLMResult) CurvesFigure() ([]byte, error) {
	var series []plots.Series
	for _, run := range r.Runs {
		x, y := run.History.XY()
		series = append(series, plots.Series{Name: run.Model.Label, X: x, Y: y})
	}
	return plots.Lines(plots.Options{Title: fmt.Sprintf("%s: learning curves (budget %s)", r.Data.Label, r.Config.Budget),
		XLabel: "characters seen", YLabel: "validation BPC (code mode)", Width: 7.5 * 72, Height: 5 * 72}, series...)
}

// GapFigure plots each BN model's relative gap to the full-precision
// BN-LSTM, 100 * (BPC / BPC_fp - 1) in validation BPC (code mode), against
// the characters seen; a model trained with several seeds (and the
// reference) is the mean of its seeds at each validation point.
func (r *CharLMResult) GapFigure() ([]byte, error) {
	curve := func(name string) map[int64]float64 {
		runs := r.Seeded[name]
		if len(runs) == 0 {
			if run := r.Run(name); run != nil {
				runs = []*CharLMRun{run}
			}
		}
		sum, n := map[int64]float64{}, map[int64]int{}
		for _, run := range runs {
			for _, p := range run.History.Valid() {
				sum[p.Examples] += p.Valid
				n[p.Examples]++
			}
		}
		for k := range sum {
			if n[k] != len(runs) {
				delete(sum, k) // a point some seeds lack
				continue
			}
			sum[k] /= float64(n[k])
		}
		return sum
	}
	ref := curve("bn-fp")
	if len(ref) == 0 {
		return nil, errors.New("experiments: gap figure: no full-precision BN-LSTM in this run")
	}
	var series []plots.Series
	for _, run := range r.Runs {
		if run.Model.Name == "bn-fp" || run.Model.Normalization.String() == "none" {
			continue
		}
		c := curve(run.Model.Name)
		var s plots.Series
		s.Name = run.Model.Label
		if k := len(r.Seeded[run.Model.Name]); k > 1 {
			s.Name += fmt.Sprintf(" (mean of %d seeds)", k)
		}
		for _, x := range slices.Sorted(maps.Keys(c)) {
			if fp, ok := ref[x]; ok {
				s.X, s.Y = append(s.X, float64(x)), append(s.Y, 100*(c[x]/fp-1))
			}
		}
		if len(s.X) > 0 {
			series = append(series, s)
		}
	}
	if len(series) == 0 {
		return nil, errors.New("experiments: gap figure: no BN model validated at the full-precision model's points")
	}
	series = append(series, plots.Series{Name: "full precision", X: []float64{series[0].X[0], series[0].X[len(series[0].X)-1]}, Y: []float64{0, 0}, Dashed: true})
	return plots.Lines(plots.Options{Title: fmt.Sprintf("%s: gap to the full-precision BN-LSTM (budget %s)", r.Data.Label, r.Config.Budget),
		XLabel: "characters seen", YLabel: "validation BPC above full precision (%)", Width: 7.5 * 72, Height: 4.5 * 72}, series...)
}

// hasGap reports whether GapFigure has something to draw: the full-precision
// BN-LSTM and another BN model.
func (r *CharLMResult) hasGap() bool {
	if r.Run("bn-fp") == nil {
		return false
	}
	for _, run := range r.Runs {
		if run.Model.Name != "bn-fp" && run.Model.Normalization.String() != "none" {
			return true
		}
	}
	return false
}

// TradeoffFigure plots test BPC (code mode) against the weight memory of the
// quantized matrices (log scale): full precision, no-BN binary/ternary, this
// paper's BN binary/ternary and the k-bit points.
func (r *CharLMResult) TradeoffFigure() ([]byte, error) {
	var pts []plots.Labeled
	for _, run := range r.Runs {
		v := run.Test["code"]
		if math.IsNaN(v) || math.IsInf(v, 0) || run.WeightBytes <= 0 {
			continue
		}
		group := 0
		switch {
		case run.Model.TradeOff:
			group = 3
		case run.Model.Quantizer == "fp":
			group = 0
		case run.Model.Normalization.String() == "none":
			group = 1
		default:
			group = 2
		}
		label := run.Model.Name
		if run.Diverged != "" {
			label += fmt.Sprintf(" (diverged, step %d)", run.BestStep)
		} else if run.Steps != r.Config.Steps && r.Config.Steps > 0 {
			label += fmt.Sprintf(" (%d steps)", run.Steps)
		}
		pts = append(pts, plots.Labeled{Label: label, X: summary.KB(run.WeightBytes), Y: v, Group: group})
	}
	return plots.Scatter(plots.Options{Title: fmt.Sprintf("%s: accuracy vs weight memory (budget %s)", r.Data.Label, r.Config.Budget),
		XLabel: "weight memory of Wx, Wh (KB, log scale)", YLabel: "test BPC (code mode)", LogX: true, Width: 7 * 72, Height: 4.5 * 72}, pts)
}

// GateModels are the models of the Figure 1 analogue, in plot order.
var GateModels = []string{"bc", "fp", "bn-binary"}

// GatesFigure draws the Figure 1 analogue: densities of i, f, o, g, c and h of
// the first layer over the first windows windows of the test split, for the
// BinaryConnect LSTM, the full-precision LSTM (both without BN) and the BN
// binary LSTM (whichever of them r has), in deploy form (deterministic
// weights, population statistics). It returns the figure and the gate
// values by model.
func (r *CharLMResult) GatesFigure(windows int) ([]byte, map[string]*GateValues, error) {
	vals := map[string]*GateValues{}
	var names []string
	for _, name := range GateModels {
		run := r.Run(name)
		if run == nil || run.Packed == nil {
			continue
		}
		gv, _, err := RecordGates(run.Packed, r.Data.Corpus.Test, r.Config.SeqLen, windows)
		if err != nil {
			return nil, nil, fmt.Errorf("experiments: gates of %s: %w", name, err)
		}
		vals[name] = gv
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, nil, errors.New("experiments: none of the Figure 1 models (bc, fp, bn-binary) was trained")
	}
	panels := []plots.Histogram{{Title: "input gate i"}, {Title: "forget gate f"}, {Title: "output gate o"},
		{Title: "candidate g"}, {Title: "cell state c"}, {Title: "hidden state h"}}
	for _, name := range names {
		gv := vals[name]
		label := r.Run(name).Model.Label
		for k, v := range [][]float64{gv.I, gv.F, gv.O, gv.G, gv.C, gv.H} {
			panels[k].Series = append(panels[k].Series, plots.Series{Name: label, Y: roundF32(v)})
		}
	}
	png, err := plots.Histograms(plots.Options{Title: "Figure 1 analogue", XLabel: "value", YLabel: "density",
		Width: 11 * 72, Height: 6.5 * 72}, 3, panels)
	return png, vals, err
}

// roundF32 rounds values to float32 precision. gonum's histogram binning
// (plot v0.17.0, plotter.binPoints) panics with "bin=n" on a value a few ulps
// below the maximum (e.g. a saturated gate at 0.9999999999999999 next to
// 1.0); on the float32 grid no value is that close to the maximum.
func roundF32(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(float32(x))
	}
	return out
}

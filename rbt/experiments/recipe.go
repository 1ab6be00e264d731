package experiments

import (
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/quant"
	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/summary"
)

// Recipe is one model of an experiment: which recurrent cell, how its input
// and recurrent matrices Wx, Wh are quantized, and how its pre-activations
// are normalized. Every experiment lists its models as Recipes; the model
// code (rbt/models) turns a Recipe into a network, whatever the task.
type Recipe struct {
	Name  string // short name, unique in its list, e.g. "bn-binary" (rbt train -model)
	Label string // for tables and plots, e.g. "BN binary LSTM (this paper)"
	Cell  recurrent.Cell
	// Quantizer is the rbt/quant registry name of Wx and Wh ("fp", "binary",
	// "ternary", "bc", "tc", "twn", "k3", ...): any registered quantizer.
	Quantizer     string
	Normalization recurrent.Normalization
	// ClipLatent clips the Adam step of the latent Wx, Wh to [-W0, W0]
	// element-wise, as the authors' code does for its binary (and, in the
	// char-LM scripts, ternary) runs (METHOD.md, "Optimizer"); each
	// experiment's list sets it as that experiment's script does.
	ClipLatent bool
	// TradeOff marks a point of the accuracy/memory trade-off plot (the k-bit
	// models), which some budgets train for fewer steps.
	TradeOff bool
}

// Precision is the storage precision of the recipe's quantized matrices, for
// the weight-memory columns (package summary).
func (r Recipe) Precision() summary.Precision { return quantizerPrecision(r.Quantizer) }

// NoBNGradientClip is the element-wise gradient clip of the quantized models
// without normalization (optim's AdamConfig.ClipGradient; char-rnn's value):
// without it BinaryConnect's back-propagation through time explodes (~1e26 at
// step 1) and overflows Adam's second moment.
const NoBNGradientClip = 5

// Adam is the recipe's optimizer at learning rate lr: the step of Wx, Wh
// clipped to [-W0, W0] for the BN binary/ternary recipe (ClipLatent),
// gradients clipped element-wise for the quantized no-BN ablations, and the
// latent weights bounded for the quantizers that ask for it (BinaryConnect
// and ternary connect: [-1, 1]).
func (r Recipe) Adam(lr float64) optimizer.Interface { return r.AdamWith(lr, 0) }

// AdamWith is Adam with the step of the latent Wx, Wh multiplied by
// latentScale (optim.AdamConfig.LatentStepScale; 0 or 1: as Adam).
func (r Recipe) AdamWith(lr, latentScale float64) optimizer.Interface {
	opt := optim.Adam().LearningRate(lr).ClipLatent(r.ClipLatent).LatentStepScale(latentScale)
	if r.Normalization == recurrent.None && r.Quantizer != "fp" {
		opt.ClipGradient(NoBNGradientClip)
	}
	if q, err := quant.Lookup(r.Quantizer); err == nil && q.LatentBound > 0 {
		opt.LatentBound(q.LatentBound)
	}
	return opt.Done()
}

// Quantized reports whether the recipe's Wx, Wh are stored below full
// precision (the quantizer registry's bit width), the models that the
// options beyond the paper's recipe (latent-weight scale, distillation)
// apply to.
func (r Recipe) Quantized() (bool, error) {
	q, err := quant.Lookup(r.Quantizer)
	if err != nil {
		return false, fmt.Errorf("experiments: model %s: %w", r.Name, err)
	}
	return q.Bits < 32, nil
}

// Validate checks that the quantizer is registered and the cell known.
func (r Recipe) Validate() error {
	if _, err := quant.Lookup(r.Quantizer); err != nil {
		return fmt.Errorf("experiments: model %s: %w", r.Name, err)
	}
	if r.Cell != recurrent.LSTM && r.Cell != recurrent.GRU {
		return fmt.Errorf("experiments: model %s: unknown cell %v", r.Name, r.Cell)
	}
	return nil
}

// quantizerPrecision maps a quantizer to its weight-memory precision.
func quantizerPrecision(name string) summary.Precision {
	q := quant.MustLookup(name)
	switch {
	case q.Bits >= 32:
		return summary.Float32
	case q.Bits == 1:
		return summary.Binary
	case q.Bits == 2 && q.Kind == packed.Ternary:
		return summary.Ternary
	default:
		return summary.KBit(q.Bits)
	}
}

// lookupRecipe returns the recipe of list whose name (case-insensitive) is
// want; else, for a name made of a registered quantizer ("bn-twn", "k3"),
// the recipe QuantizerRecipe builds; else an error that lists the names.
func lookupRecipe(kind string, list []Recipe, want string) (Recipe, error) {
	for _, r := range list {
		if strings.EqualFold(r.Name, want) {
			return r, nil
		}
	}
	cell := recurrent.LSTM
	if len(list) > 0 && list[0].Cell != 0 {
		cell = list[0].Cell
	}
	if r, err := QuantizerRecipe(cell, want); err == nil {
		return r, nil
	}
	return Recipe{}, fmt.Errorf("experiments: unknown %s model %q (known: %s; or any quantizer of rbt/quant as <q> or bn-<q>: %s)",
		kind, want, strings.Join(recipeNames(list), ", "), strings.Join(quant.Names(), ", "))
}

// QuantizerRecipe is the recipe of a model named after a registered
// quantizer: "bn-<q>" has per-time-step BN, "<q>" none. The Adam step of the
// latent weights is clipped for the binary and ternary quantizers, as the
// authors' code does for its binary and ternary runs.
func QuantizerRecipe(cell recurrent.Cell, name string) (Recipe, error) {
	q, norm, label := strings.ToLower(name), recurrent.None, ", no BN"
	if rest, ok := strings.CutPrefix(q, "bn-"); ok {
		q, norm, label = rest, recurrent.PerStepBN, ", per-step BN"
	}
	qz, err := quant.Lookup(q)
	if err != nil {
		return Recipe{}, err
	}
	clip := qz.Bits < 32 && (qz.Kind == packed.Binary || qz.Kind == packed.Ternary)
	return Recipe{Name: strings.ToLower(name), Label: fmt.Sprintf("%s %s%s", strings.ToUpper(cellName(cell)), q, label),
		Cell: cell, Quantizer: q, Normalization: norm, ClipLatent: clip}, nil
}

// recipeNames returns the short names of list, in order.
func recipeNames(list []Recipe) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.Name
	}
	return out
}

// runeStrings turns an alphabet into the one-character strings of a packed
// model's vocabulary.
func runeStrings(rs []rune) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// formatBytes writes a memory size in bytes below 10,000 bytes and in KB above.
func formatBytes(n int64) string {
	if n < 10000 {
		return fmt.Sprintf("%s B", summary.FormatInt(n))
	}
	return summary.FormatKB(n)
}

// LookupModel returns the recipe of list named name (case-insensitive), or
// one built from a quantizer name (QuantizerRecipe); kind names the list in
// the error, which lists the known names.
func LookupModel(kind string, list []Recipe, name string) (Recipe, error) {
	return lookupRecipe(kind, list, name)
}

// MustModels returns the recipes of list named names (LookupModel), or
// panics with the lookup's error; for the settings cell of a notebook.
func MustModels(list []Recipe, names ...string) []Recipe {
	var out []Recipe
	for _, n := range names {
		r, err := LookupModel("", list, n)
		if err != nil {
			panic(err)
		}
		out = append(out, r)
	}
	return out
}

// accuracyCell formats an accuracy in [0, 1] as a percentage for a table,
// "diverged" for NaN (a run scored without trained weights).
func accuracyCell(v float64) string {
	if math.IsNaN(v) {
		return "diverged"
	}
	return fmt.Sprintf("%.2f %%", 100*v)
}

package recurrent

import (
	"fmt"
	"strings"

	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/quant"
)

// Cell is the recurrent cell type, shared with the packed (deploy) model.
type Cell = packed.CellKind

// Cell types.
const (
	LSTM = packed.LSTM // gates g, f, i, o (METHOD.md)
	GRU  = packed.GRU  // gates r, z, n (packed/model.go)
)

// Normalization selects how the products Wx.x_t, Wh.h_{t-1} (and c_t in an
// LSTM) are normalized.
type Normalization int

const (
	// PerStepBN is the recurrent batch normalization of METHOD.md: batch
	// statistics in training, and separate population statistics for every
	// time step (per-step running averages) in deploy mode.
	PerStepBN Normalization = iota
	// SharedBN normalizes with batch statistics in training like PerStepBN,
	// but keeps one population statistic shared by all time steps (the
	// running average of the per-step batch statistics, averaged over steps):
	// the "shared statistics" variant of Cooijmans et al.
	SharedBN
	// None applies no normalization: z = x.Q(Wx) + h.Q(Wh) + bias and
	// h = o*tanh(c) (plain BinaryConnect / TernaryConnect LSTMs).
	None
)

var normNames = map[Normalization]string{PerStepBN: "perstep", SharedBN: "shared", None: "none"}

// String returns "perstep", "shared" or "none".
func (n Normalization) String() string {
	if s, ok := normNames[n]; ok {
		return s
	}
	return fmt.Sprintf("Normalization(%d)", int(n))
}

// ParseNormalization parses "perstep" (also "bn", "per-step"), "shared" or "none".
func ParseNormalization(s string) (Normalization, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "perstep", "per-step", "bn", "per_step":
		return PerStepBN, nil
	case "shared", "shared-bn", "sharedbn":
		return SharedBN, nil
	case "none", "no", "off":
		return None, nil
	}
	return 0, fmt.Errorf("recurrent: unknown normalization %q (want perstep, shared or none)", s)
}

// Inference selects the behaviour outside training (scope.IsTraining(g) false).
type Inference int

const (
	// CodeMode evaluates as the authors' released code does: freshly sampled
	// stochastic weights and the evaluated batch's own statistics.
	CodeMode Inference = iota
	// DeployMode uses the deterministic quantizer (quant.Quantizer.Deploy),
	// per-time-step population statistics (steps beyond the stored ones use the
	// last step's), with BN folded into per-unit scales and shifts so that the
	// products themselves are pure accumulations. With the learned initial
	// state, step 0's recurrent product contributes 0 (as batch
	// normalization makes it in training: it is the same for the whole batch).
	//
	// The population statistics training keeps are running averages of the
	// batch statistics, taken with the stochastic weight samples of binary
	// and ternary models, and lagging behind the weights at the steps few
	// passes reach; the deterministic weights' products have other
	// statistics. On long sequences that costs accuracy (cpu budget:
	// sequential MNIST BN binary 48.8% in deploy mode against 60.1% for the
	// same deterministic weights with batch statistics; the full-precision
	// Attentive Reader 57.1% against 99.6% in code mode). CalibrateMode
	// re-estimates them; the sequential-MNIST and QA experiments do it before
	// scoring (experiments.CalibrationBatches), the language models do not
	// yet (their deploy mode scores better than code mode without it).
	DeployMode
	// CalibrateMode re-estimates the population statistics for DeployMode:
	// it runs the deterministic weights (as DeployMode) with the batch's own
	// statistics (as code mode) and replaces every stored step's population
	// statistics by their mean over the calibration passes (the update count
	// of each step restarts at ResetPopulationCounts). Run the training
	// batches through it after training, outside training (the layer does
	// nothing else differently); deploy mode then folds statistics of the
	// weights it runs, taken with the final weights at every step, instead
	// of running averages over the stochastic samples of training, which lag
	// behind the weights at the steps few passes reach.
	CalibrateMode
)

// String returns "code", "deploy" or "calibrate".
func (m Inference) String() string {
	switch m {
	case CodeMode:
		return "code"
	case DeployMode:
		return "deploy"
	case CalibrateMode:
		return "calibrate"
	}
	return fmt.Sprintf("Inference(%d)", int(m))
}

// ParseInference parses "code", "deploy" or "calibrate".
func ParseInference(s string) (Inference, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "code":
		return CodeMode, nil
	case "deploy":
		return DeployMode, nil
	case "calibrate":
		return CalibrateMode, nil
	}
	return 0, fmt.Errorf("recurrent: unknown inference mode %q (want code, deploy or calibrate)", s)
}

// ParseCell parses "lstm" or "gru".
func ParseCell(s string) (Cell, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "lstm":
		return LSTM, nil
	case "gru":
		return GRU, nil
	}
	return 0, fmt.Errorf("recurrent: unknown cell %q (want lstm or gru)", s)
}

func cellName(c Cell) string {
	if c == GRU {
		return "gru"
	}
	return "lstm"
}

// Constants of the recipe (METHOD.md).
const (
	Epsilon    = 1e-5 // BN epsilon
	GammaInit  = 0.1  // initial value of every BN gamma
	ForgetBias = 1.0  // initial LSTM forget-gate bias
	Momentum   = 0.95 // population statistics: pop = 0.95*pop + 0.05*batch (after a warm-up, bnStats.momentum)
)

// Variable names inside each layer's scope ("layer_0", "layer_1", ...).
// The quantized latent matrices start with quant.LatentPrefix, so the
// optimizer can clip their Adam step to [-W0, W0].
const (
	VarWx     = quant.LatentPrefix + "x" // [d, G*n] latent input weights
	VarWh     = quant.LatentPrefix + "h" // [n, G*n] latent recurrent weights
	VarBias   = "bias"                   // [G*n] full precision
	VarGammaX = "gamma_x"                // [G*n] BN scale of x.Q(Wx)
	VarGammaH = "gamma_h"                // [G*n] BN scale of h.Q(Wh)
	VarGammaC = "gamma_c"                // [n]   BN scale of c (LSTM)
	VarBetaC  = "beta_c"                 // [n]   BN shift of c (LSTM)
	VarH0     = "h0"                     // [n] learned initial hidden state
	VarC0     = "c0"                     // [n] learned initial cell (LSTM)

	// Population statistics (non-trainable), shape [S, width]: S = steps
	// (MaxSteps) for PerStepBN, 1 for SharedBN.
	VarMeanX = "pop_mean_x"
	VarVarX  = "pop_var_x"
	VarMeanH = "pop_mean_h"
	VarVarH  = "pop_var_h"
	VarMeanC = "pop_mean_c"
	VarVarC  = "pop_var_c"
	// VarPopUpdates counts the training passes that updated the layer's
	// population statistics (a scalar): their first updates average instead
	// of applying the 0.95 EMA to the initial 0 / 1 (see Momentum).
	VarPopUpdates = "pop_updates"

	// ParamConfig is the scope parameter (saved in checkpoints) where the
	// builder records its configuration, read back by ExportLayers.
	ParamConfig = "rbt_recurrent"
)

package models

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/training"
)

// NLL is a summed negative log-likelihood over a number of predicted tokens.
type NLL struct {
	Sum   float64 // nats
	Count int     // tokens
}

// Mean is the cross-entropy per token in nats.
func (n NLL) Mean() float64 {
	if n.Count == 0 {
		return math.NaN()
	}
	return n.Sum / float64(n.Count)
}

// Perplexity is exp(Mean()).
func (n NLL) Perplexity() float64 { return math.Exp(n.Mean()) }

// EvalWordLM evaluates m on the store's current variables (built under the
// store's root scope, as train.Trainer does) over every window of ws, in
// m's inference mode (CodeMode: a fresh weight sample and the window's own
// batch statistics per window; DeployMode: deterministic weights and the
// per-step population statistics). The state is carried from window to
// window and starts from zeros, as in training; padded positions of a last,
// shorter window are not counted. maxWindows > 0 stops after that many
// windows (a prefix of every stream, for cheap validation).
//
// The graph is compiled once per call (the Go backend embeds the weights as
// constants in an inference graph, so a graph must not outlive a training
// step).
func EvalWordLM(ctx context.Context, b compute.Backend, store *model.Store, m WordLM, ws *datasets.WordStreams, maxWindows int) (NLL, error) {
	var tot NLL
	if err := m.Validate(); err != nil {
		return tot, err
	}
	n := ws.NumBatches()
	if maxWindows > 0 {
		n = min(n, maxWindows)
	}
	exec, err := model.NewExec(b, store, func(scope *model.Scope, args []*Node) []*Node {
		// The RNG state stays a parameter: code mode draws a new weight
		// sample for every window.
		training.PrepareInference(scope.Store(), args[0].Graph())
		tokens, targets, mask, h0 := args[0], args[1], args[2], args[3]
		var c0 *Node
		if m.IsLSTM() {
			c0 = args[4]
		}
		logits, hT, cT := m.Forward(scope, tokens, h0, c0)
		nll := TokenNLL(logits, targets)
		sum := ReduceAllSum(Mul(ConvertDType(nll, dtypes.Float64), ConvertDType(mask, dtypes.Float64)))
		out := []*Node{sum, hT}
		if cT != nil {
			out = append(out, cT)
		}
		return out
	})
	if err != nil {
		return tot, fmt.Errorf("models: EvalWordLM: %w", err)
	}
	defer exec.Finalize()
	zeros := func() *tensors.Tensor { return tensors.FromShape(shapes.Make(dtypes.Float32, ws.B, m.Hidden)) }
	h, c := zeros(), zeros()
	defer func() {
		_ = h.FinalizeAll()
		_ = c.FinalizeAll()
	}()
	inputs, targets := make([]int32, ws.B*ws.T), make([]int32, ws.B*ws.T)
	mask := make([]float32, ws.B*ws.T)
	for i := range n {
		if err := ctx.Err(); err != nil {
			return tot, fmt.Errorf("models: EvalWordLM: stopped at window %d of %d: %w", i, n, err)
		}
		steps, err := ws.BatchInto(i, inputs, targets)
		if err != nil {
			return tot, fmt.Errorf("models: EvalWordLM: window %d: %w", i, err)
		}
		for r := range ws.B {
			for t := range ws.T {
				mask[r*ws.T+t] = float32(wlmBtoi(t < steps))
			}
		}
		args := []any{
			tensors.FromFlatDataAndDimensions(inputs, ws.B, ws.T),
			tensors.FromFlatDataAndDimensions(targets, ws.B, ws.T),
			tensors.FromFlatDataAndDimensions(mask, ws.B, ws.T), h,
		}
		if m.IsLSTM() {
			args = append(args, c)
		}
		out, err := exec.Call(args...)
		for _, a := range args[:3] {
			_ = a.(*tensors.Tensor).FinalizeAll()
		}
		if err != nil {
			return tot, fmt.Errorf("models: EvalWordLM: window %d: %w", i, err)
		}
		s := tensors.ToScalar[float64](out[0])
		_ = out[0].FinalizeAll()
		_ = h.FinalizeAll()
		h = out[1]
		if m.IsLSTM() {
			_ = c.FinalizeAll()
			c = out[2]
		}
		tot.Sum += s
		tot.Count += ws.B * steps
	}
	if math.IsNaN(tot.Sum) || math.IsInf(tot.Sum, 0) {
		return tot, errors.New("models: EvalWordLM: the loss is not finite")
	}
	return tot, nil
}

func wlmBtoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// PackedWordLMNLL runs a deployed word LM (ExportWordLM) on the packed
// engine e over the windows of ws exactly as EvalWordLM does in deploy mode:
// the B streams advance together, the state (h, c) is carried across
// windows, and the per-step statistics index restarts at every window
// (State.T = 0), as the GoMLX graph's per-window steps do. maxWindows > 0
// stops after that many windows. The cross-entropy is computed in float64.
func PackedWordLMNLL(e *packed.Engine, ws *datasets.WordStreams, maxWindows int) (NLL, error) {
	var tot NLL
	if e.InputKind() != packed.Embedding {
		return tot, fmt.Errorf("models: PackedWordLMNLL: model input is %s, want %s", e.InputKind(), packed.Embedding)
	}
	n := ws.NumBatches()
	if maxWindows > 0 {
		n = min(n, maxWindows)
	}
	V := e.Classes()
	s := e.NewState(ws.B)
	inputs, targets := make([]int32, ws.B*ws.T), make([]int32, ws.B*ws.T)
	tok := make([]int, ws.B)
	logits := make([]float32, ws.B*V)
	for i := range n {
		steps, err := ws.BatchInto(i, inputs, targets)
		if err != nil {
			return tot, fmt.Errorf("models: PackedWordLMNLL: window %d: %w", i, err)
		}
		s.T = 0
		for t := range steps {
			for r := range ws.B {
				tok[r] = int(inputs[r*ws.T+t])
			}
			if err := e.StepTokens(s, tok); err != nil {
				return tot, fmt.Errorf("models: PackedWordLMNLL: window %d step %d: %w", i, t, err)
			}
			if err := e.Logits(s, logits); err != nil {
				return tot, err
			}
			for r := range ws.B {
				row := logits[r*V : (r+1)*V]
				y := int(targets[r*ws.T+t])
				if y < 0 || y >= V {
					return tot, fmt.Errorf("models: PackedWordLMNLL: target %d outside the %d classes", y, V)
				}
				tot.Sum += packed.NLL(row, y)
				tot.Count++
			}
		}
	}
	return tot, nil
}

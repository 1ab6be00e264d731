package hwsim

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/rbt-project/rbt/rbt/packed"
)

// Reference is the project's float64 reference of the deploy-form equations
// of packed.Layer (packed.Stepper64): the yardstick for the fixed-point Sim.
type Reference = packed.Stepper64

// NewReference returns a float64 reference stream of m at t = 0; paramSteps
// caps the statistic blocks the same way as Config.ParamSteps (0: all).
func NewReference(m *packed.Model, paramSteps int) (*Reference, error) {
	r, err := packed.NewStepper64(m)
	if err != nil {
		return nil, fmt.Errorf("hwsim: model: %w", err)
	}
	r.LimitSteps(paramSteps)
	return r, nil
}

// Logits computes the output layer of model m on a last-layer hidden state:
// out[c] = bias[c] + sum_k h[k] * Output[k][c] (float64; the output layer is
// full precision and outside the accelerator). out must have m.Classes.
func Logits(m *packed.Model, h []float64, out []float64) {
	C := m.Classes
	for c := range out[:C] {
		out[c] = float64(m.OutputBias[c])
	}
	for k, v := range h {
		for c, w := range m.Output[k*C : (k+1)*C] {
			out[c] += v * float64(w)
		}
	}
}

// outputLayer is a model's output layer prepared for many calls: weights
// transposed to class-major float64, so each logit is one contiguous dot
// product (EvalTokens calls it once per character).
type outputLayer struct {
	wT   []float64 // Classes x hidden
	bias []float64
}

func newOutputLayer(m *packed.Model) outputLayer {
	C := m.Classes
	hidden := len(m.Output) / C
	o := outputLayer{wT: make([]float64, len(m.Output)), bias: make([]float64, C)}
	for k := range hidden {
		for c := range C {
			o.wT[c*hidden+k] = float64(m.Output[k*C+c])
		}
	}
	for c, b := range m.OutputBias {
		o.bias[c] = float64(b)
	}
	return o
}

// logits sets out[c] = bias[c] + h . wT[c] (gonum's assembly dot product).
func (o *outputLayer) logits(h, out []float64) {
	n := len(h)
	for c, b := range o.bias {
		out[c] = b + floats.Dot(h, o.wT[c*n:(c+1)*n])
	}
}

// LogProb2 is log2 softmax(logits)[target] (packed.NLL in bits).
func LogProb2(logits []float64, target int) float64 {
	return -packed.NLL(logits, target) / math.Ln2
}

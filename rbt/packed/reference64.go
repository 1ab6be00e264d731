package packed

import (
	"errors"
	"fmt"
	"math"
)

// Reference64 runs m on one sequence in float64, straight from the equations
// documented on Layer, with no packing, tables or float32 shortcuts: it is the
// yardstick the engine (and the hardware simulator) are tested against.
// Token models take tokens; Dense models take x (T x Input, row-major).
// It returns the logits after every step, T x Classes.
func Reference64(m *Model, tokens []int, x []float32) ([][]float64, error) {
	s, err := NewStepper64(m) // validates m
	if err != nil {
		return nil, err
	}
	steps := len(tokens)
	if m.Input == Dense {
		d := m.Layers[0].Input
		if len(x)%d != 0 {
			return nil, fmt.Errorf("packed: Reference64: %d features is not a multiple of %d", len(x), d)
		}
		steps = len(x) / d
	} else if x != nil {
		return nil, errors.New("packed: Reference64: token model given features")
	}
	for t, tok := range tokens {
		if tok < 0 || tok >= m.VocabSize() {
			return nil, fmt.Errorf("packed: Reference64: token %d at step %d out of range [0, %d)", tok, t, m.VocabSize())
		}
	}
	out := make([][]float64, steps)
	for t := range steps {
		var tok int
		var in []float32
		if m.Input == Dense {
			d := m.Layers[0].Input
			in = x[t*d : (t+1)*d]
		} else {
			tok = tokens[t]
		}
		if err := s.Step(tok, in); err != nil {
			return nil, err
		}
		out[t] = make([]float64, m.Classes)
		s.Logits(out[t])
	}
	return out, nil
}

func sigm64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func f64(v []float32) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

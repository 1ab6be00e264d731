package packed

import (
	"errors"
	"fmt"
	"math"
)

// MaxDim bounds every size of a model (vocabulary, input width, hidden units,
// statistic blocks, classes). It keeps all derived element counts far from
// integer overflow and lets the decoder reject absurd headers early.
const MaxDim = 1 << 24

// String names the cell kind ("LSTM", "GRU").
func (k CellKind) String() string {
	switch k {
	case LSTM:
		return "LSTM"
	case GRU:
		return "GRU"
	}
	return fmt.Sprintf("CellKind(%d)", uint8(k))
}

// String names the weight kind ("float32", "binary", "ternary").
func (k WeightKind) String() string {
	switch k {
	case Float32:
		return "float32"
	case Binary:
		return "binary"
	case Ternary:
		return "ternary"
	}
	return fmt.Sprintf("WeightKind(%d)", uint8(k))
}

// String names the input kind ("one-hot", "embedding", "dense").
func (k InputKind) String() string {
	switch k {
	case OneHot:
		return "one-hot"
	case Embedding:
		return "embedding"
	case Dense:
		return "dense"
	}
	return fmt.Sprintf("InputKind(%d)", uint8(k))
}

func (k CellKind) valid() bool   { return k == LSTM || k == GRU }
func (k WeightKind) valid() bool { return k >= Float32 && k <= Ternary }
func (k InputKind) valid() bool  { return k >= OneHot && k <= Dense }

// VocabSize is the number of input tokens of a token model: layer 0's Input
// for OneHot, the rows of Embedding for Embedding; 0 for Dense inputs.
func (m *Model) VocabSize() int {
	switch m.Input {
	case OneHot:
		if len(m.Layers) > 0 {
			return m.Layers[0].Input
		}
	case Embedding:
		if m.EmbeddingDim > 0 {
			return len(m.Embedding) / m.EmbeddingDim
		}
	}
	return 0
}

// Validate checks every size and invariant documented on Model and Layer:
// known kinds, chained layer widths, the length of every array, weight values
// in {-1,+1} (Binary) or {-1,0,+1} (Ternary), finite float values, and the
// vocabulary / embedding / output shapes. The error names the first problem
// found, e.g. "layer 1: len(ScaleX) = 12, want Steps*G*n = 3*4*2 = 24".
func (m *Model) Validate() error {
	if m == nil {
		return errors.New("nil model")
	}
	if !m.Input.valid() {
		return fmt.Errorf("unknown input kind %d", uint8(m.Input))
	}
	if len(m.Layers) == 0 {
		return errors.New("model has no layers")
	}
	if len(m.Layers) > MaxDim {
		return fmt.Errorf("model has %d layers, more than %d", len(m.Layers), MaxDim)
	}
	first := m.Layers[0].Input
	switch m.Input {
	case OneHot:
		if m.Vocab != nil && len(m.Vocab) != first {
			return fmt.Errorf("one-hot input: len(Vocab) = %d, but layer 0 has Input = %d (the vocabulary size)", len(m.Vocab), first)
		}
		if m.Embedding != nil || m.EmbeddingDim != 0 {
			return fmt.Errorf("one-hot input: Embedding must be empty (has %d values, EmbeddingDim %d)", len(m.Embedding), m.EmbeddingDim)
		}
	case Embedding:
		if m.EmbeddingDim <= 0 || m.EmbeddingDim > MaxDim {
			return fmt.Errorf("embedding input: EmbeddingDim = %d, want 1..%d", m.EmbeddingDim, MaxDim)
		}
		if m.EmbeddingDim != first {
			return fmt.Errorf("embedding input: EmbeddingDim = %d, but layer 0 has Input = %d", m.EmbeddingDim, first)
		}
		if len(m.Embedding) == 0 || len(m.Embedding)%m.EmbeddingDim != 0 {
			return fmt.Errorf("embedding input: len(Embedding) = %d is not a positive multiple of EmbeddingDim = %d", len(m.Embedding), m.EmbeddingDim)
		}
		if v := len(m.Embedding) / m.EmbeddingDim; v > MaxDim {
			return fmt.Errorf("embedding input: %d embedding rows, more than %d", v, MaxDim)
		}
		if m.Vocab != nil && len(m.Vocab) != len(m.Embedding)/m.EmbeddingDim {
			return fmt.Errorf("embedding input: len(Vocab) = %d, but Embedding has %d rows", len(m.Vocab), len(m.Embedding)/m.EmbeddingDim)
		}
		if err := finite("Embedding", m.Embedding); err != nil {
			return err
		}
	case Dense:
		if m.Embedding != nil || m.EmbeddingDim != 0 {
			return fmt.Errorf("dense input: Embedding must be empty (has %d values, EmbeddingDim %d)", len(m.Embedding), m.EmbeddingDim)
		}
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		if err := l.validate(); err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		if i > 0 && l.Input != m.Layers[i-1].Hidden {
			return fmt.Errorf("layer %d: Input = %d, but layer %d has Hidden = %d", i, l.Input, i-1, m.Layers[i-1].Hidden)
		}
	}
	if m.Classes <= 0 || m.Classes > MaxDim {
		return fmt.Errorf("Classes = %d, want 1..%d", m.Classes, MaxDim)
	}
	n := m.Layers[len(m.Layers)-1].Hidden
	if err := checkLen("Output", len(m.Output), n*m.Classes, "Hidden(last layer)*Classes", n, m.Classes); err != nil {
		return err
	}
	if err := checkLen("OutputBias", len(m.OutputBias), m.Classes, "Classes", m.Classes); err != nil {
		return err
	}
	if err := finite("Output", m.Output); err != nil {
		return err
	}
	return finite("OutputBias", m.OutputBias)
}

func (l *Layer) validate() error {
	if !l.Cell.valid() {
		return fmt.Errorf("unknown cell kind %d", uint8(l.Cell))
	}
	if !l.Weights.valid() {
		return fmt.Errorf("unknown weight kind %d", uint8(l.Weights))
	}
	for _, s := range []struct {
		name string
		v    int
	}{{"Input", l.Input}, {"Hidden", l.Hidden}, {"Steps", l.Steps}} {
		if s.v <= 0 || s.v > MaxDim {
			return fmt.Errorf("%s = %d, want 1..%d", s.name, s.v, MaxDim)
		}
	}
	g, d, n, st := l.Cell.Gates(), l.Input, l.Hidden, l.Steps
	if l.Weights == Float32 {
		if l.WxSign != nil || l.WhSign != nil {
			return errors.New("float32 weights: WxSign and WhSign must be nil")
		}
		if err := checkLen("WxFloat", len(l.WxFloat), d*g*n, "Input*G*Hidden", d, g, n); err != nil {
			return err
		}
		if err := checkLen("WhFloat", len(l.WhFloat), n*g*n, "Hidden*G*Hidden", n, g, n); err != nil {
			return err
		}
		if err := finite("WxFloat", l.WxFloat); err != nil {
			return err
		}
		if err := finite("WhFloat", l.WhFloat); err != nil {
			return err
		}
	} else {
		if l.WxFloat != nil || l.WhFloat != nil {
			return fmt.Errorf("%s weights: WxFloat and WhFloat must be nil", l.Weights)
		}
		if err := checkLen("WxSign", len(l.WxSign), d*g*n, "Input*G*Hidden", d, g, n); err != nil {
			return err
		}
		if err := checkLen("WhSign", len(l.WhSign), n*g*n, "Hidden*G*Hidden", n, g, n); err != nil {
			return err
		}
		if err := checkSigns("WxSign", l.WxSign, l.Weights); err != nil {
			return err
		}
		if err := checkSigns("WhSign", l.WhSign, l.Weights); err != nil {
			return err
		}
	}
	for _, a := range []struct {
		name string
		v    []float32
	}{{"ScaleX", l.ScaleX}, {"ShiftX", l.ShiftX}, {"ScaleH", l.ScaleH}, {"ShiftH", l.ShiftH}} {
		if err := checkLen(a.name, len(a.v), st*g*n, "Steps*G*n", st, g, n); err != nil {
			return err
		}
		if err := finite(a.name, a.v); err != nil {
			return err
		}
	}
	if err := checkLen("H0", len(l.H0), n, "Hidden", n); err != nil {
		return err
	}
	if err := finite("H0", l.H0); err != nil {
		return err
	}
	if l.Cell == GRU {
		if l.ScaleC != nil || l.ShiftC != nil || l.C0 != nil {
			return errors.New("GRU: ScaleC, ShiftC and C0 must be nil")
		}
		return nil
	}
	for _, a := range []struct {
		name string
		v    []float32
	}{{"ScaleC", l.ScaleC}, {"ShiftC", l.ShiftC}} {
		if err := checkLen(a.name, len(a.v), st*n, "Steps*n", st, n); err != nil {
			return err
		}
		if err := finite(a.name, a.v); err != nil {
			return err
		}
	}
	if err := checkLen("C0", len(l.C0), n, "Hidden", n); err != nil {
		return err
	}
	return finite("C0", l.C0)
}

func checkLen(name string, got, want int, formula string, factors ...int) error {
	if got == want {
		return nil
	}
	s := ""
	if len(factors) > 1 {
		for i, f := range factors {
			if i > 0 {
				s += "*"
			}
			s += fmt.Sprint(f)
		}
		s = " = " + s
	}
	return fmt.Errorf("len(%s) = %d, want %s%s = %d", name, got, formula, s, want)
}

func checkSigns(name string, w []int8, kind WeightKind) error {
	for i, v := range w {
		if v == 1 || v == -1 || (v == 0 && kind == Ternary) {
			continue
		}
		return fmt.Errorf("%s[%d] = %d, not a %s weight", name, i, v, kind)
	}
	return nil
}

func finite(name string, v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%s[%d] = %v, want a finite value", name, i, x)
		}
	}
	return nil
}

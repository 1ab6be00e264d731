package hwsim

import (
	"fmt"

	"github.com/rbt-project/rbt/rbt/packed"
)

// LayerShape is what the cycle and energy models need to know about one
// recurrent layer: G = Cell.Gates(), d = Input, n = Hidden.
type LayerShape struct {
	Cell   packed.CellKind `json:"cell"`
	Input  int             `json:"input"`  // d
	Hidden int             `json:"hidden"` // n
	// Steps is the number of per-step folded batch-norm blocks stored (the
	// parameter memory holds Steps*(4*G*n + 2*n) values for an LSTM).
	Steps int `json:"steps"`
	// OneHot: the layer's input is a one-hot token (first layer of a
	// character model); only then can Config.OneHotGather apply.
	OneHot bool `json:"onehot"`
	// ZerosX, ZerosH count the zero weights of Wx and Wh (ternary models);
	// a ternary design skips them (no adder energy, same cycles).
	ZerosX int64 `json:"zeros_x"`
	ZerosH int64 `json:"zeros_h"`
}

// Outputs is G*n, the length of one gate pre-activation vector.
func (l LayerShape) Outputs() int { return l.Cell.Gates() * l.Hidden }

// Weights is the number of recurrent-layer weights G*n*(d+n).
func (l LayerShape) Weights() int64 {
	return int64(l.Outputs()) * int64(l.Input+l.Hidden)
}

// Workload is a stack of recurrent layers run one time step at a time with
// batch 1 (streaming inference). The full-precision output layer (softmax)
// is outside the accelerator and not counted.
type Workload struct {
	Name   string       `json:"name"`
	Layers []LayerShape `json:"layers"`
}

// Validate checks sizes.
func (w Workload) Validate() error {
	if len(w.Layers) == 0 {
		return fmt.Errorf("workload %q: no layers", w.Name)
	}
	for i, l := range w.Layers {
		if l.Cell != packed.LSTM && l.Cell != packed.GRU {
			return fmt.Errorf("workload %q layer %d: unknown cell kind %d", w.Name, i, l.Cell)
		}
		if l.Input < 1 || l.Hidden < 1 || l.Steps < 1 || l.Input > packed.MaxDim || l.Hidden > packed.MaxDim || l.Steps > packed.MaxDim {
			return fmt.Errorf("workload %q layer %d: input %d, hidden %d, steps %d must be in 1..%d", w.Name, i, l.Input, l.Hidden, l.Steps, packed.MaxDim)
		}
		if i > 0 && l.Input != w.Layers[i-1].Hidden {
			return fmt.Errorf("workload %q layer %d: input %d != previous hidden %d", w.Name, i, l.Input, w.Layers[i-1].Hidden)
		}
		if l.OneHot && i > 0 {
			return fmt.Errorf("workload %q layer %d: only the first layer can take one-hot input", w.Name, i)
		}
		if l.ZerosX < 0 || l.ZerosX > int64(l.Input)*int64(l.Outputs()) || l.ZerosH < 0 || l.ZerosH > int64(l.Hidden)*int64(l.Outputs()) {
			return fmt.Errorf("workload %q layer %d: zero counts %d, %d out of range", w.Name, i, l.ZerosX, l.ZerosH)
		}
	}
	return nil
}

// CharLM is a character language model workload: layers stacked LSTM/GRU
// layers of hidden units over a one-hot vocabulary, with steps folded
// statistic blocks and a fraction zeroFrac of zero weights (ternary).
// The paper's PTB model is CharLM("ptb-char", packed.LSTM, 50, 1000, 1, 100, 0).
func CharLM(name string, cell packed.CellKind, vocab, hidden, layers, steps int, zeroFrac float64) Workload {
	w := Workload{Name: name}
	in := vocab
	for i := 0; i < layers; i++ {
		l := LayerShape{Cell: cell, Input: in, Hidden: hidden, Steps: steps, OneHot: i == 0}
		l.ZerosX = int64(zeroFrac * float64(int64(in)*int64(l.Outputs())))
		l.ZerosH = int64(zeroFrac * float64(int64(hidden)*int64(l.Outputs())))
		w.Layers = append(w.Layers, l)
		in = hidden
	}
	return w
}

// WorkloadOf describes a packed model's recurrent layers, counting its zero
// weights. Embedding inputs are dense vectors of EmbeddingDim (the table
// lookup is outside the accelerator).
func WorkloadOf(name string, m *packed.Model) (Workload, error) {
	if m == nil || len(m.Layers) == 0 {
		return Workload{}, fmt.Errorf("workload %q: model has no layers", name)
	}
	w := Workload{Name: name}
	for i := range m.Layers {
		L := &m.Layers[i]
		l := LayerShape{Cell: L.Cell, Input: L.Input, Hidden: L.Hidden, Steps: L.Steps, OneHot: i == 0 && m.Input == packed.OneHot}
		l.ZerosX, l.ZerosH = countZeros(L.WxSign, L.WxFloat), countZeros(L.WhSign, L.WhFloat)
		w.Layers = append(w.Layers, l)
	}
	return w, w.Validate()
}

func countZeros(s []int8, f []float32) int64 {
	var z int64
	for _, v := range s {
		if v == 0 {
			z++
		}
	}
	for _, v := range f {
		if v == 0 {
			z++
		}
	}
	return z
}

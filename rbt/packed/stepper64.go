package packed

import (
	"fmt"
	"math"
)

// Stepper64 runs a Model one step at a time in float64, straight from the
// equations documented on Layer, with no packing, tables or float32
// shortcuts. It is the one float64 reference of the project: Reference64
// runs it over a sequence, the hardware simulator compares its fixed-point
// datapath with it step by step, and the gate-distribution figure records its
// LSTM gates (OnLSTMGates).
type Stepper64 struct {
	m      *Model
	blocks []int // statistic blocks used per layer: Layer.Steps, or fewer (LimitSteps)
	t      int
	h, c   [][]float64

	// OnLSTMGates, when set, receives every unit's gate values of every LSTM
	// layer at every step: i, f, o (sigmoid), g (tanh candidate), the
	// un-normalized cell state c and the output h.
	OnLSTMGates func(layer, unit int, i, f, o, g, c, h float64)
}

// NewStepper64 validates m and returns a stepper at t = 0 with H0, C0.
func NewStepper64(m *Model) (*Stepper64, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	s := &Stepper64{m: m}
	for _, l := range m.Layers {
		s.blocks = append(s.blocks, l.Steps)
		s.h = append(s.h, make([]float64, l.Hidden))
		s.c = append(s.c, make([]float64, l.Hidden))
	}
	s.Reset()
	return s, nil
}

// LimitSteps makes the stepper use at most k per-step statistic blocks per
// layer (step t uses block min(t, k-1)), as hardware that stores only k of
// them would; k <= 0 leaves every layer's own Steps.
func (s *Stepper64) LimitSteps(k int) {
	for i, l := range s.m.Layers {
		s.blocks[i] = l.Steps
		if k > 0 && k < l.Steps {
			s.blocks[i] = k
		}
	}
}

// Reset returns to t = 0 and the initial states H0, C0.
func (s *Stepper64) Reset() {
	s.t = 0
	for i, l := range s.m.Layers {
		for k := range s.h[i] {
			s.h[i][k] = float64(l.H0[k])
			s.c[i][k] = 0
			if l.C0 != nil {
				s.c[i][k] = float64(l.C0[k])
			}
		}
	}
}

// T is the index of the next step.
func (s *Stepper64) T() int { return s.t }

// H returns layer i's hidden state (owned by the stepper).
func (s *Stepper64) H(i int) []float64 { return s.h[i] }

// C returns layer i's cell state (owned by the stepper; zeros for a GRU).
func (s *Stepper64) C(i int) []float64 { return s.c[i] }

// SetState overwrites layer i's h (and c, if non-nil).
func (s *Stepper64) SetState(i int, h, c []float64) {
	copy(s.h[i], h)
	if c != nil {
		copy(s.c[i], c)
	}
}

// Step advances one step. Token models (OneHot, Embedding) take tok and
// ignore x; Dense models take x (Input values) and ignore tok.
func (s *Stepper64) Step(tok int, x []float32) error {
	m := s.m
	var in []float64
	oneHot := -1
	switch m.Input {
	case OneHot, Embedding:
		if tok < 0 || tok >= m.VocabSize() {
			return fmt.Errorf("packed: token %d at step %d out of range [0, %d)", tok, s.t, m.VocabSize())
		}
		if m.Input == OneHot {
			oneHot = tok
		} else {
			e := m.EmbeddingDim
			in = f64(m.Embedding[tok*e : (tok+1)*e])
		}
	case Dense:
		if len(x) != m.Layers[0].Input {
			return fmt.Errorf("packed: step %d has %d input values, want %d", s.t, len(x), m.Layers[0].Input)
		}
		in = f64(x)
	}
	for li := range m.Layers {
		l := &m.Layers[li]
		n := l.Hidden
		gn := l.Cell.Gates() * n
		blk := min(s.t, s.blocks[li]-1)
		ax, ah := make([]float64, gn), make([]float64, gn)
		if oneHot >= 0 {
			addRow(ax, l.WxSign, l.WxFloat, oneHot, gn, 1)
		} else {
			for i, v := range in {
				addRow(ax, l.WxSign, l.WxFloat, i, gn, v)
			}
		}
		h := s.h[li]
		for i, v := range h {
			addRow(ah, l.WhSign, l.WhFloat, i, gn, v)
		}
		preX, preH := ax, ah
		for j := range gn {
			k := blk*gn + j
			preX[j] = float64(l.ScaleX[k])*ax[j] + float64(l.ShiftX[k])
			preH[j] = float64(l.ScaleH[k])*ah[j] + float64(l.ShiftH[k])
		}
		hNew := make([]float64, n)
		if l.Cell == LSTM {
			c := s.c[li]
			for j := range n {
				g := math.Tanh(preX[j] + preH[j])
				f := sigm64(preX[n+j] + preH[n+j])
				i := sigm64(preX[2*n+j] + preH[2*n+j])
				o := sigm64(preX[3*n+j] + preH[3*n+j])
				c[j] = f*c[j] + i*g
				hNew[j] = o * math.Tanh(float64(l.ScaleC[blk*n+j])*c[j]+float64(l.ShiftC[blk*n+j]))
				if s.OnLSTMGates != nil {
					s.OnLSTMGates(li, j, i, f, o, g, c[j], hNew[j])
				}
			}
		} else {
			for j := range n {
				r := sigm64(preX[j] + preH[j])
				z := sigm64(preX[n+j] + preH[n+j])
				mm := math.Tanh(preX[2*n+j] + r*preH[2*n+j])
				hNew[j] = (1-z)*mm + z*h[j]
			}
		}
		copy(h, hNew)
		in, oneHot = h, -1
	}
	s.t++
	return nil
}

// Logits applies the full-precision output layer to the last layer's h:
// out[k] = OutputBias[k] + sum_i h[i]*Output[i][k]; out has Classes values.
func (s *Stepper64) Logits(out []float64) {
	m := s.m
	h := s.h[len(s.h)-1]
	for k := range m.Classes {
		v := float64(m.OutputBias[k])
		for i, hv := range h {
			v += hv * float64(m.Output[i*m.Classes+k])
		}
		out[k] = v
	}
}

// addRow adds scale times row i of a d x cols matrix (signs or floats) to acc.
func addRow(acc []float64, sign []int8, fl []float32, i, cols int, scale float64) {
	if fl != nil {
		for j, w := range fl[i*cols : (i+1)*cols] {
			acc[j] += scale * float64(w)
		}
		return
	}
	for j, w := range sign[i*cols : (i+1)*cols] {
		acc[j] += scale * float64(w)
	}
}

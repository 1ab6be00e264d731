package hwsim

import (
	"fmt"
	"math"

	"github.com/rbt-project/rbt/rbt/packed"
)

// Reference is a plain float64 implementation of the deploy-form equations
// of packed.Layer (the contract in rbt/packed/model.go), written for clarity
// rather than speed: the yardstick for the fixed-point Sim. paramSteps caps
// the statistic blocks the same way as Config.ParamSteps (0: all).
type Reference struct {
	m          *packed.Model
	paramSteps int
	t          int
	h, c       [][]float64
}

// NewReference returns a float64 reference stream of m at t = 0.
func NewReference(m *packed.Model, paramSteps int) (*Reference, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("hwsim: model: %w", err)
	}
	r := &Reference{m: m, paramSteps: paramSteps}
	for _, l := range m.Layers {
		r.h = append(r.h, make([]float64, l.Hidden))
		r.c = append(r.c, make([]float64, l.Hidden))
	}
	r.Reset()
	return r, nil
}

// Reset returns to t = 0 and H0, C0.
func (r *Reference) Reset() {
	r.t = 0
	for i, l := range r.m.Layers {
		for k := range r.h[i] {
			r.h[i][k] = float64(l.H0[k])
			if l.C0 != nil {
				r.c[i][k] = float64(l.C0[k])
			}
		}
	}
}

// SetState overwrites layer i's h (and c for LSTM, if non-nil).
func (r *Reference) SetState(i int, h, c []float64) {
	copy(r.h[i], h)
	if c != nil {
		copy(r.c[i], c)
	}
}

// H returns layer i's hidden state (owned by r).
func (r *Reference) H(i int) []float64 { return r.h[i] }

// C returns layer i's cell state (owned by r).
func (r *Reference) C(i int) []float64 { return r.c[i] }

// Step advances one step. For OneHot and Embedding models tok is the input
// token and x is ignored; for Dense models x is the input.
func (r *Reference) Step(tok int, x []float32) error {
	m := r.m
	var in []float64
	switch m.Input {
	case packed.OneHot:
		if tok < 0 || tok >= m.Layers[0].Input {
			return fmt.Errorf("hwsim: token %d out of range", tok)
		}
		in = make([]float64, m.Layers[0].Input)
		in[tok] = 1
	case packed.Embedding:
		D := m.EmbeddingDim
		if tok < 0 || (tok+1)*D > len(m.Embedding) {
			return fmt.Errorf("hwsim: token %d out of range", tok)
		}
		in = f64(m.Embedding[tok*D : (tok+1)*D])
	default:
		if len(x) != m.Layers[0].Input {
			return fmt.Errorf("hwsim: input of %d values, want %d", len(x), m.Layers[0].Input)
		}
		in = f64(x)
	}
	for li := range m.Layers {
		l := &m.Layers[li]
		G, n := l.Cell.Gates(), l.Hidden
		M := G * n
		steps := l.Steps
		if r.paramSteps > 0 && r.paramSteps < steps {
			steps = r.paramSteps
		}
		s := min(r.t, steps-1)
		accX := refMatVec(l.WxSign, l.WxFloat, in, M)
		accH := refMatVec(l.WhSign, l.WhFloat, r.h[li], M)
		preX, preH := make([]float64, M), make([]float64, M)
		for j := 0; j < M; j++ {
			preX[j] = float64(l.ScaleX[s*M+j])*accX[j] + float64(l.ShiftX[s*M+j])
			preH[j] = float64(l.ScaleH[s*M+j])*accH[j] + float64(l.ShiftH[s*M+j])
		}
		h, c := r.h[li], r.c[li]
		if l.Cell == packed.LSTM {
			for k := 0; k < n; k++ {
				g := math.Tanh(preX[k] + preH[k])
				f := sigmoid(preX[n+k] + preH[n+k])
				i := sigmoid(preX[2*n+k] + preH[2*n+k])
				o := sigmoid(preX[3*n+k] + preH[3*n+k])
				c[k] = f*c[k] + i*g
				h[k] = o * math.Tanh(float64(l.ScaleC[s*n+k])*c[k]+float64(l.ShiftC[s*n+k]))
			}
		} else {
			for k := 0; k < n; k++ {
				rr := sigmoid(preX[k] + preH[k])
				z := sigmoid(preX[n+k] + preH[n+k])
				mm := math.Tanh(preX[2*n+k] + rr*preH[2*n+k])
				h[k] = (1-z)*mm + z*h[k]
			}
		}
		in = h
	}
	r.t++
	return nil
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// refMatVec is in . W for a len(in) x M row-major matrix.
func refMatVec(sign []int8, fl []float32, in []float64, M int) []float64 {
	out := make([]float64, M)
	for k, x := range in {
		if x == 0 {
			continue
		}
		if sign != nil {
			row := sign[k*M : (k+1)*M]
			for j, w := range row {
				out[j] += float64(w) * x
			}
		} else {
			row := fl[k*M : (k+1)*M]
			for j, w := range row {
				out[j] += float64(w) * x
			}
		}
	}
	return out
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
		if v == 0 {
			continue
		}
		row := m.Output[k*C : (k+1)*C]
		for c, w := range row {
			out[c] += v * float64(w)
		}
	}
}

// LogProb2 is log2 softmax(logits)[target].
func LogProb2(logits []float64, target int) float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, v)
	}
	var s float64
	for _, v := range logits {
		s += math.Exp(v - mx)
	}
	return (logits[target] - mx - math.Log(s)) / math.Ln2
}

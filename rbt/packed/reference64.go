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
	if err := m.Validate(); err != nil {
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
	type st struct{ h, c []float64 }
	state := make([]st, len(m.Layers))
	for i, l := range m.Layers {
		state[i].h = f64(l.H0)
		state[i].c = f64(l.C0)
	}
	out := make([][]float64, steps)
	for t := range steps {
		var in []float64
		oneHot := -1
		switch m.Input {
		case OneHot:
			oneHot = tokens[t]
		case Embedding:
			e := m.EmbeddingDim
			in = f64(m.Embedding[tokens[t]*e : (tokens[t]+1)*e])
		case Dense:
			d := m.Layers[0].Input
			in = f64(x[t*d : (t+1)*d])
		}
		for li := range m.Layers {
			l := &m.Layers[li]
			g, n, d := l.Cell.Gates(), l.Hidden, l.Input
			gn := g * n
			wx := func(i, j int) float64 {
				if l.Weights == Float32 {
					return float64(l.WxFloat[i*gn+j])
				}
				return float64(l.WxSign[i*gn+j])
			}
			wh := func(i, j int) float64 {
				if l.Weights == Float32 {
					return float64(l.WhFloat[i*gn+j])
				}
				return float64(l.WhSign[i*gn+j])
			}
			blk := min(t, l.Steps-1)
			preX := make([]float64, gn)
			preH := make([]float64, gn)
			h := state[li].h
			for j := range gn {
				var ax, ah float64
				if oneHot >= 0 && li == 0 {
					ax = wx(oneHot, j)
				} else {
					for i := range d {
						ax += in[i] * wx(i, j)
					}
				}
				for i := range n {
					ah += h[i] * wh(i, j)
				}
				k := blk*gn + j
				preX[j] = float64(l.ScaleX[k])*ax + float64(l.ShiftX[k])
				preH[j] = float64(l.ScaleH[k])*ah + float64(l.ShiftH[k])
			}
			hNew := make([]float64, n)
			if l.Cell == LSTM {
				c := state[li].c
				for j := range n {
					gg := math.Tanh(preX[j] + preH[j])
					f := sigm64(preX[n+j] + preH[n+j])
					i := sigm64(preX[2*n+j] + preH[2*n+j])
					o := sigm64(preX[3*n+j] + preH[3*n+j])
					c[j] = f*c[j] + i*gg
					hNew[j] = o * math.Tanh(float64(l.ScaleC[blk*n+j])*c[j]+float64(l.ShiftC[blk*n+j]))
				}
			} else {
				for j := range n {
					r := sigm64(preX[j] + preH[j])
					z := sigm64(preX[n+j] + preH[n+j])
					mm := math.Tanh(preX[2*n+j] + r*preH[2*n+j])
					hNew[j] = (1-z)*mm + z*h[j]
				}
			}
			state[li].h = hNew
			in, oneHot = hNew, -1
		}
		logits := make([]float64, m.Classes)
		n := m.Layers[len(m.Layers)-1].Hidden
		for k := range m.Classes {
			v := float64(m.OutputBias[k])
			for i := range n {
				v += in[i] * float64(m.Output[i*m.Classes+k])
			}
			logits[k] = v
		}
		out[t] = logits
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

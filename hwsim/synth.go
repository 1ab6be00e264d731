package hwsim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/rbt-project/rbt/rbt/packed"
)

// RandomSpec describes a synthetic packed model (no training): used by the
// tests, the speed benchmark and the study when no trained model is given.
type RandomSpec struct {
	Seed    uint64
	Cell    packed.CellKind
	Weights packed.WeightKind
	Input   packed.InputKind // OneHot or Dense (Embedding is not generated)
	In      int              // vocabulary (OneHot) or input width (Dense)
	Hidden  int
	Layers  int
	Steps   int // folded statistic blocks
	Classes int // output classes (0: In)
	// ZeroFrac is the fraction of zero weights of a Ternary model (0: 1/3).
	ZeroFrac float64
}

// RandomModel draws a valid deploy-form model with statistics in the range
// that batch normalization produces: every pre-activation has a standard
// deviation of a few tenths (gamma in [0.1, 0.5] over the product's
// standard deviation), the forget-gate shift is 1 (METHOD.md), and the
// folded blocks vary by 10% from step to step.
func RandomModel(spec RandomSpec) (*packed.Model, error) {
	if spec.Cell == 0 {
		spec.Cell = packed.LSTM
	}
	if spec.Layers == 0 {
		spec.Layers = 1
	}
	if spec.Steps == 0 {
		spec.Steps = 1
	}
	if spec.Classes == 0 {
		spec.Classes = spec.In
	}
	if spec.In < 1 || spec.Hidden < 1 || spec.Classes < 1 {
		return nil, fmt.Errorf("hwsim.RandomModel: in %d, hidden %d, classes %d must be >= 1", spec.In, spec.Hidden, spec.Classes)
	}
	if spec.Input != packed.OneHot && spec.Input != packed.Dense {
		return nil, fmt.Errorf("hwsim.RandomModel: input kind %v not generated (want one-hot or dense)", spec.Input)
	}
	zf := spec.ZeroFrac
	if zf == 0 {
		zf = 1.0 / 3
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x5eed))
	uni := func(a, b float64) float32 { return float32(a + (b-a)*rng.Float64()) }
	nrm := func(s float64) float32 { return float32(s * rng.NormFloat64()) }
	m := &packed.Model{Task: "random", Input: spec.Input, Classes: spec.Classes,
		Meta: map[string]string{"generator": "hwsim.RandomModel", "seed": fmt.Sprint(spec.Seed)}}
	if spec.Input == packed.OneHot {
		for i := 0; i < spec.In; i++ {
			m.Vocab = append(m.Vocab, fmt.Sprintf("t%d", i))
		}
	}
	in := spec.In
	for li := 0; li < spec.Layers; li++ {
		G, n := spec.Cell.Gates(), spec.Hidden
		M := G * n
		l := packed.Layer{Cell: spec.Cell, Weights: spec.Weights, Input: in, Hidden: n, Steps: spec.Steps}
		mat := func(K int) ([]int8, []float32) {
			switch spec.Weights {
			case packed.Binary:
				s := make([]int8, K*M)
				for i := range s {
					s[i] = int8(2*rng.IntN(2) - 1)
				}
				return s, nil
			case packed.Ternary:
				s := make([]int8, K*M)
				for i := range s {
					if rng.Float64() >= zf {
						s[i] = int8(2*rng.IntN(2) - 1)
					}
				}
				return s, nil
			}
			w0 := packed.W0(K, M)
			f := make([]float32, K*M)
			for i := range f {
				f[i] = nrm(w0)
			}
			return nil, f
		}
		l.WxSign, l.WxFloat = mat(in)
		l.WhSign, l.WhFloat = mat(n)
		// typical |weight| (1 for sign weights) and input size
		wmag := 1.0
		if spec.Weights == packed.Float32 {
			wmag = packed.W0(n, M)
		}
		sx := wmag // one-hot: the product is one weight
		if li > 0 || spec.Input == packed.Dense {
			sx = wmag * math.Sqrt(float64(in)) * 0.5
		}
		sh := wmag * math.Sqrt(float64(n)) * 0.3
		gx, gh, gc := make([]float64, M), make([]float64, M), make([]float64, n)
		for j := range gx {
			gx[j], gh[j] = float64(uni(0.1, 0.5)), float64(uni(0.1, 0.5))
		}
		for k := range gc {
			gc[k] = float64(uni(0.3, 1))
		}
		bias := make([]float64, M)
		for j := range bias {
			bias[j] = float64(nrm(0.1))
			if spec.Cell == packed.LSTM && j >= n && j < 2*n {
				bias[j] += 1 // forget gate
			}
		}
		for s := 0; s < spec.Steps; s++ {
			jit := func() float64 { return 1 + 0.1*rng.NormFloat64() }
			for j := 0; j < M; j++ {
				l.ScaleX = append(l.ScaleX, float32(gx[j]/sx*jit()))
				l.ShiftX = append(l.ShiftX, nrm(0.05))
				l.ScaleH = append(l.ScaleH, float32(gh[j]/sh*jit()))
				l.ShiftH = append(l.ShiftH, float32(bias[j]*jit()))
			}
			if spec.Cell == packed.LSTM {
				for k := 0; k < n; k++ {
					l.ScaleC = append(l.ScaleC, float32(gc[k]*jit()))
					l.ShiftC = append(l.ShiftC, nrm(0.1))
				}
			}
		}
		l.H0 = make([]float32, n)
		for k := range l.H0 {
			l.H0[k] = nrm(0.1)
		}
		if spec.Cell == packed.LSTM {
			l.C0 = make([]float32, n)
			for k := range l.C0 {
				l.C0[k] = nrm(0.1)
			}
		}
		m.Layers = append(m.Layers, l)
		in = n
	}
	m.Output = make([]float32, spec.Hidden*spec.Classes)
	for i := range m.Output {
		m.Output[i] = nrm(2 / math.Sqrt(float64(spec.Hidden)))
	}
	m.OutputBias = make([]float32, spec.Classes)
	for i := range m.OutputBias {
		m.OutputBias[i] = nrm(0.1)
	}
	return m, m.Validate()
}

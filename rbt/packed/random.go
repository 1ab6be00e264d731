package packed

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// RandomSpec describes a random model for tests, examples and benchmarks.
type RandomSpec struct {
	Cell    CellKind   // LSTM or GRU
	Weights WeightKind // Float32, Binary or Ternary (all layers)
	Input   InputKind  // OneHot, Embedding or Dense

	Vocab        int   // tokens, for OneHot and Embedding inputs
	EmbeddingDim int   // for Embedding inputs
	Features     int   // inputs per step, for Dense inputs
	Hidden       []int // hidden units per layer (at least one layer)
	Steps        int   // statistic blocks per layer (default 1)
	Classes      int   // output width (default Vocab for token inputs)
	Seed         uint64
}

// charset names the tokens of random token models with printable characters.
const charset = "abcdefghijklmnopqrstuvwxyz .,;'!?-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789()\n"

// RandomModel builds a valid model with seeded random weights whose folded
// statistics keep the gates in their sensitive range (pre-activations of
// order 1), so that tests comparing implementations exercise real numbers.
// The vocabulary of token models is single characters when Vocab <= 73, else
// "t0", "t1", ... Same spec, same model.
func RandomModel(spec RandomSpec) (*Model, error) {
	if len(spec.Hidden) == 0 {
		return nil, errors.New("packed: RandomModel: no hidden layers")
	}
	if spec.Steps <= 0 {
		spec.Steps = 1
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x7262742d7061636b))
	m := &Model{Task: "random", Input: spec.Input, Meta: map[string]string{
		"generator": "packed.RandomModel", "seed": fmt.Sprint(spec.Seed)}}
	var d int
	switch spec.Input {
	case OneHot, Embedding:
		if spec.Vocab <= 0 {
			return nil, errors.New("packed: RandomModel: token input needs Vocab > 0")
		}
		m.Vocab = make([]string, spec.Vocab)
		for i := range m.Vocab {
			if spec.Vocab <= len(charset) {
				m.Vocab[i] = charset[i : i+1]
			} else {
				m.Vocab[i] = fmt.Sprintf("t%d", i)
			}
		}
		d = spec.Vocab
		if spec.Input == Embedding {
			if spec.EmbeddingDim <= 0 {
				return nil, errors.New("packed: RandomModel: embedding input needs EmbeddingDim > 0")
			}
			d = spec.EmbeddingDim
			m.EmbeddingDim = d
			m.Embedding = uniform(rng, spec.Vocab*d, 1)
		}
		if spec.Classes <= 0 {
			spec.Classes = spec.Vocab
		}
	case Dense:
		if spec.Features <= 0 {
			return nil, errors.New("packed: RandomModel: dense input needs Features > 0")
		}
		d = spec.Features
	default:
		return nil, fmt.Errorf("packed: RandomModel: unknown input kind %d", spec.Input)
	}
	if spec.Classes <= 0 {
		return nil, errors.New("packed: RandomModel: Classes must be > 0")
	}
	m.Classes = spec.Classes
	for _, n := range spec.Hidden {
		l := randomLayer(rng, spec, d, n, spec.Input == OneHot && len(m.Layers) == 0)
		m.Layers = append(m.Layers, l)
		d = n
	}
	m.Output = uniform(rng, d*m.Classes, 1/math.Sqrt(float64(d)))
	m.OutputBias = uniform(rng, m.Classes, 0.1)
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("packed: RandomModel: %w", err)
	}
	return m, nil
}

func uniform(rng *rand.Rand, n int, a float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((2*rng.Float64() - 1) * a)
	}
	return out
}

func randomLayer(rng *rand.Rand, spec RandomSpec, d, n int, oneHot bool) Layer {
	g := spec.Cell.Gates()
	l := Layer{Cell: spec.Cell, Weights: spec.Weights, Input: d, Hidden: n, Steps: spec.Steps}
	switch spec.Weights {
	case Float32:
		l.WxFloat = uniform(rng, d*g*n, 1)
		l.WhFloat = uniform(rng, n*g*n, 1)
	default:
		l.WxSign = randomSigns(rng, d*g*n, spec.Weights)
		l.WhSign = randomSigns(rng, n*g*n, spec.Weights)
	}
	// A sum of d terms of size ~1 has a spread ~sqrt(d): scale it back to ~1.
	fx := 1 / math.Sqrt(float64(d))
	if oneHot {
		fx = 1
	}
	fh := 1 / math.Sqrt(float64(n))
	st := spec.Steps
	l.ScaleX = positive(rng, st*g*n, fx)
	l.ShiftX = uniform(rng, st*g*n, 0.3)
	l.ScaleH = positive(rng, st*g*n, 2*fh)
	l.ShiftH = uniform(rng, st*g*n, 0.3)
	l.H0 = uniform(rng, n, 0.2)
	if spec.Cell == LSTM {
		l.ScaleC = positive(rng, st*n, 1)
		l.ShiftC = uniform(rng, st*n, 0.2)
		l.C0 = uniform(rng, n, 0.5)
	}
	return l
}

// positive draws values in [0.5a, 1.5a].
func positive(rng *rand.Rand, n int, a float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((0.5 + rng.Float64()) * a)
	}
	return out
}

func randomSigns(rng *rand.Rand, n int, kind WeightKind) []int8 {
	out := make([]int8, n)
	for i := range out {
		if kind == Ternary {
			out[i] = int8(rng.IntN(3)) - 1
		} else {
			out[i] = int8(rng.IntN(2))*2 - 1
		}
	}
	return out
}

package packed

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// RandomSpec describes a random model for tests, examples, benchmarks and
// the hardware simulator (hwsim). The zero values of ZeroFrac and BatchNorm
// keep the default draws; setting them changes the random stream.
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

	// ZeroFrac is the fraction of zero weights of a Ternary model, in
	// [0, 1); 0 draws -1, 0 and +1 with equal chance (other weight kinds
	// have no zeros and reject a ZeroFrac).
	ZeroFrac float64
	// BatchNorm draws the folded statistics in the range that per-time-step
	// batch normalization produces instead of the default ranges: every
	// pre-activation has a standard deviation of a few tenths, the LSTM
	// forget gate's shift is 1, and the blocks vary by 10% from step to step
	// (see batchNormStatistics). The weights are drawn as without it.
	BatchNorm bool
}

// charset names the tokens of random token models with printable characters.
const charset = "abcdefghijklmnopqrstuvwxyz .,;'!?-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789()\n"

// RandomModel builds a valid model with seeded random weights whose folded
// statistics keep the gates in their sensitive range (pre-activations of
// order 1), so that tests comparing implementations exercise real numbers.
// The vocabulary of token models is single characters when Vocab <= 73, else
// "t0", "t1", ... Same spec, same model.
//
// For the hardware simulator, which runs the paper's BN-LSTMs, set
// BatchNorm and, for Ternary weights, ZeroFrac if the sparsity matters (the
// zeros whose additions a ternary design skips).
func RandomModel(spec RandomSpec) (*Model, error) {
	if len(spec.Hidden) == 0 {
		return nil, errors.New("packed: RandomModel: no hidden layers")
	}
	if spec.Steps <= 0 {
		spec.Steps = 1
	}
	if spec.ZeroFrac < 0 || spec.ZeroFrac >= 1 {
		return nil, fmt.Errorf("packed: RandomModel: ZeroFrac %g not in [0, 1)", spec.ZeroFrac)
	}
	if spec.ZeroFrac != 0 && spec.Weights != Ternary {
		return nil, fmt.Errorf("packed: RandomModel: ZeroFrac %g needs Ternary weights, not %s", spec.ZeroFrac, spec.Weights)
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
	switch {
	case spec.Weights == Float32:
		l.WxFloat = uniform(rng, d*g*n, 1)
		l.WhFloat = uniform(rng, n*g*n, 1)
	case spec.ZeroFrac > 0: // Ternary
		l.WxSign = sparseTernary(rng, d*g*n, spec.ZeroFrac)
		l.WhSign = sparseTernary(rng, n*g*n, spec.ZeroFrac)
	default:
		l.WxSign = randomSigns(rng, d*g*n, spec.Weights)
		l.WhSign = randomSigns(rng, n*g*n, spec.Weights)
	}
	if spec.BatchNorm {
		batchNormStatistics(rng, &l, spec.ZeroFrac, oneHot)
		return l
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

// batchNormStatistics draws the folded statistics and the initial state of
// l (whose weights are drawn) as per-time-step batch normalization leaves
// them. BN folds into scale = gamma/sigma and shift = beta - scale*mu, where
// sigma is the spread of the product it normalizes. Here sigma is the
// product's typical spread, (weight spread) * sqrt(fan-in) * (input spread),
// with inputs of spread 0.5 (dense features, embeddings and lower layers'
// h) or one weight (one-hot tokens) and a recurrent h of spread 0.3; each
// unit has gains gamma in [0.1, 0.5] (around the 0.1 that METHOD.md
// initializes them to) and, for the cell, in [0.3, 1]. So every
// pre-activation has a standard deviation of a few tenths. The recurrent
// shift carries the bias, N(0, 0.1) plus 1 on the LSTM forget-gate block
// (METHOD.md's initialization); the other shifts are N(0, 0.05) (ShiftX) and
// N(0, 0.1) (ShiftC). Each step's block multiplies the unit's scales and
// bias by 1 + 0.1 N(0, 1): the batch statistics differ by about 10% from
// step to step. H0 and C0 are N(0, 0.1).
func batchNormStatistics(rng *rand.Rand, l *Layer, zeroFrac float64, oneHot bool) {
	g, n, d := l.Cell.Gates(), l.Hidden, l.Input
	gn := g * n
	normal := func(sd float64) float64 { return sd * rng.NormFloat64() }
	between := func(a, b float64) float64 { return a + (b-a)*rng.Float64() }
	// The weights' standard deviation: 1 for binary signs, sqrt(1-zeros)
	// for ternary, 1/sqrt(3) for uniform [-1, 1] floats.
	wsd := 1.0
	switch l.Weights {
	case Ternary:
		if zeroFrac == 0 {
			zeroFrac = 1.0 / 3
		}
		wsd = math.Sqrt(1 - zeroFrac)
	case Float32:
		wsd = 1 / math.Sqrt(3)
	}
	sigmaX := wsd * math.Sqrt(float64(d)) * 0.5
	if oneHot {
		sigmaX = wsd // the product is one weight
	}
	sigmaH := wsd * math.Sqrt(float64(n)) * 0.3
	gammaX, gammaH, bias := make([]float64, gn), make([]float64, gn), make([]float64, gn)
	for j := range gn {
		gammaX[j], gammaH[j] = between(0.1, 0.5), between(0.1, 0.5)
		bias[j] = normal(0.1)
		if l.Cell == LSTM && j >= n && j < 2*n { // blocks g, f, i, o
			bias[j]++
		}
	}
	gammaC := make([]float64, n)
	for k := range gammaC {
		gammaC[k] = between(0.3, 1)
	}
	jitter := func() float64 { return 1 + normal(0.1) }
	for range l.Steps {
		for j := range gn {
			l.ScaleX = append(l.ScaleX, float32(gammaX[j]/sigmaX*jitter()))
			l.ShiftX = append(l.ShiftX, float32(normal(0.05)))
			l.ScaleH = append(l.ScaleH, float32(gammaH[j]/sigmaH*jitter()))
			l.ShiftH = append(l.ShiftH, float32(bias[j]*jitter()))
		}
		if l.Cell == LSTM {
			for k := range n {
				l.ScaleC = append(l.ScaleC, float32(gammaC[k]*jitter()))
				l.ShiftC = append(l.ShiftC, float32(normal(0.1)))
			}
		}
	}
	l.H0 = make([]float32, n)
	for k := range l.H0 {
		l.H0[k] = float32(normal(0.1))
	}
	if l.Cell == LSTM {
		l.C0 = make([]float32, n)
		for k := range l.C0 {
			l.C0[k] = float32(normal(0.1))
		}
	}
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

// sparseTernary draws n ternary weights, each zero with probability
// zeroFrac and a random sign otherwise.
func sparseTernary(rng *rand.Rand, n int, zeroFrac float64) []int8 {
	out := make([]int8, n)
	for i := range out {
		if rng.Float64() >= zeroFrac {
			out[i] = int8(rng.IntN(2))*2 - 1
		}
	}
	return out
}

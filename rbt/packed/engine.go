package packed

import (
	"errors"
	"fmt"

	"github.com/rbt-project/rbt/rbt/signmat"
)

// Kernel selects how an Engine computes the products x.Wx and h.Wh.
type Kernel uint8

const (
	// KernelLUT is the fastest accumulate-only kernel for this CPU: with AVX2
	// (signmat.Accelerated) the signmat kernels (8-entry tables over 3
	// inputs, eight columns per VPERMPS; binary 1.07 bits per weight, ternary
	// as two binary matrices, 2.13 bits); otherwise KernelLUTPortable.
	// Float32 layers use plain multiply-adds.
	KernelLUT Kernel = iota + 1
	// KernelLUT2Bit is KernelLUTPortable with Ternary weights as two bit
	// planes (w = +1 and w = -1; 2 bits per weight) and subset-sum tables
	// over 8 inputs: two lookups per 8 weights instead of one per 5. Measured
	// slower than base 3 (see BenchmarkLSTMStep); kept for comparison.
	KernelLUT2Bit
	// KernelFloat32 is the float32 reference: every weight matrix expanded to
	// float32 (int8 -> float32) and multiplied with plain multiply-adds.
	KernelFloat32
	// KernelLUTPortable is pure Go on every CPU: Binary weights as 1-bit
	// planes with 8-input, 256-entry lookup tables, Ternary weights in base 3
	// (five per byte, 1.6 bits per weight) with 5-input, 243-entry tables.
	KernelLUTPortable
)

// DefaultKernel is the kernel NewEngine uses (the fastest measured; see the
// package benchmarks).
const DefaultKernel = KernelLUT

func (k Kernel) String() string {
	switch k {
	case KernelLUT:
		return "lut"
	case KernelLUT2Bit:
		return "lut-2bit"
	case KernelFloat32:
		return "float32"
	case KernelLUTPortable:
		return "lut-portable"
	}
	return fmt.Sprintf("Kernel(%d)", uint8(k))
}

// Implementation says in words which code computes k's products on this
// machine (KernelLUT depends on the CPU).
func (k Kernel) Implementation() string {
	switch {
	case k == KernelLUT && signmat.Accelerated:
		return "AVX2 signmat kernels (VPERMPS over 3-input tables)"
	case k == KernelLUT || k == KernelLUTPortable:
		return "portable Go (256-entry tables over 8 inputs; ternary base 3)"
	case k == KernelLUT2Bit:
		return "portable Go (two 1-bit planes per ternary weight)"
	case k == KernelFloat32:
		return "portable Go float32 multiply-adds"
	}
	return k.String()
}

// Engine runs a Model on the CPU. It is built once from a model (weights
// packed, the model's int8 sign arrays are not retained) and is read-only
// afterwards: several goroutines may use one Engine, each with its own State.
type Engine struct {
	kernel     Kernel
	input      InputKind
	vocab      []string
	vocabSize  int       // number of input tokens (0 for Dense)
	inputWidth int       // features per step for Dense input
	embedding  []float32 // vocabulary x Layers[0].Input (Embedding input)
	layers     []engineLayer
	output     *denseF32 // n_last x Classes
	outputBias []float32
	classes    int
	lutLen     int
	maxGN      int
}

type engineLayer struct {
	cell   CellKind
	d, n   int
	g      int
	steps  int
	wx, wh product
	// Folded batch-norm statistics and initial state (Layer's arrays).
	scaleX, shiftX, scaleH, shiftH, scaleC, shiftC []float32
	h0, c0                                         []float32
}

// NewEngine validates m and builds an engine with DefaultKernel.
func NewEngine(m *Model) (*Engine, error) { return NewEngineKernel(m, DefaultKernel) }

// NewReferenceEngine builds the float32 reference engine (KernelFloat32).
func NewReferenceEngine(m *Model) (*Engine, error) { return NewEngineKernel(m, KernelFloat32) }

// NewEngineKernel validates m and builds an engine with the given kernel.
func NewEngineKernel(m *Model, k Kernel) (*Engine, error) {
	if k < KernelLUT || k > KernelLUTPortable {
		return nil, fmt.Errorf("packed: unknown kernel %d", uint8(k))
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("packed: invalid model: %w", err)
	}
	e := &Engine{
		kernel:     k,
		input:      m.Input,
		vocab:      m.Vocab,
		vocabSize:  m.VocabSize(),
		inputWidth: m.Layers[0].Input,
		embedding:  m.Embedding,
		outputBias: m.OutputBias,
		classes:    m.Classes,
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		g, n := l.Cell.Gates(), l.Hidden
		el := engineLayer{
			cell: l.Cell, d: l.Input, n: n, g: g, steps: l.Steps,
			scaleX: l.ScaleX, shiftX: l.ShiftX, scaleH: l.ScaleH, shiftH: l.ShiftH,
			scaleC: l.ScaleC, shiftC: l.ShiftC, h0: l.H0, c0: l.C0,
		}
		var err error
		if el.wx, err = newProduct(k, l.Weights, l.Input, g*n, l.WxSign, l.WxFloat); err != nil {
			return nil, fmt.Errorf("packed: layer %d Wx: %w", i, err)
		}
		if el.wh, err = newProduct(k, l.Weights, n, g*n, l.WhSign, l.WhFloat); err != nil {
			return nil, fmt.Errorf("packed: layer %d Wh: %w", i, err)
		}
		e.lutLen = max(e.lutLen, el.wx.lutLen(), el.wh.lutLen())
		e.maxGN = max(e.maxGN, g*n)
		e.layers = append(e.layers, el)
	}
	last := m.Layers[len(m.Layers)-1].Hidden
	e.output = newDenseF32(last, m.Classes, m.Output)
	e.maxGN = max(e.maxGN, m.Classes)
	return e, nil
}

func newProduct(k Kernel, w WeightKind, rows, cols int, s []int8, f []float32) (product, error) {
	switch {
	case w == Float32:
		return newDenseF32(rows, cols, f), nil
	case k == KernelFloat32:
		return newDenseF32(rows, cols, expandSigns(s)), nil
	case k == KernelLUT && signmat.Accelerated:
		m, err := signmat.New(rows, cols, s, w == Ternary)
		return signProduct{m}, err
	case w == Binary:
		return newBinLUT(rows, cols, s), nil
	case k == KernelLUT2Bit:
		return newTern2LUT(rows, cols, s), nil
	default:
		return newTern3LUT(rows, cols, s), nil
	}
}

// Kernel reports the engine's kernel.
func (e *Engine) Kernel() Kernel { return e.kernel }

// Classes is the width of the output layer (logits per step and row).
func (e *Engine) Classes() int { return e.classes }

// Vocab is the model's vocabulary (nil if it has none).
func (e *Engine) Vocab() []string { return e.vocab }

// VocabSize is the number of input tokens (0 for Dense input).
func (e *Engine) VocabSize() int { return e.vocabSize }

// InputWidth is the number of features per step of a Dense-input model (the
// first layer's Input).
func (e *Engine) InputWidth() int { return e.inputWidth }

// InputKind is how the model takes its input.
func (e *Engine) InputKind() InputKind { return e.input }

// WeightBytes is the resident size of the recurrent weight matrices as the
// engine keeps them (bit planes, or float32 for the reference kernel).
func (e *Engine) WeightBytes() int64 {
	var b int64
	for _, l := range e.layers {
		b += l.wx.bytes() + l.wh.bytes()
	}
	return b
}

// ResidentBytes is everything the engine holds: weight matrices as kept, plus
// the float32 arrays (folded statistics, initial states, embedding, output
// layer). A State adds StateBytes.
func (e *Engine) ResidentBytes() int64 {
	b := e.WeightBytes()
	for _, l := range e.layers {
		for _, a := range [][]float32{l.scaleX, l.shiftX, l.scaleH, l.shiftH, l.scaleC, l.shiftC, l.h0, l.c0} {
			b += 4 * int64(len(a))
		}
	}
	return b + 4*int64(len(e.embedding)+len(e.output.w)+len(e.outputBias))
}

// State is the streaming state of a batch of sequences: the step index T and,
// per layer, h and c (Batch x Hidden, row-major; C[l] is nil for a GRU layer),
// plus scratch buffers. Create it with Engine.NewState; it belongs to one
// goroutine at a time.
type State struct {
	T     int // steps taken so far; step T uses statistic block min(T, Steps-1)
	Batch int
	H, C  [][]float32

	accX, accH, lut []float32
	engine          *Engine
}

// NewState returns a state for batch sequences, set to the learned initial
// state (H0, C0 broadcast over the batch) at T = 0.
func (e *Engine) NewState(batch int) *State {
	if batch < 1 {
		batch = 1
	}
	s := &State{Batch: batch, engine: e}
	s.H = make([][]float32, len(e.layers))
	s.C = make([][]float32, len(e.layers))
	for i, l := range e.layers {
		s.H[i] = make([]float32, batch*l.n)
		if l.cell == LSTM {
			s.C[i] = make([]float32, batch*l.n)
		}
	}
	s.accX = make([]float32, e.maxGN)
	s.accH = make([]float32, e.maxGN)
	s.lut = make([]float32, max(e.lutLen, 1))
	s.Reset()
	return s
}

// Reset returns the state to T = 0 and the learned initial h and c.
func (s *State) Reset() {
	s.T = 0
	for i, l := range s.engine.layers {
		for b := range s.Batch {
			copy(s.H[i][b*l.n:], l.h0)
			if l.cell == LSTM {
				copy(s.C[i][b*l.n:], l.c0)
			}
		}
	}
}

// StateBytes is the size of a state of the given batch, scratch included.
func (e *Engine) StateBytes(batch int) int64 {
	var b int64
	for _, l := range e.layers {
		b += int64(batch * l.n)
		if l.cell == LSTM {
			b += int64(batch * l.n)
		}
	}
	b += int64(2*e.maxGN + max(e.lutLen, 1))
	return 4 * b
}

func (e *Engine) checkState(s *State) error {
	if s == nil || s.engine != e {
		return errors.New("packed: state was not created by this engine")
	}
	return nil
}

// StepTokens advances every sequence of the batch by one token
// (len(tokens) == s.Batch) for OneHot and Embedding models.
func (e *Engine) StepTokens(s *State, tokens []int) error {
	if err := e.checkState(s); err != nil {
		return err
	}
	if e.input == Dense {
		return errors.New("packed: StepTokens on a dense-input model (use StepDense)")
	}
	if len(tokens) != s.Batch {
		return fmt.Errorf("packed: StepTokens: %d tokens for a batch of %d", len(tokens), s.Batch)
	}
	for _, t := range tokens {
		if t < 0 || t >= e.vocabSize {
			return fmt.Errorf("packed: token %d out of range [0, %d)", t, e.vocabSize)
		}
	}
	e.step(s, tokens, nil)
	return nil
}

// StepDense advances every sequence by one step of features x (Batch x
// InputWidth, row-major) for Dense models.
func (e *Engine) StepDense(s *State, x []float32) error {
	if err := e.checkState(s); err != nil {
		return err
	}
	if e.input != Dense {
		return fmt.Errorf("packed: StepDense on a %s-input model (use StepTokens)", e.input)
	}
	if len(x) != s.Batch*e.inputWidth {
		return fmt.Errorf("packed: StepDense: %d features for a batch of %d x %d", len(x), s.Batch, e.inputWidth)
	}
	e.step(s, nil, x)
	return nil
}

// step runs one time step; tokens or x is the (checked) input.
func (e *Engine) step(s *State, tokens []int, x []float32) {
	for li := range e.layers {
		l := &e.layers[li]
		gn := l.g * l.n
		blk := min(s.T, l.steps-1)
		sx, bx := l.scaleX[blk*gn:][:gn], l.shiftX[blk*gn:][:gn]
		sh, bh := l.scaleH[blk*gn:][:gn], l.shiftH[blk*gn:][:gn]
		accX, accH := s.accX[:gn], s.accH[:gn]
		for b := range s.Batch {
			// Input product.
			switch {
			case li > 0:
				l.wx.mul(s.H[li-1][b*l.d:][:l.d], accX, s.lut)
			case e.input == OneHot:
				l.wx.row(tokens[b], accX)
			case e.input == Embedding:
				l.wx.mul(e.embedding[tokens[b]*l.d:][:l.d], accX, s.lut) // EmbeddingDim = Input (Validate)
			default:
				l.wx.mul(x[b*l.d:][:l.d], accX, s.lut)
			}
			h := s.H[li][b*l.n:][:l.n]
			l.wh.mul(h, accH, s.lut)
			// Folded batch norm, then the gates: each activation runs over a
			// whole slice (eight at a time with AVX2, bit-identical to the
			// scalar sigmoid32/tanh32).
			n := l.n
			if l.cell == LSTM {
				z := accX // pre-activations, gate order g, f, i, o
				for j := range z {
					z[j] = (sx[j]*accX[j] + bx[j]) + (sh[j]*accH[j] + bh[j])
				}
				tanhSlice(z[:n])
				sigmoidSlice(z[n:])
				g, f, i, o := z[:n], z[n:2*n], z[2*n:3*n], z[3*n:4*n]
				c := s.C[li][b*n:][:n]
				sc, bc := l.scaleC[blk*n:][:n], l.shiftC[blk*n:][:n]
				t := accH[:n] // free now: BN(c) and then tanh(BN(c))
				for j := range c {
					cj := f[j]*c[j] + i[j]*g[j]
					c[j] = cj
					t[j] = sc[j]*cj + bc[j]
				}
				tanhSlice(t)
				for j := range h {
					h[j] = o[j] * t[j]
				}
			} else {
				for j := range accX {
					accX[j] = sx[j]*accX[j] + bx[j]
					accH[j] = sh[j]*accH[j] + bh[j]
				}
				rz := accX[:2*n] // reset and update gates
				for j := range rz {
					rz[j] += accH[j]
				}
				sigmoidSlice(rz)
				r, z, m := rz[:n], rz[n:], accX[2*n:3*n]
				for j := range m {
					m[j] += r[j] * accH[2*n+j]
				}
				tanhSlice(m)
				for j := range h {
					h[j] = (1-z[j])*m[j] + z[j]*h[j]
				}
			}
		}
	}
	s.T++
}

// Logits writes the output layer's logits h_last . Output + OutputBias for
// every sequence of the batch into out (Batch x Classes, row-major).
func (e *Engine) Logits(s *State, out []float32) error {
	if err := e.checkState(s); err != nil {
		return err
	}
	if len(out) != s.Batch*e.classes {
		return fmt.Errorf("packed: Logits: out has %d values, want Batch*Classes = %d", len(out), s.Batch*e.classes)
	}
	h := s.H[len(s.H)-1]
	n := e.output.rows
	for b := range s.Batch {
		o := out[b*e.classes:][:e.classes]
		e.output.mul(h[b*n:][:n], o, nil)
		for j, v := range e.outputBias {
			o[j] += v
		}
	}
	return nil
}

// RunTokens feeds a token sequence (batch 1) from the initial state and
// returns the logits after every step: len(tokens) x Classes, row-major.
func (e *Engine) RunTokens(tokens []int) ([]float32, error) {
	s := e.NewState(1)
	out := make([]float32, len(tokens)*e.classes)
	for t, tok := range tokens {
		if err := e.StepTokens(s, []int{tok}); err != nil {
			return nil, fmt.Errorf("step %d: %w", t, err)
		}
		if err := e.Logits(s, out[t*e.classes:(t+1)*e.classes]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RunDense feeds a feature sequence x (T x InputWidth, row-major; batch 1)
// from the initial state and returns the logits after every step (T x Classes).
func (e *Engine) RunDense(x []float32) ([]float32, error) {
	if e.inputWidth == 0 || len(x)%e.inputWidth != 0 {
		return nil, fmt.Errorf("packed: RunDense: %d features is not a multiple of the input width %d", len(x), e.inputWidth)
	}
	steps := len(x) / e.inputWidth
	s := e.NewState(1)
	out := make([]float32, steps*e.classes)
	for t := range steps {
		if err := e.StepDense(s, x[t*e.inputWidth:(t+1)*e.inputWidth]); err != nil {
			return nil, fmt.Errorf("step %d: %w", t, err)
		}
		if err := e.Logits(s, out[t*e.classes:(t+1)*e.classes]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

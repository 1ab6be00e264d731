package packed

// This file is the contract between the trainer's deploy-mode export (rbt/...),
// the packed file format and inference engine (this package) and the hardware
// simulator (hwsim). It describes a trained recurrent network after batch
// normalization has been folded into per-unit scales and shifts, so that each
// weight matrix product is a pure accumulation of +-1 / {-1,0,+1} weights.

// CellKind is the recurrent cell type.
type CellKind uint8

const (
	LSTM CellKind = iota + 1 // 4 gate blocks, in the order g, f, i, o (METHOD.md).
	GRU                      // 3 gate blocks, in the order r, z, n.
)

// Gates returns the number of gate blocks G of the cell (4 for LSTM, 3 for GRU).
func (k CellKind) Gates() int {
	if k == GRU {
		return 3
	}
	return 4
}

// WeightKind is how a layer's Wx and Wh are stored.
type WeightKind uint8

const (
	Float32 WeightKind = iota + 1 // full precision (or k-bit values kept as float32).
	Binary                        // values in {-1,+1}, 1 bit each when packed.
	Ternary                       // values in {-1,0,+1}, 2 bits each when packed.
)

// InputKind says how tokens or features enter the first layer.
type InputKind uint8

const (
	OneHot    InputKind = iota + 1 // token id selects a row of Wx (char LM); Input = vocabulary size.
	Embedding                      // token id selects a row of Model.Embedding, then x.Wx (word LM, QA).
	Dense                          // float features of width Input per step (sequential MNIST: Input = 1).
)

// Layer is one recurrent layer in deploy form. G = Cell.Gates(), n = Hidden,
// d = Input. For every step t (s = min(t, Steps-1) picks the folded statistics):
//
//	accX = x_t . Wx                       (G*n)  pure accumulation for Binary/Ternary
//	accH = h_{t-1} . Wh                   (G*n)
//	preX = ScaleX[s] * accX + ShiftX[s]   element-wise, (G*n)
//	preH = ScaleH[s] * accH + ShiftH[s]
//
// LSTM (blocks g, f, i, o of pre = preX + preH):
//
//	c_t = sigm(f)*c_{t-1} + sigm(i)*tanh(g)
//	h_t = sigm(o) * tanh(ScaleC[s]*c_t + ShiftC[s])
//
// GRU (blocks r, z, n):
//
//	r = sigm(preX_r + preH_r); z = sigm(preX_z + preH_z)
//	m = tanh(preX_n + r*preH_n)
//	h_t = (1-z)*m + z*h_{t-1}
//
// Per-step folded statistics come from per-time-step batch normalization: the
// arrays hold Steps consecutive blocks; steps beyond Steps-1 reuse the last one.
// A model without normalization has Steps = 1, ScaleX = ScaleH = the weight
// scale W0 (or 1), ShiftX = bias, ShiftH = 0, ScaleC = 1, ShiftC = 0.
type Layer struct {
	Cell    CellKind
	Weights WeightKind
	Input   int // d
	Hidden  int // n
	Steps   int // number of per-step statistic blocks, >= 1

	// Wx is d x G*n and Wh is n x G*n, row-major. For Binary/Ternary the values
	// are exactly -1, 0 or +1 (0 only for Ternary) and WxFloat/WhFloat are nil;
	// for Float32 WxSign/WhSign are nil.
	WxSign, WhSign   []int8
	WxFloat, WhFloat []float32

	ScaleX, ShiftX []float32 // Steps*G*n
	ScaleH, ShiftH []float32 // Steps*G*n
	ScaleC, ShiftC []float32 // Steps*n, LSTM only (nil for GRU)

	H0, C0 []float32 // initial state, n each (C0 nil for GRU)
}

// Model is a whole deployable network: input, stacked recurrent layers, and a
// full-precision output layer applied to the last layer's h_t.
type Model struct {
	Task  string   // "charlm", "wordlm", "seqmnist", ... free text
	Vocab []string // token strings for language models, nil otherwise
	Input InputKind

	Embedding    []float32 // Vocab x EmbeddingDim, for Input == Embedding
	EmbeddingDim int

	Layers []Layer

	Output     []float32 // Hidden(last layer) x Classes, row-major
	OutputBias []float32 // Classes
	Classes    int

	Meta map[string]string // free-form: quantizer, budget, training steps, ...
}

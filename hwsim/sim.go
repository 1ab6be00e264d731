package hwsim

import (
	"fmt"
	"math"

	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/signmat"
)

// Sim is the functional, bit-exact simulation of a packed model on a
// design's fixed-point datapath (Config.Datapath and Config.Nonlin). It is
// immutable once built; each independent stream runs in its own State.
//
// Formats (a = act_bits, fa = a-1, fi = internal_frac):
//
//	h, gate outputs      a-bit, fa fraction bits, [-1, 1)
//	dense input x        a-bit, input_frac fraction bits; one-hot x is exact
//	weights              +-1 / {-1,0,+1}; fixed designs: weight_bits-bit
//	                     integers times one float scale per matrix (folded)
//	acc = x.W            integer sum, saturated to acc_bits
//	pre = M*acc >> E + B block-floating-point fold (param_bits mantissas,
//	                     one exponent per vector), shift B at internal_bits,
//	                     result saturated to internal_bits with fi fraction bits
//	c                    internal format
//	sigm, tanh           table (LUT/PWL) from internal to activation format
//
// Every product is rounded half up back to its destination format and
// saturated, as a hardware datapath would.
type Sim struct {
	cfg     Config
	model   *packed.Model
	layers  []simLayer
	sig, th nonlinTable
	a, fa   int
	ib, fi  int
	inFrac  int
	output  outputLayer // EvalTokens' logits
	// AccOverflowPossible is set when the worst case |x.W| of some layer
	// exceeds acc_bits: the simulator then saturates the finished sum
	// (an accumulator with guard bits), which may differ from a design
	// that saturates every partial sum.
	AccOverflowPossible bool
}

type simMat struct {
	K    int
	nw   int      // words per row
	pos  []uint64 // M*nw: bit k of row j set where W[k][j] = +1 (sign kinds)
	neg  []uint64 // ternary: where W[k][j] = -1
	ints []int64  // fixed (float model): M*K, row j = output j
	tern bool
	// scale of one integer weight unit (1 for sign weights)
	unit float64
	// one-hot gather: ints or signs by input row (K*M)
	rowVals []int64
	// signs holds sign weights for signmat's exact int32 kernels when they
	// run on this CPU (signmat.Accelerated) and no sum can leave int32;
	// otherwise pos/neg and the 256-entry subset-sum tables are used.
	signs *signmat.Matrix
}

type simLayer struct {
	cell      packed.CellKind
	G, d, n   int
	oneHot    bool
	wx, wh    simMat
	foldX     []bfp // per stored step: ScaleX * unit
	foldH     []bfp
	shiftX    [][]int64
	shiftH    [][]int64
	foldC     []bfp // LSTM
	shiftC    [][]int64
	h0, c0    []int64
	stored    int
	xUnitFrac int // fraction bits of this layer's input integers (0 for one-hot)
}

// NewSim compiles model m for the datapath of cfg. It fails when the design
// cannot represent the model's weights (e.g. a binary design and a ternary or
// float model) or the model is invalid.
func NewSim(cfg Config, m *packed.Model) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("hwsim: model: %w", err)
	}
	if cfg.Datapath.AccBits+cfg.Datapath.ParamBits > 62 {
		return nil, fmt.Errorf("config %q: acc_bits + param_bits = %d exceeds the simulator's 62-bit products", cfg.Name, cfg.Datapath.AccBits+cfg.Datapath.ParamBits)
	}
	d := cfg.Datapath
	s := &Sim{cfg: cfg, model: m, a: d.ActBits, fa: d.ActBits - 1, ib: d.InternalBits, fi: d.InternalFrac, inFrac: d.InputFrac}
	s.output = newOutputLayer(m)
	s.sig = newNonlinTable(&cfg, sigmoid)
	s.th = newNonlinTable(&cfg, math.Tanh)
	for i := range m.Layers {
		L := &m.Layers[i]
		switch {
		case cfg.Weights == Binary && L.Weights != packed.Binary:
			return nil, fmt.Errorf("config %q stores binary weights but model layer %d has %v weights", cfg.Name, i, L.Weights)
		case cfg.Weights == Ternary && L.Weights == packed.Float32:
			return nil, fmt.Errorf("config %q stores ternary weights but model layer %d has float32 weights", cfg.Name, i)
		}
		sl := simLayer{cell: L.Cell, G: L.Cell.Gates(), d: L.Input, n: L.Hidden, oneHot: i == 0 && m.Input == packed.OneHot}
		sl.stored = cfg.storedSteps(L.Steps)
		switch {
		case sl.oneHot:
			sl.xUnitFrac = 0
		case i == 0:
			sl.xUnitFrac = s.inFrac
		default:
			sl.xUnitFrac = s.fa
		}
		var err error
		if sl.wx, err = s.compileMat(L, L.WxSign, L.WxFloat, L.Input, sl.oneHot); err != nil {
			return nil, fmt.Errorf("layer %d Wx: %w", i, err)
		}
		if sl.wh, err = s.compileMat(L, L.WhSign, L.WhFloat, L.Hidden, false); err != nil {
			return nil, fmt.Errorf("layer %d Wh: %w", i, err)
		}
		M := sl.G * sl.n
		xu := sl.wx.unit * math.Exp2(-float64(sl.xUnitFrac))
		hu := sl.wh.unit * math.Exp2(-float64(s.fa))
		for st := 0; st < sl.stored; st++ {
			sl.foldX = append(sl.foldX, newBFP(scaled(L.ScaleX[st*M:(st+1)*M], xu), d.ParamBits))
			sl.foldH = append(sl.foldH, newBFP(scaled(L.ScaleH[st*M:(st+1)*M], hu), d.ParamBits))
			sl.shiftX = append(sl.shiftX, quantVec(L.ShiftX[st*M:(st+1)*M], s.fi, s.ib))
			sl.shiftH = append(sl.shiftH, quantVec(L.ShiftH[st*M:(st+1)*M], s.fi, s.ib))
			if L.Cell == packed.LSTM {
				n := sl.n
				sl.foldC = append(sl.foldC, newBFP(scaled(L.ScaleC[st*n:(st+1)*n], 1), d.ParamBits))
				sl.shiftC = append(sl.shiftC, quantVec(L.ShiftC[st*n:(st+1)*n], s.fi, s.ib))
			}
		}
		sl.h0 = quantVec(L.H0, s.fa, s.a)
		if L.Cell == packed.LSTM {
			sl.c0 = quantVec(L.C0, s.fi, s.ib)
		}
		// worst-case accumulator magnitude
		maxIn, maxAcc := math.Exp2(float64(s.a-1)), math.Exp2(float64(d.AccBits-1))-1
		for _, mt := range []*simMat{&sl.wx, &sl.wh} {
			maxW := 1.0
			if mt.ints != nil {
				maxW = math.Exp2(float64(cfg.WeightBits - 1))
			}
			K := float64(mt.K)
			if mt == &sl.wx && sl.oneHot {
				K = 1
			}
			if K*maxIn*maxW > maxAcc {
				s.AccOverflowPossible = true
			}
		}
		s.layers = append(s.layers, sl)
	}
	return s, nil
}

func scaled(v []float32, u float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x) * u
	}
	return out
}

func quantVec(v []float32, frac, bits int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = quantize(float64(x), frac, bits)
	}
	return out
}

// compileMat lays a K x M (row-major, input-major) matrix out output-major:
// bit masks (or a signmat.Matrix) for sign weights, integers for quantized
// float weights. Inputs are act_bits integers.
func (s *Sim) compileMat(L *packed.Layer, sign []int8, fl []float32, K int, gather bool) (simMat, error) {
	M := L.Cell.Gates() * L.Hidden
	mt := simMat{K: K, nw: (K + 63) / 64, unit: 1}
	if L.Weights == packed.Float32 {
		if s.cfg.Weights != Fixed {
			return mt, fmt.Errorf("float32 weights on a %s design", s.cfg.Weights)
		}
		maxAbs := 0.0
		for _, w := range fl {
			maxAbs = math.Max(maxAbs, math.Abs(float64(w)))
		}
		lim := math.Exp2(float64(s.cfg.WeightBits-1)) - 1
		if maxAbs > 0 {
			mt.unit = maxAbs / lim
		}
		q := func(w float32) int64 { return int64(math.Round(float64(w) / mt.unit)) }
		if gather {
			mt.rowVals = make([]int64, K*M)
			for i, w := range fl {
				mt.rowVals[i] = q(w)
			}
			return mt, nil
		}
		mt.ints = make([]int64, M*K)
		for k := 0; k < K; k++ {
			for j := 0; j < M; j++ {
				mt.ints[j*K+k] = q(fl[k*M+j])
			}
		}
		return mt, nil
	}
	if gather {
		mt.rowVals = make([]int64, K*M)
		for i, w := range sign {
			mt.rowVals[i] = int64(w)
		}
		return mt, nil
	}
	mt.tern = L.Weights == packed.Ternary
	if signmat.Accelerated {
		sm, err := signmat.New(K, M, sign, mt.tern)
		if err != nil {
			return mt, err
		}
		if sm.Int32Safe(int64(1) << (s.a - 1)) {
			mt.signs = sm
			return mt, nil
		}
	}
	mt.pos = make([]uint64, M*mt.nw)
	if mt.tern {
		mt.neg = make([]uint64, M*mt.nw)
	}
	for k := 0; k < K; k++ {
		row := sign[k*M : (k+1)*M]
		w, b := k>>6, uint(k&63)
		for j, v := range row {
			switch v {
			case 1:
				mt.pos[j*mt.nw+w] |= 1 << b
			case -1:
				if mt.tern {
					mt.neg[j*mt.nw+w] |= 1 << b
				}
			}
		}
	}
	return mt, nil
}

// Config returns the design the simulator was built for.
func (s *Sim) Config() Config { return s.cfg }

// NonlinMaxError returns the largest absolute error (real units) of the
// sigmoid and tanh tables over every representable input.
func (s *Sim) NonlinMaxError() (sigm, tanh float64) { return s.sig.maxErr, s.th.maxErr }

// State is one stream of the simulated accelerator: the integer h and c of
// every layer and the time step. Not safe for concurrent use; make one per
// goroutine with Sim.NewState.
type State struct {
	sim    *Sim
	t      int
	h, c   [][]int64
	x      []int64 // quantized input (dense)
	tables [][256]int32
	// int32 buffers of the signmat kernels: input, output, scratch
	in32, out32, scratch32 []int32
	accX                   []int64
	accH                   []int64
	preX                   []int64
	preH                   []int64
}

// NewState returns a stream at t = 0 with the initial states H0, C0.
func (s *Sim) NewState() *State {
	st := &State{sim: s}
	maxK, maxM := 1, 1
	for _, l := range s.layers {
		st.h = append(st.h, make([]int64, l.n))
		st.c = append(st.c, make([]int64, l.n))
		maxK = max(maxK, l.d, l.n)
		maxM = max(maxM, l.G*l.n)
	}
	st.x = make([]int64, maxK)
	st.tables = make([][256]int32, ((maxK+63)/64)*8)
	scratch := 0
	for _, l := range s.layers {
		for _, mt := range []*simMat{&l.wx, &l.wh} {
			if mt.signs != nil {
				scratch = max(scratch, mt.signs.ScratchLen())
			}
		}
	}
	st.in32, st.out32, st.scratch32 = make([]int32, maxK), make([]int32, maxM), make([]int32, scratch)
	st.accX, st.accH = make([]int64, maxM), make([]int64, maxM)
	st.preX, st.preH = make([]int64, maxM), make([]int64, maxM)
	st.Reset()
	return st
}

// Reset returns to t = 0 and the initial states.
func (st *State) Reset() {
	st.t = 0
	for i, l := range st.sim.layers {
		copy(st.h[i], l.h0)
		if l.c0 != nil {
			copy(st.c[i], l.c0)
		}
	}
}

// T is the number of steps taken since the last Reset.
func (st *State) T() int { return st.t }

// H returns layer i's hidden state as activation-format integers (value =
// H[k] * 2^-(act_bits-1)); the slice is owned by the State.
func (st *State) H(i int) []int64 { return st.h[i] }

// HFloat appends layer i's dequantized hidden state to dst.
func (st *State) HFloat(dst []float64, i int) []float64 {
	u := math.Exp2(-float64(st.sim.fa))
	for _, v := range st.h[i] {
		dst = append(dst, float64(v)*u)
	}
	return dst
}

// C returns layer i's cell state (internal-format integers; LSTM only).
func (st *State) C(i int) []int64 { return st.c[i] }

// StepToken advances one step on a token (OneHot or Embedding models).
func (st *State) StepToken(tok int) error {
	m := st.sim.model
	switch m.Input {
	case packed.OneHot:
		if tok < 0 || tok >= st.sim.layers[0].d {
			return fmt.Errorf("hwsim: token %d out of range [0, %d)", tok, st.sim.layers[0].d)
		}
		st.step(tok, nil)
	case packed.Embedding:
		voc := m.VocabSize()
		if tok < 0 || tok >= voc {
			return fmt.Errorf("hwsim: token %d out of range [0, %d)", tok, voc)
		}
		D := m.EmbeddingDim
		st.step(-1, m.Embedding[tok*D:(tok+1)*D])
	default:
		return fmt.Errorf("hwsim: StepToken on a %v-input model; use StepDense", m.Input)
	}
	return nil
}

// StepDense advances one step on a dense input vector (Dense models).
func (st *State) StepDense(x []float32) error {
	if st.sim.model.Input != packed.Dense {
		return fmt.Errorf("hwsim: StepDense on a %v-input model; use StepToken", st.sim.model.Input)
	}
	if len(x) != st.sim.layers[0].d {
		return fmt.Errorf("hwsim: input of %d values, model wants %d", len(x), st.sim.layers[0].d)
	}
	st.step(-1, x)
	return nil
}

func (st *State) step(tok int, dense []float32) {
	s := st.sim
	for li := range s.layers {
		l := &s.layers[li]
		M, n := l.G*l.n, l.n
		sIdx := min(st.t, l.stored-1)
		// Input product.
		accX := st.accX[:M]
		switch {
		case l.oneHot:
			accX = l.wx.rowVals[tok*M : (tok+1)*M] // read-only: fold only reads it
		default:
			var in []int64
			if li == 0 {
				in = st.x[:l.d]
				for k, v := range dense {
					in[k] = quantize(float64(v), s.inFrac, s.a)
				}
			} else {
				in = st.h[li-1]
			}
			st.matVec(&l.wx, in, accX)
		}
		st.matVec(&l.wh, st.h[li], st.accH[:M])
		accH := st.accH[:M]
		// Fold (one multiply per output) and sum.
		preX, preH := st.preX[:M], st.preH[:M]
		fold(preX, accX, l.foldX[sIdx], l.shiftX[sIdx], s.fi, s.ib)
		fold(preH, accH, l.foldH[sIdx], l.shiftH[sIdx], s.fi, s.ib)
		h := st.h[li]
		ib, a := newSatRange(s.ib), newSatRange(s.a)
		rFa := newRounder(s.fa) // products of two a-bit fractions back to a bits
		if l.cell == packed.LSTM {
			c := st.c[li]
			fc, sc := l.foldC[sIdx], l.shiftC[sIdx]
			rIG, rC := newRounder(2*s.fa-s.fi), newRounder(fc.E)
			for k := 0; k < n; k++ {
				g := s.th.eval(ib.clamp(preX[k] + preH[k]))
				f := s.sig.eval(ib.clamp(preX[n+k] + preH[n+k]))
				i := s.sig.eval(ib.clamp(preX[2*n+k] + preH[2*n+k]))
				o := s.sig.eval(ib.clamp(preX[3*n+k] + preH[3*n+k]))
				ck := ib.clamp(rFa.apply(f*c[k]) + rIG.apply(i*g))
				c[k] = ck
				cn := ib.clamp(rC.apply(fc.M[k]*ck) + sc[k])
				h[k] = a.clamp(rFa.apply(o * s.th.eval(cn)))
			}
		} else {
			for k := 0; k < n; k++ {
				r := s.sig.eval(ib.clamp(preX[k] + preH[k]))
				z := s.sig.eval(ib.clamp(preX[n+k] + preH[n+k]))
				m := s.th.eval(ib.clamp(preX[2*n+k] + rFa.apply(r*preH[2*n+k])))
				h[k] = a.clamp(m + rFa.apply(z*(h[k]-m)))
			}
		}
	}
	st.t++
}

// fold computes pre[j] = sat(round(M[j]*acc[j] * 2^(fi-E)) + B[j]).
func fold(pre, acc []int64, b bfp, shift []int64, fi, ib int) {
	sh := b.E - fi
	pre, shift, mant := pre[:len(acc)], shift[:len(acc)], b.M[:len(acc)]
	if sh <= 0 || sh > 62 { // rare: exact left shift or underflow
		for j, v := range acc {
			pre[j] = satBits(rshiftRound(mant[j]*v, sh)+shift[j], ib)
		}
		return
	}
	half, ush, r := int64(1)<<(sh-1), uint(sh)&63, newSatRange(ib) // the common case, branch-free
	for j, v := range acc {
		pre[j] = r.clamp((mant[j]*v+half)>>ush + shift[j])
	}
}

// matVec computes acc = in . W for one matrix, saturated to acc_bits.
func (st *State) matVec(mt *simMat, in []int64, acc []int64) {
	s := st.sim
	accBits := s.cfg.Datapath.AccBits
	if mt.ints != nil {
		K := mt.K
		for j := range acc {
			row := mt.ints[j*K : (j+1)*K]
			var sum int64
			for k, w := range row {
				sum += w * in[k]
			}
			acc[j] = satBits(sum, accBits)
		}
		return
	}
	if mt.signs != nil { // exact: compileMat checked that no sum leaves int32
		in32, out32 := st.in32[:len(in)], st.out32[:len(acc)]
		for k, v := range in {
			in32[k] = int32(v)
		}
		mt.signs.MulInt32(in32, out32, st.scratch32)
		for j, v := range out32 {
			acc[j] = satBits(int64(v), accBits)
		}
		return
	}
	// Four-Russians: for every group of 8 inputs, a 256-entry table of all
	// subset sums; a row's sum is then one lookup per weight byte.
	nw := mt.nw
	T := st.tables[:nw*8]
	total := buildSubsetSums(in, T)
	for j := range acc {
		var sum int64
		if mt.tern {
			sum = dotTables(T, mt.pos[j*nw:(j+1)*nw]) - dotTables(T, mt.neg[j*nw:(j+1)*nw])
		} else {
			sum = 2*dotTables(T, mt.pos[j*nw:(j+1)*nw]) - total
		}
		acc[j] = satBits(sum, accBits)
	}
}

// buildSubsetSums fills T[g][mask] = sum of in[8g+b] over the set bits b of
// mask (inputs past the end count as 0) and returns the sum of all inputs.
// Activations are at most 24 bits, so 8 of them fit an int32.
func buildSubsetSums(in []int64, T [][256]int32) int64 {
	var total int64
	for g := range T {
		t := &T[g]
		t[0] = 0
		base := g * 8
		for b := 0; b < 8; b++ {
			var v int32
			if base+b < len(in) {
				v = int32(in[base+b])
				total += in[base+b]
			}
			lo := 1 << b
			for m := 0; m < lo; m++ {
				t[lo+m] = t[m] + v
			}
		}
	}
	return total
}

// dotTables is sum_k bit_k(row) * in_k, one table lookup per byte of row.
func dotTables(T [][256]int32, row []uint64) int64 {
	var s0, s1 int64
	T = T[:len(row)*8]
	for w, m := range row {
		t := T[w*8 : w*8+8 : w*8+8]
		s0 += int64(t[0][uint8(m)]) + int64(t[1][uint8(m>>8)]) + int64(t[2][uint8(m>>16)]) + int64(t[3][uint8(m>>24)])
		s1 += int64(t[4][uint8(m>>32)]) + int64(t[5][uint8(m>>40)]) + int64(t[6][uint8(m>>48)]) + int64(t[7][uint8(m>>56)])
	}
	return s0 + s1
}

package packed

import "github.com/rbt-project/rbt/rbt/signmat"

// Matrix-vector kernels. Every kernel computes acc = x . W for a rows x cols
// matrix W (rows = inputs, cols = G*n gate units) and one input row x, or
// selects row tok of W (one-hot input).
//
// The packed kernels never multiply. On CPUs with AVX2, KernelLUT uses
// signProduct (package signmat: 3-input tables, eight columns per permute
// instruction). The portable kernels below use lookup tables over groups of
// inputs (the "four Russians" trick): for a group of 8 consecutive inputs
// x[8g..8g+7], a 256-entry table holds, for every sign pattern b, the sum
// sum_k (bit k of b ? +x_k : -x_k). The weights are stored transposed into
// bit planes: byte plane[g*cols+j] holds the 8 signs of column j for the
// inputs of group g. Then
//
//	acc[j] = sum_g table_g[plane[g*cols+j]]
//
// which is one table load and one add per 8 weights, instead of 8
// multiply-adds; building the tables costs 255 adds per group, shared by all
// cols columns. Four groups are fused per pass over acc so that acc is read
// and written once per 32 inputs. Ternary weights w = p - m (p = [w=+1],
// m = [w=-1]) use two planes and subset-sum tables (2 loads per 8 weights),
// or a base-3 plane with 243-entry tables over 5 inputs (1 load per 5
// weights). All tables live in a scratch buffer owned by the caller's State.

type product interface {
	// mul sets acc[0:cols] = x[0:rows] . W.
	mul(x, acc []float32, lut []float32)
	// row sets acc[0:cols] = W[tok, :].
	row(tok int, acc []float32)
	// bytes is the resident size of the weights.
	bytes() int64
	// lutLen is the scratch size mul needs.
	lutLen() int
}

// ---------------------------------------------------------------- signmat

// signProduct is KernelLUT's product on CPUs with AVX2: package signmat's
// 3-input tables, eight columns per permute.
type signProduct struct{ m *signmat.Matrix }

func (p signProduct) mul(x, acc, lut []float32)  { p.m.MulFloat32(x, acc, lut) }
func (p signProduct) row(tok int, acc []float32) { p.m.RowFloat32(tok, acc) }
func (p signProduct) bytes() int64               { return p.m.Bytes() }
func (p signProduct) lutLen() int                { return p.m.ScratchLen() }

// ---------------------------------------------------------------- float32

// denseF32 is the float32 reference product: plain multiply-adds over a
// row-major rows x cols float32 matrix (four input rows per pass over acc).
type denseF32 struct {
	rows, cols int
	w          []float32
}

func newDenseF32(rows, cols int, w []float32) *denseF32 { return &denseF32{rows, cols, w} }

func expandSigns(s []int8) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}

func (p *denseF32) bytes() int64 { return 4 * int64(len(p.w)) }
func (p *denseF32) lutLen() int  { return 0 }

func (p *denseF32) row(tok int, acc []float32) {
	copy(acc[:p.cols], p.w[tok*p.cols:(tok+1)*p.cols])
}

func (p *denseF32) mul(x, acc []float32, _ []float32) {
	cols := p.cols
	acc = acc[:cols]
	clear(acc)
	i := 0
	for ; i+4 <= p.rows; i += 4 {
		x0, x1, x2, x3 := x[i], x[i+1], x[i+2], x[i+3]
		w0 := p.w[i*cols : (i+1)*cols]
		w1 := p.w[(i+1)*cols : (i+2)*cols]
		w2 := p.w[(i+2)*cols : (i+3)*cols]
		w3 := p.w[(i+3)*cols : (i+4)*cols]
		for j := range acc {
			acc[j] += x0*w0[j] + x1*w1[j] + x2*w2[j] + x3*w3[j]
		}
	}
	for ; i < p.rows; i++ {
		xi := x[i]
		w0 := p.w[i*cols : (i+1)*cols]
		for j := range acc {
			acc[j] += xi * w0[j]
		}
	}
}

// ---------------------------------------------------------------- packed planes

// planes stores one code byte per (group of inputs, column):
// plane[g*cols+j] codes the inputs of group g for column j. The number of
// groups is padded to a multiple of 4 with zero bytes whose inputs count as 0.
type planes struct {
	rows, cols int
	per        int // inputs per group: 8 (bits) or 5 (base 3)
	groups     int // multiple of 4
	plane      []byte
}

func newPlanes(rows, cols, per int) planes {
	g := int(padGroups(int64(rows), int64(per)))
	return planes{rows: rows, cols: cols, per: per, groups: g, plane: make([]byte, g*cols)}
}

func (q *planes) bytes() int64 { return int64(len(q.plane)) }
func (q *planes) lutLen() int  { return 4 * 256 }

// xs returns the inputs of group g (possibly fewer than per, or none).
func (q *planes) xs(x []float32, g int) []float32 {
	lo := min(g*q.per, q.rows)
	return x[lo:min(lo+q.per, q.rows)]
}

// mulWith is the pass structure shared by binary and base-3 planes: for each
// 4 groups, fill four tables, then accumulate over all columns.
func (q *planes) mulWith(x, acc, lut []float32, fill func(t *[256]float32, x []float32)) {
	cols := q.cols
	acc = acc[:cols]
	clear(acc)
	lut = lut[:1024]
	for g := 0; g < q.groups; g += 4 {
		fill((*[256]float32)(lut[0:256]), q.xs(x, g))
		fill((*[256]float32)(lut[256:512]), q.xs(x, g+1))
		fill((*[256]float32)(lut[512:768]), q.xs(x, g+2))
		fill((*[256]float32)(lut[768:1024]), q.xs(x, g+3))
		p := q.plane[g*cols : (g+4)*cols]
		lookup4(acc, lut, p[:cols], p[cols:2*cols], p[2*cols:3*cols], p[3*cols:])
	}
}

// lookup4 adds t[b0[j]] + t[256+b1[j]] + t[512+b2[j]] + t[768+b3[j]] to
// acc[j]: four table lookups per column, no multiplication.
func lookup4(acc, t []float32, b0, b1, b2, b3 []byte) {
	n := len(acc)
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	t = t[:1024]
	for j := range acc {
		acc[j] += (t[b0[j]] + t[256+int(b1[j])]) + (t[512+int(b2[j])] + t[768+int(b3[j])])
	}
}

// ---------------------------------------------------------------- binary

// binLUT holds +-1 weights as bits, 1 bit per weight: bit k of the code of
// group g, column j is [W[8g+k][j] = +1].
type binLUT struct{ planes }

func newBinLUT(rows, cols int, s []int8) *binLUT {
	p := &binLUT{newPlanes(rows, cols, 8)}
	for i := range rows {
		bit := byte(1) << (i % 8)
		dst := p.plane[(i/8)*cols:][:cols]
		for j, v := range s[i*cols : (i+1)*cols] {
			if v > 0 {
				dst[j] |= bit
			}
		}
	}
	return p
}

var signOf = [2]float32{-1, 1}

func (p *binLUT) row(tok int, acc []float32) {
	src := p.plane[(tok/8)*p.cols:][:p.cols]
	sh := uint(tok % 8)
	acc = acc[:len(src)]
	for j, b := range src {
		acc[j] = signOf[(b>>sh)&1]
	}
}

// signedTable fills t[b] = sum_k (bit k of b ? x_k : -x_k) for the (up to 8)
// inputs x; missing inputs count as 0. 255 adds.
func signedTable(t *[256]float32, x []float32) {
	var xs [8]float32
	copy(xs[:], x)
	var neg float32
	for _, v := range xs {
		neg -= v
	}
	t[0] = neg
	for k, size := 0, 1; k < 8; k, size = k+1, size*2 {
		d := 2 * xs[k]
		lo, hi := t[:size], t[size:2*size]
		for b, v := range lo {
			hi[b] = v + d
		}
	}
}

func (p *binLUT) mul(x, acc []float32, lut []float32) { p.mulWith(x, acc, lut, signedTable) }

// ---------------------------------------------------------------- ternary, base 3

// tern3LUT holds {-1,0,+1} weights in base 3, five per byte (1.6 bits per
// weight): the code of group g, column j is sum_{k<5} (W[5g+k][j]+1) * 3^k.
type tern3LUT struct{ planes }

func newTern3LUT(rows, cols int, s []int8) *tern3LUT {
	p := &tern3LUT{newPlanes(rows, cols, 5)}
	for i := range rows {
		w := byte(pow3[i%5])
		dst := p.plane[(i/5)*cols:][:cols]
		for j, v := range s[i*cols : (i+1)*cols] {
			dst[j] += byte(v+1) * w
		}
	}
	// Digits of inputs past the last row stay 0 (weight -1); their x is 0.
	return p
}

// trit[k][c] is digit k of the base-3 code c, minus 1, as float32.
var trit = func() (t [5][256]float32) {
	for c := range 243 {
		v := c
		for k := range 5 {
			t[k][c] = float32(v%3 - 1)
			v /= 3
		}
	}
	return
}()

func (p *tern3LUT) row(tok int, acc []float32) {
	src := p.plane[(tok/5)*p.cols:][:p.cols]
	d := &trit[tok%5]
	acc = acc[:len(src)]
	for j, b := range src {
		acc[j] = d[b]
	}
}

// base3Table fills t[c] = sum_k (digit k of c - 1) * x_k for c < 243
// (242 adds).
func base3Table(t *[256]float32, x []float32) {
	var xs [5]float32
	copy(xs[:], x)
	t[0] = -(xs[0] + xs[1] + xs[2] + xs[3] + xs[4])
	size := 1
	for k := range 5 {
		d := xs[k]
		lo := t[:size]
		mid, hi := t[size:2*size], t[2*size:3*size]
		for c, v := range lo {
			mid[c] = v + d
			hi[c] = v + 2*d
		}
		size *= 3
	}
}

func (p *tern3LUT) mul(x, acc []float32, lut []float32) { p.mulWith(x, acc, lut, base3Table) }

// ---------------------------------------------------------------- ternary, 2 bits

// tern2LUT holds {-1,0,+1} weights as two bits each, in groups of 8 inputs:
// plane 2g marks w = +1 and plane 2g+1 marks w = -1 (so acc += t_g[plus] -
// t_g[minus], with subset-sum tables).
type tern2LUT struct{ planes }

func newTern2LUT(rows, cols int, s []int8) *tern2LUT {
	groups := (rows + 7) / 8
	p := &tern2LUT{newPlanes(16*groups, cols, 8)} // 2 planes per group of 8
	p.rows = rows
	for i := range rows {
		g, bit := i/8, byte(1)<<(i%8)
		plus, minus := p.plane[(2*g)*cols:][:cols], p.plane[(2*g+1)*cols:][:cols]
		for j, v := range s[i*cols : (i+1)*cols] {
			if v > 0 {
				plus[j] |= bit
			} else if v < 0 {
				minus[j] |= bit
			}
		}
	}
	return p
}

func (p *tern2LUT) lutLen() int { return 2 * 256 }

func (p *tern2LUT) row(tok int, acc []float32) {
	g, sh := tok/8, uint(tok%8)
	plus, minus := p.plane[(2*g)*p.cols:][:p.cols], p.plane[(2*g+1)*p.cols:][:p.cols]
	acc = acc[:p.cols]
	for j := range acc {
		acc[j] = float32(int((plus[j]>>sh)&1) - int((minus[j]>>sh)&1))
	}
}

// subsetTable fills t[b] = sum_k (bit k of b ? x_k : 0) (255 adds).
func subsetTable(t *[256]float32, x []float32) {
	var xs [8]float32
	copy(xs[:], x)
	t[0] = 0
	for k, size := 0, 1; k < 8; k, size = k+1, size*2 {
		d := xs[k]
		lo, hi := t[:size], t[size:2*size]
		for b, v := range lo {
			hi[b] = v + d
		}
	}
}

func (p *tern2LUT) mul(x, acc []float32, lut []float32) {
	cols := p.cols
	acc = acc[:cols]
	clear(acc)
	lut = lut[:512]
	for g := 0; 2*g < p.groups; g += 2 { // two groups of 8 inputs (4 planes) per pass
		subsetTable((*[256]float32)(lut[0:256]), p.xs(x, g))
		subsetTable((*[256]float32)(lut[256:512]), p.xs(x, g+1))
		q := p.plane[2*g*cols : (2*g+4)*cols]
		lookupPlusMinus(acc, lut, q[:cols], q[cols:2*cols], q[2*cols:3*cols], q[3*cols:])
	}
}

// lookupPlusMinus adds t[p0[j]] - t[m0[j]] + t[256+p1[j]] - t[256+m1[j]] to acc[j].
func lookupPlusMinus(acc, t []float32, p0, m0, p1, m1 []byte) {
	n := len(acc)
	p0, m0, p1, m1 = p0[:n], m0[:n], p1[:n], m1[:n]
	t = t[:512]
	for j := range acc {
		acc[j] += (t[p0[j]] - t[m0[j]]) + (t[256+int(p1[j])] - t[256+int(m1[j])])
	}
}

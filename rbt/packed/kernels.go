package packed

import "encoding/binary"

// Matrix-vector kernels. Every kernel computes acc = x . W for a rows x cols
// matrix W (rows = inputs, cols = G*n gate units) and one input row x, or
// selects row tok of W (one-hot input).
//
// The packed kernels never multiply. They use lookup tables over groups of
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

// quadPlanes stores one code byte per (group of inputs, column), four groups
// interleaved per column: plane[(q*cols+j)*4+k] codes inputs of group 4q+k.
// Groups past the last input are zero bytes (their inputs count as 0).
type quadPlanes struct {
	rows, cols int
	per        int // inputs per group: 8 (bits) or 5 (base 3)
	quads      int
	plane      []byte
}

func newQuadPlanes(rows, cols, per int) quadPlanes {
	groups := (rows + per - 1) / per
	q := quadPlanes{rows: rows, cols: cols, per: per, quads: (groups + 3) / 4}
	q.plane = make([]byte, q.quads*cols*4)
	return q
}

// code returns the byte of group g, column j.
func (q *quadPlanes) code(g, j int) *byte { return &q.plane[((g/4)*q.cols+j)*4+g%4] }

func (q *quadPlanes) bytes() int64 { return int64(len(q.plane)) }
func (q *quadPlanes) lutLen() int  { return 4 * 256 }

// xs returns the inputs of group g (possibly fewer than per, or none).
func (q *quadPlanes) xs(x []float32, g int) []float32 {
	lo := min(g*q.per, q.rows)
	return x[lo:min(lo+q.per, q.rows)]
}

// mulWith runs the pass structure shared by binary and base-3 planes: for
// each quad, build four tables with fill, then accumulate.
func (q *quadPlanes) mulWith(x, acc, lut []float32, fill func(t *[256]float32, x []float32)) {
	acc = acc[:q.cols]
	clear(acc)
	t0 := (*[256]float32)(lut[0:256])
	t1 := (*[256]float32)(lut[256:512])
	t2 := (*[256]float32)(lut[512:768])
	t3 := (*[256]float32)(lut[768:1024])
	for qi := range q.quads {
		g := 4 * qi
		fill(t0, q.xs(x, g))
		fill(t1, q.xs(x, g+1))
		fill(t2, q.xs(x, g+2))
		fill(t3, q.xs(x, g+3))
		lookupQuad(acc, t0[:], t1[:], t2[:], t3[:], q.plane[qi*q.cols*4:][:4*len(acc)])
	}
}

// lookupQuad adds t0[p[4j]] + t1[p[4j+1]] + t2[p[4j+2]] + t3[p[4j+3]] to
// acc[j]. The tables are length-256 slices indexed by bytes, so the compiler
// emits no bounds or nil checks in the loop.
func lookupQuad(acc, t0, t1, t2, t3 []float32, p []byte) {
	n := len(acc)
	p = p[:4*n]
	t0, t1, t2, t3 = t0[:256], t1[:256], t2[:256], t3[:256]
	j := 0
	for ; j+2 <= n; j += 2 {
		v := binary.LittleEndian.Uint64(p[4*j:])
		a := acc[j : j+2 : j+2]
		a[0] += (t0[uint8(v)] + t1[uint8(v>>8)]) + (t2[uint8(v>>16)] + t3[uint8(v>>24)])
		a[1] += (t0[uint8(v>>32)] + t1[uint8(v>>40)]) + (t2[uint8(v>>48)] + t3[uint8(v>>56)])
	}
	if j < n {
		c := p[4*j : 4*j+4]
		acc[j] += (t0[c[0]] + t1[c[1]]) + (t2[c[2]] + t3[c[3]])
	}
}

// ---------------------------------------------------------------- binary

// binLUT holds +-1 weights as bits, 1 bit per weight: bit k of the code of
// group g, column j is [W[8g+k][j] = +1].
type binLUT struct{ quadPlanes }

func newBinLUT(rows, cols int, s []int8) *binLUT {
	p := &binLUT{newQuadPlanes(rows, cols, 8)}
	for i := range rows {
		bit := byte(1) << (i % 8)
		for j, v := range s[i*cols : (i+1)*cols] {
			if v > 0 {
				*p.code(i/8, j) |= bit
			}
		}
	}
	return p
}

var signOf = [2]float32{-1, 1}

func (p *binLUT) row(tok int, acc []float32) {
	g, sh := tok/8, uint(tok%8)
	src := p.plane[(g/4)*p.cols*4+g%4:]
	acc = acc[:p.cols]
	for j := range acc {
		acc[j] = signOf[(src[4*j]>>sh)&1]
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
type tern3LUT struct{ quadPlanes }

func newTern3LUT(rows, cols int, s []int8) *tern3LUT {
	p := &tern3LUT{newQuadPlanes(rows, cols, 5)}
	for i := range rows {
		w := byte(pow3[i%5])
		for j, v := range s[i*cols : (i+1)*cols] {
			*p.code(i/5, j) += byte(v+1) * w
		}
	}
	// Digits of inputs past the last row stay 0 ("-1"); their x is 0.
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
	g := tok / 5
	src := p.plane[(g/4)*p.cols*4+g%4:]
	d := &trit[tok%5]
	acc = acc[:p.cols]
	for j := range acc {
		acc[j] = d[src[4*j]]
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

// tern2LUT holds {-1,0,+1} weights as two bits each: a "plus" bit plane
// ([w = +1]) and a "minus" one ([w = -1]), groups of 8 inputs. Interleaved
// per column as [plus g, minus g, plus g+1, minus g+1], so the same 4-byte
// pass serves two groups: acc += t_g[plus] - t_g[minus] + ...
type tern2LUT struct{ quadPlanes }

func newTern2LUT(rows, cols int, s []int8) *tern2LUT {
	// Logical group g of 8 inputs uses slots 2g (plus) and 2g+1 (minus).
	groups := (rows + 7) / 8
	p := &tern2LUT{newQuadPlanes(2*groups*8, cols, 8)}
	p.rows = rows
	for i := range rows {
		g, bit := i/8, byte(1)<<(i%8)
		for j, v := range s[i*cols : (i+1)*cols] {
			if v > 0 {
				*p.code(2*g, j) |= bit
			} else if v < 0 {
				*p.code(2*g+1, j) |= bit
			}
		}
	}
	return p
}

func (p *tern2LUT) lutLen() int { return 2 * 256 }

func (p *tern2LUT) row(tok int, acc []float32) {
	g, sh := tok/8, uint(tok%8)
	src := p.plane[(g/2)*p.cols*4+2*(g%2):]
	acc = acc[:p.cols]
	for j := range acc {
		c := src[4*j:][:2]
		acc[j] = float32(int((c[0]>>sh)&1) - int((c[1]>>sh)&1))
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
	acc = acc[:p.cols]
	clear(acc)
	t0 := (*[256]float32)(lut[0:256])
	t1 := (*[256]float32)(lut[256:512])
	for qi := range p.quads {
		g := 2 * qi // two logical groups of 8 inputs per pass
		lo := min(8*g, p.rows)
		subsetTable(t0, x[lo:min(lo+8, p.rows)])
		lo = min(8*g+8, p.rows)
		subsetTable(t1, x[lo:min(lo+8, p.rows)])
		lookupPlusMinus(acc, t0[:], t1[:], p.plane[qi*p.cols*4:][:4*len(acc)])
	}
}

// lookupPlusMinus adds t0[p[4j]] - t0[p[4j+1]] + t1[p[4j+2]] - t1[p[4j+3]] to acc[j].
func lookupPlusMinus(acc, t0, t1 []float32, p []byte) {
	n := len(acc)
	p = p[:4*n]
	t0, t1 = t0[:256], t1[:256]
	j := 0
	for ; j+2 <= n; j += 2 {
		v := binary.LittleEndian.Uint64(p[4*j:])
		a := acc[j : j+2 : j+2]
		a[0] += (t0[uint8(v)] - t0[uint8(v>>8)]) + (t1[uint8(v>>16)] - t1[uint8(v>>24)])
		a[1] += (t0[uint8(v>>32)] - t0[uint8(v>>40)]) + (t1[uint8(v>>48)] - t1[uint8(v>>56)])
	}
	if j < n {
		c := p[4*j : 4*j+4]
		acc[j] += (t0[c[0]] - t0[c[1]]) + (t1[c[2]] - t1[c[3]])
	}
}

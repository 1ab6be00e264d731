package packed

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

// ---------------------------------------------------------------- binary

// binLUT holds +-1 weights as bit planes, 1 bit per weight.
type binLUT struct {
	rows, cols, groups int
	plane              []byte // groups*cols; bit k of plane[g*cols+j] = [W[8g+k][j] = +1]
}

func newBinLUT(rows, cols int, s []int8) *binLUT {
	p := &binLUT{rows: rows, cols: cols, groups: (rows + 7) / 8}
	p.plane = make([]byte, p.groups*cols)
	for i := range rows {
		g, bit := i/8, byte(1)<<(i%8)
		dst := p.plane[g*cols:][:cols]
		for j, v := range s[i*cols : (i+1)*cols] {
			if v > 0 {
				dst[j] |= bit
			}
		}
	}
	return p
}

func (p *binLUT) bytes() int64 { return int64(len(p.plane)) }
func (p *binLUT) lutLen() int  { return 4 * 256 }

var signOf = [2]float32{-1, 1}

func (p *binLUT) row(tok int, acc []float32) {
	src := p.plane[(tok/8)*p.cols : (tok/8+1)*p.cols]
	sh := uint(tok % 8)
	acc = acc[:len(src)]
	for j, b := range src {
		acc[j] = signOf[(b>>sh)&1]
	}
}

// signedTable fills t[b] = sum_k (bit k of b ? x_k : -x_k) for the (up to 8)
// inputs x; missing inputs count as 0.
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

func (p *binLUT) mul(x, acc []float32, lut []float32) {
	cols := p.cols
	acc = acc[:cols]
	t0 := (*[256]float32)(lut[0:256])
	t1 := (*[256]float32)(lut[256:512])
	t2 := (*[256]float32)(lut[512:768])
	t3 := (*[256]float32)(lut[768:1024])
	g := 0
	first := true
	for ; g+4 <= p.groups; g += 4 {
		signedTable(t0, x[8*g:min(8*g+8, p.rows)])
		signedTable(t1, x[8*g+8:min(8*g+16, p.rows)])
		signedTable(t2, x[8*g+16:min(8*g+24, p.rows)])
		signedTable(t3, x[8*g+24:min(8*g+32, p.rows)])
		b0 := p.plane[g*cols:][:len(acc)]
		b1 := p.plane[(g+1)*cols:][:len(acc)]
		b2 := p.plane[(g+2)*cols:][:len(acc)]
		b3 := p.plane[(g+3)*cols:][:len(acc)]
		if first {
			for j := range acc {
				acc[j] = t0[b0[j]] + t1[b1[j]] + t2[b2[j]] + t3[b3[j]]
			}
			first = false
			continue
		}
		for j := range acc {
			acc[j] += t0[b0[j]] + t1[b1[j]] + t2[b2[j]] + t3[b3[j]]
		}
	}
	if first {
		clear(acc)
	}
	for ; g < p.groups; g++ {
		signedTable(t0, x[8*g:min(8*g+8, p.rows)])
		b0 := p.plane[g*cols:][:len(acc)]
		for j := range acc {
			acc[j] += t0[b0[j]]
		}
	}
}

// ---------------------------------------------------------------- ternary, 2 bits

// tern2LUT holds {-1,0,+1} weights as two bit planes (2 bits per weight).
type tern2LUT struct {
	rows, cols, groups int
	plus, minus        []byte // like binLUT.plane, for w = +1 and w = -1
}

func newTern2LUT(rows, cols int, s []int8) *tern2LUT {
	p := &tern2LUT{rows: rows, cols: cols, groups: (rows + 7) / 8}
	p.plus = make([]byte, p.groups*cols)
	p.minus = make([]byte, p.groups*cols)
	for i := range rows {
		g, bit := i/8, byte(1)<<(i%8)
		dp, dm := p.plus[g*cols:][:cols], p.minus[g*cols:][:cols]
		for j, v := range s[i*cols : (i+1)*cols] {
			if v > 0 {
				dp[j] |= bit
			} else if v < 0 {
				dm[j] |= bit
			}
		}
	}
	return p
}

func (p *tern2LUT) bytes() int64 { return int64(len(p.plus) + len(p.minus)) }
func (p *tern2LUT) lutLen() int  { return 2 * 256 }

func (p *tern2LUT) row(tok int, acc []float32) {
	sp := p.plus[(tok/8)*p.cols : (tok/8+1)*p.cols]
	sm := p.minus[(tok/8)*p.cols : (tok/8+1)*p.cols]
	sm = sm[:len(sp)]
	acc = acc[:len(sp)]
	sh := uint(tok % 8)
	for j := range sp {
		acc[j] = float32(int((sp[j]>>sh)&1) - int((sm[j]>>sh)&1))
	}
}

// subsetTable fills t[b] = sum_k (bit k of b ? x_k : 0).
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
	t0 := (*[256]float32)(lut[0:256])
	t1 := (*[256]float32)(lut[256:512])
	g := 0
	first := true
	for ; g+2 <= p.groups; g += 2 {
		subsetTable(t0, x[8*g:min(8*g+8, p.rows)])
		subsetTable(t1, x[8*g+8:min(8*g+16, p.rows)])
		p0, m0 := p.plus[g*cols:][:len(acc)], p.minus[g*cols:][:len(acc)]
		p1, m1 := p.plus[(g+1)*cols:][:len(acc)], p.minus[(g+1)*cols:][:len(acc)]
		if first {
			for j := range acc {
				acc[j] = (t0[p0[j]] - t0[m0[j]]) + (t1[p1[j]] - t1[m1[j]])
			}
			first = false
			continue
		}
		for j := range acc {
			acc[j] += (t0[p0[j]] - t0[m0[j]]) + (t1[p1[j]] - t1[m1[j]])
		}
	}
	if first {
		clear(acc)
	}
	for ; g < p.groups; g++ {
		subsetTable(t0, x[8*g:min(8*g+8, p.rows)])
		p0, m0 := p.plus[g*cols:][:len(acc)], p.minus[g*cols:][:len(acc)]
		for j := range acc {
			acc[j] += t0[p0[j]] - t0[m0[j]]
		}
	}
}

// ---------------------------------------------------------------- ternary, base 3

// tern3LUT holds {-1,0,+1} weights in base 3, five per byte (1.6 bits per
// weight): plane[g*cols+j] = sum_{k<5} (W[5g+k][j]+1) * 3^k.
type tern3LUT struct {
	rows, cols, groups int
	plane              []byte
}

func newTern3LUT(rows, cols int, s []int8) *tern3LUT {
	p := &tern3LUT{rows: rows, cols: cols, groups: (rows + 4) / 5}
	p.plane = make([]byte, p.groups*cols)
	for i := range rows {
		g, w := i/5, byte(pow3[i%5])
		dst := p.plane[g*cols:][:cols]
		for j, v := range s[i*cols : (i+1)*cols] {
			dst[j] += byte(v+1) * w
		}
	}
	return p
}

func (p *tern3LUT) bytes() int64 { return int64(len(p.plane)) }
func (p *tern3LUT) lutLen() int  { return 4 * 256 }

// trit[k][b] is digit k of the base-3 code b, minus 1, as float32.
var trit = func() (t [5][256]float32) {
	for b := range 243 {
		v := b
		for k := range 5 {
			t[k][b] = float32(v%3 - 1)
			v /= 3
		}
	}
	return
}()

func (p *tern3LUT) row(tok int, acc []float32) {
	src := p.plane[(tok/5)*p.cols : (tok/5+1)*p.cols]
	d := &trit[tok%5]
	acc = acc[:len(src)]
	for j, b := range src {
		acc[j] = d[b]
	}
}

// base3Table fills t[c] = sum_k (digit k of c - 1) * x_k for c < 243.
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

func (p *tern3LUT) mul(x, acc []float32, lut []float32) {
	cols := p.cols
	acc = acc[:cols]
	t0 := (*[256]float32)(lut[0:256])
	t1 := (*[256]float32)(lut[256:512])
	t2 := (*[256]float32)(lut[512:768])
	t3 := (*[256]float32)(lut[768:1024])
	g := 0
	first := true
	for ; g+4 <= p.groups; g += 4 {
		base3Table(t0, x[5*g:min(5*g+5, p.rows)])
		base3Table(t1, x[5*g+5:min(5*g+10, p.rows)])
		base3Table(t2, x[5*g+10:min(5*g+15, p.rows)])
		base3Table(t3, x[5*g+15:min(5*g+20, p.rows)])
		b0 := p.plane[g*cols:][:len(acc)]
		b1 := p.plane[(g+1)*cols:][:len(acc)]
		b2 := p.plane[(g+2)*cols:][:len(acc)]
		b3 := p.plane[(g+3)*cols:][:len(acc)]
		if first {
			for j := range acc {
				acc[j] = t0[b0[j]] + t1[b1[j]] + t2[b2[j]] + t3[b3[j]]
			}
			first = false
			continue
		}
		for j := range acc {
			acc[j] += t0[b0[j]] + t1[b1[j]] + t2[b2[j]] + t3[b3[j]]
		}
	}
	if first {
		clear(acc)
	}
	for ; g < p.groups; g++ {
		base3Table(t0, x[5*g:min(5*g+5, p.rows)])
		b0 := p.plane[g*cols:][:len(acc)]
		for j := range acc {
			acc[j] += t0[b0[j]]
		}
	}
}

package signmat

import (
	"fmt"
	"math"
)

const (
	groupInputs = 3                // inputs per lookup table
	tableLen    = 1 << groupInputs // 8 entries: every sign pattern of a group
	wordGroups  = 10               // groups per uint32 code (30 of 32 bits)
	wordInputs  = groupInputs * wordGroups
	lanes       = 8                     // columns per block: one 256-bit register
	wordTables  = wordGroups * tableLen // table entries per word
)

// Matrix is a packed rows x cols sign matrix, binary or ternary; build it with
// New. It is read-only: several goroutines may multiply with one Matrix, each
// with its own scratch.
type Matrix struct {
	rows, cols int
	ternary    bool
	blocks     int // ceil(cols / 8)
	halfWords  int // words per block for one binary matrix: ceil(rows / 30)
	words      int // words per block: halfWords, or 2*halfWords for ternary (A then B)
	// code[(block*words+k)*8 + lane] holds groups 10k..10k+9 of column
	// 8*block+lane: bits 3g..3g+2 are the signs of inputs 3(10k+g)..+2
	// (bit set: +1).
	code []uint32
}

// New packs the rows x cols matrix signs (row-major). With ternary false every
// entry must be -1 or +1; with ternary true, -1, 0 or +1.
func New(rows, cols int, signs []int8, ternary bool) (*Matrix, error) {
	if rows < 1 || cols < 1 {
		return nil, fmt.Errorf("signmat: matrix is %d x %d; both sizes must be at least 1", rows, cols)
	}
	if len(signs) != rows*cols {
		return nil, fmt.Errorf("signmat: %d signs for a %d x %d matrix", len(signs), rows, cols)
	}
	m := &Matrix{rows: rows, cols: cols, ternary: ternary, blocks: (cols + lanes - 1) / lanes}
	m.halfWords = (rows + wordInputs - 1) / wordInputs
	m.words = wordsFor(rows, ternary)
	m.code = make([]uint32, m.blocks*m.words*lanes)
	for i := range rows {
		k, bit := i/wordInputs, uint32(1)<<(i%wordInputs)
		for j, s := range signs[i*cols : (i+1)*cols] {
			a, b := s > 0, s > 0 // binary: one matrix
			switch {
			case ternary && s >= -1 && s <= 1:
				a = s >= 0 // A; B = s > 0
			case s != -1 && s != 1:
				return nil, fmt.Errorf("signmat: entry (%d, %d) is %d; a %s matrix holds only %s", i, j, s, m.kind(), m.values())
			}
			idx := ((j/lanes)*m.words+k)*lanes + j%lanes
			if a {
				m.code[idx] |= bit
			}
			if ternary && b {
				m.code[idx+m.halfWords*lanes] |= bit
			}
		}
	}
	return m, nil
}

func (m *Matrix) kind() string {
	if m.ternary {
		return "ternary"
	}
	return "binary"
}

func (m *Matrix) values() string {
	if m.ternary {
		return "-1, 0 and +1"
	}
	return "-1 and +1"
}

// Rows is the number of inputs (the length of x).
func (m *Matrix) Rows() int { return m.rows }

// Cols is the number of outputs.
func (m *Matrix) Cols() int { return m.cols }

// Ternary reports whether the matrix holds {-1, 0, +1}.
func (m *Matrix) Ternary() bool { return m.ternary }

// Bytes is the resident size of the packed signs.
func (m *Matrix) Bytes() int64 { return 4 * int64(len(m.code)) }

// ScratchLen is the length of the scratch slice the Mul methods need: the
// lookup tables plus one padded output block.
func (m *Matrix) ScratchLen() int { return m.words*wordTables + m.blocks*lanes }

// Sign returns entry (i, j).
func (m *Matrix) Sign(i, j int) int8 {
	idx := ((j/lanes)*m.words+i/wordInputs)*lanes + j%lanes
	bit := uint(i % wordInputs)
	a := int8(m.code[idx]>>bit&1)*2 - 1
	if !m.ternary {
		return a
	}
	b := int8(m.code[idx+m.halfWords*lanes]>>bit&1)*2 - 1
	return (a + b) / 2
}

// RowFloat32 sets out[0:cols] to row i as float32 (the product with the
// one-hot vector e_i).
func (m *Matrix) RowFloat32(i int, out []float32) {
	out = out[:m.cols]
	k, bit := i/wordInputs, uint(i%wordInputs)
	for blk := range m.blocks {
		a := m.code[(blk*m.words+k)*lanes:][:lanes]
		var b []uint32
		if m.ternary {
			b = m.code[(blk*m.words+m.halfWords+k)*lanes:][:lanes]
		}
		for l := range min(lanes, m.cols-blk*lanes) {
			v := float32(a[l]>>bit&1)*2 - 1
			if b != nil {
				v = (v + float32(b[l]>>bit&1)*2 - 1) / 2
			}
			out[blk*lanes+l] = v
		}
	}
}

// Int32Safe reports whether MulInt32 is exact for every x with |x_i| <=
// maxAbs: no table entry or sum can leave int32.
func (m *Matrix) Int32Safe(maxAbs int64) bool {
	return maxAbs >= 0 && maxAbs <= math.MaxInt32/int64(2*m.words*wordInputs)
}

// number is the element type of the products.
type number interface{ ~float32 | ~int32 }

// fillTables writes the 8-entry signed-sum table of every group of x into t
// (words*80 entries; groups past the end of x get zero tables) and, for a
// ternary matrix, repeats them for B.
func fillTables[T number](m *Matrix, x, t []T) {
	half := t[:m.halfWords*wordTables]
	for g := range m.halfWords * wordGroups {
		var x0, x1, x2 T
		if i := groupInputs * g; i+2 < len(x) {
			x0, x1, x2 = x[i], x[i+1], x[i+2]
		} else { // the last group: missing inputs count as 0
			var xs [groupInputs]T
			copy(xs[:], x[min(i, len(x)):])
			x0, x1, x2 = xs[0], xs[1], xs[2]
		}
		tb := (*[tableLen]T)(half[g*tableLen:])
		tb[0] = -x0 - x1 - x2
		tb[1] = tb[0] + 2*x0
		tb[2], tb[3] = tb[0]+2*x1, tb[1]+2*x1
		tb[4], tb[5], tb[6], tb[7] = tb[0]+2*x2, tb[1]+2*x2, tb[2]+2*x2, tb[3]+2*x2
	}
	if m.ternary {
		copy(t[len(half):2*len(half)], half)
	}
}

// MulFloat32 sets out[0:cols] = x . M for x of length Rows. scratch must hold
// ScratchLen values; its contents are overwritten.
func (m *Matrix) MulFloat32(x, out, scratch []float32) {
	mul(m, x, out, scratch, lanesFloat32)
	if m.ternary {
		for j := range out[:m.cols] {
			out[j] *= 0.5 // exact: (A.x + B.x) / 2
		}
	}
}

// MulInt32 sets out[0:cols] = x . M exactly, provided Int32Safe holds for the
// largest |x_i|. scratch must hold ScratchLen values.
func (m *Matrix) MulInt32(x, out, scratch []int32) {
	mul(m, x, out, scratch, lanesInt32)
	if m.ternary {
		for j := range out[:m.cols] {
			out[j] >>= 1 // exact: A.x + B.x = 2 W.x is even
		}
	}
}

func mul[T number](m *Matrix, x, out, scratch []T, kernel func(code []uint32, tables, out []T, blocks, words int)) {
	if len(x) != m.rows {
		panic(fmt.Sprintf("signmat: x has %d values for a matrix of %d rows", len(x), m.rows))
	}
	nt := m.words * wordTables
	tables := scratch[:nt]
	fillTables(m, x, tables)
	dst := out[:m.cols]
	if m.cols%lanes != 0 { // the last block is padded: write it to scratch
		dst = scratch[nt : nt+m.blocks*lanes]
	}
	kernel(m.code, tables, dst, m.blocks, m.words)
	if m.cols%lanes != 0 {
		copy(out[:m.cols], dst)
	}
}

// lanesGo is the portable kernel over the same layout: out[8*blk+l] = sum over
// words k and groups g of tables[80k+8g + (code[(blk*words+k)*8+l] >> 3g) & 7].
func lanesGo[T number](code []uint32, tables, out []T, blocks, words int) {
	for blk := range blocks {
		c := code[blk*words*lanes:][:words*lanes]
		for l := range lanes {
			var s T
			for k := range words {
				w, t := c[k*lanes+l], (*[wordTables]T)(tables[k*wordTables:])
				for g := range wordGroups {
					s += t[g*tableLen+int(w>>(groupInputs*g)&(tableLen-1))]
				}
			}
			out[blk*lanes+l] = s
		}
	}
}

// PackedBytes is Bytes of a rows x cols matrix, without building it.
func PackedBytes(rows, cols int, ternary bool) int64 {
	return 4 * lanes * int64(wordsFor(rows, ternary)) * int64((cols+lanes-1)/lanes)
}

// wordsFor is the number of uint32 codes per column block: one per 30 rows,
// twice for a ternary matrix (A then B).
func wordsFor(rows int, ternary bool) int {
	w := (rows + wordInputs - 1) / wordInputs
	if ternary {
		w *= 2
	}
	return w
}

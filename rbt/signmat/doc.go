// Package signmat multiplies vectors by packed sign matrices, binary {-1,+1}
// or ternary {-1,0,+1}, without a single multiplication: the products at the
// heart of the binary/ternary LSTMs and GRUs of Ardakani et al., "Learning
// Recurrent Binary/Ternary Weights" (ICLR 2019), on an ordinary CPU.
//
// # How
//
// A binary matrix W (rows x cols, row i = input i, column j = output j) is cut
// into groups of three consecutive inputs. For a group with inputs x0, x1, x2
// an 8-entry table holds every signed sum
//
//	table[b] = (b&1 ? +x0 : -x0) + (b&2 ? +x1 : -x1) + (b&4 ? +x2 : -x2)
//
// and column j of the group is the 3-bit pattern b of its signs, so
// (x . W)[j] = sum over groups of table_g[b_gj]: one lookup and one add per
// three weights, and the 7 adds that build each table are shared by all
// columns. The 3-bit patterns of ten groups fill one uint32 (30 bits; 1.07
// bits per weight), and the uint32s of eight neighbouring columns sit side by
// side, so on amd64 with AVX2 one VPERMPS (or VPERMD for int32) looks up the
// tables of eight columns at once: 24 weights per permute-and-add.
//
// A ternary matrix W is stored as two binary ones, A = sign(W >= 0) and
// B = sign(W > 0) (w = +1: both +1; w = -1: both -1; w = 0: +1 and -1), so
// that W = (A + B) / 2: twice the work and 2.13 bits per weight, exact.
//
// # Exactness
//
// MulInt32 is exact (integer adds) as long as the sums fit in int32; the
// caller checks the bound (see Matrix.Int32Safe). MulFloat32 adds the same
// numbers as a float32 dot product, in another order, so the two agree to
// float32 rounding.
//
// Without AVX2 (or on another architecture, or with the purego build tag) a
// pure-Go loop over the same layout computes the same sums; Accelerated tells
// which one runs.
package signmat

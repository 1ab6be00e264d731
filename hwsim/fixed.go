package hwsim

import (
	"math"
)

// This file holds the fixed-point primitives of the datapath: saturation,
// rounding shifts, block-floating-point coefficient vectors and the
// sigmoid/tanh tables. All arithmetic is on int64 and is exactly what the
// hardware computes (two's complement, round half up, saturating).

// satBits clamps x to a signed bits-wide integer.
func satBits(x int64, bits int) int64 {
	hi := int64(1)<<(bits-1) - 1
	return min(max(x, -hi-1), hi) // branch-free (CMOV)
}

// satRange is satBits with its bounds computed once, for hot loops.
type satRange struct{ lo, hi int64 }

func newSatRange(bits int) satRange {
	hi := int64(1)<<(bits-1) - 1
	return satRange{-hi - 1, hi}
}

func (r satRange) clamp(x int64) int64 { return min(max(x, r.lo), r.hi) }

// rounder is rshiftRound for one fixed shift, prepared once for hot loops:
// shifts in [0, 62] run branch-free, others take rshiftRound.
type rounder struct {
	sh   uint
	half int64
	slow bool
	raw  int
}

func newRounder(sh int) rounder {
	r := rounder{raw: sh, slow: sh < 0 || sh > 62}
	if !r.slow {
		r.sh = uint(sh)
		if sh > 0 {
			r.half = int64(1) << (sh - 1)
		}
	}
	return r
}

func (r rounder) apply(x int64) int64 {
	if r.slow {
		return rshiftRound(x, r.raw)
	}
	return (x + r.half) >> (r.sh & 63)
}

// rshiftRound is x * 2^-sh rounded half up (sh > 0), or x * 2^-sh exactly
// (sh <= 0, a left shift that saturates at +-2^62).
func rshiftRound(x int64, sh int) int64 {
	if sh > 0 {
		if sh > 62 {
			return 0
		}
		return (x + int64(1)<<(sh-1)) >> sh
	}
	if sh == 0 {
		return x
	}
	l := -sh
	if l >= 62 {
		if x > 0 {
			return math.MaxInt64 >> 1
		} else if x < 0 {
			return -(math.MaxInt64 >> 1)
		}
		return 0
	}
	lim := int64(1) << (62 - l)
	if x >= lim {
		return math.MaxInt64 >> 1
	}
	if x <= -lim {
		return -(math.MaxInt64 >> 1)
	}
	return x << l
}

// quantize rounds v*2^frac to the nearest integer and saturates it to bits.
func quantize(v float64, frac, bits int) int64 {
	x := math.Round(v * math.Exp2(float64(frac)))
	hi := math.Exp2(float64(bits-1)) - 1
	if x > hi {
		x = hi
	}
	if x < -hi-1 {
		x = -hi - 1
	}
	return int64(x)
}

// bfp is a block-floating-point coefficient vector: value_j = M[j] * 2^-E,
// with |M[j]| < 2^(bits-1) and one exponent E for the whole vector (one
// shifter per lane instead of a per-coefficient exponent).
type bfp struct {
	M []int64
	E int
}

// newBFP quantizes v to bits-bit mantissas with the largest exponent that
// keeps every mantissa in range.
func newBFP(v []float64, bits int) bfp {
	maxAbs := 0.0
	for _, x := range v {
		maxAbs = math.Max(maxAbs, math.Abs(x))
	}
	lim := math.Exp2(float64(bits-1)) - 1
	e := 0
	if maxAbs > 0 {
		e = int(math.Floor(math.Log2(lim / maxAbs)))
		for maxAbs*math.Exp2(float64(e)) > lim { // guard against log rounding
			e--
		}
		for maxAbs*math.Exp2(float64(e+1)) <= lim {
			e++
		}
	}
	b := bfp{M: make([]int64, len(v)), E: e}
	for j, x := range v {
		b.M[j] = int64(math.Round(x * math.Exp2(float64(e))))
	}
	return b
}

// nonlinTable is a sigmoid or tanh unit. Inputs are internal-format integers
// (frac fi); outputs are activation-format integers (frac a-1).
type nonlinTable struct {
	kind   NonlinKind
	offset int64   // Range * 2^fi: input + offset is in [0, 2*offset) inside the range
	shift  int     // index = (input + offset) >> shift
	vals   []int64 // LUT: Entries values; PWL: Entries+1 knots
	maxU   int64   // largest input + offset that indexes inside the table
	half   int64   // PWL rounding: 2^(shift-1), or 0 when shift is 0
	maxErr float64 // max |table(x) - f(x)| over all representable inputs, in real units
}

func newNonlinTable(c *Config, f func(float64) float64) nonlinTable {
	d := c.Datapath
	fa, fi := d.ActBits-1, d.InternalFrac
	t := nonlinTable{kind: c.Nonlin.Kind, offset: int64(math.Round(c.Nonlin.Range * math.Exp2(float64(fi)))), shift: nonlinShift(c)}
	E := c.Nonlin.Entries
	step := 2 * c.Nonlin.Range / float64(E)
	if t.kind == LUT {
		t.vals = make([]int64, E)
		for i := range t.vals {
			t.vals[i] = quantize(f(-c.Nonlin.Range+(float64(i)+0.5)*step), fa, d.ActBits)
		}
	} else {
		t.vals = make([]int64, E+1)
		for i := range t.vals {
			t.vals[i] = quantize(f(-c.Nonlin.Range+float64(i)*step), fa, d.ActBits)
		}
	}
	if t.shift > 0 {
		t.half = int64(1) << (t.shift - 1)
	}
	t.maxU = int64(len(t.vals)-1) << t.shift // PWL: the last knot
	if t.kind == LUT {
		t.maxU = int64(len(t.vals))<<t.shift - 1 // LUT: the end of the last entry
	}
	// Exhaustive error over the table's input range plus one table width
	// of saturated inputs on each side.
	ulpIn, ulpOut := math.Exp2(-float64(fi)), math.Exp2(-float64(fa))
	stride := max(int64(1), 4*t.offset>>20) // at most ~1M probes
	for x := -2 * t.offset; x <= 2*t.offset; x += stride {
		got := float64(t.eval(x)) * ulpOut
		t.maxErr = math.Max(t.maxErr, math.Abs(got-f(float64(x)*ulpIn)))
	}
	return t
}

// eval computes the table's output for an internal-format input. Inputs
// outside the table's range saturate to its first or last value; clamping u
// first keeps the hot path free of data-dependent branches.
func (t *nonlinTable) eval(x int64) int64 {
	u := min(max(x+t.offset, 0), t.maxU)
	idx := u >> t.shift
	if t.kind == LUT {
		return t.vals[idx]
	}
	y0, y1 := t.vals[idx], t.vals[min(idx+1, int64(len(t.vals)-1))]
	sh := uint(t.shift) & 63                       // nonlinShift keeps it small
	return y0 + ((y1-y0)*(u&(1<<sh-1))+t.half)>>sh // = rshiftRound(.., shift)
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

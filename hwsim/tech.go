package hwsim

import (
	"fmt"
	"math"
	"sort"
)

// Point is one (x, y) entry of a technology curve: x is a bit width, a
// product of bit widths or a memory size in bytes, y is pJ or um^2.
type Point struct {
	X float64 `json:"x" yaml:"x"`
	Y float64 `json:"y" yaml:"y"`
}

// Technology is the per-action energy and per-unit area table that turns
// action counts into energy and a unit inventory into area (the
// Accelergy/Timeloop idea, with a small fixed set of actions).
//
// All numbers are given at the 45 nm node of the source and multiplied by
// EnergyScale and AreaScale, the explicit node-scaling factors (1 at 45 nm).
// Curves are interpolated piecewise linearly in x (log-log for SRAM) and
// extrapolated from the last segment; see the field docs for the sources.
type Technology struct {
	Name string `json:"name" yaml:"name"`
	// Node is a label only ("45nm"); scaling is done by the two factors below.
	Node string `json:"node" yaml:"node"`
	// EnergyScale multiplies every energy (e.g. ~0.25-0.35 for 45 nm -> 16 nm
	// under constant-voltage-ish scaling; choose and cite your own).
	EnergyScale float64 `json:"energy_scale" yaml:"energy_scale"`
	// AreaScale multiplies every area ((16/45)^2 ~ 0.13 for ideal 45 -> 16 nm).
	AreaScale float64 `json:"area_scale" yaml:"area_scale"`

	// AddPJ: integer add energy vs width in bits. Horowitz, "Computing's
	// energy problem (and what we can do about it)", ISSCC 2014, p. 10-14,
	// Fig. 1.1.9, 45 nm, 0.9 V: 8-bit add 0.03 pJ, 32-bit add 0.1 pJ; the
	// 16-bit point 0.05 pJ is from the same table as reproduced in Sze et al.,
	// "Efficient Processing of Deep Neural Networks", Proc. IEEE 2017, Fig. 24.
	AddPJ []Point `json:"add_pj" yaml:"add_pj"`
	// MultPJ: integer multiply energy vs the product of the operand widths
	// (a*b; array-multiplier energy grows with the partial-product count).
	// Horowitz ISSCC 2014: 8x8-bit 0.2 pJ, 32x32-bit 3.1 pJ.
	MultPJ []Point `json:"mult_pj" yaml:"mult_pj"`
	// AddUM2: adder area (um^2) vs width. Horowitz ISSCC 2014 (area table as
	// reproduced by Sze et al. 2017 and Dally's talks): 8-bit 36, 16-bit 67,
	// 32-bit 137 um^2.
	AddUM2 []Point `json:"add_um2" yaml:"add_um2"`
	// MultUM2: multiplier area vs a*b. Same source: 8x8-bit 282 um^2,
	// 32x32-bit 3495 um^2.
	MultUM2 []Point `json:"mult_um2" yaml:"mult_um2"`
	// SRAM64PJ: energy of one 64-bit SRAM read vs array size in bytes.
	// Horowitz ISSCC 2014: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ.
	// Interpolated log-log; per-bit energy = SRAM64PJ(size)/64.
	SRAM64PJ []Point `json:"sram64_pj" yaml:"sram64_pj"`
	// DRAMPJPerBit: off-chip DRAM energy per bit. Horowitz ISSCC 2014:
	// 1.3-2.6 nJ per 64-bit DRAM access; the low end, 1300/64 = 20.3 pJ/bit.
	DRAMPJPerBit float64 `json:"dram_pj_per_bit" yaml:"dram_pj_per_bit"`
	// SRAMBitUM2: area of one SRAM bit including array overhead. The 45 nm
	// 6T bit cell is 0.346 um^2 (Mistry et al., "A 45nm logic technology
	// with high-k + metal gate transistors...", IEDM 2007); the factor 1.5
	// for decoders, sense amplifiers and wiring is an ASSUMPTION of this
	// simulator (typical array efficiency ~65-70%): 0.346*1.5 = 0.519 um^2.
	SRAMBitUM2 float64 `json:"sram_bit_um2" yaml:"sram_bit_um2"`
}

// Horowitz45 returns the default technology table: Horowitz, ISSCC 2014,
// 45 nm, with the sources documented on each Technology field. Scaling
// factors are 1.
func Horowitz45() Technology {
	return Technology{
		Name:         "horowitz-isscc2014",
		Node:         "45nm",
		EnergyScale:  1,
		AreaScale:    1,
		AddPJ:        []Point{{8, 0.03}, {16, 0.05}, {32, 0.1}},
		MultPJ:       []Point{{64, 0.2}, {1024, 3.1}},
		AddUM2:       []Point{{8, 36}, {16, 67}, {32, 137}},
		MultUM2:      []Point{{64, 282}, {1024, 3495}},
		SRAM64PJ:     []Point{{8 << 10, 10}, {32 << 10, 20}, {1 << 20, 100}},
		DRAMPJPerBit: 1300.0 / 64,
		SRAMBitUM2:   0.346 * 1.5,
	}
}

// validate checks the table; the path prefix names the config field.
func (t *Technology) validate(path string) error {
	if !(t.EnergyScale > 0) || math.IsInf(t.EnergyScale, 0) {
		return fmt.Errorf("%s.energy_scale = %v: must be a positive finite factor (1 at 45 nm)", path, t.EnergyScale)
	}
	if !(t.AreaScale > 0) || math.IsInf(t.AreaScale, 0) {
		return fmt.Errorf("%s.area_scale = %v: must be a positive finite factor (1 at 45 nm)", path, t.AreaScale)
	}
	for _, c := range []struct {
		name string
		pts  []Point
	}{{"add_pj", t.AddPJ}, {"mult_pj", t.MultPJ}, {"add_um2", t.AddUM2}, {"mult_um2", t.MultUM2}, {"sram64_pj", t.SRAM64PJ}} {
		if len(c.pts) == 0 {
			return fmt.Errorf("%s.%s: empty curve (need at least one point)", path, c.name)
		}
		for i, p := range c.pts {
			if !(p.X > 0) || !(p.Y > 0) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
				return fmt.Errorf("%s.%s[%d] = (%v, %v): x and y must be positive and finite", path, c.name, i, p.X, p.Y)
			}
			if i > 0 && p.X <= c.pts[i-1].X {
				return fmt.Errorf("%s.%s[%d]: x = %v not increasing (previous %v)", path, c.name, i, p.X, c.pts[i-1].X)
			}
		}
	}
	if !(t.DRAMPJPerBit > 0) {
		return fmt.Errorf("%s.dram_pj_per_bit = %v: must be positive", path, t.DRAMPJPerBit)
	}
	if !(t.SRAMBitUM2 > 0) {
		return fmt.Errorf("%s.sram_bit_um2 = %v: must be positive", path, t.SRAMBitUM2)
	}
	return nil
}

// interp evaluates a piecewise-linear curve at x, extrapolating the end
// segments (a single point means proportional: y = y0*x/x0). With logLog the
// interpolation is linear in (log x, log y), i.e. a power law per segment.
func interp(pts []Point, x float64, logLog bool) float64 {
	if len(pts) == 1 {
		if logLog {
			return pts[0].Y * math.Sqrt(x/pts[0].X)
		}
		return pts[0].Y * x / pts[0].X
	}
	i := sort.Search(len(pts), func(i int) bool { return pts[i].X >= x })
	switch {
	case i == 0:
		i = 1
	case i == len(pts):
		i = len(pts) - 1
	}
	a, b := pts[i-1], pts[i]
	if logLog {
		f := (math.Log(x) - math.Log(a.X)) / (math.Log(b.X) - math.Log(a.X))
		return math.Exp(math.Log(a.Y) + f*(math.Log(b.Y)-math.Log(a.Y)))
	}
	return a.Y + (x-a.X)*(b.Y-a.Y)/(b.X-a.X)
}

// AddEnergy is the energy (pJ) of one bits-wide integer addition.
func (t *Technology) AddEnergy(bits int) float64 {
	return interp(t.AddPJ, float64(bits), false) * t.EnergyScale
}

// MultEnergy is the energy (pJ) of one a x b-bit integer multiplication.
func (t *Technology) MultEnergy(a, b int) float64 {
	return interp(t.MultPJ, float64(a*b), false) * t.EnergyScale
}

// AddArea is the area (um^2) of one bits-wide adder.
func (t *Technology) AddArea(bits int) float64 {
	return interp(t.AddUM2, float64(bits), false) * t.AreaScale
}

// MultArea is the area (um^2) of one a x b-bit multiplier.
func (t *Technology) MultArea(a, b int) float64 {
	return interp(t.MultUM2, float64(a*b), false) * t.AreaScale
}

// SRAMBitEnergy is the read energy per bit (pJ) of an SRAM array of the given
// size in bytes: the Horowitz 64-bit access energy for that size, / 64.
// Larger arrays cost more per bit (longer bit and word lines).
func (t *Technology) SRAMBitEnergy(sizeBytes float64) float64 {
	if sizeBytes < 1 {
		sizeBytes = 1
	}
	return interp(t.SRAM64PJ, sizeBytes, true) / 64 * t.EnergyScale
}

// DRAMBitEnergy is the off-chip energy per bit (pJ).
func (t *Technology) DRAMBitEnergy() float64 { return t.DRAMPJPerBit * t.EnergyScale }

// SRAMArea is the area (um^2) of bits of SRAM storage.
func (t *Technology) SRAMArea(bits float64) float64 { return bits * t.SRAMBitUM2 * t.AreaScale }

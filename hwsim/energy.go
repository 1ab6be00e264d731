package hwsim

import "math"

// Energy is the energy of one time step split by part, in pJ.
type Energy struct {
	Array       float64 `json:"array_pj"`       // lane multipliers and adders
	Elementwise float64 `json:"elementwise_pj"` // fold multiplies, gate products, adds
	Nonlin      float64 `json:"nonlin_pj"`      // sigmoid/tanh table reads (+ PWL interpolation)
	WeightSRAM  float64 `json:"weight_sram_pj"` // on-chip weight reads
	ActBuffer   float64 `json:"act_buffer_pj"`  // activation broadcast reads
	DRAM        float64 `json:"dram_pj"`        // off-chip weight traffic
	ParamSRAM   float64 `json:"param_sram_pj"`  // folded batch-norm coefficients
}

// Total is the sum of all parts (pJ).
func (e Energy) Total() float64 {
	return e.Array + e.Elementwise + e.Nonlin + e.WeightSRAM + e.ActBuffer + e.DRAM + e.ParamSRAM
}

// Area is the silicon area split by part, in mm^2. Registers, control,
// interconnect and the DRAM interface are not modelled.
type Area struct {
	Array       float64 `json:"array_mm2"`       // P*L lanes: (multiplier +) adder
	Elementwise float64 `json:"elementwise_mm2"` // V lanes: 2 fold mults, 3 gate mults, 3 adders
	Nonlin      float64 `json:"nonlin_mm2"`      // V sigmoid+tanh tables (+ PWL multiplier/adder)
	WeightSRAM  float64 `json:"weight_sram_mm2"`
	ActBuffer   float64 `json:"act_buffer_mm2"`
	// ParamSRAM holds the folded batch-norm coefficients of the stored
	// steps; it is sized to the workload (set by Simulate, 0 from AreaOf).
	ParamSRAM float64 `json:"param_sram_mm2"`
}

// Total is the sum of all parts (mm^2).
func (a Area) Total() float64 {
	return a.Array + a.Elementwise + a.Nonlin + a.WeightSRAM + a.ActBuffer + a.ParamSRAM
}

// LaneArea is the area (um^2) of one processing-array lane: a multiplier
// (fixed designs) plus an AccBits adder; binary/ternary lanes are adders
// (the conditional negation and zero gating are not counted).
func (c *Config) LaneArea() float64 {
	t := c.Technology()
	a := t.AddArea(c.Datapath.AccBits)
	if c.Weights == Fixed {
		a += t.MultArea(c.Datapath.ActBits, c.WeightBits)
	}
	return a
}

// LaneEnergy is the energy (pJ) of one nonzero product-accumulate in a lane.
func (c *Config) LaneEnergy() float64 {
	t := c.Technology()
	e := t.AddEnergy(c.Datapath.AccBits)
	if c.Weights == Fixed {
		e += t.MultEnergy(c.Datapath.ActBits, c.WeightBits)
	}
	return e
}

func (c *Config) foldWidth() int { return max(c.Datapath.AccBits, c.Datapath.InternalBits) }

// nonlinTableBits is the storage of one lane's sigmoid and tanh tables.
func (c *Config) nonlinTableBits() float64 {
	n := c.Nonlin.Entries
	if c.Nonlin.Kind == PWL {
		n++ // knots
	}
	return 2 * float64(n) * float64(c.Datapath.ActBits)
}

// nonlinEnergy is the energy (pJ) of one sigmoid or tanh evaluation.
func (c *Config) nonlinEnergy() float64 {
	t := c.Technology()
	a := c.Datapath.ActBits
	table := c.nonlinTableBits() / 2 / 8 // bytes of one table
	if c.Nonlin.Kind == LUT {
		return float64(a) * t.SRAMBitEnergy(table)
	}
	sh := max(nonlinShift(c), 1)
	return 2*float64(a)*t.SRAMBitEnergy(table) + t.MultEnergy(a+1, sh) + t.AddEnergy(a+1)
}

// EnergyOf turns the per-step action counts into energy; paramBits is the
// size of the folded-parameter memory (Schedule.ParamBits).
func (c *Config) EnergyOf(k Counts, paramBits float64) Energy {
	t := c.Technology()
	d := c.Datapath
	var e Energy
	e.Array = float64(k.Adds) * t.AddEnergy(d.AccBits)
	if c.Weights == Fixed {
		e.Array += float64(k.Mults) * t.MultEnergy(d.ActBits, c.WeightBits)
	}
	e.Elementwise = float64(k.FoldMults)*t.MultEnergy(d.ParamBits, c.foldWidth()) +
		float64(k.GateMults)*t.MultEnergy(d.ActBits, d.InternalBits) +
		float64(k.EWAdds)*t.AddEnergy(d.InternalBits)
	e.Nonlin = float64(k.Nonlin) * c.nonlinEnergy()
	bankBytes := c.SRAM.BankKB * 1024
	if k.SRAMBits > 0 {
		e.WeightSRAM = k.SRAMBits * t.SRAMBitEnergy(bankBytes)
	}
	e.ActBuffer = k.ActBits * t.SRAMBitEnergy(math.Max(c.ActBufferKB*1024, 64))
	e.DRAM = k.DRAMBits * t.DRAMBitEnergy()
	e.ParamSRAM = k.ParamBits * t.SRAMBitEnergy(math.Max(paramBits/8, 64))
	return e
}

// AreaOf is the design's area; it does not depend on the workload.
func (c *Config) AreaOf() Area {
	t := c.Technology()
	d := c.Datapath
	const um2 = 1e-6 // mm^2 per um^2
	var a Area
	a.Array = float64(c.Units*c.Lanes) * c.LaneArea() * um2
	lane := 2*t.MultArea(d.ParamBits, c.foldWidth()) + 3*t.MultArea(d.ActBits, d.InternalBits) + 3*t.AddArea(d.InternalBits)
	a.Elementwise = float64(c.Elementwise.Lanes) * lane * um2
	nl := t.SRAMArea(c.nonlinTableBits())
	if c.Nonlin.Kind == PWL {
		nl += 2 * (t.MultArea(d.ActBits+1, max(nonlinShift(c), 1)) + t.AddArea(d.ActBits+1))
	}
	a.Nonlin = float64(c.Elementwise.Lanes) * nl * um2
	a.WeightSRAM = t.SRAMArea(c.SRAM.Bits()) * um2
	a.ActBuffer = t.SRAMArea(c.ActBufferKB*8192) * um2
	return a
}

package hwsim

import (
	"fmt"
	"math"

	"github.com/rbt-project/rbt/rbt/packed"
)

// WithUnits returns a copy of c with units processing units and SRAM banks
// widened, if needed, so that they deliver units*lanes*weight_bits bits per
// cycle (the array never waits for on-chip weights).
func (c Config) WithUnits(units int) Config {
	c.Units = units
	if c.SRAM.Banks > 0 {
		need := (units*c.Lanes*c.WeightBits + c.SRAM.Banks - 1) / c.SRAM.Banks
		c.SRAM.BankWidth = max(c.SRAM.BankWidth, need)
		c.SRAM.BankKB = math.Max(c.SRAM.BankKB, float64(c.SRAM.BankWidth)/8192)
	}
	return c
}

// WithSRAMFor returns a copy of c whose SRAM (same bank count, at least one
// bank) holds exactly the workload's weights, rounded up to 1/16 KiB per bank.
func (c Config) WithSRAMFor(w Workload) Config {
	var bitsNeeded float64
	for _, l := range w.Layers {
		bitsNeeded += float64(l.Weights()) * float64(c.WeightBits)
	}
	if c.SRAM.Banks == 0 {
		c.SRAM.Banks = 1
		c.SRAM.BankWidth = c.Units * c.Lanes * c.WeightBits
	}
	c.SRAM.BankKB = math.Ceil(bitsNeeded/float64(c.SRAM.Banks)/8192*16) / 16
	c.SRAM.BankKB = math.Max(c.SRAM.BankKB, float64(c.SRAM.BankWidth)/8192)
	return c
}

// searchUnits returns the smallest units in [1, 2^20] with ok(units) true,
// assuming ok is monotone (false ... false true ... true); 0 if none.
func searchUnits(ok func(int) bool) int {
	lo, hi := 1, 1<<20
	if !ok(hi) {
		return 0
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// FitArea returns the design c with the most processing units whose total
// area on w (array, element-wise unit, SRAMs) is at most areaMM2.
func FitArea(c Config, w Workload, areaMM2 float64) (*Result, error) {
	area := func(u int) float64 {
		r, err := Simulate(c.WithUnits(u), w, 1)
		if err != nil {
			return math.Inf(1)
		}
		return r.Report.AreaMM2
	}
	u := searchUnits(func(u int) bool { return area(u) > areaMM2 }) - 1
	if u < 1 {
		return nil, fmt.Errorf("hwsim: design %q does not fit in %.4g mm^2 even with one unit (%.4g mm^2)", c.Name, areaMM2, area(1))
	}
	return Simulate(c.WithUnits(u), w, 1)
}

// FitThroughput returns the design c with the fewest processing units that
// reaches stepsPerSecond on w.
func FitThroughput(c Config, w Workload, stepsPerSecond float64) (*Result, error) {
	u := searchUnits(func(u int) bool {
		r, err := Simulate(c.WithUnits(u), w, 1)
		return err == nil && r.Report.StepsPerSecond >= stepsPerSecond
	})
	if u == 0 {
		return nil, fmt.Errorf("hwsim: design %q cannot reach %.4g steps/s on %q with any number of units (memory or element-wise bound)", c.Name, stepsPerSecond, w.Name)
	}
	return Simulate(c.WithUnits(u), w, 1)
}

// Comparison is one design against a baseline under a stated basis.
type Comparison struct {
	Basis        string  `csv:"basis"` // "equal area", "equal throughput", ...
	Design       string  `csv:"design"`
	Baseline     string  `csv:"baseline"`
	Units        int     `csv:"units"`
	Lanes        int     `csv:"lanes"`
	AreaMM2      float64 `csv:"area_mm2"`
	StepsPerS    float64 `csv:"steps_per_s"`
	EnergyNJ     float64 `csv:"energy_nj_per_step"`
	PowerMW      float64 `csv:"power_mw"`
	WeightBits   float64 `csv:"weight_memory_bits"`
	OnChip       float64 `csv:"onchip_fraction"`
	Speedup      float64 `csv:"speedup"`       // steps/s over the baseline's
	EnergyGain   float64 `csv:"energy_gain"`   // baseline energy per step / this
	AreaRatio    float64 `csv:"area_ratio"`    // this area / baseline area
	MemorySaving float64 `csv:"memory_saving"` // baseline weight bits / this
}

func compareTo(basis string, base, r *Result) Comparison {
	b, x := base.Report, r.Report
	return Comparison{Basis: basis, Design: x.Design, Baseline: b.Design, Units: x.Units, Lanes: x.Lanes,
		AreaMM2: x.AreaMM2, StepsPerS: x.StepsPerSecond, EnergyNJ: x.EnergyPerStepNJ, PowerMW: x.PowerMW,
		WeightBits: x.WeightMemoryBits, OnChip: x.OnChipFraction,
		Speedup: x.StepsPerSecond / b.StepsPerSecond, EnergyGain: b.EnergyPerStepNJ / x.EnergyPerStepNJ,
		AreaRatio: x.AreaMM2 / b.AreaMM2, MemorySaving: b.WeightMemoryBits / x.WeightMemoryBits}
}

// CompareEqualArea sizes every design to the baseline's total area on w
// (FitArea) and compares them with it.
func CompareEqualArea(base Config, designs []Config, w Workload) ([]Comparison, error) {
	return compareEqual("equal area", "equal area (does not fit)", base, designs, w,
		func(d Config, b *Result) (*Result, error) { return FitArea(d, w, b.Report.AreaMM2) })
}

// CompareEqualThroughput sizes every design to the baseline's steps/s on w
// (FitThroughput) and compares area and energy.
func CompareEqualThroughput(base Config, designs []Config, w Workload) ([]Comparison, error) {
	return compareEqual("equal throughput", "equal throughput (unreachable)", base, designs, w,
		func(d Config, b *Result) (*Result, error) { return FitThroughput(d, w, b.Report.StepsPerSecond) })
}

// compareEqual simulates base on w, sizes every design to it with fit and
// compares them with it under basis; a design fit cannot size gets a
// failedComparison row labelled failed.
func compareEqual(basis, failed string, base Config, designs []Config, w Workload, fit func(d Config, b *Result) (*Result, error)) ([]Comparison, error) {
	b, err := Simulate(base, w, 1)
	if err != nil {
		return nil, err
	}
	out := []Comparison{compareTo(basis, b, b)}
	for _, d := range designs {
		r, err := fit(d, b)
		if err != nil { // does not fit / unreachable: a row that says so
			out = append(out, failedComparison(failed, base, d))
			continue
		}
		out = append(out, compareTo(basis, b, r))
	}
	return out, nil
}

// failedComparison is the row of a design that could not be sized: its
// name and lanes, NaN for every figure.
func failedComparison(basis string, base, d Config) Comparison {
	nan := math.NaN()
	return Comparison{Basis: basis, Design: d.Name, Baseline: base.Name, Lanes: d.Lanes,
		AreaMM2: nan, StepsPerS: nan, EnergyNJ: nan, PowerMW: nan, WeightBits: nan, OnChip: nan, Speedup: nan, EnergyGain: nan, AreaRatio: nan, MemorySaving: nan}
}

// Ratio is one line of the table that explains the abstract's "12x memory
// saving and 10x inference speedup": what is compared, under which
// assumption, the simulated value and the paper's figure.
type Ratio struct {
	Quantity   string  `csv:"quantity"`
	Assumption string  `csv:"assumption"`
	Value      float64 `csv:"value"`
	Paper      float64 `csv:"paper"` // 12 or 10 (abstract), NaN where the paper gives none
	How        string  `csv:"how"`
}

// Ratios derives the memory and speed ratios of binary and ternary designs
// over the fixed-point baselines on w from the cycle, area and memory
// models, under several assumptions. fp12, fp16, bin, ter are the designs
// (e.g. the shipped configs); fp12Off is a 12-bit design whose SRAM does not
// hold w's weights (weights streamed from DRAM).
func Ratios(fp12, fp16, bin, ter, fp12Off Config, w Workload) ([]Ratio, error) {
	sim := func(c Config) (*Result, error) { return Simulate(c, w, 1) }
	r12, err := sim(fp12)
	if err != nil {
		return nil, err
	}
	r16, err := sim(fp16)
	if err != nil {
		return nil, err
	}
	rb, err := sim(bin)
	if err != nil {
		return nil, err
	}
	tw := w
	tw.Layers = append([]LayerShape(nil), w.Layers...)
	for i := range tw.Layers { // a ternary model has zeros; use a third if none given
		if tw.Layers[i].ZerosH == 0 {
			l := &tw.Layers[i]
			l.ZerosX, l.ZerosH = int64(l.Input*l.Outputs())/3, int64(l.Hidden*l.Outputs())/3
		}
	}
	rt, err := Simulate(ter, tw, 1)
	if err != nil {
		return nil, err
	}
	nan := math.NaN()
	var out []Ratio
	add := func(q, a string, v, p float64, how string) { out = append(out, Ratio{q, a, v, p, how}) }
	add("weight memory", "12-bit fixed vs binary", r12.Report.WeightMemoryBits/rb.Report.WeightMemoryBits, 12,
		"bits per weight 12/1; the same 4n(d+n) weights")
	add("weight memory", "16-bit fixed vs binary", r16.Report.WeightMemoryBits/rb.Report.WeightMemoryBits, nan, "16/1")
	add("weight memory", "12-bit fixed vs ternary (2-bit code)", r12.Report.WeightMemoryBits/rt.Report.WeightMemoryBits, nan,
		"12/2; an entropy code of {-1,0,+1} would need log2(3) = 1.58 bits")
	add("weight memory incl. folded BN params", "12-bit vs binary, all per-step statistics stored",
		(r12.Report.WeightMemoryBits+r12.Report.ParamMemoryBits)/(rb.Report.WeightMemoryBits+rb.Report.ParamMemoryBits), nan,
		fmt.Sprintf("params %.3g bits (%d steps) are the same for both designs and dilute the ratio", rb.Report.ParamMemoryBits, w.Layers[0].Steps))
	add("lanes per area", "12-bit MAC lane vs binary add lane (Horowitz 45 nm)", fp12.LaneArea()/bin.LaneArea(), nan,
		fmt.Sprintf("%.0f um^2 (12x12 mult + %d-bit add) / %.0f um^2 (%d-bit add)", fp12.LaneArea(), fp12.Datapath.AccBits, bin.LaneArea(), bin.Datapath.AccBits))
	add("lanes per area", "16-bit MAC lane vs binary add lane", fp16.LaneArea()/bin.LaneArea(), nan,
		fmt.Sprintf("%.0f um^2 / %.0f um^2", fp16.LaneArea(), bin.LaneArea()))
	add("speedup", "equal lanes, weights on chip for both", rb.Report.StepsPerSecond/r12.Report.StepsPerSecond, 10,
		"same array size and clock: the cycle count is the same; binary only saves energy and area")
	for _, c := range []struct {
		name string
		base Config
		rb   *Result
	}{{"12-bit", fp12, r12}, {"16-bit", fp16, r16}} {
		// equal processing-array area (SRAM excluded): more add lanes
		baseArr := c.base.AreaOf().Array
		u := int(math.Floor(baseArr / (bin.LaneArea() * 1e-6 * float64(bin.Lanes))))
		re, err := sim(bin.WithUnits(max(u, 1)))
		if err != nil {
			return nil, err
		}
		add("speedup", "equal array area vs "+c.name+", weights on chip for both", re.Report.StepsPerSecond/c.rb.Report.StepsPerSecond, 10,
			fmt.Sprintf("binary gets %d units (%d lanes) in the %s array's %.3g mm^2", u, u*bin.Lanes, c.name, baseArr))
	}
	var bOff *Result // fp12Off, simulated once
	for _, c := range []struct {
		q   string
		off bool
	}{{"equal total area vs 12-bit, weights on chip for both", false}, {"equal total area vs 12-bit with 1 MiB SRAM (weights from DRAM)", true}} {
		b := r12
		if c.off {
			if bOff, err = sim(fp12Off); err != nil {
				return nil, err
			}
			b = bOff
		}
		re, err := FitArea(bin, w, b.Report.AreaMM2)
		if err != nil {
			return nil, err
		}
		add("speedup", c.q, re.Report.StepsPerSecond/b.Report.StepsPerSecond, 10,
			fmt.Sprintf("baseline %.3g mm^2, %.0f%% of weights on chip, %d cycles/step; binary %d units, %d cycles/step",
				b.Report.AreaMM2, 100*b.Report.OnChipFraction, b.Report.CyclesPerStep, re.Report.Units, re.Report.CyclesPerStep))
	}
	add("speedup", "equal lanes, 12-bit weights from DRAM vs binary on chip", rb.Report.StepsPerSecond/bOff.Report.StepsPerSecond, 10,
		fmt.Sprintf("12-bit: %d cycles/step (%d stall, %.0f%% of weights off chip); binary: %d",
			bOff.Report.CyclesPerStep, bOff.Report.StallPerStep, 100*(1-bOff.Report.OnChipFraction), rb.Report.CyclesPerStep))
	add("energy per step", "12-bit vs binary, equal lanes, on chip", r12.Report.EnergyPerStepNJ/rb.Report.EnergyPerStepNJ, nan,
		"weight SRAM reads dominate: 12x the bits from larger (costlier per bit) banks")
	add("energy per step", "12-bit vs ternary, equal lanes, on chip", r12.Report.EnergyPerStepNJ/rt.Report.EnergyPerStepNJ, nan,
		fmt.Sprintf("%.0f%% of ternary adds skipped", 100*rt.Report.SkippedFraction))
	return out, nil
}

// SweepPoint is one design evaluated at one value of a swept parameter.
type SweepPoint struct {
	Sweep      string  `csv:"sweep"` // "units", "act_bits", "hidden"
	X          float64 `csv:"x"`
	Design     string  `csv:"design"`
	Weights    string  `csv:"weights"`
	Units      int     `csv:"units"`
	ActBits    int     `csv:"act_bits"`
	Hidden     int     `csv:"hidden"`
	Cycles     int64   `csv:"cycles_per_step"`
	StepsPerS  float64 `csv:"steps_per_s"`
	GOPS       float64 `csv:"gops"`
	EnergyNJ   float64 `csv:"energy_nj_per_step"`
	PowerMW    float64 `csv:"power_mw"`
	AreaMM2    float64 `csv:"area_mm2"`
	OnChip     float64 `csv:"onchip_fraction"`
	GOPSPerW   float64 `csv:"gops_per_w"`
	GOPSPerMM2 float64 `csv:"gops_per_mm2"`
}

func sweepPoint(sweep string, x float64, r *Result) SweepPoint {
	p := r.Report
	return SweepPoint{Sweep: sweep, X: x, Design: p.Design, Weights: p.Weights, Units: p.Units, ActBits: p.ActBits,
		Hidden: r.Workload.Layers[len(r.Workload.Layers)-1].Hidden, Cycles: p.CyclesPerStep, StepsPerS: p.StepsPerSecond,
		GOPS: p.GOPS, EnergyNJ: p.EnergyPerStepNJ, PowerMW: p.PowerMW, AreaMM2: p.AreaMM2, OnChip: p.OnChipFraction,
		GOPSPerW: p.GOPSPerW, GOPSPerMM2: p.GOPSPerMM2}
}

// SweepUnits evaluates each design on w with each number of units
// (SRAM bandwidth widened to match, capacity unchanged).
func SweepUnits(designs []Config, w Workload, units []int) ([]SweepPoint, error) {
	var out []SweepPoint
	for _, d := range designs {
		for _, u := range units {
			r, err := Simulate(d.WithUnits(u), w, 1)
			if err != nil {
				return nil, err
			}
			out = append(out, sweepPoint("units", float64(u), r))
		}
	}
	return out, nil
}

// SweepActBits evaluates each design with each activation width (the
// accumulator keeps its margin over the activation width).
func SweepActBits(designs []Config, w Workload, widths []int) ([]SweepPoint, error) {
	var out []SweepPoint
	for _, d := range designs {
		for _, a := range widths {
			c := d.WithActBits(a)
			r, err := Simulate(c, w, 1)
			if err != nil {
				return nil, err
			}
			out = append(out, sweepPoint("act_bits", float64(a), r))
		}
	}
	return out, nil
}

// WithActBits returns a copy of c with act_bits = a, the accumulator width
// shifted by the same amount and input_frac clamped to the new width.
func (c Config) WithActBits(a int) Config {
	d := &c.Datapath
	d.AccBits += a - d.ActBits
	d.ActBits = a
	d.InputFrac = min(d.InputFrac, a-1)
	d.AccBits = max(d.AccBits, a+c.WeightBits)
	return c
}

// SweepHidden evaluates each design (configuration unchanged: the SRAM may
// stop holding the weights as n grows) on character-model workloads of
// each hidden size.
func SweepHidden(designs []Config, vocab int, hidden []int, steps int) ([]SweepPoint, error) {
	var out []SweepPoint
	for _, d := range designs {
		for _, n := range hidden {
			zf := 0.0
			if d.Weights == Ternary {
				zf = 1.0 / 3
			}
			w := CharLM(fmt.Sprintf("char-%d", n), packed.LSTM, vocab, n, 1, steps, zf)
			r, err := Simulate(d, w, 1)
			if err != nil {
				return nil, err
			}
			out = append(out, sweepPoint("hidden", float64(n), r))
		}
	}
	return out, nil
}

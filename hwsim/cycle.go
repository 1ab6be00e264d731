package hwsim

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/rbt-project/rbt/rbt/packed"
)

// Phase is one matrix-vector product of a step (x.Wx or h.Wh) mapped onto
// the processing array.
type Phase struct {
	Outputs int   `json:"outputs"` // M = G*n rows
	Inputs  int   `json:"inputs"`  // K = d or n (1 for a one-hot gather)
	Rounds  int64 `json:"rounds"`  // ceil(M/P) (gather: ceil(M/(P*L)))
	Compute int64 `json:"compute"` // Rounds*ceil(K/L) + fill
	Fill    int64 `json:"fill"`    // ceil(log2 L) + 1: adder tree + accumulator register
	SRAM    int64 `json:"sram"`    // ceil(on-chip weight bits / (banks*width))
	DRAM    int64 `json:"dram"`    // ceil(off-chip weight bits / DRAM bits per cycle)
	Cycles  int64 `json:"cycles"`  // max(Compute, SRAM, DRAM)

	Products       int64   `json:"products"`         // weight x activation products the lanes perform
	Skipped        int64   `json:"skipped"`          // of which zero weights skipped (ternary design)
	WeightBitsRead float64 `json:"weight_bits_read"` // on-chip + off-chip
	SRAMBits       float64 `json:"sram_bits"`
	DRAMBits       float64 `json:"dram_bits"`
	ActBits        float64 `json:"act_bits"` // activation-buffer bits read (broadcast per round)
}

// Stall is the number of cycles the phase waits for weights.
func (p Phase) Stall() int64 { return p.Cycles - p.Compute }

// LayerCycles is the per-step schedule of one layer.
type LayerCycles struct {
	Input, Recurrent Phase
	// Elementwise: ceil(M/V) (fold, gate nonlinearities) + ceil(n/V) (cell
	// update, h) cycles of the vector unit; Tail adds its pipeline depth. It
	// starts when the recurrent product is complete (h_t depends on all of it).
	Elementwise int64 `json:"elementwise"`
	Tail        int64 `json:"tail"`

	// Element-wise action counts per step.
	FoldMults, GateMults, EWAdds, Nonlin int64
}

// Counts is the per-step action inventory that drives the energy model.
type Counts struct {
	Mults, Adds, Skipped                 int64   // processing array
	FoldMults, GateMults, EWAdds, Nonlin int64   // element-wise unit
	SRAMBits, DRAMBits, ActBits          float64 // memory traffic
	ParamBits                            float64 // folded batch-norm coefficients read
	StallCycles                          int64
}

// Schedule is the cycle model of a design on a workload.
type Schedule struct {
	Layers []LayerCycles
	// StepCycles is the steady-state cycles per time step (all layers).
	StepCycles int64
	// Prologue is paid once per sequence when the first input product is
	// overlapped (it then has no previous tail to hide in).
	Prologue int64
	// LoadCycles is the one-time transfer of the on-chip weights from DRAM
	// (0 when dram.bandwidth_gbps = 0: weights assumed preloaded).
	LoadCycles int64
	// OnChipFraction of the weight bits that the SRAM holds.
	OnChipFraction float64
	WeightBits     float64 // recurrent weights, all layers, at the design's width
	ParamBits      float64 // folded batch-norm scales (param_bits) and shifts (internal_bits) of the stored steps
	Counts         Counts
}

// SequenceCycles is the cycles to run steps time steps from a reset state,
// including the one-time weight load: Load + Prologue + steps*StepCycles.
func (s *Schedule) SequenceCycles(steps int64) int64 {
	if steps <= 0 {
		return 0
	}
	return s.LoadCycles + s.Prologue + steps*s.StepCycles
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// fill is the adder-tree depth plus the accumulator register.
func fill(lanes int) int64 { return int64(bits.Len(uint(lanes-1))) + 1 }

// storedSteps is the number of folded statistic blocks kept on chip.
func (c *Config) storedSteps(steps int) int {
	if c.ParamSteps > 0 && c.ParamSteps < steps {
		return c.ParamSteps
	}
	return steps
}

// weightBits is the storage width of one weight on the design.
func (c *Config) weightBits() int { return c.WeightBits }

// dramBitsPerCycle is the off-chip bandwidth in bits per clock cycle.
func (c *Config) dramBitsPerCycle() float64 {
	return c.DRAM.BandwidthGBps * 8e9 / (c.ClockMHz * 1e6)
}

// CheckWorkload reports whether the design can run the workload at all.
func (c *Config) CheckWorkload(w Workload) error {
	if err := w.Validate(); err != nil {
		return err
	}
	for i, l := range w.Layers {
		if c.Weights == Binary && (l.ZerosX > 0 || l.ZerosH > 0) {
			return fmt.Errorf("config %q is binary (weights +-1) but workload %q layer %d has %d zero weights (ternary model): use a ternary or fixed design",
				c.Name, w.Name, i, l.ZerosX+l.ZerosH)
		}
	}
	return nil
}

// Schedule computes the cycle model of one time step and the action counts.
// The model (see the package documentation):
//
//	phase  = max(Rounds*ceil(K/L) + fill, SRAM cycles, DRAM cycles)
//	tail   = ceil(G*n/V) + ceil(n/V) + pipeline depth
//	step   = sum over layers of (input phase + recurrent phase + tail)
//
// except that with OverlapInput the first layer's input phase of step t+1
// runs during the last layer's tail of step t, so it costs only
// max(0, input - tail) per step and once as a prologue per sequence.
func (c *Config) Schedule(w Workload) (*Schedule, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.CheckWorkload(w); err != nil {
		return nil, err
	}
	P, L, V := int64(c.Units), int64(c.Lanes), int64(c.Elementwise.Lanes)
	wb := float64(c.weightBits())
	s := &Schedule{}
	for _, l := range w.Layers {
		s.WeightBits += float64(l.Weights()) * wb
		G, n := int64(l.Cell.Gates()), int64(l.Hidden)
		// ScaleX, ScaleH at param_bits; ShiftX, ShiftH at internal_bits;
		// LSTM adds ScaleC and ShiftC (n each).
		perStep := 2*G*n*int64(c.Datapath.ParamBits) + 2*G*n*int64(c.Datapath.InternalBits)
		if l.Cell == packed.LSTM {
			perStep += n*int64(c.Datapath.ParamBits) + n*int64(c.Datapath.InternalBits)
		}
		s.ParamBits += float64(int64(c.storedSteps(l.Steps)) * perStep)
		s.Counts.ParamBits += float64(perStep)
	}
	s.OnChipFraction = math.Min(1, c.SRAM.Bits()/s.WeightBits)
	sramBW := float64(c.SRAM.Banks * c.SRAM.BankWidth)
	dramBW := c.dramBitsPerCycle()
	if s.OnChipFraction < 1 && dramBW == 0 {
		return nil, fmt.Errorf("config %q: workload %q needs %.0f weight bits but the SRAM holds %.0f and dram.bandwidth_gbps = 0",
			c.Name, w.Name, s.WeightBits, c.SRAM.Bits())
	}
	if dramBW > 0 {
		s.LoadCycles = int64(math.Ceil(s.WeightBits * s.OnChipFraction / dramBW))
	}
	actBits := float64(c.Datapath.ActBits)
	phase := func(M, K int, gather bool, zeros int64) Phase {
		p := Phase{Outputs: M, Inputs: K, Fill: fill(c.Lanes)}
		if gather {
			p.Inputs = 1
			p.Rounds = ceilDiv(int64(M), P*L)
			p.Compute = p.Rounds + p.Fill
			p.Products = int64(M)
			p.WeightBitsRead = float64(M) * wb
			if c.Weights == Ternary { // expected zeros in the selected row
				p.Skipped = zeros / int64(K)
			}
		} else {
			p.Rounds = ceilDiv(int64(M), P)
			p.Compute = p.Rounds*ceilDiv(int64(K), L) + p.Fill
			p.Products = int64(M) * int64(K)
			p.WeightBitsRead = float64(p.Products) * wb
			p.ActBits = float64(p.Rounds) * float64(K) * actBits
			if c.Weights == Ternary {
				p.Skipped = zeros
			}
		}
		// whole bits on chip (floor; the epsilon absorbs float rounding of
		// exact products such as 360 * 512/960 = 192)
		p.SRAMBits = math.Floor(p.WeightBitsRead*s.OnChipFraction + 1e-6)
		p.DRAMBits = p.WeightBitsRead - p.SRAMBits
		if p.SRAMBits > 0 {
			p.SRAM = int64(math.Ceil(p.SRAMBits / sramBW))
		}
		if p.DRAMBits > 0 {
			p.DRAM = int64(math.Ceil(p.DRAMBits / dramBW))
		}
		p.Cycles = max(p.Compute, p.SRAM, p.DRAM)
		return p
	}
	var sum int64
	for i, l := range w.Layers {
		M, n := l.Outputs(), l.Hidden
		lc := LayerCycles{
			Input:     phase(M, l.Input, l.OneHot && c.OneHotGather, l.ZerosX),
			Recurrent: phase(M, n, false, l.ZerosH),
		}
		lc.Elementwise = ceilDiv(int64(M), V) + ceilDiv(int64(n), V)
		lc.Tail = lc.Elementwise + int64(c.Elementwise.PipelineDepth)
		Mi, ni := int64(M), int64(n)
		if l.Cell == packed.LSTM {
			lc.FoldMults, lc.GateMults = 2*Mi+ni, 3*ni
			lc.EWAdds, lc.Nonlin = 3*Mi+2*ni, Mi+ni
		} else {
			lc.FoldMults, lc.GateMults = 2*Mi, 2*ni
			lc.EWAdds, lc.Nonlin = 2*Mi+5*ni, Mi
		}
		in := lc.Input.Cycles
		if i == 0 && c.OverlapInput {
			in = 0
		}
		sum += in + lc.Recurrent.Cycles + lc.Tail
		s.Layers = append(s.Layers, lc)
		k := &s.Counts
		for _, p := range []Phase{lc.Input, lc.Recurrent} {
			if c.Weights == Fixed {
				k.Mults += p.Products
			}
			k.Adds += p.Products - p.Skipped
			k.Skipped += p.Skipped
			k.SRAMBits += p.SRAMBits
			k.DRAMBits += p.DRAMBits
			k.ActBits += p.ActBits
			k.StallCycles += p.Stall()
		}
		k.FoldMults += lc.FoldMults
		k.GateMults += lc.GateMults
		k.EWAdds += lc.EWAdds
		k.Nonlin += lc.Nonlin
	}
	if c.OverlapInput {
		x0, lastTail := s.Layers[0].Input.Cycles, s.Layers[len(s.Layers)-1].Tail
		sum += max(0, x0-lastTail)
		s.Prologue = min(x0, lastTail)
	}
	s.StepCycles = sum
	return s, nil
}

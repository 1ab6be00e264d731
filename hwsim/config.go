package hwsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// WeightFormat is how a design stores and multiplies recurrent weights.
type WeightFormat string

const (
	// Fixed is the full-precision baseline: WeightBits-bit two's-complement
	// weights (12 or 16 in the shipped configs), one multiplier per lane.
	Fixed WeightFormat = "fixed"
	// Binary weights are 1 bit ({-1,+1}); a lane is an adder/subtractor.
	Binary WeightFormat = "binary"
	// Ternary weights are 2 bits ({-1,0,+1}); a lane adds, subtracts or
	// skips (a zero weight gates the adder: no energy, same cycle).
	Ternary WeightFormat = "ternary"
)

// NonlinKind selects how sigmoid and tanh are computed.
type NonlinKind string

const (
	LUT NonlinKind = "lut" // a table of Entries outputs over [-Range, Range)
	PWL NonlinKind = "pwl" // Entries linear segments (Entries+1 knots) over [-Range, Range)
)

// SRAM is the on-chip weight memory: Banks banks, each read BankWidth bits
// per cycle and holding BankKB kibibytes. Weights that do not fit are
// streamed from DRAM at every time step (batch-1 inference reuses no weight
// within a step).
type SRAM struct {
	Banks     int     `json:"banks" yaml:"banks"`
	BankWidth int     `json:"bank_width_bits" yaml:"bank_width_bits"`
	BankKB    float64 `json:"bank_kib" yaml:"bank_kib"`
}

// Bits is the capacity in bits.
func (s SRAM) Bits() float64 { return float64(s.Banks) * s.BankKB * 1024 * 8 }

// DRAM is the off-chip memory interface.
type DRAM struct {
	BandwidthGBps float64 `json:"bandwidth_gbps" yaml:"bandwidth_gbps"` // GB/s (1e9 bytes)
}

// Datapath holds the fixed-point formats. Activations (h, gate outputs) are
// signed ActBits-bit numbers with ActBits-1 fraction bits, i.e. in [-1, 1).
// Accumulators are AccBits wide and saturate. The element-wise datapath
// (pre-activations, cell state, folded batch norm) uses InternalBits with
// InternalFrac fraction bits. Folded scales are ParamBits-bit mantissas with
// one shared power-of-two exponent per vector (block floating point); shifts
// are stored at InternalBits. Dense inputs (embeddings, pixels) use ActBits
// with InputFrac fraction bits.
type Datapath struct {
	ActBits      int `json:"act_bits" yaml:"act_bits"`
	AccBits      int `json:"acc_bits" yaml:"acc_bits"`
	InternalBits int `json:"internal_bits" yaml:"internal_bits"`
	InternalFrac int `json:"internal_frac" yaml:"internal_frac"`
	ParamBits    int `json:"param_bits" yaml:"param_bits"`
	InputFrac    int `json:"input_frac" yaml:"input_frac"`
}

// Elementwise is the post-processing vector unit: Lanes elements per cycle,
// each lane with 4 multipliers and 3 adders at InternalBits and one
// sigmoid/tanh unit, PipelineDepth cycles from first input to first output.
type Elementwise struct {
	Lanes         int `json:"lanes" yaml:"lanes"`
	PipelineDepth int `json:"pipeline_depth" yaml:"pipeline_depth"`
}

// Nonlin describes the sigmoid/tanh units. Entries and Range must be powers of
// two so that the table index is a shift of the fixed-point input.
type Nonlin struct {
	Kind    NonlinKind `json:"kind" yaml:"kind"`
	Entries int        `json:"entries" yaml:"entries"`
	Range   float64    `json:"range" yaml:"range"`
}

// Config is one accelerator design. The processing array has Units
// processing units (PUs) of Lanes lanes; each cycle every PU takes Lanes
// consecutive inputs of one output row (output-stationary, the inputs are
// broadcast to all PUs) and adds their products into its accumulator through
// an adder tree. See the package documentation for the cycle model.
type Config struct {
	Name    string `json:"name" yaml:"name"`
	Comment string `json:"comment,omitempty" yaml:"comment,omitempty"`

	Weights    WeightFormat `json:"weights" yaml:"weights"`
	WeightBits int          `json:"weight_bits" yaml:"weight_bits"`
	Units      int          `json:"units" yaml:"units"`
	Lanes      int          `json:"lanes" yaml:"lanes"`
	ClockMHz   float64      `json:"clock_mhz" yaml:"clock_mhz"`

	Datapath    Datapath    `json:"datapath" yaml:"datapath"`
	Elementwise Elementwise `json:"elementwise" yaml:"elementwise"`
	Nonlin      Nonlin      `json:"nonlin" yaml:"nonlin"`
	SRAM        SRAM        `json:"sram" yaml:"sram"`
	DRAM        DRAM        `json:"dram" yaml:"dram"`
	// ActBufferKB is the activation buffer (h, x, double-buffered), KiB.
	ActBufferKB float64 `json:"act_buffer_kib" yaml:"act_buffer_kib"`

	// OverlapInput computes the next step's input product x_{t+1}.Wx of the
	// first layer while the element-wise unit finishes h_t (x is known
	// ahead; h is not).
	OverlapInput bool `json:"overlap_input" yaml:"overlap_input"`
	// OneHotGather treats a one-hot first-layer input as a row read of Wx
	// (G*n weights, no products) instead of a dense d-long product.
	OneHotGather bool `json:"onehot_gather" yaml:"onehot_gather"`

	// ParamSteps caps the per-step folded batch-norm blocks kept on chip:
	// 0 keeps all of the model's Steps; k > 0 keeps the first k and uses
	// block k-1 for every later step (changes the function, see Sim).
	ParamSteps int `json:"param_steps" yaml:"param_steps"`

	// Tech is the technology table; nil means Horowitz45().
	Tech *Technology `json:"tech,omitempty" yaml:"tech,omitempty"`
}

// Technology returns the design's technology table (Horowitz45 by default).
func (c *Config) Technology() Technology {
	if c.Tech != nil {
		return *c.Tech
	}
	return Horowitz45()
}

func isPow2(x int) bool { return x > 0 && x&(x-1) == 0 }

// Validate reports the first impossible or inconsistent setting, naming the
// field, e.g. `binary design: weight_bits = 4, want 1`.
func (c *Config) Validate() error {
	name := c.Name
	if name == "" {
		return fmt.Errorf("config: name is empty")
	}
	e := func(format string, a ...any) error {
		return fmt.Errorf("config %q: "+format, append([]any{name}, a...)...)
	}
	switch c.Weights {
	case Fixed:
		if c.WeightBits < 2 || c.WeightBits > 32 {
			return e("fixed design: weight_bits = %d, want 2..32", c.WeightBits)
		}
	case Binary:
		if c.WeightBits != 1 {
			return e("binary design: weight_bits = %d, want 1", c.WeightBits)
		}
	case Ternary:
		if c.WeightBits != 2 {
			return e("ternary design: weight_bits = %d, want 2", c.WeightBits)
		}
	default:
		return e("weights = %q, want %q, %q or %q", c.Weights, Fixed, Binary, Ternary)
	}
	if c.Units < 1 || c.Units > 1<<20 {
		return e("units = %d, want 1..%d", c.Units, 1<<20)
	}
	if c.Lanes < 1 || c.Lanes > 1<<16 {
		return e("lanes = %d, want 1..%d", c.Lanes, 1<<16)
	}
	if !(c.ClockMHz > 0) || c.ClockMHz > 1e5 || math.IsNaN(c.ClockMHz) {
		return e("clock_mhz = %v, want a positive frequency (<= 100 GHz)", c.ClockMHz)
	}
	d := c.Datapath
	if d.ActBits < 2 || d.ActBits > 24 {
		return e("datapath.act_bits = %d, want 2..24", d.ActBits)
	}
	wb := c.WeightBits
	if c.Weights != Fixed {
		wb = 1 // sign only: the sum of +-a needs no product bits
	}
	if d.AccBits < d.ActBits+wb || d.AccBits > 62 {
		return e("datapath.acc_bits = %d, want %d..62 (at least act_bits + product bits = %d + %d)", d.AccBits, d.ActBits+wb, d.ActBits, wb)
	}
	if d.InternalBits < 4 || d.InternalBits > 40 {
		return e("datapath.internal_bits = %d, want 4..40", d.InternalBits)
	}
	if d.InternalFrac < 1 || d.InternalFrac >= d.InternalBits-1 {
		return e("datapath.internal_frac = %d, want 1..internal_bits-2 = %d (one sign and at least one integer bit)", d.InternalFrac, d.InternalBits-2)
	}
	if d.ParamBits < 2 || d.ParamBits > 32 {
		return e("datapath.param_bits = %d, want 2..32", d.ParamBits)
	}
	if d.InputFrac < 0 || d.InputFrac > d.ActBits-1 {
		return e("datapath.input_frac = %d, want 0..act_bits-1 = %d", d.InputFrac, d.ActBits-1)
	}
	if c.Elementwise.Lanes < 1 || c.Elementwise.Lanes > 1<<16 {
		return e("elementwise.lanes = %d, want 1..%d", c.Elementwise.Lanes, 1<<16)
	}
	if c.Elementwise.PipelineDepth < 0 || c.Elementwise.PipelineDepth > 1000 {
		return e("elementwise.pipeline_depth = %d, want 0..1000", c.Elementwise.PipelineDepth)
	}
	nl := c.Nonlin
	if nl.Kind != LUT && nl.Kind != PWL {
		return e("nonlin.kind = %q, want %q or %q", nl.Kind, LUT, PWL)
	}
	if !isPow2(nl.Entries) || nl.Entries < 2 || nl.Entries > 1<<20 {
		return e("nonlin.entries = %d, want a power of two in 2..2^20", nl.Entries)
	}
	r := nl.Range
	if !(r > 0) || math.IsInf(r, 0) || r != math.Exp2(math.Round(math.Log2(r))) {
		return e("nonlin.range = %v, want a power of two (the table spans [-range, range))", r)
	}
	if maxIn := math.Exp2(float64(d.InternalBits - 1 - d.InternalFrac)); r > maxIn {
		return e("nonlin.range = %v exceeds the internal format's range %v (internal_bits %d, internal_frac %d)", r, maxIn, d.InternalBits, d.InternalFrac)
	}
	// index = (x + range) >> shift: the table must not be finer than the input.
	if shift := nonlinShift(c); shift < 0 {
		return e("nonlin: %d entries over [-%v, %v) are finer than the internal resolution 2^-%d (at most %v entries)",
			nl.Entries, r, r, d.InternalFrac, math.Exp2(math.Log2(2*r)+float64(d.InternalFrac)))
	}
	s := c.SRAM
	if s.Banks < 0 || s.BankWidth < 0 || s.BankKB < 0 || math.IsNaN(s.BankKB) {
		return e("sram: banks = %d, bank_width_bits = %d, bank_kib = %v must not be negative", s.Banks, s.BankWidth, s.BankKB)
	}
	if s.Banks > 0 && (s.BankWidth < 1 || !(s.BankKB > 0)) {
		return e("sram: %d banks need bank_width_bits >= 1 and bank_kib > 0 (got %d, %v)", s.Banks, s.BankWidth, s.BankKB)
	}
	if s.Banks > 0 && float64(s.BankWidth) > s.BankKB*8192 {
		return e("sram: bank_width_bits = %d is larger than a whole bank (%v KiB)", s.BankWidth, s.BankKB)
	}
	if !(c.DRAM.BandwidthGBps >= 0) || math.IsInf(c.DRAM.BandwidthGBps, 0) {
		return e("dram.bandwidth_gbps = %v, want >= 0 and finite", c.DRAM.BandwidthGBps)
	}
	if s.Banks == 0 && c.DRAM.BandwidthGBps == 0 {
		return e("no weight memory: sram.banks = 0 and dram.bandwidth_gbps = 0")
	}
	if c.ActBufferKB < 0 || math.IsNaN(c.ActBufferKB) {
		return e("act_buffer_kib = %v, want >= 0", c.ActBufferKB)
	}
	if c.ParamSteps < 0 {
		return e("param_steps = %d, want >= 0 (0 keeps every step's statistics)", c.ParamSteps)
	}
	if c.Tech != nil {
		if err := c.Tech.validate("tech"); err != nil {
			return e("%v", err)
		}
	}
	return nil
}

// nonlinShift is the right shift that turns (x + Range) in internal units into
// a table index (LUT) or a segment index (PWL); negative when impossible.
func nonlinShift(c *Config) int {
	r := int(math.Round(math.Log2(c.Nonlin.Range)))
	e := bits.Len(uint(c.Nonlin.Entries)) - 1
	return r + 1 + c.Datapath.InternalFrac - e
}

// ParseConfig decodes a JSON or YAML config (chosen by name's extension:
// .yaml/.yml is YAML, anything else JSON), rejecting unknown fields, and
// validates it. name is used in error messages.
func ParseConfig(name string, data []byte) (Config, error) {
	var c Config
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".yaml" || ext == ".yml" {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("%s: %w", name, err)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// LoadConfig reads and validates a JSON or YAML config file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return ParseConfig(path, data)
}

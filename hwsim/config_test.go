package hwsim

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestExampleConfigsValid(t *testing.T) {
	names := ExampleConfigNames()
	if len(names) != 5 {
		t.Fatalf("shipped configs %v, want 5", names)
	}
	for _, n := range names {
		if _, err := ExampleConfig(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, err := ExampleConfig("nope"); err == nil {
		t.Error("unknown example config: no error")
	}
}

func TestConfigYAML(t *testing.T) {
	y := `
name: yaml-ternary
weights: ternary
weight_bits: 2
units: 4
lanes: 8
clock_mhz: 200
datapath: {act_bits: 8, acc_bits: 16, internal_bits: 16, internal_frac: 8, param_bits: 8, input_frac: 7}
elementwise: {lanes: 4, pipeline_depth: 2}
nonlin: {kind: pwl, entries: 32, range: 4}
sram: {banks: 2, bank_width_bits: 32, bank_kib: 4}
dram: {bandwidth_gbps: 1}
act_buffer_kib: 1
overlap_input: true
`
	c, err := ParseConfig("x.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if c.Weights != Ternary || c.Nonlin.Kind != PWL || c.SRAM.Bits() != 2*4*8192 || !c.OverlapInput {
		t.Errorf("decoded %+v", c)
	}
	if _, err := ParseConfig("x.yaml", []byte(y+"bogus: 1\n")); err == nil || !strings.Contains(err.Error(), "x.yaml") {
		t.Errorf("unknown YAML field: err = %v", err)
	}
	if _, err := ParseConfig("x.json", []byte(`{"name": "a", "bogus": 1}`)); err == nil || !strings.Contains(err.Error(), "x.json") {
		t.Errorf("unknown JSON field: err = %v", err)
	}
}

func TestConfigValidateErrors(t *testing.T) {
	base := MustExampleConfig("binary")
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Name = "" }, "name is empty"},
		{func(c *Config) { c.Weights = "quaternary" }, "weights"},
		{func(c *Config) { c.WeightBits = 4 }, "weight_bits = 4, want 1"},
		{func(c *Config) { c.Weights, c.WeightBits = Ternary, 1 }, "ternary design"},
		{func(c *Config) { c.Weights, c.WeightBits = Fixed, 40 }, "fixed design"},
		{func(c *Config) { c.Units = 0 }, "units"},
		{func(c *Config) { c.Lanes = -1 }, "lanes"},
		{func(c *Config) { c.ClockMHz = 0 }, "clock_mhz"},
		{func(c *Config) { c.ClockMHz = math.NaN() }, "clock_mhz"},
		{func(c *Config) { c.Datapath.ActBits = 1 }, "act_bits"},
		{func(c *Config) { c.Datapath.AccBits = 10 }, "acc_bits"},
		{func(c *Config) { c.Datapath.InternalFrac = 15 }, "internal_frac"},
		{func(c *Config) { c.Datapath.InputFrac = 12 }, "input_frac"},
		{func(c *Config) { c.Nonlin.Kind = "cordic" }, "nonlin.kind"},
		{func(c *Config) { c.Nonlin.Entries = 100 }, "power of two"},
		{func(c *Config) { c.Nonlin.Range = 3 }, "nonlin.range"},
		{func(c *Config) { c.Nonlin.Range = 64 }, "exceeds the internal format"},
		{func(c *Config) { c.Nonlin.Entries = 1 << 16 }, "finer than the internal resolution"},
		{func(c *Config) { c.SRAM.BankWidth = 0 }, "bank_width_bits >= 1"},
		{func(c *Config) { c.SRAM.BankKB = 0.001 }, "larger than a whole bank"},
		{func(c *Config) { c.SRAM.Banks, c.DRAM.BandwidthGBps = 0, 0 }, "no weight memory"},
		{func(c *Config) { c.ParamSteps = -1 }, "param_steps"},
		{func(c *Config) { tt := Horowitz45(); tt.AddPJ = []Point{{16, 1}, {8, 2}}; c.Tech = &tt }, "not increasing"},
		{func(c *Config) { tt := Horowitz45(); tt.EnergyScale = 0; c.Tech = &tt }, "energy_scale"},
	} {
		c := base
		tc.mut(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want error containing %q, got %v", tc.want, err)
		}
	}
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestWorkloadErrors(t *testing.T) {
	c := MustExampleConfig("binary")
	w := CharLM("t", 1, 5, 8, 1, 1, 0.3) // ternary zeros on a binary design
	if _, err := c.Schedule(w); err == nil || !strings.Contains(err.Error(), "zero weights") {
		t.Errorf("binary design on ternary workload: %v", err)
	}
	c.SRAM.Banks, c.DRAM.BandwidthGBps = 1, 0
	c.SRAM.BankKB = 0.125
	if _, err := c.Schedule(CharLM("big", 1, 50, 1000, 1, 1, 0)); err == nil || !strings.Contains(err.Error(), "dram.bandwidth_gbps = 0") {
		t.Errorf("weights that fit nowhere: %v", err)
	}
}

func TestTechnologyCurves(t *testing.T) {
	tt := Horowitz45()
	for _, tc := range []struct {
		got, want float64
		what      string
	}{
		{tt.AddEnergy(32), 0.1, "32-bit add pJ"},
		{tt.AddEnergy(8), 0.03, "8-bit add pJ"},
		{tt.MultEnergy(32, 32), 3.1, "32x32 mult pJ"},
		{tt.MultEnergy(8, 8), 0.2, "8x8 mult pJ"},
		{tt.SRAMBitEnergy(8<<10) * 64, 10, "8 KB SRAM 64-bit read pJ"},
		{tt.SRAMBitEnergy(1<<20) * 64, 100, "1 MB SRAM 64-bit read pJ"},
		{tt.AddArea(16), 67, "16-bit adder um^2"},
		{tt.MultArea(32, 32), 3495, "32x32 multiplier um^2"},
		{tt.DRAMBitEnergy() * 64, 1300, "DRAM 64-bit access pJ"},
	} {
		checkClose(t, tc.what, tc.got, tc.want, 1e-12)
	}
	// node scaling is a plain factor
	s := tt
	s.EnergyScale, s.AreaScale = 0.5, 0.25
	checkClose(t, "scaled add", s.AddEnergy(32), 0.05, 1e-12)
	checkClose(t, "scaled area", s.AddArea(32), 137*0.25, 1e-12)
	// per-bit SRAM energy grows with the array size
	if !(tt.SRAMBitEnergy(64<<10) > tt.SRAMBitEnergy(8<<10)) {
		t.Error("SRAM energy per bit does not grow with size")
	}
}

func TestWriteCSV(t *testing.T) {
	type row struct {
		A string  `csv:"a"`
		B float64 `csv:"b"`
		c int
		D bool `csv:"d"`
	}
	var sb strings.Builder
	if err := WriteCSV(&sb, []row{{"x,y", 0.5, 1, true}}); err != nil {
		t.Fatal(err)
	}
	if got, want := sb.String(), "a,b,d\n\"x,y\",0.5,true\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := WriteCSV(&sb, []int{1}); err == nil {
		t.Error("WriteCSV of ints: no error")
	}
}

func ExampleSimulate() {
	w := CharLM("ptb-char", 1, 50, 1000, 1, 100, 0) // packed.LSTM = 1
	for _, name := range []string{"fp12", "binary"} {
		r, err := Simulate(MustExampleConfig(name), w, 1)
		if err != nil {
			panic(err)
		}
		p := r.Report
		fmt.Printf("%-6s %5d cycles/step, weights %5.0f KB, %.1f mm^2\n", p.Design, p.CyclesPerStep, p.WeightMemoryBits/8000, p.AreaMM2)
	}
	// Output:
	// fp12    4293 cycles/step, weights  6300 KB, 48.8 mm^2
	// binary  4293 cycles/step, weights   525 KB, 16.0 mm^2
}

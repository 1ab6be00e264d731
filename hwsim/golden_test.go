package hwsim

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// golden is a hand-derived test case in testdata/golden: the derivation
// field of each file explains every expected number.
type golden struct {
	Description string          `json:"description"`
	Config      json.RawMessage `json:"config"`
	Workload    Workload        `json:"workload"`
	Steps       int64           `json:"sequence_steps"`
	Expect      map[string]any  `json:"expect"`
	Derivation  []string        `json:"derivation"`
}

func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.json")
	if len(files) < 3 {
		t.Fatalf("found %d golden files, want >= 3", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var g golden
			if err := json.Unmarshal(data, &g); err != nil {
				t.Fatal(err)
			}
			if len(g.Derivation) == 0 {
				t.Fatal("golden file without derivation")
			}
			cfg, err := ParseConfig(f+"#config", g.Config)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Simulate(cfg, g.Workload, g.Steps)
			if err != nil {
				t.Fatal(err)
			}
			s := res.Schedule
			l := s.Layers[0]
			k := s.Counts
			got := map[string]float64{
				"input_cycles": float64(l.Input.Cycles), "recurrent_cycles": float64(l.Recurrent.Cycles), "tail": float64(l.Tail),
				"step_cycles": float64(s.StepCycles), "prologue": float64(s.Prologue), "load_cycles": float64(s.LoadCycles),
				"sequence_cycles": float64(s.SequenceCycles(g.Steps)), "stall_cycles": float64(k.StallCycles),
				"adds": float64(k.Adds), "mults": float64(k.Mults), "fold_mults": float64(k.FoldMults), "gate_mults": float64(k.GateMults),
				"ew_adds": float64(k.EWAdds), "nonlin": float64(k.Nonlin), "sram_bits": k.SRAMBits, "dram_bits": k.DRAMBits,
				"act_bits": k.ActBits, "param_bits_read": k.ParamBits, "param_bits_stored": s.ParamBits,
			}
			e := res.Energy
			gotE := map[string]float64{"array": e.Array, "elementwise": e.Elementwise, "nonlin": e.Nonlin, "weight_sram": e.WeightSRAM,
				"act_buffer": e.ActBuffer, "dram": e.DRAM, "param_sram": e.ParamSRAM}
			for key, want := range g.Expect {
				if key == "energy_pj" {
					for part, w := range want.(map[string]any) {
						checkClose(t, "energy "+part, gotE[part], w.(float64), 1e-4)
					}
					continue
				}
				v, ok := got[key]
				if !ok {
					t.Errorf("unknown expect key %q", key)
					continue
				}
				checkClose(t, key, v, want.(float64), 1e-12)
			}
		})
	}
}

func checkClose(t *testing.T, what string, got, want, rel float64) {
	t.Helper()
	if math.Abs(got-want) > rel*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.10g, want %.10g", what, got, want)
	}
}

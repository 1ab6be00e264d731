package hwsim

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rbt-project/rbt/rbt/packed"
)

// BenchmarkPTBChar runs the functional simulation and the cycle/energy model
// of a PTB-character-sized binary LSTM (one-hot 50, hidden 1000, 100 folded
// steps; a RandomModel, no trained model needed) over the PTB test split.
// RBT_HWSIM_CHARS limits the characters (default: all 442,423); the
// steps/s metric is what to report. Run with -benchtime=1x.
func BenchmarkPTBChar(b *testing.B) {
	for _, tc := range []struct {
		name    string
		segment int
	}{{"stream", 0}, {"windows100", 100}} {
		b.Run(tc.name, func(b *testing.B) {
			toks, err := LoadCharTokens(filepath.Join(dataDir(b), "ptb-char", "ptb.char.test.txt"), nil)
			if err != nil {
				b.Fatal(err)
			}
			if s := os.Getenv("RBT_HWSIM_CHARS"); s != "" {
				k, _ := strconv.Atoi(s)
				toks = toks[:min(len(toks), k)]
			}
			m, err := packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, Vocab: 50, Hidden: []int{1000}, Steps: 100, Seed: 1, BatchNorm: true})
			if err != nil {
				b.Fatal(err)
			}
			cfg := MustExampleConfig("binary")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sim, err := NewSim(cfg, m)
				if err != nil {
					b.Fatal(err)
				}
				ev, err := sim.EvalTokens(toks, EvalOptions{Segment: tc.segment})
				if err != nil {
					b.Fatal(err)
				}
				w, _ := WorkloadOf("ptb-char", m)
				res, err := Simulate(cfg, w, int64(len(toks)))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(ev.Predictions)/b.Elapsed().Seconds()*float64(i+1), "steps/s")
				b.ReportMetric(ev.BPC, "bpc")
				b.ReportMetric(float64(res.Report.CyclesPerStep), "hw_cycles/step")
			}
		})
	}
}

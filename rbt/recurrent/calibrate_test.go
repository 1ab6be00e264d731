package recurrent

import (
	"fmt"
	"testing"
)

// TestCalibrateMatchesBatchStatistics: after ResetPopulationCounts and one
// CalibrateMode pass over a batch, deploy mode on that batch gives the hidden
// states of the calibration pass itself (the deterministic weights with the
// batch's own statistics), for LSTMs and GRUs with binary, ternary and
// full-precision weights, token and dense input, two layers; the training
// statistics (running averages over other inputs and stochastic samples) give
// something else. A second pass over another batch makes the statistics the
// mean of both: deploy then matches neither batch's own statistics exactly.
func TestCalibrateMatchesBatchStatistics(t *testing.T) {
	for i, tc := range []testCase{
		{cell: LSTM, q: "binary", norm: PerStepBN, tokens: true},
		{cell: LSTM, q: "ternary", norm: PerStepBN},
		{cell: LSTM, q: "fp", norm: PerStepBN},
		{cell: GRU, q: "binary", norm: PerStepBN},
		{cell: GRU, q: "ternary", norm: PerStepBN, tokens: true},
	} {
		t.Run(fmt.Sprintf("%s/%s/tokens=%v", cellName(tc.cell), tc.q, tc.tokens), func(t *testing.T) {
			store := trainedStore(t, tc, 2, uint64(30+i))
			x := testInput(tc, 6, tS, uint64(40+i))
			before := modeHidden(t, store, tc, 2, DeployMode, x)
			if n := ResetPopulationCounts(store); n != 2 {
				t.Fatalf("ResetPopulationCounts found %d layers, want 2", n)
			}
			calibrated := modeHidden(t, store, tc, 2, CalibrateMode, x)
			after := modeHidden(t, store, tc, 2, DeployMode, x)
			if e := relErr(after, calibrated); e > 1e-4 {
				t.Errorf("deploy after calibration differs from the calibration pass: rel err %.2g", e)
			}
			if e := relErr(before, calibrated); e < 1e-3 {
				t.Errorf("the training statistics already gave the calibrated states (rel err %.2g): the test shows nothing", e)
			}
			// A second batch: the statistics become the mean of both passes.
			modeHidden(t, store, tc, 2, CalibrateMode, testInput(tc, 6, tS, uint64(50+i)))
			if e := relErr(modeHidden(t, store, tc, 2, DeployMode, x), calibrated); e < 1e-4 {
				t.Errorf("a second calibration batch changed nothing (rel err %.2g)", e)
			}
			counts, _, err := hostValues(store, "/rnn/layer_0/"+VarPopUpdates)
			if err != nil {
				t.Fatal(err)
			}
			for s, c := range counts {
				if c != 2 {
					t.Errorf("step %d: %g updates after two calibration passes, want 2", s, c)
				}
			}
		})
	}
}

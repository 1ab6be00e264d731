package experiments

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rbt-project/rbt/rbt/budget"
)

// TestCharLMSeedsAndScoreCache trains the full-precision BN-LSTM with two
// seeds and the binary one with one (smoke), checks that the extra seed is a
// different run in its own directory and that the headline row is the mean of
// both; then runs again on the same directory: every score comes from the
// eval.json cache, identical; a damaged cache is scored again.
func TestCharLMSeedsAndScoreCache(t *testing.T) {
	data, err := LoadCharLMData(TaskPTBChar, true)
	if err != nil {
		t.Skipf("PTB characters absent: %v", err)
	}
	cfg, _ := CharLMSettings(TaskPTBChar, budget.Smoke)
	cfg.Models, cfg.Seeds, cfg.SeedModels = []string{"bn-fp", "bn-binary"}, 2, []string{"bn-fp"}
	dir := t.TempDir()
	res, err := RunCharLM(context.Background(), cfg, data, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fp := res.Seeded["bn-fp"]
	if len(res.Runs) != 2 || len(fp) != 2 || len(res.Seeded["bn-binary"]) != 1 || fp[0] != res.Runs[0] {
		t.Fatalf("runs %d, seeded bn-fp %d, bn-binary %d", len(res.Runs), len(fp), len(res.Seeded["bn-binary"]))
	}
	if fp[0].Seed != 1 || fp[1].Seed != 2 || fp[0].Test["deploy"] == fp[1].Test["deploy"] {
		t.Fatalf("seeds %d, %d with test BPC %v, %v: want seeds 1 and 2, different scores", fp[0].Seed, fp[1].Seed, fp[0].Test, fp[1].Test)
	}
	if _, err := os.Stat(filepath.Join(dir, "bn-fp-seed2", evalFile)); err != nil {
		t.Fatalf("the second seed's directory: %v", err)
	}
	var found bool
	for _, h := range res.Headlines() {
		if strings.HasPrefix(h.Model, "BN-LSTM, full precision") && h.Metric == "test BPC (deploy)" {
			found = true
			want := (fp[0].Test["deploy"] + fp[1].Test["deploy"]) / 2
			if h.Seeds != 2 || math.Abs(h.Value-want) > 1e-12 || math.Abs(h.Spread-math.Abs(fp[0].Test["deploy"]-fp[1].Test["deploy"])) > 1e-12 || h.Claim != "at most 1.65" {
				t.Fatalf("headline %+v, want the mean %v of 2 seeds", h, want)
			}
		}
	}
	if !found {
		t.Fatal("no headline row for the BN-LSTM")
	}
	// The cache: the same scores without scoring again; a damaged cache is ignored.
	os.WriteFile(filepath.Join(dir, "bn-binary", evalFile), []byte("{not json"), 0o644)
	again, err := RunCharLM(context.Background(), cfg, data, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, run := range again.Runs {
		if !reflect.DeepEqual(run.Test, res.Runs[i].Test) || !reflect.DeepEqual(run.Valid, res.Runs[i].Valid) {
			t.Errorf("%s: scores %v / %v after the rerun, want %v / %v", run.Model.Name, run.Valid, run.Test, res.Runs[i].Valid, res.Runs[i].Test)
		}
	}
	if again.Runs[0].EvalSeconds != res.Runs[0].EvalSeconds {
		t.Errorf("bn-fp was scored again (%.3fs, first %.3fs): want the cached scores", again.Runs[0].EvalSeconds, res.Runs[0].EvalSeconds)
	}
	if again.Runs[1].EvalSeconds == res.Runs[1].EvalSeconds {
		t.Errorf("bn-binary's damaged cache was used")
	}
}

package experiments

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/training"
)

// The cpu study is the runs of the study's queues: its directory names and
// the settings that differ from notebook 01's cpu budget.
func TestGapStudySettings(t *testing.T) {
	cfg, err := GapStudySettings(budget.CPU)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]GapSetting{}
	var names []string
	for _, s := range cfg.Settings {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	want := []string{"w500-h128", "w500-h256", "w500-h512", "w500-h1000", "len-h256", "len-h128", "base-h256", "b64-h256",
		"det-h256", "lr004-h256", "lr001-h256", "distill-h256", "lscale05-h256", "reset-h256"}
	if !slices.Equal(names, want) {
		t.Fatalf("settings %v, want %v", names, want)
	}
	for _, tc := range []struct {
		name                  string
		hidden, batch, epochs int
		steps                 int64
		lr                    float64
	}{
		{"w500-h1000", 1000, 32, 1, 500, 0.002},
		{"len-h128", 128, 32, 5, 0, 0.002},
		{"base-h256", 256, 32, 1, 0, 0.002},
		{"b64-h256", 256, 64, 1, 0, 0.002},
		{"lr004-h256", 256, 32, 1, 0, 0.004},
	} {
		c := byName[tc.name].Char
		if c.Hidden != tc.hidden || c.Batch != tc.batch || c.Epochs != tc.epochs || c.Steps != tc.steps || c.LR != tc.lr || c.LRFinal != tc.lr {
			t.Errorf("%s: hidden %d batch %d epochs %d steps %d lr %g/%g", tc.name, c.Hidden, c.Batch, c.Epochs, c.Steps, c.LR, c.LRFinal)
		}
	}
	if d := byName["distill-h256"]; d.TeacherFrom != "base-h256" || d.Char.Distill.Temperature != 2 || d.Char.Distill.Mix != 0.5 {
		t.Errorf("distill-h256: teacher %q, %+v", d.TeacherFrom, d.Char.Distill)
	}
	if !byName["reset-h256"].Char.ResetMoments || byName["lscale05-h256"].Char.LatentLRScale != 0.5 {
		t.Error("reset-h256 / lscale05-h256 lack their option")
	}
	for _, b := range []budget.Budget{budget.Smoke, budget.Quick, budget.Paper} {
		if _, err := GapStudySettings(b); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
}

func TestGapStudyValidate(t *testing.T) {
	good, err := GapStudySettings(budget.Smoke)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(c *GapStudyConfig)
		want string
	}{
		{"two settings of one name", func(c *GapStudyConfig) { c.Settings[1].Name = c.Settings[0].Name }, "two settings named"},
		{"hidden 0", func(c *GapStudyConfig) { c.Settings[0].Char.Hidden = 0 }, "hidden 0"},
		{"a teacher that comes later", func(c *GapStudyConfig) {
			last := &c.Settings[len(c.Settings)-1]
			last.Char.Distill, last.TeacherFrom = DefaultDistillation(""), "nope"
		}, "teacher \"nope\""},
		{"distillation temperature 0", func(c *GapStudyConfig) {
			for i := range c.Settings {
				if c.Settings[i].TeacherFrom != "" {
					c.Settings[i].Char.Distill.Temperature = 0
				}
			}
		}, "temperature 0"},
		{"unknown series", func(c *GapStudyConfig) { c.Settings[0].Series = "colour" }, "unknown series"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			c.Settings = slices.Clone(good.Settings)
			tc.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// fakeRun is a finished run with the given scores, for the analysis tests.
func fakeRun(name string, seed uint64, valid, test float64, curve ...float64) *CharLMRun {
	m, _ := LookupCharLMModel(name)
	run := &CharLMRun{Model: m, Seed: seed, Steps: 100,
		Valid: map[string]float64{"code": valid, "deploy": valid}, Test: map[string]float64{"code": test + 0.01, "deploy": test}}
	for i, v := range curve {
		run.History.Points = append(run.History.Points, training.Point{Step: int64(50 * (i + 1)), Examples: int64(1000 * (i + 1)), Valid: v, HasValid: true})
	}
	return run
}

func fakeSetting(name, series string, hidden, batch int, lr float64, runs ...*CharLMRun) (GapSetting, *CharLMResult) {
	c := CharLMConfig{Task: TaskPTBChar, Hidden: hidden, SeqLen: 10, Batch: batch, Epochs: 1, LR: lr, LRFinal: lr}
	res := &CharLMResult{Config: c, Seeded: map[string][]*CharLMRun{}}
	for _, r := range runs {
		if len(res.Seeded[r.Model.Name]) == 0 {
			res.Runs = append(res.Runs, r)
		}
		res.Seeded[r.Model.Name] = append(res.Seeded[r.Model.Name], r)
	}
	return GapSetting{Name: name, Series: series, Label: name, Char: c}, res
}

// The reference of every gap is the full-precision row of lowest validation
// BPC at the same budget, even when it belongs to another setting; the gap is
// each seed's against the reference's mean, averaged.
func TestGapRowsTakeTheBestFullPrecisionReference(t *testing.T) {
	s1, r1 := fakeSetting("base", SeriesRecipe, 16, 8, 0.002,
		fakeRun("bn-fp", 1, 2.00, 2.00), fakeRun("bn-binary", 1, 2.2, 2.20), fakeRun("bn-binary", 2, 2.3, 2.30))
	s2, r2 := fakeSetting("lr-hi", SeriesRecipe, 16, 8, 0.004, fakeRun("bn-fp", 1, 1.90, 1.95), fakeRun("bn-ternary", 1, 2.0, 2.10))
	s3, r3 := fakeSetting("wide", SeriesWidth, 32, 8, 0.002, fakeRun("bn-fp", 1, 1.5, 1.60), fakeRun("bn-binary", 1, 1.6, 1.68))
	res := &GapStudyResult{Config: GapStudyConfig{Budget: budget.Smoke, Settings: []GapSetting{s1, s2, s3}}, Settings: []*CharLMResult{r1, r2, r3}}
	rows := res.Rows()
	find := func(setting, model string) *GapRow {
		for _, g := range rows {
			if g.Setting.Name == setting && g.Model.Name == model {
				return g
			}
		}
		t.Fatalf("no row %s/%s", setting, model)
		return nil
	}
	bin := find("base", "bn-binary")
	if bin.Reference == nil || bin.Reference.Setting.Name != "lr-hi" {
		t.Fatalf("base binary's reference: %+v, want lr-hi's bn-fp (the lower validation BPC)", bin.Reference)
	}
	// Seeds 2.20 and 2.30 against 1.95: +12.82% and +17.95%, mean +15.38%, spread 5.13.
	wantGap := (100*(2.20/1.95-1) + 100*(2.30/1.95-1)) / 2
	if math.Abs(bin.Gap["deploy"]-wantGap) > 1e-9 || math.Abs(bin.GapSpread["deploy"]-100*(0.10/1.95)) > 1e-9 {
		t.Errorf("gap %.4f (spread %.4f), want %.4f (%.4f)", bin.Gap["deploy"], bin.GapSpread["deploy"], wantGap, 100*0.1/1.95)
	}
	if g := find("lr-hi", "bn-ternary"); g.Reference.Setting.Name != "lr-hi" {
		t.Errorf("lr-hi ternary's reference %s", g.Reference.Setting.Name)
	}
	// Another width is another budget: its own reference.
	if g := find("wide", "bn-binary"); g.Reference.Setting.Name != "wide" || math.Abs(g.Gap["deploy"]-5) > 1e-9 {
		t.Errorf("wide binary: reference %s, gap %.4f, want wide and +5%%", g.Reference.Setting.Name, g.Gap["deploy"])
	}
	if find("base", "bn-fp").Reference != nil {
		t.Error("a full-precision row has a reference")
	}
}

// The trend recovers a gap that is exactly linear in log10(hidden) and
// log10(characters), and refuses too few points.
func TestGapTrendRecoversAnExactLaw(t *testing.T) {
	law := func(h int, chars float64) float64 { return 30 - 4*math.Log10(float64(h)) - 2*math.Log10(chars) }
	var settings []GapSetting
	var results []*CharLMResult
	for _, h := range []int{64, 128, 256} {
		var fp, bin []float64
		for i := range 4 {
			chars := float64(1000 * (i + 1))
			fp = append(fp, 2)
			bin = append(bin, 2*(1+law(h, chars)/100))
		}
		s, r := fakeSetting("w"+string(rune('a'+len(settings))), SeriesLength, h, 8, 0.002,
			fakeRun("bn-fp", 1, 2, 2, fp...), fakeRun("bn-binary", 1, 2, 2, bin...))
		settings, results = append(settings, s), append(results, r)
	}
	res := &GapStudyResult{Config: GapStudyConfig{Settings: settings}, Settings: results}
	tr, err := res.Trend("binary", 1000, 250e6)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(tr.A-30) > 1e-6 || math.Abs(tr.B+4) > 1e-6 || math.Abs(tr.C+2) > 1e-6 || tr.Residual > 1e-6 {
		t.Errorf("fit %+v, want A 30, B -4, C -2, residual 0", tr)
	}
	if want := law(1000, 250e6); math.Abs(tr.Predicted-want) > 1e-6 || !tr.Extrapolated {
		t.Errorf("prediction %.6f (extrapolated %v), want %.6f, extrapolated", tr.Predicted, tr.Extrapolated, want)
	}
	res.Settings, res.Config.Settings = results[:1], settings[:1]
	if _, err := res.Trend("binary", 1000, 250e6); err == nil {
		t.Error("a trend from one width: no error")
	}
}

// The smoke study end to end on the tiny corpus: every setting trains (the
// distilled one from the study's own teacher), and the report draws.
func TestGapStudySmoke(t *testing.T) {
	cfg, err := GapStudySettings(budget.Smoke)
	if err != nil {
		t.Fatal(err)
	}
	_, data := tinyCharLM(t)
	dir := t.TempDir()
	res, err := RunGapStudy(context.Background(), cfg, data, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Shown while a setting is still training: it is pending, the others read.
	last := cfg.Settings[len(cfg.Settings)-1]
	if err := os.Remove(filepath.Join(dir, last.Name, "bn-binary", evalFile)); err != nil {
		t.Fatal(err)
	}
	shown := cfg
	shown.FinishedOnly = true
	part, err := RunGapStudy(context.Background(), shown, data, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(part.Pending, []string{last.Name}) || len(part.Settings) != len(cfg.Settings)-1 || len(part.Config.Settings) != len(part.Settings) {
		t.Errorf("FinishedOnly: pending %v, %d settings shown of %d", part.Pending, len(part.Settings), len(cfg.Settings))
	}
	rep, err := res.Report()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Figures) == 0 || len(rep.Rows) == 0 || len(rep.Verdicts) == 0 {
		t.Errorf("report: %d figures, %d rows, %d verdicts", len(rep.Figures), len(rep.Rows), len(rep.Verdicts))
	}
	reading := res.Reading()
	for _, g := range res.Rows() {
		if g.Model.Quantizer != "fp" && g.Reference == nil {
			t.Errorf("%s/%s has no full-precision reference", g.Setting.Name, g.Model.Name)
		}
		// Deploy mode and the packed export hold for every option: the packed
		// engine scores what GoMLX's deploy mode scores.
		for _, run := range g.Runs {
			if math.Abs(run.PackedBPC-run.DeployBPC) > 1e-3 {
				t.Errorf("%s/%s: packed engine %.5f BPC, GoMLX deploy %.5f", g.Setting.Name, run.Model.Name, run.PackedBPC, run.DeployBPC)
			}
		}
		// The reading quotes this run's width gaps.
		if g.Setting.Series == SeriesWidth && g.Reference != nil {
			if want := fmt.Sprintf("%+.1f%% at 1x%d", g.Gap["deploy"], g.Setting.Char.Hidden); !strings.Contains(reading, want) {
				t.Errorf("the reading lacks %q:\n%s", want, reading)
			}
		}
	}
}

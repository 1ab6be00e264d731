package experiments

// The gap study: why do the binary and ternary BN-LSTMs stay behind the
// full-precision BN-LSTM on PTB characters at the compute of one CPU, and
// what closes the gap? It trains the same three models (bn-fp, bn-binary,
// bn-ternary) through the one char-LM trainer at several settings, each
// changed alone against the paper's recipe:
//
//   - width: hidden 128, 256, 512, 1000 at equal characters seen;
//   - length: several epochs at one width, the gap after every validation;
//   - recipe: batch 64, the learning rate (the full-precision model's best,
//     and a larger one), deterministic quantization while training, the
//     released code's Adam-moment reset, and two ways beyond the paper:
//     distillation from the trained full-precision model and a latent-weight
//     step scale (CharLMConfig).
//
// Every gap is taken against the best full-precision model at the same
// budget (same width, length and characters seen), chosen on the validation
// split: a quantized model never looks closer because its baseline was
// handicapped.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rbt-project/rbt/rbt/budget"
)

// TaskGapStudy is the gap study's task name (rbt train -task, RunsDir).
const TaskGapStudy = "gap-study"

// The series of the gap study: what a setting varies.
const (
	SeriesWidth  = "width"  // hidden size, at equal characters seen
	SeriesLength = "length" // training length, at one width
	SeriesRecipe = "recipe" // one choice of the recipe, at the base width and length
)

// GapSetting is one setting of the study: a char-LM configuration (its
// Models are some of bn-fp, bn-binary, bn-ternary or their deterministic
// counterparts) trained into the study's directory <Name>/.
type GapSetting struct {
	Name   string // directory and row name, e.g. "w500-h512"
	Series string // SeriesWidth, SeriesLength or SeriesRecipe
	Label  string // what differs from the paper's recipe, e.g. "batch 64"
	Char   CharLMConfig
	// TeacherFrom names an earlier setting whose bn-fp run is the teacher of
	// this setting's distillation (Char.Distill's Teacher is set to its
	// directory when the study runs).
	TeacherFrom string
}

// GapStudyConfig is the whole study.
type GapStudyConfig struct {
	Budget   budget.Budget
	Settings []GapSetting
	// FinishedOnly shows a study that is still training elsewhere (rbt
	// train -task gap-study in the background): the settings whose every
	// run is already trained and scored in the study's directory are read,
	// the others are listed as pending, and nothing trains.
	FinishedOnly bool
}

// gapModels are the models every setting trains unless it says otherwise.
var gapModels = []string{"bn-fp", "bn-binary", "bn-ternary"}

// GapStudySettings returns the study at budget b.
//
//   - smoke: 1x8 and 1x16 LSTMs, a dozen steps: every code path in seconds.
//   - quick: widths 64, 128, 256 at 100 steps; 1x64 for 800 steps; the
//     recipes at 1x128 for 200 steps (minutes on 2 cores).
//   - cpu: widths 128, 256, 512, 1000 at 500 steps (1.6M characters, a third
//     of an epoch: hidden 1000 costs about 12 minutes per model here);
//     1x256 and 1x128 for 5 epochs; the recipes at the cpu budget of
//     notebook 01 (1x256, one epoch, batch 32, Adam 0.002), the paper's
//     recipe with two seeds. About 6 hours of this 2-core machine in all,
//     run as resumable queues of about two hours.
//   - paper: the widths 256, 512, 1000 at the paper's 50 epochs and batch
//     64 (a GPU's work), the recipes at 1x1000.
func GapStudySettings(b budget.Budget) (GapStudyConfig, error) {
	base, err := CharLMSettings(TaskPTBChar, b)
	if err != nil {
		return GapStudyConfig{}, err
	}
	base.Models, base.Seeds, base.SeedModels = gapModels, 1, slices.Clone(gapModels)
	cfg := GapStudyConfig{Budget: b}
	add := func(name, series, label string, edit func(c *CharLMConfig)) {
		c := base
		c.Models, c.SeedModels = slices.Clone(base.Models), slices.Clone(base.SeedModels)
		edit(&c)
		cfg.Settings = append(cfg.Settings, GapSetting{Name: name, Series: series, Label: label, Char: c})
	}
	var widths []int
	var widthSteps int64
	var lengths []int // hidden sizes of the length series
	var lengthEpochs int
	var lengthSteps int64
	recipeHidden := base.Hidden
	switch b {
	case budget.Smoke:
		widths, widthSteps, lengths, lengthSteps, recipeHidden = []int{8, 16}, 6, []int{8}, 12, 16
	case budget.Quick:
		base.EvalEvery = 50
		widths, widthSteps, lengths, lengthSteps, recipeHidden = []int{64, 128, 256}, 100, []int{64}, 800, 128
		base.Steps = 200
	case budget.CPU:
		widths, widthSteps, lengths, lengthEpochs = []int{128, 256, 512, 1000}, 500, []int{256, 128}, 5
	case budget.Paper:
		widths, lengths, lengthEpochs = []int{256, 512, 1000}, []int{1000}, base.Epochs
	}
	for _, h := range widths {
		steps := widthSteps
		add(fmt.Sprintf("w%d-h%d", steps, h), SeriesWidth, fmt.Sprintf("1x%d", h), func(c *CharLMConfig) {
			c.Hidden = h
			if steps > 0 {
				c.Steps = steps
			}
		})
	}
	for _, h := range lengths {
		name := fmt.Sprintf("len-h%d", h)
		add(name, SeriesLength, fmt.Sprintf("1x%d, longer", h), func(c *CharLMConfig) {
			c.Hidden = h
			if lengthEpochs > 0 {
				c.Epochs, c.Steps = lengthEpochs, 0
			} else {
				c.Steps = lengthSteps
			}
		})
	}
	at := func(c *CharLMConfig) { c.Hidden = recipeHidden }
	add(fmt.Sprintf("base-h%d", recipeHidden), SeriesRecipe, "the paper's recipe", func(c *CharLMConfig) {
		at(c)
		c.Seeds = 2
	})
	teacher := cfg.Settings[len(cfg.Settings)-1].Name
	add(fmt.Sprintf("b64-h%d", recipeHidden), SeriesRecipe, "batch 64 (the paper's), same characters", func(c *CharLMConfig) {
		at(c)
		if c.Epochs == 0 || c.Steps > 0 { // a step budget: half the steps of twice the windows
			c.Steps = max(c.Steps*int64(c.Batch)/64, 1)
		}
		c.Batch = 64
	})
	add(fmt.Sprintf("det-h%d", recipeHidden), SeriesRecipe, "deterministic quantization while training", func(c *CharLMConfig) {
		at(c)
		c.Models, c.SeedModels = []string{"bn-binary-det", "bn-ternary-det"}, nil
	})
	add(fmt.Sprintf("lr%s-h%d", lrTag(2*base.LR), recipeHidden), SeriesRecipe, fmt.Sprintf("Adam lr %g (twice the paper's)", 2*base.LR), func(c *CharLMConfig) {
		at(c)
		c.LR, c.LRFinal = 2*base.LR, 2*base.LRFinal
	})
	add(fmt.Sprintf("lr%s-h%d", lrTag(base.LR/2), recipeHidden), SeriesRecipe, fmt.Sprintf("Adam lr %g (half the paper's), full precision only", base.LR/2), func(c *CharLMConfig) {
		at(c)
		c.Models, c.SeedModels = []string{"bn-fp"}, nil
		c.LR, c.LRFinal = base.LR/2, base.LRFinal/2
	})
	add(fmt.Sprintf("distill-h%d", recipeHidden), SeriesRecipe, "distilled from the full-precision model (T 2, mix 0.5)", func(c *CharLMConfig) {
		at(c)
		c.Models, c.SeedModels = []string{"bn-binary", "bn-ternary"}, nil
		c.Distill = DefaultDistillation("") // the teacher's directory is set by RunGapStudy
	})
	cfg.Settings[len(cfg.Settings)-1].TeacherFrom = teacher
	add(fmt.Sprintf("lscale05-h%d", recipeHidden), SeriesRecipe, "latent-weight step x0.5", func(c *CharLMConfig) {
		at(c)
		c.Models, c.SeedModels = []string{"bn-binary", "bn-ternary"}, nil
		c.LatentLRScale = 0.5
	})
	add(fmt.Sprintf("reset-h%d", recipeHidden), SeriesRecipe, "Adam moments reset after every validation (the released code)", func(c *CharLMConfig) {
		at(c)
		c.ResetMoments = true
	})
	return cfg, cfg.Validate()
}

// lrTag writes a learning rate for a directory name: 0.004 -> "004".
func lrTag(lr float64) string {
	return strings.TrimPrefix(strings.TrimRight(fmt.Sprintf("%.4f", lr), "0"), "0.")
}

// Validate checks every setting, that names are unique, and that every
// teacher is an earlier setting that trains bn-fp.
func (c GapStudyConfig) Validate() error {
	if len(c.Settings) == 0 {
		return errors.New("experiments: gap study: no settings")
	}
	seen := map[string]GapSetting{}
	for _, s := range c.Settings {
		if s.Name == "" || strings.ContainsAny(s.Name, `/\ `) {
			return fmt.Errorf("experiments: gap study: setting name %q: want a non-empty directory name", s.Name)
		}
		if _, dup := seen[s.Name]; dup {
			return fmt.Errorf("experiments: gap study: two settings named %q", s.Name)
		}
		switch s.Series {
		case SeriesWidth, SeriesLength, SeriesRecipe:
		default:
			return fmt.Errorf("experiments: gap study: setting %s: unknown series %q", s.Name, s.Series)
		}
		if s.Char.Hidden <= 0 {
			return fmt.Errorf("experiments: gap study: setting %s: hidden %d, want > 0", s.Name, s.Char.Hidden)
		}
		if s.TeacherFrom != "" {
			t, ok := seen[s.TeacherFrom]
			if !ok || !slices.Contains(t.Char.Models, "bn-fp") {
				return fmt.Errorf("experiments: gap study: setting %s: teacher %q is not an earlier setting that trains bn-fp", s.Name, s.TeacherFrom)
			}
		}
		char := s.Char
		if s.TeacherFrom != "" {
			char.Distill.Teacher = "(set when the study runs)"
		}
		if err := char.Validate(); err != nil {
			return fmt.Errorf("experiments: gap study: setting %s: %w", s.Name, err)
		}
		seen[s.Name] = s
	}
	return nil
}

// String lists the settings, one per line.
func (c GapStudyConfig) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "budget %s, PTB characters, %d settings:", c.Budget, len(c.Settings))
	for _, s := range c.Settings {
		fmt.Fprintf(&b, "\n%s (%s: %s): %s, models %s", s.Name, s.Series, s.Label, s.Char.String(), strings.Join(s.Char.Models, ", "))
	}
	return b.String()
}

// GapStudyResult holds every setting's char-LM result, in config order.
type GapStudyResult struct {
	// Config holds the settings that were run (with FinishedOnly, the
	// finished ones); Pending names the others.
	Config   GapStudyConfig
	Pending  []string
	Data     *CharLMData
	Settings []*CharLMResult
	Elapsed  time.Duration
}

// RunGapStudy trains every setting of cfg on data, each in dir/<name>
// (resumable; "" uses a temporary directory removed at the end), in order,
// so that a teacher is trained before its students. Progress goes to w.
func RunGapStudy(ctx context.Context, cfg GapStudyConfig, data *CharLMData, dir string, w io.Writer) (*GapStudyResult, error) {
	if w == nil {
		w = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, cleanup, err := runDir(dir, "rbt-gapstudy-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	res := &GapStudyResult{Config: cfg, Data: data}
	res.Config.Settings = nil
	start := time.Now()
	for i, s := range cfg.Settings {
		if cfg.FinishedOnly && !settingFinished(filepath.Join(dir, s.Name), s.Char) {
			fmt.Fprintf(w, "\n=== setting %d/%d: %s: not finished in %s, pending\n", i+1, len(cfg.Settings), s.Name, dir)
			res.Pending = append(res.Pending, s.Name)
			continue
		}
		fmt.Fprintf(w, "\n=== setting %d/%d: %s (%s series: %s)\n", i+1, len(cfg.Settings), s.Name, s.Series, s.Label)
		c := s.Char
		if s.TeacherFrom != "" {
			c.Distill.Teacher = filepath.Join(dir, s.TeacherFrom, "bn-fp")
		}
		r, err := RunCharLM(ctx, c, data, filepath.Join(dir, s.Name), w)
		if err != nil {
			return nil, fmt.Errorf("experiments: gap study, setting %s: %w", s.Name, err)
		}
		res.Settings = append(res.Settings, r)
		res.Config.Settings = append(res.Config.Settings, s)
	}
	if len(res.Settings) == 0 {
		return nil, fmt.Errorf("experiments: gap study: no finished setting in %s (train them with rbt train -task gap-study -budget %s -dir %s)", dir, cfg.Budget, dir)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// settingFinished reports whether every run of a setting has its final
// scores in dir (the evaluation cache a finished run writes).
func settingFinished(dir string, c CharLMConfig) bool {
	for _, j := range c.jobs(dir) {
		if _, err := os.Stat(filepath.Join(j.dir, evalFile)); err != nil {
			return false
		}
	}
	return true
}

// RunGapStudyTask loads PTB characters and runs the study: the one call of
// notebook 11.
func RunGapStudyTask(ctx context.Context, cfg GapStudyConfig, dir string, w io.Writer) (*GapStudyResult, error) {
	data, err := LoadCharLMData(TaskPTBChar, cfg.Budget != budget.Paper)
	if err != nil {
		return nil, err
	}
	return RunGapStudy(ctx, cfg, data, dir, w)
}

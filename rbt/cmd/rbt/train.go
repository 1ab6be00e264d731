package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/experiments"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

func init() {
	register("train", "train and evaluate any task of the notebooks headless (char corpora, word, smnist, qa, gru)", runTrain)
}

// knobs are the settings every task shares, as flags; zero leaves the
// budget's value.
type knobs struct {
	models                    []string
	hidden, length, batch     int
	steps                     int64
	epochs                    int
	lr                        float64
	seed                      uint64
	seeds                     int
	budget                    budget.Budget
	dir                       string
	allowSample, skipGRUMNIST bool
	// The char-LM options beyond the paper's recipe (experiments.CharLMConfig).
	latentLRScale float64
	resetMoments  bool
	distill       experiments.Distillation
}

// trainTasks are the tasks of `rbt train -task`, in notebook order, with
// what -length means for each.
var trainTasks = []struct{ name, notebook, length string }{
	{experiments.TaskPTBChar, "01", "characters per window"},
	{experiments.TaskWarAndPeace, "02", "characters per window"},
	{experiments.TaskLinux, "03", "characters per window"},
	{experiments.TaskText8, "04", "characters per window"},
	{"ptb-word", "05", "BPTT steps"},
	{"smnist", "06", "pixels per image: a square (49, 196 or 784)"},
	{"qa", "07", "longest document kept, in tokens (real corpus)"},
	{"gru", "08", "characters per window (the PTB-character part)"},
	{experiments.TaskGapStudy, "11", "fixed by the budget (the study's settings: rbt train -task gap-study -budget B prints them)"},
}

func taskNames() []string {
	var out []string
	for _, t := range trainTasks {
		out = append(out, t.name)
	}
	return out
}

// runTrain: rbt train -task ptb-char -model bn-fp,bn-binary -budget quick -dir runs/x
//
// Trains the chosen models of a task with the notebook's settings at a
// budget, each knob overridable by a flag, with checkpoints under -dir
// (re-running the same command resumes an interrupted run), and writes the
// report (results.md) and its figures into -dir. Every setting, model name
// and dataset is checked before anything is written (bad input: exit status
// 2). Ctrl-C (SIGINT) or SIGTERM saves a checkpoint at the current step and
// exits with status 1. A char-LM model that diverges is scored at its last
// good checkpoint and the command exits with status 3 after writing the
// results. A second process on the same -dir is refused (the directory's lock
// names the first).
func runTrain(args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var k knobs
	task := fs.String("task", experiments.TaskPTBChar, "task: "+strings.Join(taskNames(), ", "))
	modelFlag := fs.String("model", "", "comma-separated models (default: the task's list); a listed name or any rbt/quant quantizer as <q> or bn-<q>")
	budgetFlag := fs.String("budget", "", "smoke, quick, cpu or paper (default: $RBT_BUDGET, else quick)")
	fs.StringVar(&k.dir, "dir", "", "run directory: checkpoints and results (required)")
	fs.IntVar(&k.hidden, "hidden", 0, "hidden units of the recurrent layer (0: the budget's)")
	fs.IntVar(&k.length, "length", 0, "sequence length; per task below (0: the budget's)")
	fs.IntVar(&k.batch, "batch", 0, "batch size (0: the budget's)")
	fs.Int64Var(&k.steps, "steps", 0, "training steps per model (0: the budget's)")
	fs.IntVar(&k.epochs, "epochs", 0, "training epochs per model, for the tasks that count epochs (char, word, gru; 0: the budget's)")
	fs.Float64Var(&k.lr, "lr", 0, "learning rate: Adam, or SGD for ptb-word; a constant schedule where the task decays it (0: the budget's)")
	fs.Uint64Var(&k.seed, "seed", 0, "seed (0: the budget's)")
	fs.IntVar(&k.seeds, "seeds", 0, "char tasks and gru: train the BN models (bn-fp, bn-binary, bn-ternary) with this many seeds, seed, seed+1, ...; the report gives mean and spread (0: the budget's; cpu PTB: 3)")
	fs.BoolVar(&k.allowSample, "allow-sample", true, "use the labelled stand-in when a corpus is absent (never at -budget paper)")
	fs.BoolVar(&k.skipGRUMNIST, "gru-char-only", false, "gru: train the PTB-character part only (no sequential MNIST)")
	def := experiments.DefaultDistillation("")
	fs.StringVar(&k.distill.Teacher, "distill-teacher", "", "char tasks: distill the quantized models from this trained char-LM run directory (or checkpoint), e.g. runs/ptb-char/cpu/bn-fp")
	fs.Float64Var(&k.distill.Temperature, "distill-temperature", def.Temperature, "with -distill-teacher: the softmax temperature T > 0")
	fs.Float64Var(&k.distill.Mix, "distill-mix", def.Mix, "with -distill-teacher: the weight in [0, 1] of the teacher's term")
	fs.Float64Var(&k.latentLRScale, "latent-lr-scale", 0, "char tasks: multiply the Adam step of the quantized models' latent Wx, Wh by this (0 or 1: the paper's recipe)")
	fs.BoolVar(&k.resetMoments, "reset-moments", false, "char tasks: reset Adam's moments after every validation, as the authors' released code does")
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintln(out, "usage: rbt train -task T -dir D [flags]   (the notebooks' experiments, headless and resumable)")
		fmt.Fprintln(out, "tasks (notebook; what -length means):")
		for _, t := range trainTasks {
			fmt.Fprintf(out, "  %-10s %s; -length: %s\n", t.name, t.notebook, t.length)
		}
		fmt.Fprintln(out, "models (-model; default every model of the task):")
		fmt.Fprintf(out, "  char tasks: %s\n", names(experiments.CharLMModels()))
		fmt.Fprintf(out, "  gru:        %s\n", names(experiments.GRUCharLMModels()))
		fmt.Fprintf(out, "  ptb-word:   %s\n", names(experiments.WordLMModels()))
		fmt.Fprintf(out, "  smnist:     %s\n", names(experiments.SeqMNISTModels))
		fmt.Fprintf(out, "  qa:         %s\n", names(experiments.QAModels))
		fmt.Fprintln(out, "  any task:   <q> or bn-<q> for a quantizer q of rbt/quant (e.g. twn, binary-det, k3)")
		fmt.Fprintln(out, "flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if k.distill.Teacher == "" {
		var stray []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "distill-temperature" || f.Name == "distill-mix" {
				stray = append(stray, "-"+f.Name)
			}
		})
		if len(stray) > 0 {
			return fmt.Errorf("%s: set -distill-teacher (the teacher's run directory) too", strings.Join(stray, ", "))
		}
		k.distill = experiments.Distillation{}
	}
	if k.dir == "" {
		return errors.New("-dir is required (the checkpoint and results directory)")
	}
	var err error
	if k.budget, err = budget.FromEnv(); *budgetFlag != "" {
		k.budget, err = budget.Parse(*budgetFlag)
	}
	if err != nil {
		return err
	}
	if *modelFlag != "" {
		for _, m := range strings.Split(*modelFlag, ",") {
			if m = strings.TrimSpace(m); m != "" {
				k.models = append(k.models, m)
			}
		}
	}
	for name, v := range map[string]float64{"hidden": float64(k.hidden), "length": float64(k.length), "batch": float64(k.batch),
		"steps": float64(k.steps), "epochs": float64(k.epochs), "lr": k.lr} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("-%s %v: want >= 0 (0: the budget's)", name, v)
		}
	}
	run, err := prepareTask(*task, k)
	if err != nil {
		return err // bad input: nothing written
	}
	lock, err := lockRunDir(k.dir)
	if err != nil {
		return failed(err)
	}
	defer lock.Unlock()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("backend %s, budget %s\n", backend.Describe(), k.budget)
	res, err := run(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return failed(fmt.Errorf("%w (checkpoint saved: run the same command again to resume)", err))
		}
		return failed(err)
	}
	c, isChar := res.(*experiments.CharLMResult)
	if isChar {
		if err := c.WriteFiles(k.dir); err != nil { // results.json: every run's figures and learning curve
			return failed(err)
		}
	}
	if err := writeReport(res, k.dir); err != nil {
		return failed(err)
	}
	if isChar {
		return charLMDivergences(c)
	}
	return nil
}

// taskRun runs a prepared task.
type taskRun func(ctx context.Context) (experiments.Result, error)

func names(list []experiments.Recipe) string {
	var out []string
	for _, r := range list {
		out = append(out, r.Name)
	}
	return strings.Join(out, ", ")
}

// set overrides *dst with v when v is not zero.
func set[T comparable](dst *T, v T) {
	var zero T
	if v != zero {
		*dst = v
	}
}

// prepareTask builds the task's settings at the budget, applies the knobs,
// checks them and loads what the task's data loader can check up front
// (bad input), and returns the run itself.
func prepareTask(task string, k knobs) (taskRun, error) {
	if (k.latentLRScale != 0 || k.resetMoments || k.distill.Enabled()) && !isCharTask(task) {
		return nil, fmt.Errorf("-latent-lr-scale, -reset-moments and -distill-teacher are options of the char-LM trainer: tasks %s and gru, not %s",
			strings.Join(experiments.CharLMTasks(), ", "), task)
	}
	switch task {
	case experiments.TaskGapStudy:
		if k.hidden != 0 || k.length != 0 || k.batch != 0 || k.steps != 0 || k.epochs != 0 || k.lr != 0 || k.seed != 0 || k.seeds != 0 || len(k.models) > 0 ||
			k.latentLRScale != 0 || k.resetMoments || k.distill.Enabled() {
			return nil, errors.New("the gap study's settings come from its budget: give -budget and -dir only (train one setting of your own with -task ptb-char)")
		}
		cfg, err := experiments.GapStudySettings(k.budget)
		if err != nil {
			return nil, err
		}
		data, err := experiments.LoadCharLMData(experiments.TaskPTBChar, k.allowSample && k.budget != budget.Paper)
		if err != nil {
			return nil, err
		}
		fmt.Printf("%s\ndata: %s\n", cfg, data.Label)
		return func(ctx context.Context) (experiments.Result, error) {
			return experiments.RunGapStudy(ctx, cfg, data, k.dir, os.Stdout)
		}, nil
	case experiments.TaskPTBChar, experiments.TaskWarAndPeace, experiments.TaskLinux, experiments.TaskText8:
		cfg, err := experiments.CharLMSettings(task, k.budget)
		if err != nil {
			return nil, err
		}
		if err := charKnobs(&cfg, k); err != nil {
			return nil, err
		}
		data, err := experiments.LoadCharLMData(task, k.allowSample && k.budget != budget.Paper)
		if err != nil {
			return nil, err
		}
		if err := experiments.CheckTeacher(cfg, data); err != nil {
			return nil, err
		}
		fmt.Printf("%s\ndata: %s\n", cfg, data.Label)
		if data.Note != "" {
			fmt.Printf("NOTE: %s\n", data.Note)
		}
		return func(ctx context.Context) (experiments.Result, error) {
			return experiments.RunCharLM(ctx, cfg, data, k.dir, os.Stdout)
		}, nil
	case "gru":
		cfg := experiments.GRUSettings(k.budget)
		if err := charKnobs(&cfg.Char, k); err != nil {
			return nil, err
		}
		if k.skipGRUMNIST {
			cfg.MNIST = nil
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		corpus, err := experiments.LoadGRUCorpus(k.allowSample && k.budget != budget.Paper)
		if err != nil {
			return nil, err
		}
		fmt.Println(cfg)
		return func(ctx context.Context) (experiments.Result, error) {
			return experiments.RunGRU(ctx, cfg, corpus, k.dir, os.Stdout)
		}, nil
	case "ptb-word":
		cfg := experiments.WordLMSettings(k.budget)
		set(&cfg.Hidden, k.hidden)
		set(&cfg.BPTT, k.length)
		set(&cfg.Batch, k.batch)
		set(&cfg.Steps, k.steps)
		set(&cfg.Epochs, k.epochs)
		set(&cfg.LR, k.lr)
		set(&cfg.Seed, k.seed)
		if len(k.models) > 0 {
			cfg.Models = nil
			for _, name := range k.models {
				m, err := experiments.LookupWordLMModel(name)
				if err != nil {
					return nil, err
				}
				cfg.Models = append(cfg.Models, m.Name)
			}
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		corpus, err := experiments.LoadWordLMCorpus(k.allowSample && k.budget != budget.Paper)
		if err != nil {
			return nil, err
		}
		fmt.Println(cfg)
		return func(ctx context.Context) (experiments.Result, error) {
			return experiments.RunWordLM(ctx, cfg, corpus, k.dir, os.Stdout)
		}, nil
	case "smnist":
		cfg := experiments.SeqMNISTSettings(k.budget)
		set(&cfg.Hidden, k.hidden)
		set(&cfg.Batch, k.batch)
		set(&cfg.Steps, int(k.steps))
		set(&cfg.LRStart, k.lr)
		set(&cfg.Seed, k.seed)
		if k.lr != 0 {
			cfg.LRFinal = k.lr
		}
		if k.length != 0 {
			side := int(math.Round(math.Sqrt(float64(k.length))))
			if side*side != k.length || 28%side != 0 {
				return nil, fmt.Errorf("-length %d: sequential MNIST takes a square image whose side divides 28 (16, 49, 196 or 784)", k.length)
			}
			cfg.Side = side
		}
		if k.epochs != 0 {
			return nil, errors.New("-epochs: smnist counts steps (-steps)")
		}
		models, err := recipes("smnist", experiments.SeqMNISTModels, k.models)
		if err != nil {
			return nil, err
		}
		cfg.Models = models
		cfg.Dir = k.dir
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		fmt.Println(cfg.Describe())
		return func(ctx context.Context) (experiments.Result, error) {
			return experiments.SeqMNIST(ctx, cfg, os.Stdout)
		}, nil
	case "qa":
		cfg := experiments.QASettings(k.budget)
		set(&cfg.Hidden, k.hidden)
		set(&cfg.Batch, k.batch)
		set(&cfg.Steps, int(k.steps))
		set(&cfg.MaxDocLen, k.length)
		set(&cfg.Seed, k.seed)
		if k.lr != 0 {
			cfg.LRStart, cfg.LRFinal = k.lr, k.lr
		}
		if k.epochs != 0 {
			return nil, errors.New("-epochs: qa counts steps (-steps)")
		}
		models, err := recipes("qa", experiments.QAModels, k.models)
		if err != nil {
			return nil, err
		}
		cfg.Models = models
		cfg.Dir = k.dir
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return func(ctx context.Context) (experiments.Result, error) {
			return experiments.QA(ctx, cfg, os.Stdout)
		}, nil
	}
	return nil, fmt.Errorf("unknown task %q (known: %s)", task, strings.Join(taskNames(), ", "))
}

// isCharTask reports whether task trains through the char-LM trainer.
func isCharTask(task string) bool {
	return task == "gru" || slices.Contains(experiments.CharLMTasks(), task)
}

// charKnobs applies the knobs to a char-LM configuration (LSTM or GRU).
func charKnobs(cfg *experiments.CharLMConfig, k knobs) error {
	set(&cfg.Hidden, k.hidden)
	set(&cfg.SeqLen, k.length)
	set(&cfg.Batch, k.batch)
	set(&cfg.Seed, k.seed)
	if k.seeds < 0 {
		return fmt.Errorf("-seeds %d: want >= 0", k.seeds)
	}
	if k.seeds > 0 {
		cfg.Seeds = k.seeds
		if len(cfg.SeedModels) == 0 {
			cfg.SeedModels = []string{"bn-fp", "bn-binary", "bn-ternary"}
		}
	}
	if k.steps > 0 {
		cfg.Steps = k.steps
		if cfg.TradeOffSteps > k.steps {
			cfg.TradeOffSteps = k.steps
		}
	}
	if k.epochs > 0 {
		cfg.Epochs = k.epochs
		if k.steps == 0 {
			cfg.Steps, cfg.TradeOffSteps = 0, 0 // bounded by epochs only
		}
	}
	if k.lr > 0 {
		cfg.LR, cfg.LRFinal = k.lr, k.lr
	}
	cfg.LatentLRScale, cfg.ResetMoments, cfg.Distill = k.latentLRScale, k.resetMoments, k.distill
	if len(k.models) > 0 {
		cfg.Models = nil
		for _, name := range k.models {
			m, err := experiments.LookupCharLMRecipe(cfg.Cell, name)
			if err != nil {
				return err
			}
			cfg.Models = append(cfg.Models, m.Name)
		}
	}
	return cfg.Validate()
}

// recipes resolves model names against a task's list (nil names: the list).
func recipes(kind string, list []experiments.Recipe, names []string) ([]experiments.Recipe, error) {
	if len(names) == 0 {
		return list, nil
	}
	var out []experiments.Recipe
	for _, n := range names {
		r, err := experiments.LookupModel(kind, list, n)
		if err != nil {
			return nil, err
		}
		if r.Cell == 0 {
			r.Cell = recurrent.LSTM
		}
		out = append(out, r)
	}
	return out, nil
}

// writeReport writes results.md and the report's figures into dir.
func writeReport(res experiments.Result, dir string) error {
	rep, err := res.Report()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	md := rep.Markdown()
	var files []string
	for i, f := range rep.Figures {
		name := fmt.Sprintf("figure%d", i+1)
		var data []byte
		switch {
		case len(f.PNG) > 0:
			name, data = name+".png", f.PNG
		case f.SVG != "":
			name, data = name+".svg", []byte(f.SVG)
		default:
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
		md += fmt.Sprintf("\n![%s](%s)\n", f.Title, name)
		files = append(files, name)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Printf("\n%s\nresults in %s (results.md, %s)\n", rep.Markdown(), filepath.Clean(dir), strings.Join(files, ", "))
	return nil
}

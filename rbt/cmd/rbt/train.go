package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/experiments"
)

func init() {
	register("train", "train and evaluate character-level LMs headless (resumable)", runTrain)
}

// runTrain: rbt train -task ptb-char -model bn-binary -budget quick -dir runs/x
//
// Trains the chosen models of a char-LM experiment with checkpoints under
// -dir/<model> (re-running the same command resumes an interrupted run, or
// finds it finished and only re-evaluates), evaluates the best-validation
// weights in both inference modes, and writes results.md, results.json and
// the figures (curves.png, tradeoff.png, gates.png) into -dir.
// Ctrl-C (SIGINT) or SIGTERM saves a checkpoint at the current step and exits
// with status 1. A model that diverges is scored at its last good checkpoint
// and the command exits with status 3 after writing the results. A second
// process on the same -dir is refused (the directory's lock names the first).
func runTrain(args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	task := fs.String("task", experiments.TaskPTBChar, "corpus: "+strings.Join(experiments.CharLMTasks(), ", "))
	modelNames := make([]string, 0)
	for _, m := range experiments.CharLMModels() {
		modelNames = append(modelNames, m.Name)
	}
	modelFlag := fs.String("model", "all", "comma-separated models, or all: "+strings.Join(modelNames, ", "))
	budgetFlag := fs.String("budget", "", "smoke, quick or paper (default: $RBT_BUDGET, else quick)")
	dir := fs.String("dir", "", "run directory: checkpoints (one subdirectory per model) and results (required)")
	steps := fs.Int64("steps", 0, "override the number of training steps (0: the budget's)")
	seed := fs.Uint64("seed", 0, "override the seed (0: the budget's)")
	sample := fs.Bool("allow-sample", true, "text8: use the labelled War and Peace sample when the real file is absent (not at -budget paper)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *dir == "" {
		return errors.New("-dir is required (the checkpoint and results directory)")
	}
	b, err := budget.FromEnv()
	if *budgetFlag != "" {
		b, err = budget.Parse(*budgetFlag)
	}
	if err != nil {
		return err
	}
	cfg, err := experiments.CharLMSettings(*task, b)
	if err != nil {
		return err
	}
	if *modelFlag != "all" {
		cfg.Models = nil
		for _, name := range strings.Split(*modelFlag, ",") {
			m, err := experiments.LookupCharLMModel(strings.TrimSpace(name))
			if err != nil {
				return err
			}
			cfg.Models = append(cfg.Models, m.Name)
		}
	}
	if *steps < 0 {
		return fmt.Errorf("-steps %d: want >= 0 (0: the budget's)", *steps)
	}
	if *steps > 0 {
		cfg.Steps = *steps
		if cfg.TradeOffSteps > *steps {
			cfg.TradeOffSteps = *steps
		}
	}
	if *seed > 0 {
		cfg.Seed = *seed
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	data, err := experiments.LoadCharLMData(*task, *sample && b != budget.Paper)
	if err != nil {
		return err
	}
	fmt.Printf("backend %s\n%s\ndata: %s\n", backend.Describe(), cfg, data.Label)
	if data.Note != "" {
		fmt.Printf("NOTE: %s\n", data.Note)
	}
	lock, err := lockRunDir(*dir)
	if err != nil {
		return failed(err)
	}
	defer lock.Unlock()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := experiments.RunCharLM(ctx, cfg, data, *dir, os.Stdout)
	if err != nil {
		if ctx.Err() != nil {
			return failed(fmt.Errorf("%w (checkpoint saved: run the same command again to resume)", err))
		}
		return failed(err)
	}
	if err := res.WriteFiles(*dir); err != nil {
		return failed(err)
	}
	fmt.Printf("\n%s\n", res.Table().Markdown())
	for _, line := range res.Claims() {
		fmt.Println(line)
	}
	fmt.Printf("results in %s (results.md, results.json, curves.png, tradeoff.png, gates.png)\n", filepath.Clean(*dir))
	return charLMDivergences(res)
}

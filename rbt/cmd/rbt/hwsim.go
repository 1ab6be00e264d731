package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rbt-project/rbt/hwsim"
	"github.com/rbt-project/rbt/hwsim/hwplot"
	"github.com/rbt-project/rbt/rbt/packed"
)

func init() {
	register("hwsim", "simulate binary/ternary LSTM accelerators on a packed model; CSV report", runHWSim)
}

// runHWSim: rbt hwsim -model m.rbtm -config binary[,fp12,my.json] [-text ptb.char.test.txt]
func runHWSim(args []string) error {
	fs := flag.NewFlagSet("hwsim", flag.ContinueOnError)
	model := fs.String("model", "", "packed model file (.rbtm); empty: a random PTB-sized model (see -hidden)")
	configs := fs.String("config", "fp12,fp16,binary,ternary", "comma-separated designs: shipped names ("+strings.Join(hwsim.ExampleConfigNames(), ", ")+") or .json/.yaml files")
	text := fs.String("text", "", "character text (PTB format) for a functional run: BPC on the hardware arithmetic")
	chars := fs.Int("chars", 0, "limit the functional run to this many characters (0: all)")
	window := fs.Int("window", 100, "reset the state every this many characters (0: one stream)")
	out := fs.String("out", "", "report CSV file (default stdout)")
	evalOut := fs.String("eval-out", "", "functional results CSV file (default: appended to stdout)")
	study := fs.String("study", "", "directory: also write the full study (CSV tables, PNG figures, architecture SVG)")
	hidden := fs.Int("hidden", 1000, "hidden size of the random model used without -model")
	steps := fs.Int64("steps", 0, "sequence length for sequence latency/energy (0: the text's characters, or 1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := checkCounts(map[string]int64{"-chars": int64(*chars), "-window": int64(*window), "-steps": *steps}, 0); err != nil {
		return err
	}
	if err := checkCounts(map[string]int64{"-hidden": int64(*hidden)}, 1); err != nil {
		return err
	}
	var m *packed.Model
	var err error
	if *model != "" {
		if m, err = packed.ReadFile(*model); err != nil {
			return err
		}
	}
	var designs []hwsim.Config
	for _, name := range strings.Split(*configs, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		var c hwsim.Config
		if ext := filepath.Ext(name); ext == ".json" || ext == ".yaml" || ext == ".yml" {
			c, err = hwsim.LoadConfig(name)
		} else {
			c, err = hwsim.ExampleConfig(name)
		}
		if err != nil {
			return err
		}
		designs = append(designs, c)
	}
	if len(designs) == 0 {
		return errors.New("-config: no design given")
	}
	var toks []int
	if *text != "" {
		var vocab []string
		if m != nil {
			vocab = m.Vocab
		}
		if toks, err = hwsim.LoadCharTokens(*text, vocab); err != nil {
			return err
		}
		if *chars > 0 && len(toks) > *chars {
			toks = toks[:*chars]
		}
	}
	seq := *steps
	if seq <= 0 {
		seq = max(int64(len(toks)), 1)
	}
	var reports []hwsim.Report
	var evals []hwsim.Eval
	// Built on first use: one random model per weight kind, one workload per model.
	randomModels := map[packed.WeightKind]*packed.Model{}
	workloads := map[*packed.Model]hwsim.Workload{}
	kindOf := map[hwsim.WeightFormat]packed.WeightKind{hwsim.Binary: packed.Binary, hwsim.Ternary: packed.Ternary, hwsim.Fixed: packed.Float32}
	for _, c := range designs {
		mm := m
		if mm == nil { // a random model whose weights match the design
			kind := kindOf[c.Weights]
			if mm = randomModels[kind]; mm == nil {
				if mm, err = packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: kind, Input: packed.OneHot, Vocab: 50, Hidden: []int{*hidden}, Steps: 100, Seed: 1, BatchNorm: true}); err != nil {
					return err
				}
				randomModels[kind] = mm
			}
		}
		w, ok := workloads[mm]
		if !ok {
			if w, err = hwsim.WorkloadOf(mm.Task, mm); err != nil {
				return err
			}
			workloads[mm] = w
		}
		if (c.Weights == hwsim.Binary && mm.Layers[0].Weights != packed.Binary) || (c.Weights == hwsim.Ternary && mm.Layers[0].Weights == packed.Float32) {
			fmt.Fprintf(os.Stderr, "rbt hwsim: skipping design %q: model has %v weights\n", c.Name, mm.Layers[0].Weights)
			continue
		}
		res, err := hwsim.Simulate(c, w, seq)
		if err != nil {
			return err
		}
		reports = append(reports, res.Report)
		if len(toks) > 0 && mm.Input != packed.Dense {
			sim, err := hwsim.NewSim(c, mm)
			if err != nil {
				fmt.Fprintf(os.Stderr, "rbt hwsim: no functional run on %q: %v\n", c.Name, err)
				continue
			}
			ev, err := sim.EvalTokens(toks, hwsim.EvalOptions{Segment: *window, Progress: progressLine(os.Stderr, "rbt hwsim: "+c.Name)})
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "rbt hwsim: %s: %d characters, BPC %.4f (%.0f steps/s simulated)\n", c.Name, ev.Predictions, ev.BPC, ev.StepsPerSec)
			evals = append(evals, ev)
		}
	}
	if err := writeCSVOut(*out, reports); err != nil {
		return failed(err)
	}
	if len(evals) > 0 {
		if *evalOut == "" && *out == "" {
			fmt.Println()
		}
		if err := writeCSVOut(*evalOut, evals); err != nil {
			return failed(err)
		}
	}
	if *study != "" {
		opt := hwsim.StudyOptions{Designs: designs}
		if m != nil && len(toks) > 0 {
			opt.Models, opt.Tokens, opt.Segment = []*packed.Model{m}, toks, *window
			if w, ok := workloads[m]; ok { // computed in the loop above
				opt.Workload = w
				opt.Workload.Layers = slices.Clone(w.Layers)
				for i := range opt.Workload.Layers { // the comparisons use sign designs too
					opt.Workload.Layers[i].ZerosX, opt.Workload.Layers[i].ZerosH = 0, 0
				}
			}
		}
		res, err := hwplot.Run(opt)
		if err != nil {
			return failed(err)
		}
		if err := res.Study.WriteCSVs(*study); err != nil {
			return failed(err)
		}
		for _, f := range res.Figures {
			if err := os.WriteFile(filepath.Join(*study, f.Name+".png"), f.PNG, 0o644); err != nil {
				return failed(err)
			}
		}
		if err := os.WriteFile(filepath.Join(*study, "architecture.svg"), []byte(res.DiagramSVG), 0o644); err != nil {
			return failed(err)
		}
		fmt.Fprintf(os.Stderr, "rbt hwsim: study written to %s\n", *study)
	}
	return nil
}

// writeCSVOut writes rows as CSV to path, or to stdout when path is empty.
func writeCSVOut[T any](path string, rows []T) error {
	if path == "" {
		return hwsim.WriteCSV(os.Stdout, rows)
	}
	return hwsim.WriteCSVFile(path, rows)
}

// progressLine returns an EvalOptions.Progress that rewrites one line on w
// at most once a second: characters done, rate and time left.
func progressLine(w io.Writer, label string) func(done, total int64) {
	var mu sync.Mutex
	start := time.Now()
	var last time.Time
	return func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if done < total && now.Sub(last) < time.Second {
			return
		}
		last = now
		rate := float64(done) / now.Sub(start).Seconds()
		eta := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
		fmt.Fprintf(w, "\r%s: %d/%d characters (%.1f%%), %.0f steps/s simulated, %v left   ", label, done, total, 100*float64(done)/float64(total), rate, eta)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}

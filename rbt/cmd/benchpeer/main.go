// Command benchpeer measures one training step (forward, backward, Adam) of
// rbt's recurrent models side by side with the same models in PyTorch, on
// the same machine in one run, and prints one table.
//
//	go run ./rbt/cmd/benchpeer [-shapes charlm-h256-t50,...] [-models bn-binary,...] [-steps 5] [-runs 3]
//	make bench-peer [BENCH_SHAPES=charlm-h256-t50] [BENCH_RUNS=3]
//
// The peer is ../shared/bench/torch_lstm_bench.py (see its README: Debian's
// python3-torch with libopenblas0-pthread, one thread), run with
// /usr/bin/python3 when that interpreter has torch; otherwise the PyTorch
// column stays empty. Each rbt measurement runs in a child process of its
// own, so that its peak memory (maximum resident set) is that model's alone;
// the CPU seconds are the child's user+system time over the timed steps (the
// peer's: its process's CPU time with -steps steps less that with one step,
// over -steps - 1). For
// every (shape, model) the two sides alternate, -runs times, and the table
// shows medians: on a shared machine the ratio within one run is the figure
// to trust, not the absolute times, and the CPU ratio more than the wall one
// (a busy machine gives a 1-thread peer and rbt's backend, which runs
// independent ops on every core, unequal shares of wall time).
//
// Shapes (the peer's names, plus rbt-only charlm-h100-t100-b100, the char LM at
// sMNIST's hidden size and batch for the per-symbol comparison):
// charlm-h256-t50, charlm-h256-t100 (one-hot
// vocabulary 50, batch 32), charlm-h1000-t100 (batch 64, the paper's PTB
// char model), smnist-h100-t784 (one pixel per step, batch 100, 10 classes
// from the last step), wordlm-h300-t35 (10,000-word embedding of 300 and
// softmax, batch 20). Models: bn-fp, bn-binary, bn-ternary (per-step BN on
// all three products; rbt's CharLM, SeqMNIST, WordLM) and nn.LSTM (PyTorch's
// fused float LSTM, no BN, against rbt's full-precision LSTM without BN).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// shape is one benchmark shape, named as in torch_lstm_bench.py.
type shape struct {
	name                 string
	kind                 string // "charlm", "smnist" or "wordlm"
	hidden, steps, batch int
	vocab                int  // token input (charlm, wordlm)
	peer                 bool // torch_lstm_bench.py knows the shape
}

// symbols is the number of input symbols of one training step (batch x length).
func (s shape) symbols() int { return s.batch * s.steps }

var allShapes = []shape{
	{"charlm-h256-t50", "charlm", 256, 50, 32, 50, true},
	{"charlm-h256-t100", "charlm", 256, 100, 32, 50, true},
	{"charlm-h1000-t100", "charlm", 1000, 100, 64, 50, true},
	{"smnist-h100-t784", "smnist", 100, 784, 100, 0, true},
	// rbt only: the char LM at sMNIST's hidden size and batch, length 100, the
	// reference of issue 13's per-symbol criterion (a long sequence should
	// cost no more per symbol than a short one).
	{"charlm-h100-t100-b100", "charlm", 100, 100, 100, 50, false},
	{"wordlm-h300-t35", "wordlm", 300, 35, 20, 10000, true},
}

var allModels = []string{"bn-fp", "bn-binary", "bn-ternary", "nn.LSTM"}

func main() {
	shapesFlag := flag.String("shapes", "", "comma-separated shapes (default all: "+shapeNames(allShapes)+")")
	modelsFlag := flag.String("models", strings.Join(allModels, ","), "comma-separated models")
	steps := flag.Int("steps", 5, "timed steps per measurement (after one untimed step that compiles)")
	runs := flag.Int("runs", 3, "measurements of each side per (shape, model); the table shows medians")
	python := flag.String("python", "/usr/bin/python3", "interpreter with torch for the peer")
	peer := flag.String("peer", "../shared/bench/torch_lstm_bench.py", "the PyTorch peer script")
	child := flag.String("child", "", "internal: measure rbt on \"SHAPE MODEL\" and print one line")
	flag.Parse()

	if *child != "" {
		f := strings.Fields(*child)
		if len(f) != 2 {
			fail(fmt.Errorf("-child %q: want \"SHAPE MODEL\"", *child))
		}
		s, err := lookupShape(f[0])
		if err == nil {
			err = measureRBT(os.Stdout, s, f[1], *steps)
		}
		if err != nil {
			fail(err)
		}
		return
	}

	shapes := allShapes
	if *shapesFlag != "" {
		shapes = nil
		for _, n := range strings.Split(*shapesFlag, ",") {
			s, err := lookupShape(n)
			if err != nil {
				fail(err)
			}
			shapes = append(shapes, s)
		}
	}
	modelList := strings.Split(*modelsFlag, ",")
	for _, m := range modelList {
		if _, _, err := rbtConfig(m); err != nil {
			fail(err)
		}
	}
	if *steps < 2 || *runs < 1 {
		fail(fmt.Errorf("-steps %d -runs %d: want steps >= 2, runs >= 1", *steps, *runs))
	}
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	havePeer := peerAvailable(*python, *peer)

	// Every line either side prints goes to stderr as it comes and into log,
	// which parseLines reads at the end.
	var log bytes.Buffer
	out := io.MultiWriter(&log, os.Stderr)
	for run := 1; run <= *runs; run++ {
		for _, s := range shapes {
			for _, m := range modelList {
				fmt.Fprintf(os.Stderr, "# run %d/%d %s %s\n", run, *runs, s.name, m)
				if havePeer && s.peer {
					// The peer's CPU time per step: the process's CPU seconds with
					// -steps steps less those with one step, over -steps - 1.
					cpuOne, err := runPeer(io.Discard, *python, *peer, s.name, m, 1)
					if err != nil {
						fail(err)
					}
					cpuAll, err := runPeer(out, *python, *peer, s.name, m, *steps)
					if err != nil {
						fail(err)
					}
					fmt.Fprintf(out, "peercpu %s %s %.4f\n", s.name, m, max(cpuAll-cpuOne, 0)/float64(*steps-1))
				}
				cmd := exec.Command(self, "-steps", fmt.Sprint(*steps), "-child", s.name+" "+m)
				cmd.Stdout, cmd.Stderr = out, os.Stderr
				if err := cmd.Run(); err != nil {
					fail(fmt.Errorf("rbt %s %s: %w", s.name, m, err))
				}
			}
		}
	}
	rbt, peerRows, err := parseLines(&log)
	if err != nil {
		fail(err)
	}
	names := make([]string, len(shapes))
	symbols := map[string]int{}
	for i, s := range shapes {
		names[i] = s.name
		symbols[s.name] = s.symbols()
	}
	writeTable(os.Stdout, buildRows(names, modelList, rbt, peerRows), symbols)
	peerNote := "PyTorch: " + *python + " " + *peer + " (torch.set_num_threads(1); OpenBLAS may still use more cores: compare the CPU columns)"
	if !havePeer {
		peerNote = "PyTorch: not measured (" + *python + " has no torch, or " + *peer + " is missing)"
	}
	fmt.Printf("\nMedians of %d runs of %d steps each; ratios = PyTorch / rbt (> 1: rbt faster). %s.\n", *runs, *steps, peerNote)
}

// runPeer runs the PyTorch peer on one shape and model, its output to w, and
// returns the process's user+system CPU seconds.
func runPeer(w io.Writer, python, script, shape, model string, steps int) (float64, error) {
	cmd := exec.Command(python, script, "--steps", fmt.Sprint(steps), "--models", model, shape)
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("peer %s %s: %w", shape, model, err)
	}
	return (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchpeer:", err)
	os.Exit(1)
}

func shapeNames(ss []shape) string {
	n := make([]string, len(ss))
	for i, s := range ss {
		n[i] = s.name
	}
	return strings.Join(n, ",")
}

func lookupShape(name string) (shape, error) {
	for _, s := range allShapes {
		if s.name == name {
			return s, nil
		}
	}
	return shape{}, fmt.Errorf("unknown shape %q (known: %s)", name, shapeNames(allShapes))
}

// peerAvailable reports whether python imports torch and the script exists.
func peerAvailable(python, script string) bool {
	if _, err := os.Stat(script); err != nil {
		return false
	}
	return exec.Command(python, "-c", "import torch").Run() == nil
}

// rbtConfig maps a peer model name to rbt's quantizer and normalization.
func rbtConfig(m string) (quantizer string, norm recurrent.Normalization, err error) {
	switch m {
	case "bn-fp":
		return "fp", recurrent.PerStepBN, nil
	case "bn-binary":
		return "binary", recurrent.PerStepBN, nil
	case "bn-ternary":
		return "ternary", recurrent.PerStepBN, nil
	case "nn.LSTM":
		return "fp", recurrent.None, nil
	}
	return "", 0, fmt.Errorf("unknown model %q (known: %s)", m, strings.Join(allModels, ","))
}

// measureRBT times steps training steps of model m on shape s after one
// untimed step (build, compile, first run), and prints
// "rbt SHAPE MODEL ms_per_step cpu_s_per_step peak_MiB".
func measureRBT(w io.Writer, s shape, m string, steps int) error {
	q, norm, err := rbtConfig(m)
	if err != nil {
		return err
	}
	var modelFn func(*model.Scope, *Node) *Node
	lossFn := models.CharLMLoss
	rng := rand.New(rand.NewPCG(1, 2))
	var x, y *tensors.Tensor
	switch s.kind {
	case "charlm", "wordlm":
		if s.kind == "charlm" {
			modelFn = models.CharLM{Vocab: s.vocab, Hidden: s.hidden, Quantizer: q, Normalization: norm}.Logits
		} else {
			wm := models.WordLM{Vocab: s.vocab, Embed: s.hidden, Hidden: s.hidden, Quantizer: q, Normalization: norm}
			modelFn = func(scope *model.Scope, tokens *Node) *Node {
				logits, _, _ := wm.Forward(scope, tokens, nil, nil)
				return logits
			}
		}
		in, lab := make([]int32, s.batch*s.steps), make([]int32, s.batch*s.steps)
		for i := range in {
			in[i], lab[i] = int32(rng.IntN(s.vocab)), int32(rng.IntN(s.vocab))
		}
		x, y = tensors.FromFlatDataAndDimensions(in, s.batch, s.steps), tensors.FromFlatDataAndDimensions(lab, s.batch, s.steps)
	case "smnist":
		modelFn = models.SeqMNIST{Hidden: s.hidden, Quantizer: q, Normalization: norm}.Logits
		lossFn = models.ClassifierLoss
		px, lab := make([]float32, s.batch*s.steps), make([]int32, s.batch)
		for i := range px {
			px[i] = rng.Float32()
		}
		for i := range lab {
			lab[i] = int32(rng.IntN(10))
		}
		x, y = tensors.FromFlatDataAndDimensions(px, s.batch, s.steps, 1), tensors.FromFlatDataAndDimensions(lab, s.batch)
	default:
		return errors.New("unknown shape kind " + s.kind)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(1); err != nil {
		return err
	}
	opt := optim.Adam().LearningRate(0.002).ClipLatent(q == "binary").Done()
	tr := train.NewTrainer(backend.Must(), store, modelFn, lossFn, opt, nil, nil)
	batch := train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}}
	start := time.Now()
	if _, err := tr.TrainStep(batch); err != nil {
		return err
	}
	first := time.Since(start)
	cpu0 := cpuSeconds()
	start = time.Now()
	for range steps {
		if _, err := tr.TrainStep(batch); err != nil {
			return err
		}
	}
	wall := time.Since(start).Seconds() / float64(steps)
	cpu := (cpuSeconds() - cpu0) / float64(steps)
	fmt.Fprintf(w, "# rbt %s %s first step (build+compile+run) %.2f s\n", s.name, m, first.Seconds())
	fmt.Fprintf(w, "rbt %s %s %.1f %.4f %.0f\n", s.name, m, wall*1e3, cpu, peakMiB())
	return nil
}

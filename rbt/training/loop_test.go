package training

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/optim"
)

// newCharRun builds a fresh store, trainer and loop of the tiny LSTM, with
// validation through an Evaluator on a 2-batch validation split.
func newCharRun(t *testing.T, cfg Config, noisy bool) *Loop {
	t.Helper()
	store := model.NewStore()
	trainer := train.NewTrainer(backend.Must(), store, charLSTM(noisy), ceLoss,
		optim.Adam().LearningRate(0.01).ClipLatent(true).Done(), nil, nil)
	loop, err := New(trainer, synth{seed: 7, n: 5}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := NewEvaluator(backend.Must(), store, bitsSum(noisy))
	valid := synth{seed: 99, n: 2}
	return loop.WithEval(func(ctx context.Context) (float64, error) {
		tot, err := ev.Eval(ctx, valid)
		return tot.Mean(), err
	})
}

func tensorBytes(t *testing.T, x *tensors.Tensor) []byte {
	t.Helper()
	var out []byte
	if err := x.ConstBytes(func(b []byte) { out = append([]byte(nil), b...) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertSameStores checks every variable of a and b is bit-identical.
func assertSameStores(t *testing.T, a, b *model.Store) {
	t.Helper()
	n, nb := 0, 0
	for v := range b.IterVariables() {
		if !isMetricVar(v.Path()) {
			nb++
		}
	}
	for va := range a.IterVariables() {
		if isMetricVar(va.Path()) {
			continue // the trainer's loss moving average: per-trainer, not saved.
		}
		vb := b.GetVariable(va.Path())
		if vb == nil {
			t.Errorf("variable %s missing after resume", va.Path())
			continue
		}
		if va.Trainable != vb.Trainable {
			t.Errorf("variable %s: trainable %v vs %v", va.Path(), va.Trainable, vb.Trainable)
		}
		if !bytes.Equal(tensorBytes(t, va.MustValue()), tensorBytes(t, vb.MustValue())) {
			t.Errorf("variable %s differs:\n  uninterrupted %v\n  resumed       %v", va.Path(), va.MustValue(), vb.MustValue())
		}
		n++
	}
	if n != nb {
		t.Errorf("%d variables uninterrupted, %d resumed", n, nb)
	}
	if n < 10 {
		t.Errorf("only %d variables compared", n)
	}
}

func stripSeconds(h History) History {
	pts := append([]Point(nil), h.Points...)
	for i := range pts {
		pts[i].Seconds = 0
	}
	h.Points = pts
	return h
}

// TestResumeIsBitIdentical runs 14 steps (2.8 epochs) uninterrupted, then the
// same run interrupted and resumed: cancelled through the context (the loop
// saves at the current step), and stopped by an error without saving (a
// killed process: the resumed run replays from the last checkpoint). Both
// must end with bit-identical variables: weights, Adam moments and counters,
// global step, RNG state, and the same learning curve. The model draws random
// numbers in training and validation; the schedule is the stateful plateau
// one; Adam's moments are reset after each validation.
func TestResumeIsBitIdentical(t *testing.T) {
	cfg := func(dir string) Config {
		return Config{Dir: dir, Steps: 14, EvalEvery: 5, EvalAtEpochEnd: true, CheckpointEvery: 3, Seed: 1,
			Schedule: optim.NewPlateau(0.02, 2, 0), ExamplesPerStep: tB * tT, Unit: "chars", Metric: "BPC",
			ResetMomentsAfterEval: true, Keep: 2}
	}
	ref := newCharRun(t, cfg(t.TempDir()), true)
	if err := ref.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	refState := ref.State()
	if refState.Step != 14 || refState.Epoch != 2 || refState.Index != 4 {
		t.Fatalf("uninterrupted run ended at step %d, epoch %d, batch %d", refState.Step, refState.Epoch, refState.Index)
	}

	for _, tc := range []struct {
		name      string
		stopAt    int64
		cancel    bool  // cancel the context (else: fail without saving, like a kill)
		resumeAt  int64 // step of the checkpoint the second run must resume from
		wantCkpts int
	}{
		{name: "context cancelled", stopAt: 7, cancel: true, resumeAt: 7},
		{name: "killed without saving", stopAt: 11, resumeAt: 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			killed := errors.New("killed")
			c := cfg(dir)
			c.OnStep = func(l *Loop, s StepInfo) error {
				if s.Step != tc.stopAt {
					return nil
				}
				if tc.cancel {
					cancel()
					return nil
				}
				return killed
			}
			first := newCharRun(t, c, true)
			err := first.Run(ctx)
			if tc.cancel && !errors.Is(err, context.Canceled) {
				t.Fatalf("first run: got %v, want context.Canceled", err)
			}
			if !tc.cancel && !errors.Is(err, killed) {
				t.Fatalf("first run: got %v, want the kill error", err)
			}
			// A stale temporary directory, as left by a crash during a save, is ignored and removed.
			stale := filepath.Join(dir, ".tmp-ckpt-00000099-123")
			if err := os.MkdirAll(stale, 0o755); err != nil {
				t.Fatal(err)
			}

			second := newCharRun(t, cfg(dir), true)
			if err := second.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, fmt.Sprintf("ckpt-%08d", tc.resumeAt)); second.ResumedFrom() != want {
				t.Errorf("resumed from %q, want %q", second.ResumedFrom(), want)
			}
			if _, err := os.Stat(stale); !os.IsNotExist(err) {
				t.Errorf("stale temporary directory not removed: %v", err)
			}
			assertSameStores(t, ref.Store(), second.Store())
			got := second.State()
			if got.Step != refState.Step || got.Epoch != refState.Epoch || got.Index != refState.Index ||
				got.Examples != refState.Examples || got.BestMetric != refState.BestMetric || got.BestStep != refState.BestStep {
				t.Errorf("state differs:\n got %+v\nwant %+v", got, refState)
			}
			if a, b := fmt.Sprintf("%+v", stripSeconds(refState.History)), fmt.Sprintf("%+v", stripSeconds(got.History)); a != b {
				t.Errorf("history differs:\n got %s\nwant %s", b, a)
			}
			paths, _, err := listCheckpoints(dir, CkptPrefix)
			if err != nil || len(paths) != 2 {
				t.Errorf("kept checkpoints %v (%v), want the last 2", paths, err)
			}
			// Running again does nothing: the run is complete.
			again := newCharRun(t, cfg(dir), true)
			if err := again.Run(context.Background()); err != nil || again.State().Step != 14 {
				t.Errorf("re-run of a finished run: %v, step %d", err, again.State().Step)
			}
		})
	}
}

// TestModelSelectionAndSchedule checks the geometric schedule per epoch, the
// history, and that the best checkpoint holds the weights of the best
// validation point: reloaded into a fresh store, it evaluates to the recorded
// value exactly (deterministic model).
func TestModelSelectionAndSchedule(t *testing.T) {
	dir := t.TempDir()
	sched := optim.Geometric{Start: 0.03, Final: 0.01, Epochs: 3}
	var progress bytes.Buffer
	cfg := Config{Dir: dir, Epochs: 4, EvalEvery: 2, Seed: 3, Schedule: sched,
		ExamplesPerStep: tB * tT, Unit: "chars", Metric: "BPC", LogEvery: 1, Progress: &progress, ProgressEvery: 1}
	var lrErrs []string
	cfg.OnStep = func(l *Loop, s StepInfo) error {
		lr, ok, err := optim.LearningRate(l.Store())
		if err != nil || !ok || math.Abs(lr-sched.Rate(s.Epoch)) > 1e-9 {
			lrErrs = append(lrErrs, fmt.Sprintf("step %d epoch %d: lr %v (%v), want %v", s.Step, s.Epoch, lr, err, sched.Rate(s.Epoch)))
		}
		return nil
	}
	loop := newCharRun(t, cfg, false)
	if err := loop.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(lrErrs) > 0 {
		t.Errorf("learning rate not following the schedule:\n%s", strings.Join(lrErrs, "\n"))
	}
	h := loop.History()
	if len(h.Points) != 20 || len(h.Valid()) != 10 {
		t.Fatalf("history has %d points, %d with validation; want 20 and 10", len(h.Points), len(h.Valid()))
	}
	first, last := h.Valid()[0], h.Valid()[len(h.Valid())-1]
	if !(last.Valid < first.Valid) {
		t.Errorf("validation BPC did not improve: %v -> %v", first.Valid, last.Valid)
	}
	if h.Points[19].Examples != 20*tB*tT || h.Points[19].Epoch != 4 {
		t.Errorf("last point %+v", h.Points[19])
	}
	t.Logf("validation BPC: first %.4f, last %.4f (uniform: %.4f)", first.Valid, last.Valid, math.Log2(tV))
	best, ok := h.Best(false)
	path, step, found, err := BestCheckpoint(dir)
	if !ok || !found || err != nil || step != best.Step {
		t.Fatalf("best checkpoint %q at step %d (%v, %v); best point %+v", path, step, found, err, best)
	}
	store := model.NewStore()
	st, err := LoadCheckpoint(store, path)
	if err != nil {
		t.Fatal(err)
	}
	if st.BestMetric != best.Valid || st.Step != best.Step {
		t.Errorf("best checkpoint state: metric %v step %d; want %v, %d", st.BestMetric, st.Step, best.Valid, best.Step)
	}
	tot, err := NewEvaluator(backend.Must(), store, bitsSum(false)).Eval(context.Background(), synth{seed: 99, n: 2})
	if err != nil {
		t.Fatal(err)
	}
	if tot.Mean() != best.Valid || tot.Count != 2*tB*tT || tot.Batches != 2 {
		t.Errorf("best checkpoint evaluates to %v over %v chars, recorded %v", tot.Mean(), tot.Count, best.Valid)
	}
	out := progress.String()
	for _, want := range []string{"step 20/20", "chars/s", "loss ", "BPC ", "ETA ", "(best)"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q:\n%s", want, out)
		}
	}
}

// TestDivergenceStopsAndKeepsLastGood trains a linear regression with plain
// SGD at a learning rate far above stability (lr 10 on inputs of unit
// variance: each step multiplies the error by about -19), so the loss
// overflows float32 within a few dozen steps. The loop must stop with a
// DivergedError naming the step, write no checkpoint for it, and leave the
// last good checkpoint finite and loadable.
func TestDivergenceStopsAndKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	store := model.NewStore()
	linear := func(scope *model.Scope, x *Node) *Node {
		w := scope.VariableWithValue("w", [][]float32{{0.1}, {-0.2}, {0.3}}).NodeValue(x.Graph())
		return MatMul(x, w)
	}
	trainer := train.NewTrainer(backend.Must(), store, linear, loss.MeanSquaredError,
		optim.SGD().LearningRate(10).Done(), nil, nil)
	src := SourceFunc{N: 4, Fn: func(epoch, index int) (train.Batch, error) {
		x := make([]float32, 8*3)
		y := make([]float32, 8)
		for i := range 8 {
			for j := range 3 {
				x[i*3+j] = float32(math.Sin(float64(epoch*97 + index*31 + i*7 + j*3)))
				y[i] += x[i*3+j]
			}
		}
		return train.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, 8, 3)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(y, 8, 1)}}, nil
	}}
	var losses []float64
	loop, err := New(trainer, src, Config{Dir: dir, Steps: 1000, CheckpointEvery: 2, Seed: 1,
		OnStep: func(_ *Loop, s StepInfo) error { losses = append(losses, s.Loss); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	err = loop.Run(context.Background())
	var div *DivergedError
	if !errors.As(err, &div) {
		t.Fatalf("got %v, want a DivergedError", err)
	}
	t.Logf("%v (losses: first %.3g, last finite %.3g)", err, losses[0], losses[len(losses)-1])
	if div.Step != int64(len(losses))+1 && !strings.Contains(div.What, "variable") {
		t.Errorf("diverged at step %d after %d finite steps", div.Step, len(losses))
	}
	if div.Step > 200 || !strings.Contains(err.Error(), "last good checkpoint") {
		t.Errorf("unexpected divergence report: %v", err)
	}
	path, step, ok, err := LatestCheckpoint(dir)
	if err != nil || !ok || path != div.Checkpoint {
		t.Fatalf("latest checkpoint %q (%v, %v), error names %q", path, ok, err, div.Checkpoint)
	}
	if step >= div.Step {
		t.Errorf("a checkpoint at step %d was written at or after the divergence (step %d)", step, div.Step)
	}
	fresh := model.NewStore()
	if _, err := LoadCheckpoint(fresh, path); err != nil {
		t.Fatal(err)
	}
	if err := checkFinite(fresh); err != nil {
		t.Errorf("last good checkpoint is not finite: %v", err)
	}
	if fresh.GetVariable("/w") == nil {
		t.Error("last good checkpoint lacks the weights")
	}
}

// TestEvaluatorSeesCurrentWeights: the evaluator must use the weights of the
// moment it runs (the Go backend bakes variables into inference graphs as
// constants, so a cached graph would be stale).
func TestEvaluatorSeesCurrentWeights(t *testing.T) {
	store := model.NewStore()
	ev := NewEvaluator(backend.Must(), store, func(scope *model.Scope, inputs, labels []*Node) (*Node, *Node) {
		if scope.IsTraining(inputs[0].Graph()) {
			panic("evaluation graph in training mode")
		}
		w := scope.VariableWithValue("w", []float32{1, 2}).NodeValue(inputs[0].Graph())
		pred := ReduceSum(Mul(inputs[0], ExpandAxes(w, 0)), -1) // [B]
		d := Sub(pred, labels[0])
		return ReduceAllSum(Square(d)), Scalar(d.Graph(), d.DType(), float64(d.Shape().Size()))
	})
	xs := [][]float32{{1, 0}, {0, 1}, {1, 1}}
	ys := []float32{1, 1, 1}
	batch := func(i int) (train.Batch, error) {
		return train.Batch{Inputs: []*tensors.Tensor{tensors.FromValue(xs[i : i+1])},
			Labels: []*tensors.Tensor{tensors.FromValue(ys[i : i+1])}}, nil
	}
	mse := func(w0, w1 float64) float64 {
		s := 0.0
		for i := range xs {
			d := w0*float64(xs[i][0]) + w1*float64(xs[i][1]) - float64(ys[i])
			s += d * d
		}
		return s / 3
	}
	for _, w := range [][2]float32{{1, 2}, {0.5, -1}, {3, 3}} {
		if v := store.GetVariable("/w"); v != nil {
			if err := v.SetValue(tensors.FromValue([]float32{w[0], w[1]})); err != nil {
				t.Fatal(err)
			}
		}
		tot, err := ev.EvalBatches(context.Background(), 3, batch)
		if err != nil {
			t.Fatal(err)
		}
		if want := mse(float64(w[0]), float64(w[1])); math.Abs(tot.Mean()-want) > 1e-6 || tot.Count != 3 || tot.Batches != 3 {
			t.Errorf("w = %v: mean %v over %v, want %v over 3", w, tot.Mean(), tot.Count, want)
		}
	}
	// Bad input is an error, not a panic.
	if _, err := ev.EvalBatches(context.Background(), 0, batch); err == nil {
		t.Error("evaluation over no batches accepted")
	}
	if _, err := ev.EvalBatches(context.Background(), 1, func(int) (train.Batch, error) { return train.Batch{}, nil }); err == nil {
		t.Error("batch without inputs accepted")
	}
}

// TestStochasticEvaluationAdvancesRNG: with a model that samples in
// inference (the "code" mode), two evaluations draw different samples, and
// the RNG state moves.
func TestStochasticEvaluationAdvancesRNG(t *testing.T) {
	loop := newCharRun(t, Config{Steps: 2, Seed: 5}, true)
	if err := loop.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	store := loop.Store()
	rng := store.GetVariable("/" + model.RNGStateVariableName)
	before := tensorBytes(t, rng.MustValue())
	ev := NewEvaluator(backend.Must(), store, bitsSum(true))
	a, err := ev.Eval(context.Background(), synth{seed: 99, n: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ev.Eval(context.Background(), synth{seed: 99, n: 2})
	if err != nil {
		t.Fatal(err)
	}
	if a.Mean() == b.Mean() {
		t.Errorf("two stochastic evaluations gave the same value %v", a.Mean())
	}
	if bytes.Equal(before, tensorBytes(t, rng.MustValue())) {
		t.Error("evaluation did not advance the RNG state")
	}
	// Without sampling, evaluations are exactly repeatable.
	det := NewEvaluator(backend.Must(), store, bitsSum(false))
	c, _ := det.Eval(context.Background(), synth{seed: 99, n: 2})
	d, _ := det.Eval(context.Background(), synth{seed: 99, n: 2})
	if c.Mean() != d.Mean() || math.IsNaN(c.Mean()) {
		t.Errorf("deterministic evaluations differ: %v vs %v", c.Mean(), d.Mean())
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	trainer := train.NewTrainer(backend.Must(), model.NewStore(), charLSTM(false), ceLoss, optim.Adam().Done(), nil, nil)
	for _, tc := range []struct {
		src Source
		cfg Config
	}{
		{synth{n: 5}, Config{}},
		{synth{n: 0}, Config{Steps: 3}},
		{synth{n: 5}, Config{Steps: 3, EvalEvery: -1}},
	} {
		if _, err := New(trainer, tc.src, tc.cfg); err == nil {
			t.Errorf("New accepted %+v with %d batches per epoch", tc.cfg, tc.src.BatchesPerEpoch())
		}
	}
}

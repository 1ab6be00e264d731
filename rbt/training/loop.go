// Package training runs rbt's training: a loop around GoMLX's train.Trainer
// with exact resume, periodic validation, model selection, learning-rate
// schedules, atomic checkpoints, divergence detection, a progress bar and a
// learning-curve history; and an evaluator that accumulates a loss over a
// whole split (e.g. bits per character).
//
// A run is a pure function of its configuration: batches come from a Source,
// a pure function of (epoch, index); the model's random numbers come from the
// store's RNG state (seeded with Config.Seed at a fresh start); checkpoints
// hold every variable (weights, optimizer moments and counters, global step,
// RNG state) and the loop's own State (position, schedule state, best metric,
// history). A run interrupted at any point (context cancelled, process
// killed) and started again with the same configuration and Config.Dir
// continues from its last checkpoint and ends with bit-identical weights.
//
// Typical use (see the package example):
//
//	trainer := train.NewTrainer(backend, store, modelFn, lossFn, optim.Adam().Done(), nil, nil)
//	loop, err := training.New(trainer, trainSource, training.Config{
//		Dir: "runs/ptb-binary", Epochs: 50, EvalEvery: 500, Seed: 1,
//		Schedule: optim.Constant(0.002), ExamplesPerStep: 64 * 100, Unit: "chars", Metric: "BPC",
//		Progress: os.Stdout,
//	})
//	loop.WithEval(func(ctx context.Context) (float64, error) { ... valid BPC ... })
//	err = loop.Run(ctx)
//	best, _, _, _ := training.BestCheckpoint("runs/ptb-binary")
package training

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/rbt/optim"
)

// Config configures a Loop. The zero value of every field is usable except
// that one of Epochs or Steps must be set.
type Config struct {
	// Dir holds the checkpoints; "" disables checkpoints (and resume).
	Dir string
	// Epochs and Steps bound the run: it stops after Epochs epochs or Steps
	// steps, whichever comes first (0: unbounded on that count).
	Epochs int
	Steps  int64
	// EvalEvery validates every that many steps; EvalAtEpochEnd also at the
	// end of each epoch. The last step is always validated. (The released
	// code validates every 500 batches and at each epoch end.)
	EvalEvery      int64
	EvalAtEpochEnd bool
	// CheckpointEvery saves every that many steps; checkpoints are also
	// saved after every validation, at the end, and when the context is
	// cancelled. Keep is the number of regular checkpoints kept (default 2);
	// the best one is kept separately.
	CheckpointEvery int64
	Keep            int
	// Seed seeds the store's RNG (model.Store.SetRNGStateFromSeed) at a fresh
	// start, before the first step builds (and initializes) the model. On
	// resume the RNG state comes from the checkpoint.
	Seed int64
	// Schedule sets the learning rate before each step (per epoch) and hears
	// every validation (plateau). nil leaves the optimizer's own rate.
	Schedule optim.Schedule
	// ExamplesPerStep counts examples per batch for throughput and the
	// learning curve (e.g. batch x length characters); Unit names them
	// ("chars"; default "examples"). Metric names the validation value
	// ("BPC"; default "valid").
	ExamplesPerStep int64
	Unit            string
	Metric          string
	// HigherIsBetter selects the best checkpoint on the highest validation
	// value (accuracy) instead of the lowest (BPC, perplexity).
	HigherIsBetter bool
	// ResetMomentsAfterEval zeroes Adam's moments after every validation, as
	// the released code does (optim.ResetMoments). Off by default.
	ResetMomentsAfterEval bool
	// CheckWeightsEvery checks every float variable for NaN/Inf every that
	// many steps (0: only before saving a checkpoint, which always checks).
	CheckWeightsEvery int64
	// LogEvery adds a train-loss-only point to the history every that many
	// steps (validation points are always added).
	LogEvery int64
	// Progress receives the progress bar (nil: none); ProgressEvery is its
	// refresh interval (default 0.5 s in place on a terminal or notebook,
	// 30 s as separate lines elsewhere).
	Progress      io.Writer
	ProgressEvery time.Duration
	// OnStep, if set, runs after every step; an error stops the run without
	// saving (as if the process had been killed).
	OnStep func(l *Loop, s StepInfo) error
	// OnEval, if set, runs after every validation with its history point.
	OnEval func(l *Loop, p Point) error
}

// StepInfo describes a finished step.
type StepInfo struct {
	Step         int64 // steps done, this one included.
	Epoch, Index int   // position of the batch just used.
	Loss         float64
}

// EvalFn returns the validation metric of the current model, typically with
// an Evaluator over the validation split.
type EvalFn func(ctx context.Context) (float64, error)

// DivergedError reports a non-finite loss, validation value or weight. The
// run stopped without saving: Checkpoint is the last good checkpoint ("" if
// none was written).
type DivergedError struct {
	Step         int64 // the step that produced the non-finite value.
	Epoch, Index int
	Loss         float64
	What         string // "loss", "validation" or the variable at fault.
	Checkpoint   string
}

func (e *DivergedError) Error() string {
	where := "no checkpoint was written"
	if e.Checkpoint != "" {
		where = "last good checkpoint: " + e.Checkpoint
	}
	return fmt.Sprintf("training diverged at step %d (epoch %d, batch %d): %s (loss %v); stopped without saving, %s",
		e.Step, e.Epoch, e.Index, e.What, e.Loss, where)
}

// Loop is a resumable training loop; create it with New.
type Loop struct {
	trainer *train.Trainer
	store   *model.Store
	src     Source
	cfg     Config
	eval    EvalFn

	state       State
	initialized bool
	resumedFrom string
	lastCkpt    string
	bestCkpt    string
	savedStep   int64
	lastLR      float64
	bar         *progress
	notes       []string // said once the progress bar is up (damaged checkpoints, a stale lock).
}

// New returns a loop training trainer's model on src.
func New(trainer *train.Trainer, src Source, cfg Config) (*Loop, error) {
	if trainer == nil || src == nil {
		return nil, errors.New("training.New: trainer and source are required")
	}
	if src.BatchesPerEpoch() <= 0 {
		return nil, fmt.Errorf("training.New: source has %d batches per epoch, want > 0", src.BatchesPerEpoch())
	}
	if cfg.Epochs <= 0 && cfg.Steps <= 0 {
		return nil, errors.New("training.New: set Config.Epochs or Config.Steps")
	}
	if cfg.Epochs < 0 || cfg.Steps < 0 || cfg.EvalEvery < 0 || cfg.CheckpointEvery < 0 || cfg.Keep < 0 {
		return nil, fmt.Errorf("training.New: negative count in config %+v", cfg)
	}
	if cfg.Keep == 0 {
		cfg.Keep = 2
	}
	if cfg.Unit == "" {
		cfg.Unit = "examples"
	}
	if cfg.Metric == "" {
		cfg.Metric = "valid"
	}
	return &Loop{trainer: trainer, store: trainer.Store(), src: src, cfg: cfg, lastLR: math.NaN()}, nil
}

// WithEval sets the validation function.
func (l *Loop) WithEval(fn EvalFn) *Loop { l.eval = fn; return l }

// Store is the trained model's store.
func (l *Loop) Store() *model.Store { return l.store }

// Trainer is the wrapped GoMLX trainer.
func (l *Loop) Trainer() *train.Trainer { return l.trainer }

// State returns a copy of the loop state.
func (l *Loop) State() State {
	s := l.state
	s.History.Points = append([]Point(nil), s.History.Points...)
	return s
}

// History returns a copy of the learning curve.
func (l *Loop) History() History { return l.State().History }

// ResumedFrom is the checkpoint the last Run resumed from ("" for a fresh start).
func (l *Loop) ResumedFrom() string { return l.resumedFrom }

// LastCheckpoint is the path of the last checkpoint written or loaded.
func (l *Loop) LastCheckpoint() string { return l.lastCkpt }

// BestCheckpoint is the path of the best-validation checkpoint written by this loop.
func (l *Loop) BestCheckpoint() string { return l.bestCkpt }

// TotalSteps is the number of steps of the whole run.
func (l *Loop) TotalSteps() int64 {
	total := int64(math.MaxInt64)
	if l.cfg.Epochs > 0 {
		total = int64(l.cfg.Epochs) * int64(l.src.BatchesPerEpoch())
	}
	if l.cfg.Steps > 0 {
		total = min(total, l.cfg.Steps)
	}
	return total
}

func (l *Loop) init() error {
	if l.initialized {
		return nil
	}
	l.state = State{History: History{Metric: l.cfg.Metric, Unit: l.cfg.Unit}}
	if l.cfg.Dir != "" {
		if err := cleanTemp(l.cfg.Dir); err != nil {
			return err
		}
		path, notes, err := resumePoint(l.cfg.Dir)
		if err != nil {
			return err
		}
		l.notes = append(l.notes, notes...)
		if path != "" && strings.HasPrefix(filepath.Base(path), BestPrefix) {
			if path, err = regularFromBest(l.cfg.Dir, path); err != nil {
				return err
			}
		}
		if path != "" {
			// A kill between a write and its pruning leaves one checkpoint too many.
			if err := prune(l.cfg.Dir, CkptPrefix, l.cfg.Keep); err != nil {
				return err
			}
			if err := prune(l.cfg.Dir, BestPrefix, 1); err != nil {
				return err
			}
			st, err := LoadCheckpoint(l.store, path)
			if err != nil {
				return err
			}
			if l.cfg.Schedule != nil {
				if err := l.cfg.Schedule.UnmarshalState(st.Schedule); err != nil {
					return fmt.Errorf("training: schedule state in %s: %w", path, err)
				}
			}
			l.state = *st
			l.resumedFrom, l.lastCkpt, l.savedStep = path, path, st.Step
			if best, _, ok, err := BestCheckpoint(l.cfg.Dir); err == nil && ok && VerifyCheckpoint(best) == nil {
				l.bestCkpt = best
			}
			l.initialized = true
			return nil
		}
	}
	if err := l.store.SetRNGStateFromSeed(l.cfg.Seed); err != nil {
		return fmt.Errorf("training: seeding the RNG: %w", err)
	}
	l.initialized = true
	return nil
}

// Run trains until the configured number of steps or epochs, resuming from
// the newest intact checkpoint in Config.Dir if there is one (damaged ones
// are moved aside, with a warning). It holds Config.Dir's lock (LockDir)
// while it runs: a second process on the same directory gets a *LockedError
// naming the first. When ctx is cancelled
// it saves a checkpoint at the current step and returns an error wrapping
// ctx.Err(). A non-finite loss, validation value or weight returns a
// *DivergedError without saving. Calling Run again continues the same run.
func (l *Loop) Run(ctx context.Context) (err error) {
	if l.cfg.Dir != "" {
		lock, err := LockDir(l.cfg.Dir)
		if err != nil {
			return err
		}
		defer lock.Unlock()
		if lock.Stale.PID != 0 {
			l.notes = append(l.notes, fmt.Sprintf("the previous run in %s (%s) ended without releasing its lock (killed?): taken over", l.cfg.Dir, lock.Stale))
		}
	}
	if err := l.init(); err != nil {
		return err
	}
	l.bar = newProgress(l.cfg.Progress, l.cfg.ProgressEvery)
	defer l.bar.done()
	for _, note := range l.notes {
		l.bar.println(note)
	}
	l.notes = nil
	if l.resumedFrom != "" && l.state.Step < l.TotalSteps() {
		l.bar.println(fmt.Sprintf("resuming from %s (step %d, epoch %d, batch %d)",
			l.resumedFrom, l.state.Step, l.state.Epoch, l.state.Index))
	}
	l.lastLR = math.NaN() // the trainer may have deleted the learning-rate variable.
	total := l.TotalSteps()
	bpe := l.src.BatchesPerEpoch()
	sessionStart, baseSeconds := time.Now(), l.state.Seconds
	var firstStepEnd time.Time
	stepsAtFirst := int64(0)
	ema := math.NaN()
	lastValid := ""

	for l.state.Step < total {
		l.state.Seconds = baseSeconds + time.Since(sessionStart).Seconds()
		if ctxErr := ctx.Err(); ctxErr != nil {
			if l.cfg.Dir != "" && l.state.Step > l.savedStep {
				if err := l.save(false, true); err != nil {
					return err
				}
			}
			return fmt.Errorf("training: stopped at step %d: %w", l.state.Step, ctxErr)
		}
		epoch, index := l.state.Epoch, l.state.Index
		if l.cfg.Schedule != nil {
			lr := l.cfg.Schedule.Rate(epoch)
			if lr != l.lastLR {
				if err := optim.SetLearningRate(l.store, lr); err != nil {
					return err
				}
				l.lastLR = lr
			}
			l.state.LR = lr
		}
		batch, err := l.src.Batch(epoch, index)
		if err != nil {
			return fmt.Errorf("training: batch %d of epoch %d: %w", index, epoch, err)
		}
		metrics, err := l.trainer.TrainStep(batch)
		if err != nil {
			return fmt.Errorf("training: step %d (epoch %d, batch %d): %w", l.state.Step+1, epoch, index, err)
		}
		loss, err := scalarValue(metrics[0])
		for _, m := range metrics {
			_ = m.FinalizeAll()
		}
		if err != nil {
			return fmt.Errorf("training: reading the loss of step %d: %w", l.state.Step+1, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return l.diverged(l.state.Step+1, epoch, index, loss, "the training loss is not finite")
		}
		if l.cfg.Schedule == nil {
			if lr, ok, err := optim.LearningRate(l.store); err == nil && ok {
				l.state.LR = lr
			}
		}

		l.state.Step++
		l.state.Index++
		l.state.Examples += l.cfg.ExamplesPerStep
		l.state.LossSum += loss
		l.state.LossCount++
		epochEnd := false
		if l.state.Index >= bpe {
			l.state.Epoch++
			l.state.Index = 0
			epochEnd = true
		}
		step := l.state.Step
		if firstStepEnd.IsZero() {
			firstStepEnd, stepsAtFirst = time.Now(), step
		}
		if math.IsNaN(ema) {
			ema = loss
		} else {
			ema = 0.95*ema + 0.05*loss
		}
		faultStep(l.store, step)
		if l.cfg.OnStep != nil {
			if err := l.cfg.OnStep(l, StepInfo{Step: step, Epoch: epoch, Index: index, Loss: loss}); err != nil {
				return err
			}
		}
		if l.cfg.CheckWeightsEvery > 0 && step%l.cfg.CheckWeightsEvery == 0 {
			if err := checkFinite(l.store); err != nil {
				return l.diverged(step, epoch, index, loss, err.Error())
			}
		}

		final := step >= total
		doEval := l.eval != nil && ((l.cfg.EvalEvery > 0 && step%l.cfg.EvalEvery == 0) ||
			(l.cfg.EvalAtEpochEnd && epochEnd) || final)
		logPoint := doEval || (l.cfg.LogEvery > 0 && step%l.cfg.LogEvery == 0) || final
		l.state.Seconds = baseSeconds + time.Since(sessionStart).Seconds()
		point := Point{Step: step, Epoch: float64(step) / float64(bpe), Examples: l.state.Examples,
			TrainLoss: l.state.LossSum / float64(max(l.state.LossCount, 1)), LR: l.state.LR, Seconds: l.state.Seconds}
		improved := false
		if doEval {
			v, err := l.eval(ctx)
			if err != nil {
				return fmt.Errorf("training: validation at step %d: %w", step, err)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return l.diverged(step, epoch, index, loss, fmt.Sprintf("the validation %s is %v", l.cfg.Metric, v))
			}
			point.Valid, point.HasValid = v, true
			improved = !l.state.HasBest || (l.cfg.HigherIsBetter && v >= l.state.BestMetric) ||
				(!l.cfg.HigherIsBetter && v <= l.state.BestMetric)
			if improved {
				l.state.BestMetric, l.state.BestStep, l.state.HasBest = v, step, true
			}
			if l.cfg.Schedule != nil {
				l.cfg.Schedule.Validated(v)
			}
			if l.cfg.ResetMomentsAfterEval {
				if _, err := optim.ResetMoments(l.store); err != nil {
					return err
				}
			}
		}
		if logPoint {
			l.state.History.Points = append(l.state.History.Points, point)
			l.state.LossSum, l.state.LossCount = 0, 0
		}
		if l.cfg.Dir != "" {
			regular := doEval || final || (l.cfg.CheckpointEvery > 0 && step%l.cfg.CheckpointEvery == 0)
			if improved || regular {
				if err := l.save(improved, regular); err != nil {
					return err
				}
			}
		}
		if doEval {
			mark := ""
			if improved {
				mark = " (best)"
			}
			lastValid = fmt.Sprintf("%s %.4f", l.cfg.Metric, point.Valid)
			l.bar.println(fmt.Sprintf("step %d (epoch %.2f, %s %s): train loss %.4f, %s %.4f%s",
				step, point.Epoch, humanRate(float64(point.Examples)), l.cfg.Unit, point.TrainLoss,
				l.cfg.Metric, point.Valid, mark))
			if l.cfg.OnEval != nil {
				if err := l.cfg.OnEval(l, point); err != nil {
					return err
				}
			}
		}
		// Progress, when it will be shown: steps, throughput (after the first
		// step, which compiles), loss, ETA.
		if l.bar.due(final) {
			rate := math.NaN()
			eta := time.Duration(-1)
			if el := time.Since(firstStepEnd).Seconds(); step > stepsAtFirst && el > 0 {
				sps := float64(step-stepsAtFirst) / el
				rate = sps * float64(max(l.cfg.ExamplesPerStep, 1))
				if total < math.MaxInt64 {
					eta = time.Duration(float64(total-step) / sps * float64(time.Second))
				}
			}
			unit := l.cfg.Unit
			if l.cfg.ExamplesPerStep <= 0 {
				unit = "steps"
			}
			line := fmt.Sprintf("step %d/%s  epoch %d  %s %s/s  loss %.4f", step, totalString(total),
				l.state.Epoch, humanRate(rate), unit, ema)
			if lastValid != "" {
				line += "  " + lastValid
			}
			if l.state.LR > 0 {
				line += fmt.Sprintf("  lr %.3g", l.state.LR)
			}
			line += "  ETA " + humanDuration(eta)
			l.bar.update(line, final)
		}
	}
	return nil
}

func totalString(total int64) string {
	if total == math.MaxInt64 {
		return "?"
	}
	return fmt.Sprint(total)
}

func (l *Loop) diverged(step int64, epoch, index int, loss float64, what string) error {
	e := &DivergedError{Step: step, Epoch: epoch, Index: index, Loss: loss, What: what, Checkpoint: l.lastCkpt}
	l.bar.println("training: " + e.Error())
	return e
}

func (l *Loop) snapshot() (*State, error) {
	st := l.State()
	if l.cfg.Schedule != nil {
		data, err := l.cfg.Schedule.MarshalState()
		if err != nil {
			return nil, fmt.Errorf("training: saving the schedule state: %w", err)
		}
		st.Schedule = data
	}
	return &st, nil
}

// save checks the weights, takes the state snapshot and writes the
// checkpoints of the current step: first the best one (when best; only the
// last is kept), then the regular one (when regular; Keep are kept).
func (l *Loop) save(best, regular bool) error {
	if err := checkFinite(l.store); err != nil {
		return l.diverged(l.state.Step, l.state.Epoch, l.state.Index, math.NaN(), err.Error())
	}
	st, err := l.snapshot()
	if err != nil {
		return err
	}
	if best {
		path, err := l.write(BestPrefix, 1, st)
		if path != "" {
			l.bestCkpt = path
		}
		if err != nil {
			return err
		}
	}
	if regular {
		path, err := l.write(CkptPrefix, l.cfg.Keep, st)
		if path != "" {
			l.lastCkpt, l.savedStep = path, l.state.Step
		}
		return err
	}
	return nil
}

// write writes st as the checkpoint <prefix><step> and prunes the
// checkpoints of that prefix to the last keep. It returns the checkpoint's
// path once written ("" if writing failed), also when pruning fails.
func (l *Loop) write(prefix string, keep int, st *State) (string, error) {
	path, err := writeCheckpoint(l.store, l.cfg.Dir, fmt.Sprintf("%s%08d", prefix, l.state.Step), st)
	if err != nil {
		return "", err
	}
	return path, prune(l.cfg.Dir, prefix, keep)
}

// scalarValue reads a scalar tensor of any real dtype as float64.
func scalarValue(t *tensors.Tensor) (float64, error) {
	v, err := t.ValueSafe()
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	}
	return 0, fmt.Errorf("want a real scalar, got %s", t.Shape())
}

package training

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// FaultEnv names the test-only fault hook: the process-level fault tests of
// rbt/cmd/rbt set it on the real binary to stop it at chosen points, to make
// a checkpoint write fail, or to poison the weights. Unset (always, outside
// those tests) it costs one map lookup per checkpoint and step. Values,
// comma-separated:
//
//	pause:ckpt:N:PHASE  in the Nth checkpoint write of the process, at PHASE
//	                    (vars: variables written; state: loop.json written;
//	                    manifest: manifest written, not yet renamed; renamed:
//	                    in place, older ones not yet pruned), print
//	                    "rbt-fault: paused ..." to stderr and sleep (the test
//	                    then kills the process)
//	fail:ckpt:N:PHASE   the Nth checkpoint write fails at PHASE with an
//	                    injected I/O error
//	pause:step:N        pause after step N (before its checks and checkpoint)
//	sleep:step:N:MS     after step N, print "rbt-fault: sleeping ..." and
//	                    sleep MS milliseconds (time for the test to signal)
//	nan:step:N          after step N, set the first element of the first
//	                    trainable float variable to NaN
const FaultEnv = "RBT_FAULT"

// Checkpoint-write phases where a fault can be injected, in order.
var faultPhases = []string{"vars", "state", "manifest", "renamed"}

type faultRule struct {
	action, where string // pause|fail|nan, ckpt|step
	n             int64
	phase         string
}

var (
	faultsOnce  sync.Once
	faultRules  []faultRule
	faultWrites int64 // checkpoint writes started in this process.
	faultMu     sync.Mutex
)

func loadFaults() {
	spec := os.Getenv(FaultEnv)
	if spec == "" {
		return
	}
	for _, item := range strings.Split(spec, ",") {
		f := strings.Split(strings.TrimSpace(item), ":")
		if len(f) < 3 {
			panic(fmt.Sprintf("%s: bad rule %q", FaultEnv, item))
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			panic(fmt.Sprintf("%s: bad count in %q", FaultEnv, item))
		}
		r := faultRule{action: f[0], where: f[1], n: n}
		if len(f) > 3 {
			r.phase = f[3]
		}
		faultRules = append(faultRules, r)
	}
}

func faultsActive() bool {
	faultsOnce.Do(loadFaults)
	return len(faultRules) > 0
}

// faultCheckpointStart counts a checkpoint write; it returns its number.
func faultCheckpointStart() int64 {
	if !faultsActive() {
		return 0
	}
	faultMu.Lock()
	defer faultMu.Unlock()
	faultWrites++
	return faultWrites
}

// errInjected is the error of a fail:ckpt rule.
var errInjected = errors.New("injected I/O error (" + FaultEnv + ")")

// faultCheckpoint runs the rules of write number n at phase (path: the
// directory being written).
func faultCheckpoint(n int64, phase, path string) error {
	if n == 0 {
		return nil
	}
	for _, r := range faultRules {
		if r.where != "ckpt" || r.n != n || r.phase != phase {
			continue
		}
		switch r.action {
		case "pause":
			pauseForever(fmt.Sprintf("in checkpoint write %d at %s (%s)", n, phase, path))
		case "fail":
			return errInjected
		}
	}
	return nil
}

// faultStep runs the rules of step (steps done).
func faultStep(store *model.Store, step int64) {
	if !faultsActive() {
		return
	}
	for _, r := range faultRules {
		if r.where != "step" || r.n != step {
			continue
		}
		switch r.action {
		case "pause":
			pauseForever(fmt.Sprintf("after step %d", step))
		case "nan":
			poison(store)
		case "sleep":
			ms, _ := strconv.Atoi(r.phase)
			fmt.Fprintf(os.Stderr, "rbt-fault: sleeping %d ms after step %d\n", ms, step)
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
	}
}

func pauseForever(where string) {
	fmt.Fprintf(os.Stderr, "rbt-fault: paused %s\n", where)
	for {
		time.Sleep(time.Hour)
	}
}

// poison sets the first element of the first trainable float32 variable to NaN.
func poison(store *model.Store) {
	for v := range store.IterVariables() {
		if !v.Trainable || !v.HasValue() || isMetricVar(v.Path()) {
			continue
		}
		t, err := v.Value()
		if err != nil {
			continue
		}
		if t.DType() != dtypes.Float32 {
			continue
		}
		flat, err := tensors.CopyFlatData[float32](t)
		if err != nil || len(flat) == 0 {
			continue
		}
		flat[0] = float32(math.NaN())
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(flat, t.Shape().Dimensions...)); err != nil {
			panic(err)
		}
		fmt.Fprintf(os.Stderr, "rbt-fault: set %s[0] to NaN\n", v.Path())
		return
	}
}

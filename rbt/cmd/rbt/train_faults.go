package main

import (
	"fmt"
	"strings"

	"github.com/rbt-project/rbt/rbt/experiments"
	"github.com/rbt-project/rbt/rbt/training"
)

// lockRunDir takes the lock of a training run directory (training.LockDir),
// saying so when it takes over the lock of a run that was killed.
func lockRunDir(dir string) (*training.DirLock, error) {
	lock, err := training.LockDir(dir)
	if err != nil {
		return nil, err
	}
	if lock.Stale.PID != 0 {
		fmt.Printf("NOTE: the previous run in %s (%s) ended without releasing its lock (killed?): taken over; resuming from its checkpoints\n", dir, lock.Stale)
	}
	return lock, nil
}

// charLMDivergences returns a divergedError (exit status 3) naming every model
// of res that diverged, with the step and the quantity at fault, or nil.
func charLMDivergences(res *experiments.CharLMResult) error {
	var lines []string
	for _, run := range res.Runs {
		if run.Diverged != "" {
			lines = append(lines, fmt.Sprintf("%s: %s; scored at step %d", run.Model.Name, run.Diverged, run.BestStep))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return divergedError{fmt.Sprintf("%d model(s) diverged (results written):\n  %s", len(lines), strings.Join(lines, "\n  "))}
}

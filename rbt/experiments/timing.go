package experiments

import (
	"time"

	"github.com/rbt-project/rbt/rbt/budget"
)

// stepTiming splits measured training-step durations into the first step
// (which builds and compiles the graph) and the mean of the others (the
// steady state), so that neither hides the other.
func stepTiming(steps []time.Duration) (first, mean time.Duration) {
	if len(steps) == 0 {
		return 0, 0
	}
	first = steps[0]
	if len(steps) > 1 {
		var sum time.Duration
		for _, d := range steps[1:] {
			sum += d
		}
		mean = sum / time.Duration(len(steps)-1)
	}
	return first, mean
}

// progressEvery is how often a training progress bar prints a line at a
// budget: once an hour at smoke (CI logs need the validation lines only),
// every 10 s at quick, every 30 s at the long budgets.
func progressEvery(b budget.Budget) time.Duration {
	switch b {
	case budget.Smoke:
		return time.Hour
	case budget.Quick:
		return 10 * time.Second
	}
	return 30 * time.Second
}

package experiments

import "time"

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

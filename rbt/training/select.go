package training

import (
	"context"
	"errors"
)

// RunUntilDiverged runs the loop like Run, but a divergence (NaN/Inf) is a
// result rather than a failure: it is returned as the first value, with a nil
// error. Experiments use it to score a diverged model at its last good
// checkpoint — the no-normalization ablations are expected to diverge.
func (l *Loop) RunUntilDiverged(ctx context.Context) (*DivergedError, error) {
	err := l.Run(ctx)
	var div *DivergedError
	if errors.As(err, &div) {
		return div, nil
	}
	return nil, err
}

// SelectCheckpoint returns the checkpoint to evaluate in dir: the best one
// (by the validation metric) if any, else the latest; ok is false when dir
// has neither.
func SelectCheckpoint(dir string) (path string, step int64, ok bool, err error) {
	if path, step, ok, err = BestCheckpoint(dir); err != nil || ok {
		return path, step, ok, err
	}
	return LatestCheckpoint(dir)
}

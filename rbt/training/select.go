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

// SelectCheckpoint returns the checkpoint to evaluate in dir: the newest
// intact best one (by the validation metric) if any, else the newest intact
// regular one; ok is false when dir has neither. Damaged checkpoints (see
// VerifyCheckpoint) are skipped; when every checkpoint is damaged the error
// says which and why.
func SelectCheckpoint(dir string) (path string, step int64, ok bool, err error) {
	var firstDamage error
	for _, prefix := range []string{BestPrefix, CkptPrefix} {
		paths, steps, err := listCheckpoints(dir, prefix)
		if err != nil {
			return "", 0, false, err
		}
		for i := len(paths) - 1; i >= 0; i-- {
			err := VerifyCheckpoint(paths[i])
			var d *DamagedError
			if errors.As(err, &d) {
				if firstDamage == nil {
					firstDamage = err
				}
				continue
			}
			if err != nil {
				return "", 0, false, err
			}
			return paths[i], steps[i], true, nil
		}
	}
	return "", 0, false, firstDamage
}

package training

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DamagedPrefix names a checkpoint found damaged at resume and moved aside
// (kept for inspection, ignored by the loop): damaged-ckpt-00001200.
const DamagedPrefix = "damaged-"

// resumePoint returns the newest intact checkpoint of dir ("" if dir has
// none), regular or best, by step. Damaged checkpoints newer than it, and a
// damaged best checkpoint, are moved aside (DamagedPrefix) with a note each,
// so that the loop never picks them up. When every checkpoint is damaged
// nothing is moved and the error says what to do.
func resumePoint(dir string) (path string, notes []string, err error) {
	type cand struct {
		path string
		step int64
		best bool
	}
	var cands []cand
	for _, prefix := range []string{CkptPrefix, BestPrefix} {
		paths, steps, err := listCheckpoints(dir, prefix)
		if err != nil {
			return "", nil, err
		}
		for i := range paths {
			cands = append(cands, cand{paths[i], steps[i], prefix == BestPrefix})
		}
	}
	// Newest first; at the same step the regular checkpoint first.
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].step != cands[j].step {
			return cands[i].step > cands[j].step
		}
		return !cands[i].best && cands[j].best
	})
	var damaged []*DamagedError
	checked := map[string]bool{}
	for _, c := range cands {
		checked[c.path] = true
		err := VerifyCheckpoint(c.path)
		var d *DamagedError
		if errors.As(err, &d) {
			damaged = append(damaged, d)
			continue
		}
		if err != nil {
			return "", nil, err
		}
		path = c.path
		break
	}
	// The best checkpoint is evaluated at the end: check it too.
	if best, _, ok, err := BestCheckpoint(dir); err == nil && ok && !checked[best] {
		var d *DamagedError
		if err := VerifyCheckpoint(best); errors.As(err, &d) {
			damaged = append(damaged, d)
		}
	}
	if path == "" && len(damaged) > 0 {
		reasons := make([]string, len(damaged))
		for i, d := range damaged {
			reasons[i] = d.Error()
		}
		return "", nil, fmt.Errorf("training: no intact checkpoint to resume from in %s:\n  %s\nmove the damaged checkpoints away (or use a new directory) to start afresh",
			dir, strings.Join(reasons, "\n  "))
	}
	for _, d := range damaged {
		aside := filepath.Join(dir, DamagedPrefix+filepath.Base(d.Path))
		_ = os.RemoveAll(aside)
		if err := os.Rename(d.Path, aside); err != nil {
			return "", nil, fmt.Errorf("training: moving damaged checkpoint %s aside: %w", d.Path, err)
		}
		notes = append(notes, fmt.Sprintf("WARNING: %v; moved to %s", d, aside))
	}
	if path != "" && len(damaged) > 0 {
		notes = append(notes, fmt.Sprintf("falling back to the newest intact checkpoint, %s", path))
	}
	return path, notes, nil
}

// regularFromBest makes the regular checkpoint of a best one's step, when a
// resume starts from best-N and ckpt-N is absent (a kill between the two
// writes of a validation step, which writes the best one first): both hold
// the same state, and the uninterrupted run has both. It returns the new
// checkpoint's path.
func regularFromBest(dir, best string) (string, error) {
	step := strings.TrimPrefix(filepath.Base(best), BestPrefix)
	final := filepath.Join(dir, CkptPrefix+step)
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("training: writing checkpoint %s from %s: %w", final, best, err)
	}
	tmp, err := os.MkdirTemp(dir, tmpPrefix+CkptPrefix+step+"-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; removes a failed copy
	entries, err := os.ReadDir(best)
	if err != nil {
		return fail(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(best, e.Name()))
		if err != nil {
			return fail(err)
		}
		if err := writeFileSync(filepath.Join(tmp, e.Name()), data); err != nil {
			return fail(err)
		}
	}
	if err := VerifyCheckpoint(tmp); err != nil {
		return fail(err)
	}
	if err := syncDir(tmp, true); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fail(err)
	}
	return final, syncDir(dir, false)
}

package training

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train/metric"
)

// Checkpoint layout. Each checkpoint is a directory, complete or absent:
//
//	<dir>/ckpt-00001200/   the loop's checkpoint after step 1200 (the last Keep are kept)
//	<dir>/best-00001000/   the weights with the best validation metric so far (only the latest)
//	<dir>/.tmp-*/          a checkpoint being written (removed at the next start)
//	<dir>/damaged-*/       a checkpoint that failed its manifest at a resume, moved aside
//	<dir>/.rbt.lock        held by the process training in dir (LockDir)
//
// Inside, the store's variables are a GoMLX checkpoint (checkpoint-*.json and
// .bin, uncompressed), loadable with checkpoint.Load(store).Dir(path), and
// StateFile holds the loop's own state as JSON, and ManifestFile, written
// last, the SHA-256 of every other file (checked by LoadCheckpoint).
//
// GoMLX's checkpoint.Handler.Save writes its .bin and .json files in place
// (a crash while saving leaves a truncated checkpoint that the next load
// picks up), so the loop writes each checkpoint into a temporary directory,
// syncs it, and renames it into place: a checkpoint directory exists only
// once it is complete.
const (
	CkptPrefix = "ckpt-"
	BestPrefix = "best-"
	StateFile  = "loop.json"
	tmpPrefix  = ".tmp-"
)

// State is the loop's own state, saved with every checkpoint.
type State struct {
	Version  int     `json:"version"`
	Step     int64   `json:"step"`  // steps done.
	Epoch    int     `json:"epoch"` // position of the next batch.
	Index    int     `json:"index"`
	Examples int64   `json:"examples"`
	LR       float64 `json:"lr"`
	// Schedule is the schedule's MarshalState.
	Schedule   json.RawMessage `json:"schedule,omitempty"`
	BestMetric float64         `json:"best_metric"`
	BestStep   int64           `json:"best_step"`
	HasBest    bool            `json:"has_best"`
	History    History         `json:"history"`
	// Accumulated training loss since the last history point.
	LossSum   float64 `json:"loss_sum"`
	LossCount int64   `json:"loss_count"`
	Seconds   float64 `json:"seconds"`
	// Variables lists the store's variables in creation order, with their
	// trainable flag: loading recreates them in this order (so a resumed
	// run iterates variables, and sums over them, exactly as the original)
	// and restores the flags (GoMLX creates loaded variables as trainable).
	Variables []VarInfo `json:"variables"`
}

// VarInfo names a saved variable.
type VarInfo struct {
	Path      string `json:"path"`
	Trainable bool   `json:"trainable"`
}

const stateVersion = 1

// LatestCheckpoint returns the most recent loop checkpoint in dir.
func LatestCheckpoint(dir string) (path string, step int64, ok bool, err error) {
	return latest(dir, CkptPrefix)
}

// BestCheckpoint returns the best-validation checkpoint in dir.
func BestCheckpoint(dir string) (path string, step int64, ok bool, err error) {
	return latest(dir, BestPrefix)
}

func listCheckpoints(dir, prefix string) (paths []string, steps []int64, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("training: listing checkpoints in %s: %w", dir, err)
	}
	type item struct {
		path string
		step int64
	}
	var items []item
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, prefix) {
			continue
		}
		s, err := strconv.ParseInt(strings.TrimPrefix(name, prefix), 10, 64)
		if err != nil {
			continue
		}
		items = append(items, item{filepath.Join(dir, name), s})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].step < items[j].step })
	for _, it := range items {
		paths = append(paths, it.path)
		steps = append(steps, it.step)
	}
	return paths, steps, nil
}

func latest(dir, prefix string) (string, int64, bool, error) {
	paths, steps, err := listCheckpoints(dir, prefix)
	if err != nil || len(paths) == 0 {
		return "", 0, false, err
	}
	return paths[len(paths)-1], steps[len(steps)-1], true, nil
}

// ReadState reads the loop state of a checkpoint directory.
func ReadState(path string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(path, StateFile))
	if err != nil {
		return nil, fmt.Errorf("training: reading checkpoint state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("training: checkpoint state %s is not valid JSON: %w", filepath.Join(path, StateFile), err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("training: checkpoint state %s has version %d, want %d", filepath.Join(path, StateFile), s.Version, stateVersion)
	}
	return &s, nil
}

// LoadCheckpoint loads the variables of a checkpoint directory (written by
// the loop: "ckpt-*" or "best-*") into store, overwriting existing variables
// and creating missing ones (in their saved order), restores which variables
// are trainable, and
// returns the loop state saved with it. A checkpoint whose files do not match
// its manifest is refused with a *DamagedError. The store's hyperparameters are left
// as they are. Use it to evaluate the best model:
//
//	path, _, ok, err := training.BestCheckpoint(dir)
//	state, err := training.LoadCheckpoint(store, path)
func LoadCheckpoint(store *model.Store, path string) (*State, error) {
	if err := VerifyCheckpoint(path); err != nil {
		return nil, err
	}
	st, err := ReadState(path)
	if err != nil {
		return nil, err
	}
	prev := store.Loader()
	h, err := checkpoint.Load(store).Dir(path).ExcludeAllParams().Done()
	if err != nil {
		store.SetLoader(prev)
		return nil, fmt.Errorf("training: loading checkpoint %s: %w", path, err)
	}
	// Variables already in the store were overwritten by Done; create the
	// others in their saved order.
	var missing []string
	for _, vi := range st.Variables {
		v := store.GetVariable(vi.Path)
		if v == nil {
			missing = append(missing, vi.Path)
			continue
		}
		v.SetTrainable(vi.Trainable)
	}
	left := len(h.LoadedVariables())
	store.SetLoader(prev)
	if len(missing) > 0 {
		return nil, fmt.Errorf("training: checkpoint %s lacks variables %v listed in its %s", path, missing, StateFile)
	}
	if left > 0 {
		return nil, fmt.Errorf("training: checkpoint %s has %d variables not listed in its %s", path, left, StateFile)
	}
	return st, nil
}

// checkFinite returns an error naming the first float variable of store
// holding a NaN or an infinity.
func checkFinite(store *model.Store) error {
	for v := range store.IterVariables() {
		if !v.DType().IsFloat() || !v.HasValue() {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return err
		}
		if bad, where := nonFinite(t); bad {
			return fmt.Errorf("variable %s has a non-finite value %s", v.Path(), where)
		}
	}
	return nil
}

func nonFinite(t *tensors.Tensor) (bool, string) {
	bad, where := false, ""
	_ = t.ConstFlatData(func(flat any) {
		switch x := flat.(type) {
		case []float32:
			for i, f := range x {
				if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
					bad, where = true, fmt.Sprintf("%v at flat index %d", f, i)
					return
				}
			}
		case []float64:
			for i, f := range x {
				if math.IsNaN(f) || math.IsInf(f, 0) {
					bad, where = true, fmt.Sprintf("%v at flat index %d", f, i)
					return
				}
			}
		}
	})
	return bad, where
}

// writeCheckpoint writes store and state atomically into dir/name (replacing
// an existing directory of that name) and returns its path. The files go into
// a temporary directory, the manifest (ManifestFile) last; everything is
// synced, then the directory is renamed into place. Errors name the
// checkpoint and the file being written; the checkpoints already in dir are
// left as they were.
func writeCheckpoint(store *model.Store, dir, name string, state *State) (string, error) {
	final := filepath.Join(dir, name)
	fail := func(what string, err error) (string, error) {
		return "", fmt.Errorf("training: writing checkpoint %s: %s: %w", final, what, err)
	}
	fault := faultCheckpointStart()
	state.Version = stateVersion
	state.Variables = state.Variables[:0]
	var excluded []*model.Variable
	for v := range store.IterVariables() {
		if isMetricVar(v.Path()) {
			excluded = append(excluded, v)
			continue
		}
		state.Variables = append(state.Variables, VarInfo{v.Path(), v.Trainable})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("creating the checkpoint directory", err)
	}
	tmp, err := os.MkdirTemp(dir, tmpPrefix+name+"-")
	if err != nil {
		return fail("creating a temporary directory in "+dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(tmp)
		}
	}()
	prev := store.Loader()
	h, err := checkpoint.Build(store).Dir(tmp).Keep(-1).WithCompression(checkpoint.BinUncompressed).
		ExcludeVars(excluded...).Done()
	store.SetLoader(prev)
	if err != nil {
		return fail("preparing "+tmp, err)
	}
	if err := h.Save(); err != nil {
		return fail("saving the variables into "+tmp, err)
	}
	if err := checkSaved(tmp, len(state.Variables)); err != nil {
		return fail("saving the variables", err)
	}
	if err := faultCheckpoint(fault, "vars", tmp); err != nil {
		return fail("saving the variables into "+tmp, err)
	}
	data, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return fail("encoding the loop state", err)
	}
	statePath := filepath.Join(tmp, StateFile)
	if err := writeFileSync(statePath, data); err != nil {
		return fail("writing "+statePath, err)
	}
	if err := faultCheckpoint(fault, "state", tmp); err != nil {
		return fail("writing "+statePath, err)
	}
	if err := writeManifest(tmp); err != nil {
		return fail("checksums", err)
	}
	if err := faultCheckpoint(fault, "manifest", tmp); err != nil {
		return fail("writing "+filepath.Join(tmp, ManifestFile), err)
	}
	if err := syncDir(tmp, true); err != nil {
		return fail("syncing", err)
	}
	if _, err := os.Stat(final); err == nil {
		// Same step written again (a replay after a crash): swap it out.
		old := filepath.Join(dir, tmpPrefix+"old-"+name)
		_ = os.RemoveAll(old)
		if err := os.Rename(final, old); err != nil {
			return fail("moving the previous "+name+" aside", err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fail("renaming "+tmp+" into place", err)
	}
	ok = true
	if err := syncDir(dir, false); err != nil {
		return "", err
	}
	if err := faultCheckpoint(fault, "renamed", final); err != nil {
		return final, fmt.Errorf("training: after writing checkpoint %s: %w", final, err)
	}
	return final, nil
}

// isMetricVar tells the state of train.Trainer's metrics (a moving average of
// the loss, under a scope named with a per-trainer UUID): display only, and
// useless to a new trainer, so not saved.
func isMetricVar(path string) bool {
	return strings.HasPrefix(path, "/"+metric.Scope+"/")
}

// syncDir fsyncs the directory (and, with files, every regular file in it).
func syncDir(dir string, files bool) error {
	if files {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("training: syncing %s: %w", dir, err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			if err := syncPath(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return syncPath(dir)
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("training: syncing %s: %w", p, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("training: syncing %s: %w", p, err)
	}
	return nil
}

// prune removes all but the last keep checkpoints with the prefix.
func prune(dir, prefix string, keep int) error {
	paths, _, err := listCheckpoints(dir, prefix)
	if err != nil {
		return err
	}
	for len(paths) > keep {
		if err := os.RemoveAll(paths[0]); err != nil {
			return fmt.Errorf("training: removing old checkpoint: %w", err)
		}
		paths = paths[1:]
	}
	return nil
}

// cleanTemp removes leftovers of interrupted saves.
func cleanTemp(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("training: reading %s: %w", dir, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("training: removing %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

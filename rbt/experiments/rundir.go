package experiments

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// checkRunSettings guards a run directory: the first run writes want to
// dir/file (atomically); a later run resumes there only with the same
// settings, and otherwise gets an error asking for another directory, so that
// checkpoints of different settings never mix.
func checkRunSettings[T comparable](dir, file string, want T) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p := filepath.Join(dir, file)
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		out, _ := json.MarshalIndent(want, "", "  ")
		if err := os.WriteFile(p+".tmp", out, 0o644); err != nil {
			return err
		}
		return os.Rename(p+".tmp", p)
	}
	if err != nil {
		return err
	}
	var got T
	if err := json.Unmarshal(data, &got); err != nil {
		return fmt.Errorf("experiments: %s: %w", p, err)
	}
	if got != want {
		return fmt.Errorf("experiments: %s was written by other settings (%+v); this run has %+v: use another directory", p, got, want)
	}
	return nil
}

// runDir returns dir, or a fresh temporary directory (named after pattern)
// and the function that removes it when dir is empty.
func runDir(dir, pattern string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// runDirName is the checkpoint subdirectory of a model: its name in lower
// case, other characters as dashes, "-permuted" for the permuted variant.
func runDirName(name string, permuted bool) string {
	s := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(name))
	if permuted {
		s += "-perm"
	}
	return s
}

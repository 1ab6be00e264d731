package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvVar names the environment variable that points at a data directory laid
// out like ../shared/data (one folder per dataset).
const EnvVar = "RBT_DATA"

// Roots returns the data directories searched, in order:
//
//  1. $RBT_DATA, when set (and then only it: an explicit choice is never
//     mixed with other copies);
//  2. ../shared/data beside the repository root (the directory holding go.mod,
//     found by walking up from the working directory), when it exists;
//  3. the user cache directory, os.UserCacheDir()/rbt/data, where Fetch puts
//     downloads (listed even if it does not exist yet).
func Roots() ([]string, error) {
	if d, ok := os.LookupEnv(EnvVar); ok && d != "" {
		st, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("datasets: %s=%q: %w", EnvVar, d, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("datasets: %s=%q is not a directory", EnvVar, d)
		}
		return []string{d}, nil
	}
	var roots []string
	if s, ok := sharedDir(); ok {
		roots = append(roots, s)
	}
	c, err := CacheDir()
	if err != nil {
		if len(roots) > 0 {
			return roots, nil
		}
		return nil, err
	}
	return append(roots, c), nil
}

// Root returns the first of Roots: where data is read from (and, for the
// cache directory, where Fetch writes it).
func Root() (string, error) {
	r, err := Roots()
	if err != nil {
		return "", err
	}
	return r[0], nil
}

// CacheDir is os.UserCacheDir()/rbt/data, the default download directory.
func CacheDir() (string, error) {
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("datasets: no user cache directory (set %s): %w", EnvVar, err)
	}
	return filepath.Join(c, "rbt", "data"), nil
}

// RepoRoot walks up from the working directory to the directory holding go.mod.
func RepoRoot() (string, bool) {
	d, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if st, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !st.IsDir() {
			return d, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

func sharedDir() (string, bool) {
	r, ok := RepoRoot()
	if !ok {
		return "", false
	}
	s := filepath.Join(filepath.Dir(r), "shared", "data")
	if st, err := os.Stat(s); err == nil && st.IsDir() {
		return s, true
	}
	return "", false
}

// MissingError reports a dataset file found in none of the data roots. It
// matches fs.ErrNotExist with errors.Is.
type MissingError struct {
	Dataset, File string
	Searched      []string // the paths tried
	Help          string   // how to get the file (command or URL)
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("datasets: %s/%s not found (looked in %s); %s",
		e.Dataset, e.File, strings.Join(e.Searched, ", "), e.Help)
}

// Unwrap makes errors.Is(err, fs.ErrNotExist) true.
func (e *MissingError) Unwrap() error { return fs.ErrNotExist }

// Path returns the path of dataset/file (file may be a directory, e.g.
// "questions" of cnn-qa) in the first root of Roots that has it. If none has
// it, the error is a *MissingError naming the file and how to fetch it.
func Path(dataset, file string) (string, error) {
	roots, err := Roots()
	if err != nil {
		return "", err
	}
	return pathIn(roots, dataset, file)
}

// fromRoot finds dataset/file with Path and loads the directory that holds
// it with from (a Load...From function).
func fromRoot[T any](dataset, file string, from func(dir string) (T, error)) (T, error) {
	p, err := Path(dataset, file)
	if err != nil {
		var zero T
		return zero, err
	}
	return from(filepath.Dir(p))
}

func pathIn(roots []string, dataset, file string) (string, error) {
	var tried []string
	for _, r := range roots {
		p := filepath.Join(r, dataset, file)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("datasets: %w", err)
		}
		tried = append(tried, p)
	}
	return "", &MissingError{Dataset: dataset, File: file, Searched: tried, Help: fetchHelp(dataset, file)}
}

// fileIn returns dir/file or a *MissingError naming it and how to get it.
func fileIn(dir, dataset, file string) (string, error) {
	p := filepath.Join(dir, file)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", &MissingError{Dataset: dataset, File: file, Searched: []string{p}, Help: fetchHelp(dataset, file)}
		}
		return "", fmt.Errorf("datasets: %w", err)
	}
	return p, nil
}

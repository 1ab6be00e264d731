package main

import (
	"errors"
	"flag"
	"fmt"
	"sort"
)

// Exit statuses of rbt. Bad input (an unknown name, a bad flag value, a file
// that is not what it should be, missing data) is 2 and is found before
// anything is written; a failure of the work itself is 1 (an I/O error, an
// interrupt: the run is resumable); a training run that finished and wrote
// its results but had a model diverge is 3.
const (
	exitFailed   = 1
	exitBadInput = 2
	exitDiverged = 3
)

// workError marks an error of the work itself (exit 1), as opposed to the
// bad input every other error of a command is taken to be (exit 2).
type workError struct{ err error }

func (e workError) Error() string { return e.err.Error() }
func (e workError) Unwrap() error { return e.err }

// failed marks err (if not nil) as a failure of the work: exit status 1.
func failed(err error) error {
	if err == nil {
		return nil
	}
	return workError{err}
}

// divergedError says a finished run had models diverge: exit status 3.
type divergedError struct{ msg string }

func (e divergedError) Error() string { return e.msg }

// exitCode is the exit status for a command's error.
func exitCode(err error) int {
	var we workError
	var de divergedError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &de):
		return exitDiverged
	case errors.As(err, &we):
		return exitFailed
	}
	return exitBadInput
}

// checkCounts returns an error naming the first flag (in name order) whose
// value is below least.
func checkCounts(flags map[string]int64, least int64) error {
	names := make([]string, 0, len(flags))
	for name := range flags {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if v := flags[name]; v < least {
			return fmt.Errorf("%s %d: want a whole number >= %d", name, v, least)
		}
	}
	return nil
}

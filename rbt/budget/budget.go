// Package budget reads the compute budget of an experiment from the
// environment variable RBT_BUDGET.
//
// Every experiment of rbt has four budgets:
//
//   - smoke: seconds; proves the code path end to end (CI).
//   - quick: minutes per notebook on a 2-core CPU (at most about 15); the
//     committed notebook outputs.
//   - cpu: the most a 2-core CPU does in about an hour per notebook: the
//     paper's model sizes where they fit (PTB word 1x300, sequential MNIST
//     1x100), smaller where not (PTB characters 1x256), trained over whole
//     epochs with the paper's optimizer and schedule, scored on the whole
//     test splits. Each experiment documents its settings and the time they
//     took on this project's 2-core machine; notebooks/RESULTS.md holds the
//     latest results.
//   - paper: the exact settings of the paper's released run scripts
//     (METHOD.md); hours to days, meant for a GPU (GOMLX_BACKEND=xla:cuda).
package budget

import (
	"fmt"
	"os"
	"strings"
)

// Budget names one of the four compute budgets.
type Budget string

const (
	Smoke Budget = "smoke"
	Quick Budget = "quick"
	CPU   Budget = "cpu"
	Paper Budget = "paper"
)

// EnvVar is the environment variable that selects the budget.
const EnvVar = "RBT_BUDGET"

// Default is the budget used when RBT_BUDGET is unset or empty.
const Default = Quick

// Parse checks a budget name (case-insensitive, surrounding spaces ignored).
func Parse(name string) (Budget, error) {
	switch b := Budget(strings.ToLower(strings.TrimSpace(name))); b {
	case Smoke, Quick, CPU, Paper:
		return b, nil
	case "":
		return Default, nil
	}
	return "", fmt.Errorf("%s=%q is not a budget: use smoke (seconds, CI), quick (minutes on a CPU), cpu (about an hour per notebook on a CPU) or paper (the paper's full settings)", EnvVar, name)
}

// FromEnv returns the budget chosen by RBT_BUDGET (Default when unset).
func FromEnv() (Budget, error) { return Parse(os.Getenv(EnvVar)) }

// Must returns FromEnv's budget or panics with its error; for notebooks,
// where a panic stops the cell with the message shown.
func Must() Budget {
	b, err := FromEnv()
	if err != nil {
		panic(err)
	}
	return b
}

// All lists the budgets from the smallest to the largest.
func All() []Budget { return []Budget{Smoke, Quick, CPU, Paper} }

// Pick returns the value for budget b among the four given (quick for an
// unknown b).
func Pick[T any](b Budget, smoke, quick, cpu, paper T) T {
	switch b {
	case Smoke:
		return smoke
	case CPU:
		return cpu
	case Paper:
		return paper
	}
	return quick
}

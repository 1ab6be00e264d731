// Package budget reads the compute budget of an experiment from the
// environment variable RBT_BUDGET.
//
// Every experiment of rbt has three budgets:
//
//   - smoke: seconds; proves the code path end to end (CI).
//   - quick: minutes per model on a 2-core CPU; big enough for the models to
//     separate clearly (the committed notebook outputs).
//   - paper: the exact settings of the paper's released run scripts
//     (METHOD.md); hours to days, meant for a GPU (GOMLX_BACKEND=xla:cuda).
package budget

import (
	"fmt"
	"os"
	"strings"
)

// Budget names one of the three compute budgets.
type Budget string

const (
	Smoke Budget = "smoke"
	Quick Budget = "quick"
	Paper Budget = "paper"
)

// EnvVar is the environment variable that selects the budget.
const EnvVar = "RBT_BUDGET"

// Default is the budget used when RBT_BUDGET is unset or empty.
const Default = Quick

// Parse checks a budget name (case-insensitive, surrounding spaces ignored).
func Parse(name string) (Budget, error) {
	switch b := Budget(strings.ToLower(strings.TrimSpace(name))); b {
	case Smoke, Quick, Paper:
		return b, nil
	case "":
		return Default, nil
	}
	return "", fmt.Errorf("%s=%q is not a budget: use smoke (seconds, CI), quick (minutes on a CPU) or paper (the paper's full settings)", EnvVar, name)
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

// Pick returns the value for budget b among the three given.
func Pick[T any](b Budget, smoke, quick, paper T) T {
	switch b {
	case Smoke:
		return smoke
	case Paper:
		return paper
	}
	return quick
}

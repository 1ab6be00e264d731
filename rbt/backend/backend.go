// Package backend picks the GoMLX compute backend for the whole process.
//
// The pure-Go backend ("go") is always compiled in and is the default. A user
// with a GPU builds with `-tags xla` (which links GoMLX's XLA backend) and sets
// GOMLX_BACKEND=xla:cuda; nothing in rbt depends on which backend runs.
// A backend named in GOMLX_BACKEND that is not compiled in gives a clear error
// instead of GoMLX's panic.
package backend

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // the pure-Go backend, always available.
)

// get creates the backend once: tensors cannot cross backend instances, so a
// process must use a single one.
var get = sync.OnceValues(func() (compute.Backend, error) {
	config, set := os.LookupEnv(compute.ConfigEnvVar)
	if !set || config == "" {
		config = "go"
	}
	name, _, _ := strings.Cut(config, ":")
	available := compute.List()
	if !slices.Contains(available, name) {
		return nil, fmt.Errorf("%s=%q names backend %q, but this binary only has %v: "+
			"build with `-tags xla` for XLA (GPU: GOMLX_BACKEND=xla:cuda), or unset %s for the pure-Go backend",
			compute.ConfigEnvVar, config, name, available, compute.ConfigEnvVar)
	}
	return compute.NewWithConfig(config)
})

// New returns the process-wide backend, creating it on first use.
func New() (compute.Backend, error) { return get() }

// Must returns the process-wide backend or panics with New's error.
func Must() compute.Backend {
	b, err := get()
	if err != nil {
		panic(err)
	}
	return b
}

// Describe says which backend runs, for notebooks and logs, e.g. "go (SIMD: on)".
func Describe() string {
	b, err := get()
	if err != nil {
		return "unavailable: " + err.Error()
	}
	return fmt.Sprintf("%s: %s", b.Name(), b.Description())
}

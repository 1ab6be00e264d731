//go:build !amd64 || purego

package packed

// vectorActivations reports whether activate8 runs a vector kernel: never on
// this build.
var vectorActivations = false

func activate8(x []float32, scale, a, b float32) int { return 0 }

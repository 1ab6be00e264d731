//go:build amd64 && !purego

package packed

import "golang.org/x/sys/cpu"

// vectorActivations reports whether activate8 runs the AVX2 kernel.
var vectorActivations = cpu.X86.HasAVX2

//go:noescape
func activateAVX2(x *float32, n int, scale, a, b float32)

// activate8 applies x = a + b/(1+exp32(scale*x)) to the longest prefix of x
// whose length is a multiple of 8 and returns that length (0 without AVX2).
func activate8(x []float32, scale, a, b float32) int {
	n := len(x) &^ 7
	if !vectorActivations || n == 0 {
		return 0
	}
	activateAVX2(&x[0], n, scale, a, b)
	return n
}

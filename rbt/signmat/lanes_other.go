//go:build !amd64 || purego

package signmat

// Accelerated reports whether the AVX2 kernels run; never on this build.
var Accelerated = false

func lanesFloat32(code []uint32, tables, out []float32, blocks, words int) {
	lanesGo(code, tables, out, blocks, words)
}

func lanesInt32(code []uint32, tables, out []int32, blocks, words int) {
	lanesGo(code, tables, out, blocks, words)
}

//go:build amd64 && !purego

package signmat

import "golang.org/x/sys/cpu"

// Accelerated reports whether the AVX2 kernels run (amd64 with AVX2).
// Setting it to false forces the portable loop, as the tests do; packages
// that choose a layout from it (packed, hwsim) read it when they build.
var Accelerated = cpu.X86.HasAVX2

//go:noescape
func lanesFloat32AVX2(code *uint32, tables *float32, out *float32, blocks, words int)

//go:noescape
func lanesInt32AVX2(code *uint32, tables *int32, out *int32, blocks, words int)

func lanesFloat32(code []uint32, tables, out []float32, blocks, words int) {
	lanesAVX2(code, tables, out, blocks, words, lanesFloat32AVX2)
}

func lanesInt32(code []uint32, tables, out []int32, blocks, words int) {
	lanesAVX2(code, tables, out, blocks, words, lanesInt32AVX2)
}

// lanesAVX2 checks the slices' lengths (the assembly reads and writes
// blocks*words*8 codes, words*80 table entries and blocks*8 outputs) and
// runs kernel, or lanesGo without AVX2.
func lanesAVX2[T number](code []uint32, tables, out []T, blocks, words int, kernel func(*uint32, *T, *T, int, int)) {
	if !Accelerated {
		lanesGo(code, tables, out, blocks, words)
		return
	}
	_, _, _ = code[blocks*words*lanes-1], tables[words*wordTables-1], out[blocks*lanes-1]
	kernel(&code[0], &tables[0], &out[0], blocks, words)
}

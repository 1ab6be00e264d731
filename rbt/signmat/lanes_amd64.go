//go:build amd64 && !purego

package signmat

import "golang.org/x/sys/cpu"

// Accelerated reports whether the AVX2 kernels run (amd64 with AVX2).
var Accelerated = cpu.X86.HasAVX2

//go:noescape
func lanesFloat32AVX2(code *uint32, tables *float32, out *float32, blocks, words int)

//go:noescape
func lanesInt32AVX2(code *uint32, tables *int32, out *int32, blocks, words int)

func lanesFloat32(code []uint32, tables, out []float32, blocks, words int) {
	if !Accelerated {
		lanesGo(code, tables, out, blocks, words)
		return
	}
	_, _, _ = code[blocks*words*lanes-1], tables[words*wordTables-1], out[blocks*lanes-1]
	lanesFloat32AVX2(&code[0], &tables[0], &out[0], blocks, words)
}

func lanesInt32(code []uint32, tables, out []int32, blocks, words int) {
	if !Accelerated {
		lanesGo(code, tables, out, blocks, words)
		return
	}
	_, _, _ = code[blocks*words*lanes-1], tables[words*wordTables-1], out[blocks*lanes-1]
	lanesInt32AVX2(&code[0], &tables[0], &out[0], blocks, words)
}

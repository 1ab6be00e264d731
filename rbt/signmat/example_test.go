package signmat_test

import (
	"fmt"

	"github.com/rbt-project/rbt/rbt/signmat"
)

// A 3 x 2 binary matrix times x = (1, 2, 3): column 0 is (+1, +1, -1), so
// 1 + 2 - 3 = 0; column 1 is (-1, +1, +1), so -1 + 2 + 3 = 4.
func Example() {
	m, err := signmat.New(3, 2, []int8{
		+1, -1,
		+1, +1,
		-1, +1,
	}, false)
	if err != nil {
		panic(err)
	}
	out := make([]float32, m.Cols())
	m.MulFloat32([]float32{1, 2, 3}, out, make([]float32, m.ScratchLen()))
	fmt.Println(out, m.Bytes(), "bytes")
	// Output: [0 4] 32 bytes
}

package packed_test

import (
	"bytes"
	"fmt"

	"github.com/rbt-project/rbt/rbt/packed"
)

// A binary character model: write it, read it back, stream a few characters
// through the packed engine and check it against the float32 reference.
func Example() {
	m, err := packed.RandomModel(packed.RandomSpec{
		Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot,
		Vocab: 27, Hidden: []int{64}, Steps: 10, Seed: 1,
	})
	if err != nil {
		panic(err)
	}
	var file bytes.Buffer
	if err := packed.Encode(&file, m); err != nil {
		panic(err)
	}
	m, err = packed.Decode(&file)
	if err != nil {
		panic(err)
	}
	mem := m.Memory()
	fmt.Printf("%d weights: %d bytes as float32, %d bytes packed in the file\n",
		mem.Weights, mem.Float32Bytes, mem.FileWeightBytes)

	e, _ := packed.NewEngine(m)
	ref, _ := packed.NewReferenceEngine(m)
	tokens, _ := e.Tokenize("hello world")
	a, _ := e.RunTokens(tokens)
	b, _ := ref.RunTokens(tokens)
	worst := float32(0)
	for i := range a {
		worst = max(worst, a[i]-b[i], b[i]-a[i])
	}
	fmt.Println("packed vs float32 reference, largest logit difference < 1e-5:", worst < 1e-5)
	// Output:
	// 23296 weights: 93184 bytes as float32, 2912 bytes packed in the file
	// packed vs float32 reference, largest logit difference < 1e-5: true
}

package datasets_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rbt-project/rbt/datasets"
)

// Example walks through a character-level pipeline on a tiny corpus laid out
// like War and Peace: load, train batches that a resumed run can reproduce,
// and an evaluation pass that scores every character once.
// With the real data, datasets.LoadWarAndPeace() finds the file by itself.
func Example() {
	dir, err := os.MkdirTemp("", "rbt-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	text := strings.Repeat("Well, Prince, so Genoa and Lucca are now just family estates.\r\n", 20)
	os.WriteFile(filepath.Join(dir, "warpeace_input.txt"), []byte("\uFEFF"+text), 0o644)

	corpus, err := datasets.LoadWarAndPeaceFrom(dir)
	if err != nil {
		panic(err)
	}
	fmt.Println("symbols:", corpus.NumSymbols(), "split:", len(corpus.Train), len(corpus.Valid), len(corpus.Test))

	// Training: random non-overlapping windows of T+1 = 11 characters, B = 4.
	train, err := datasets.NewCharWindows(corpus.Train, 10, 4, 42)
	if err != nil {
		panic(err)
	}
	ids := make([]int32, 4*11) // flat [B, T+1]; package batches makes it a tensor
	if err := train.BatchInto(0, 0, ids); err != nil {
		panic(err)
	}
	row := make([]uint8, 11)
	for j := range row {
		row[j] = uint8(ids[j])
	}
	fmt.Println("batches per epoch:", train.BatchesPerEpoch(), "shape:", []int{train.B, train.T + 1})
	fmt.Printf("first row: %q\n", corpus.Decode(row))

	// Evaluation: every character of the split after the first is a target once.
	eval, err := datasets.NewCharEval(corpus.Valid, 10, 4)
	if err != nil {
		panic(err)
	}
	total := 0
	for i := range eval.NumBatches() {
		n, _ := eval.BatchInto(i, make([]int32, 4*11), make([]float32, 4*10))
		total += n
	}
	fmt.Println("eval batches:", eval.NumBatches(), "targets:", total, "of", len(corpus.Valid)-1)
	// Output:
	// symbols: 26 split: 1008 126 126
	// batches per epoch: 22 shape: [4 11]
	// first row: "w just fami"
	// eval batches: 4 targets: 125 of 125
}

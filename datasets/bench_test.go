package datasets

import "testing"

// BenchmarkPTBCharFirstEpoch: load PTB characters from disk and build every
// batch of the first epoch (the paper's T=100, B=64) into one reused buffer
// (package batches adds the tensor copy).
func BenchmarkPTBCharFirstEpoch(b *testing.B) {
	dir := realDir(b, PTBChar, "ptb.char.train.txt")
	for b.Loop() {
		c, err := LoadPTBCharFrom(dir)
		if err != nil {
			b.Fatal(err)
		}
		w, err := NewCharWindows(c.Train, 100, 64, 1)
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]int32, 64*101)
		for i := range w.BatchesPerEpoch() {
			if err := w.BatchInto(0, i, dst); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCharWindowsBatch: one [64, 101] batch from a loaded corpus.
func BenchmarkCharWindowsBatch(b *testing.B) {
	data := seqData(5_000_000, 50)
	w, _ := NewCharWindows(data, 100, 64, 1)
	w.Starts(0, 0)
	dst := make([]int32, 64*101)
	i := 0
	for b.Loop() {
		w.BatchInto(0, i%w.BatchesPerEpoch(), dst)
		i++
	}
}

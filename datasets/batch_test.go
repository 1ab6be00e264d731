package datasets

import (
	"slices"
	"sync"
	"testing"
)

func seqData(n, mod int) []uint8 {
	d := make([]uint8, n)
	for i := range d {
		d[i] = uint8((i * 7919) % mod)
	}
	return d
}

func TestPermutationAndRNG(t *testing.T) {
	p := Permutation(784, 1)
	sorted := slices.Clone(p)
	slices.Sort(sorted)
	for i, v := range sorted {
		if v != i {
			t.Fatal("not a permutation")
		}
	}
	if !slices.Equal(p, Permutation(784, 1)) || slices.Equal(p, Permutation(784, 2)) {
		t.Fatal("permutation not a function of the seed")
	}
	// Pinned stream: a change here changes every batch of every experiment
	// and breaks resumption of runs started before it.
	if got := Permutation(10, 42); !slices.Equal(got, []int{0, 7, 8, 3, 5, 6, 1, 2, 4, 9}) {
		t.Errorf("Permutation(10, 42) = %#v (the stream changed)", got)
	}
	// SplitMix64 reference outputs for state 0 (Vigna's splitmix64.c).
	sm := &splitMix64{}
	for _, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := sm.next(); got != want {
			t.Fatalf("splitmix64 = %#x, want %#x", got, want)
		}
	}
	// intn is unbiased: chi-square of 60,000 draws over 6 bins.
	r := newStream(7)
	var counts [6]float64
	for range 60000 {
		counts[r.intn(6)]++
	}
	chi := 0.0
	for _, c := range counts {
		chi += (c - 10000) * (c - 10000) / 10000
	}
	if chi > 20.5 { // p = 0.001 for 5 degrees of freedom
		t.Errorf("chi-square %.1f, counts %v", chi, counts)
	}
}

func TestCharWindows(t *testing.T) {
	data := seqData(1000, 50)
	const T, B = 9, 4 // windows of 10
	w, err := NewCharWindows(data, T, B, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n := (1000 - T) / (T + 1); w.numWindows != n || w.BatchesPerEpoch() != n/B {
		t.Fatalf("%d windows, %d batches", w.numWindows, w.BatchesPerEpoch())
	}
	offsets := map[int]bool{}
	for epoch := range 5 {
		var starts []int
		for i := range w.BatchesPerEpoch() {
			s, err := w.Starts(epoch, i)
			if err != nil {
				t.Fatal(err)
			}
			starts = append(starts, s...)
			flat := make([]int32, B*(T+1))
			if err := w.BatchInto(epoch, i, flat); err != nil {
				t.Fatal(err)
			}
			for b, st := range s {
				for j := range T + 1 {
					if flat[b*(T+1)+j] != int32(data[st+j]) {
						t.Fatalf("epoch %d batch %d row %d differs from data[%d:]", epoch, i, b, st)
					}
				}
			}
		}
		// Windows of one epoch: same offset, non-overlapping, inside the data, no repeats.
		off := starts[0] % (T + 1)
		offsets[off] = true
		slices.Sort(starts)
		for k, s := range starts {
			if s%(T+1) != off || s+T+1 > len(data) || (k > 0 && s < starts[k-1]+T+1) {
				t.Fatalf("epoch %d: bad window start %d (offset %d)", epoch, s, off)
			}
		}
		if epoch > 0 && slices.Equal(mustStarts(t, w, epoch, 0), mustStarts(t, w, epoch-1, 0)) {
			t.Errorf("epochs %d and %d start alike", epoch-1, epoch)
		}
	}
	if len(offsets) < 2 {
		t.Errorf("offset never changed over 5 epochs: %v", offsets)
	}
	if _, err := w.Starts(0, w.BatchesPerEpoch()); err == nil {
		t.Error("batch index past the epoch accepted")
	}
	if _, err := NewCharWindows(data[:30], 9, 4, 0); err == nil {
		t.Error("too little data for one batch accepted")
	}
}

func mustStarts(t *testing.T, w *CharWindows, epoch, i int) []int {
	s, err := w.Starts(epoch, i)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCharWindowsResume: a batch depends only on (seed, epoch, i), whatever
// was asked before, by whom and in which order.
func TestCharWindowsResume(t *testing.T) {
	data := seqData(5000, 50)
	a, _ := NewCharWindows(data, 20, 8, 99)
	var want [][]int32
	for epoch := range 3 {
		for i := range a.BatchesPerEpoch() {
			f := make([]int32, 8*21)
			a.BatchInto(epoch, i, f)
			want = append(want, f)
		}
	}
	b, _ := NewCharWindows(data, 20, 8, 99) // a "restarted" run
	per := b.BatchesPerEpoch()
	var wg sync.WaitGroup
	for k := len(want) - 1; k >= 0; k-- { // backwards and concurrently
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := make([]int32, 8*21)
			if err := b.BatchInto(k/per, k%per, f); err != nil {
				t.Error(err)
			}
			if !slices.Equal(f, want[k]) {
				t.Errorf("batch %d differs after restart", k)
			}
		}()
	}
	wg.Wait()
	c, _ := NewCharWindows(data, 20, 8, 100)
	f := make([]int32, 8*21)
	c.BatchInto(0, 0, f)
	if slices.Equal(f, want[0]) {
		t.Error("another seed gives the same batch")
	}
}

func TestCharEvalCoversEveryCharacterOnce(t *testing.T) {
	for _, c := range []struct{ n, T, B int }{{1000, 9, 4}, {1001, 10, 3}, {11, 10, 1}, {2, 5, 2}, {37, 4, 64}} {
		data := seqData(c.n, 50)
		e, err := NewCharEval(data, c.T, c.B)
		if err != nil {
			t.Fatal(err)
		}
		predicted := make([]int, c.n) // how often each position is a target
		total := 0
		L := c.T + 1
		for i := range e.NumBatches() {
			tok := make([]int32, c.B*L)
			mask := make([]float32, c.B*c.T)
			n, err := e.BatchInto(i, tok, mask)
			if err != nil {
				t.Fatal(err)
			}
			total += n
			for b := range c.B {
				k := i*c.B + b
				for j := range c.T {
					if mask[b*c.T+j] == 0 {
						continue
					}
					pos := k*c.T + j + 1 // target of input position k*T+j
					predicted[pos]++
					if tok[b*L+j+1] != int32(data[pos]) || tok[b*L+j] != int32(data[pos-1]) {
						t.Fatalf("%+v: batch %d row %d step %d: wrong tokens", c, i, b, j)
					}
				}
			}
		}
		if total != e.NumTargets() || total != c.n-1 {
			t.Fatalf("%+v: %d targets, want %d", c, total, c.n-1)
		}
		for pos := 1; pos < c.n; pos++ {
			if predicted[pos] != 1 {
				t.Fatalf("%+v: position %d predicted %d times", c, pos, predicted[pos])
			}
		}
		tok, mask := make([]int32, e.B*(e.T+1)), make([]float32, e.B*e.T)
		n, err := e.BatchInto(e.NumBatches()-1, tok, mask)
		if err != nil {
			t.Fatal(err)
		}
		var s float32
		for _, v := range mask {
			s += v
		}
		if int(s) != n {
			t.Fatalf("mask sums to %v, targets %d", s, n)
		}
	}
}

func TestWordStreamsHandWorked(t *testing.T) {
	// 0..10, B=2 -> streams [0..4] and [5..9] (10 dropped), T=3 -> 2 batches (3 + 1 steps).
	data := make([]int32, 11)
	for i := range data {
		data[i] = int32(i)
	}
	w, err := NewWordStreams(data, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if w.NumBatches() != 2 || w.NumTargets() != 8 || w.StreamLen() != 5 {
		t.Fatalf("batches %d targets %d", w.NumBatches(), w.NumTargets())
	}
	want := []struct {
		in, tg []int32
		steps  int
	}{
		{[]int32{0, 1, 2, 5, 6, 7}, []int32{1, 2, 3, 6, 7, 8}, 3},
		{[]int32{3, 0, 0, 8, 0, 0}, []int32{4, 0, 0, 9, 0, 0}, 1},
	}
	for i, wb := range want {
		in, tg := make([]int32, 6), make([]int32, 6)
		steps, err := w.BatchInto(i, in, tg)
		if err != nil || steps != wb.steps || !slices.Equal(in, wb.in) || !slices.Equal(tg, wb.tg) {
			t.Fatalf("batch %d: %v %v %d %v", i, in, tg, steps, err)
		}
	}
}

func TestWordStreamsReal(t *testing.T) {
	dir := realDir(t, PTBWord, "ptb.train.txt")
	c, err := LoadPTBWordFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := NewWordStreams(c.Test, 64, 35)
	// 82430/64 = 1287 per stream, 1286 targets per stream, 37 batches.
	if w.StreamLen() != 1287 || w.NumBatches() != 37 || w.NumTargets() != 64*1286 {
		t.Fatalf("S=%d batches=%d", w.StreamLen(), w.NumBatches())
	}
}

func TestMNISTBatches(t *testing.T) {
	n := 23
	split := MNISTSplit{N: n, Images: make([]uint8, n*784), Labels: make([]uint8, n)}
	for i := range n {
		split.Labels[i] = uint8(i % 10)
		for j := range 784 {
			split.Images[i*784+j] = uint8((i + j) % 256)
		}
	}
	perm := Permutation(784, 5)
	m, err := NewMNISTBatches(split, 5, 11).Permuted(perm).Done()
	if err != nil {
		t.Fatal(err)
	}
	if m.BatchesPerEpoch() != 4 {
		t.Fatalf("%d batches", m.BatchesPerEpoch())
	}
	for epoch := range 2 {
		seen := map[int]bool{}
		for i := range 4 {
			idx, _ := m.Indices(epoch, i)
			px, lb, mask := make([]float32, 5*784), make([]int32, 5), make([]float32, 5)
			if _, err := m.BatchInto(epoch, i, px, lb, mask); err != nil {
				t.Fatal(err)
			}
			for r, k := range idx {
				if seen[k] {
					t.Fatalf("image %d twice in epoch %d", k, epoch)
				}
				seen[k] = true
				if lb[r] != int32(k%10) {
					t.Fatal("label")
				}
				for tstep := range 784 {
					if want := float32((k+perm[tstep])%256) / 255; px[r*784+tstep] != want {
						t.Fatalf("pixel step %d of image %d = %v, want %v", tstep, k, px[r*784+tstep], want)
					}
				}
			}
		}
	}
	a0, _ := m.Indices(0, 0)
	a1, _ := m.Indices(1, 0)
	if slices.Equal(a0, a1) {
		t.Error("same order in two epochs")
	}
	// Sequential: every image once, last batch padded.
	s, err := NewMNISTBatches(split, 5, 0).Sequential().Done()
	if err != nil {
		t.Fatal(err)
	}
	px, lb, mask := make([]float32, 5*784), make([]int32, 5), make([]float32, 5)
	last, _ := s.BatchInto(0, 4, px, lb, mask)
	if s.BatchesPerEpoch() != 5 || last != 3 || !slices.Equal(mask, []float32{1, 1, 1, 0, 0}) {
		t.Fatalf("sequential: %d batches, last N=%d", s.BatchesPerEpoch(), last)
	}
	if _, err := NewMNISTBatches(split, 5, 0).Permuted([]int{1, 2}).Done(); err == nil {
		t.Error("bad permutation accepted")
	}
	bad := slices.Clone(perm)
	bad[0] = bad[1]
	if _, err := NewMNISTBatches(split, 5, 0).Permuted(bad).Done(); err == nil {
		t.Error("non-permutation accepted")
	}
}

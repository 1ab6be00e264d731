package batches

import (
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/rbt-project/rbt/datasets"
)

// Every tensor holds what the batcher's BatchInto writes, with the documented shape.
func TestTensorsMatchBatchInto(t *testing.T) {
	data := make([]uint8, 3000)
	for i := range data {
		data[i] = uint8(i*7) % 50
	}
	w, err := datasets.NewCharWindows(data, 20, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int32, 8*21)
	if err := w.BatchInto(2, 3, want); err != nil {
		t.Fatal(err)
	}
	ct, err := Char(w, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if d := ct.Shape().Dimensions; !slices.Equal(d, []int{8, 21}) || !slices.Equal(tensors.MustCopyFlatData[int32](ct), want) {
		t.Fatalf("Char: shape %v or values differ from BatchInto", d)
	}
	if _, err := Char(w, 0, w.BatchesPerEpoch()); err == nil {
		t.Error("Char: batch past the epoch accepted")
	}

	e, _ := datasets.NewCharEval(data[:95], 10, 4)
	eb, err := CharEval(e, e.NumBatches()-1)
	if err != nil {
		t.Fatal(err)
	}
	var s float32
	for _, v := range tensors.MustCopyFlatData[float32](eb.Mask) {
		s += v
	}
	if int(s) != eb.Targets || eb.Targets == 0 {
		t.Fatalf("CharEval: mask sums to %v, Targets %d", s, eb.Targets)
	}

	words := make([]int32, 13)
	for i := range words {
		words[i] = int32(i)
	}
	ws, _ := datasets.NewWordStreams(words, 2, 3)
	in, tg := make([]int32, 6), make([]int32, 6)
	steps, _ := ws.BatchInto(ws.NumBatches()-1, in, tg)
	wb, err := Word(ws, ws.NumBatches()-1)
	if err != nil {
		t.Fatal(err)
	}
	var ms float32
	for _, v := range tensors.MustCopyFlatData[float32](wb.Mask) {
		ms += v
	}
	if wb.Steps != steps || int(ms) != 2*steps || !slices.Equal(tensors.MustCopyFlatData[int32](wb.Targets), tg) ||
		!slices.Equal(tensors.MustCopyFlatData[int32](wb.Inputs), in) {
		t.Fatalf("Word: steps %d (want %d), mask sum %v", wb.Steps, steps, ms)
	}
}

func TestMNISTTensors(t *testing.T) {
	split := datasets.MNISTSplit{N: 12}
	for k := range split.N {
		img := make([]uint8, datasets.MNISTPixels)
		for p := range img {
			img[p] = uint8(k + p)
		}
		split.Images = append(split.Images, img...)
		split.Labels = append(split.Labels, uint8(k%10))
	}
	m, err := datasets.NewMNISTBatches(split, 5, 1).Sequential().Done()
	if err != nil {
		t.Fatal(err)
	}
	px, lb, mask := make([]float32, 5*datasets.MNISTPixels), make([]int32, 5), make([]float32, 5)
	n, _ := m.BatchInto(0, 2, px, lb, mask)
	b, err := MNIST(m, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d := b.Pixels.Shape().Dimensions; !slices.Equal(d, []int{5, datasets.MNISTPixels, 1}) || b.N != n ||
		!slices.Equal(tensors.MustCopyFlatData[float32](b.Pixels), px) ||
		!slices.Equal(tensors.MustCopyFlatData[int32](b.Labels), lb) ||
		!slices.Equal(tensors.MustCopyFlatData[float32](b.Mask), mask) {
		t.Fatalf("MNIST: shape %v, N %d (want %d) or values differ", d, b.N, n)
	}
}

package gomlxbench

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/packed"
)

// lstmStepGraph is one deploy-mode LSTM step (model.go's equations) as a
// GoMLX graph: inputs x (1,d), h (1,n), c (1,n), Wx (d,4n), Wh (n,4n),
// scaleX, shiftX, scaleH, shiftH (1,4n), scaleC, shiftC (1,n); outputs h, c.
func lstmStepGraph(in []*graph.Node) []*graph.Node {
	x, h, c, wx, wh := in[0], in[1], in[2], in[3], in[4]
	sx, bx, sh, bh, sc, bc := in[5], in[6], in[7], in[8], in[9], in[10]
	n := h.Shape().Dimensions[1]
	pre := graph.Add(
		graph.Add(graph.Mul(sx, graph.MatMul(x, wx)), bx),
		graph.Add(graph.Mul(sh, graph.MatMul(h, wh)), bh))
	gate := func(k int) *graph.Node { return graph.Slice(pre, graph.AxisRange(), graph.AxisRange(k*n, (k+1)*n)) }
	g, f, i, o := graph.Tanh(gate(0)), graph.Sigmoid(gate(1)), graph.Sigmoid(gate(2)), graph.Sigmoid(gate(3))
	cNew := graph.Add(graph.Mul(f, c), graph.Mul(i, g))
	hNew := graph.Mul(o, graph.Tanh(graph.Add(graph.Mul(sc, cNew), bc)))
	return []*graph.Node{hNew, cNew}
}

func model(n int) (*packed.Model, error) {
	return packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.Dense,
		Features: n, Hidden: []int{n}, Classes: 2, Seed: 1})
}

func signsToFloat(s []int8, rows, cols int) [][]float32 {
	out := make([][]float32, rows)
	for i := range out {
		out[i] = make([]float32, cols)
		for j := range cols {
			out[i][j] = float32(s[i*cols+j])
		}
	}
	return out
}

func row(v []float32) [][]float32 { return [][]float32{v} }

// BenchmarkLSTMStep: one LSTM step at batch 1, dense input of width = hidden,
// hidden 1000 (PTB char) and 256: GoMLX (float32 weights, the graph compiled
// once, weights kept on the backend), the packed engine's float32 reference,
// packed binary and packed ternary.
func BenchmarkLSTMStep(b *testing.B) {
	for _, n := range []int{1000, 256} {
		m, err := model(n)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("h%d/gomlx-float32", n), func(b *testing.B) { benchGoMLX(b, m) })
		for _, c := range []struct {
			name   string
			w      packed.WeightKind
			kernel packed.Kernel
		}{
			{"packed-float32-reference", packed.Binary, packed.KernelFloat32},
			{"packed-binary", packed.Binary, packed.KernelLUT},
			{"packed-ternary", packed.Ternary, packed.KernelLUT},
		} {
			b.Run(fmt.Sprintf("h%d/%s", n, c.name), func(b *testing.B) {
				mm, err := packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: c.w, Input: packed.Dense,
					Features: n, Hidden: []int{n}, Classes: 2, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				e, err := packed.NewEngineKernel(mm, c.kernel)
				if err != nil {
					b.Fatal(err)
				}
				x := input(n)
				s := e.NewState(1)
				for b.Loop() {
					if err := e.StepDense(s, x); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
				b.ReportMetric(float64(e.WeightBytes()), "weightB")
			})
		}
	}
}

func input(n int) []float32 {
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func benchGoMLX(b *testing.B, m *packed.Model) {
	be, err := backend.New()
	if err != nil {
		b.Skipf("no GoMLX backend: %v", err)
	}
	l := m.Layers[0]
	n, d := l.Hidden, l.Input
	exec, err := graph.NewExec(be, lstmStepGraph)
	if err != nil {
		b.Fatal(err)
	}
	args := []any{
		tensors.FromValue(row(input(d))),
		tensors.FromValue(row(l.H0)), tensors.FromValue(row(l.C0)),
		tensors.FromValue(signsToFloat(l.WxSign, d, 4*n)), tensors.FromValue(signsToFloat(l.WhSign, n, 4*n)),
		tensors.FromValue(row(l.ScaleX)), tensors.FromValue(row(l.ShiftX)),
		tensors.FromValue(row(l.ScaleH)), tensors.FromValue(row(l.ShiftH)),
		tensors.FromValue(row(l.ScaleC)), tensors.FromValue(row(l.ShiftC)),
	}
	step := func() {
		out, err := exec.Exec(args...)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range args[1:3] {
			t.(*tensors.Tensor).FinalizeAll()
		}
		args[1], args[2] = out[0], out[1] // carry h, c (stay on the backend)
	}
	step() // compile the graph and move the weights to the backend outside the timing
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(float64(4*len(l.WxSign)+4*len(l.WhSign)), "weightB")
}

// TestGoMLXStepMatchesEngine checks that the benchmarked graph computes the
// same step as the packed engine (so the benchmark compares like with like).
func TestGoMLXStepMatchesEngine(t *testing.T) {
	m, err := model(24)
	if err != nil {
		t.Fatal(err)
	}
	be, err := backend.New()
	if err != nil {
		t.Skipf("no GoMLX backend: %v", err)
	}
	l := m.Layers[0]
	n, d := l.Hidden, l.Input
	x := input(d)
	out, err := graph.MustNewExec(be, lstmStepGraph).Exec(
		row(x), row(l.H0), row(l.C0), signsToFloat(l.WxSign, d, 4*n), signsToFloat(l.WhSign, n, 4*n),
		row(l.ScaleX), row(l.ShiftX), row(l.ScaleH), row(l.ShiftH), row(l.ScaleC), row(l.ShiftC))
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out[0])
	e, _ := packed.NewEngine(m)
	s := e.NewState(1)
	if err := e.StepDense(s, x); err != nil {
		t.Fatal(err)
	}
	for j := range n {
		if diff := got[j] - s.H[0][j]; diff > 1e-5 || diff < -1e-5 {
			t.Fatalf("h[%d]: GoMLX %v, packed engine %v", j, got[j], s.H[0][j])
		}
	}
}

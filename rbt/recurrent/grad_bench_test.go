package recurrent

import (
	"fmt"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/rbt-project/rbt/rbt/backend"
)

// BenchmarkStepProducts times the recurrent products of the char LM
// (hidden 256, batch 32, 4 gates, 50 steps) forward and backward, as one
// [32, 256] x [256, 1024] product per step and as one product per gate block
// (stepProducts below and above smallProduct), in a chain h_{t+1} =
// tanh(sum of the gate blocks of h_t . W) with the gradients of W and h_0:
//
//	go test ./rbt/recurrent -run '^$' -bench StepProducts -benchtime 20x
//
// Measured 2026-12-07 (2-core Xeon, GOEXPERIMENT=simd): see smallProduct.
func BenchmarkStepProducts(b *testing.B) {
	const steps, B, n, G = 50, 32, 256, 4
	defer func(s int) { smallProduct = s }(smallProduct)
	for _, blocked := range []bool{false, true} {
		b.Run(fmt.Sprintf("blocks=%v", blocked), func(b *testing.B) {
			smallProduct = 1 << 62 // never cut
			if blocked {
				smallProduct = 2 * B * n * n // cut into gate blocks
			}
			exec := MustNewExec(backend.Must(), func(h, w *Node) []*Node {
				sp := newStepProducts(w, steps, B, G)
				x := h
				for t := range steps {
					x = Tanh(ReduceSum(Reshape(sp.step(t, x), B, G, n), 1))
				}
				return Gradient(ReduceAllSum(x), h, w)
			})
			h := tensors.FromShape(shapes.Make(dtypes.Float32, B, n))
			w := tensors.FromShape(shapes.Make(dtypes.Float32, n, G*n))
			exec.MustCall(h, w)
			b.ResetTimer()
			for range b.N {
				exec.MustCall(h, w)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N*steps), "us/step")
		})
	}
}

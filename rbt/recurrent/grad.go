package recurrent

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"
)

// This file holds the gradient shortcuts of the unrolled recurrence: the
// column split (colSplit), the per-step products (stepProducts, also cut into
// gate blocks for the forward pass) and batch normalization
// (batchNormalizer). They change only how the graph is built, not what it
// computes: each returns the values and gradients autodiff would return,
// summed in another order (so the last bits of float32 sums may differ).
//
// They rest on graph.IdentityWithCustomGradient and on the order of reverse
// autodiff: it visits nodes from the last built to the first, so a node's
// custom gradient runs after those of every node built after it. A node built
// early (the weight, the matrix being split) can therefore use gradients that
// nodes built later (the per-step outputs, the column blocks) recorded during the
// same backward pass. The default gradient of the nodes in between is still
// built but unused, and the backend never executes it (dead-code elimination
// of nodes that feed no output).

// stepGradients records the gradients arriving at T per-step nodes during the
// backward pass, for a custom gradient built earlier to consume them all at
// once.
type stepGradients struct {
	nodes []*Node // forward per-step nodes
	grads []*Node // their gradients, filled during the backward pass

	// passOne: only the first gradient recorded in a backward pass is passed
	// on (the others stop), for nodes whose default gradient is unused: one
	// path keeps the consumer's custom gradient reached, and the others'
	// unused gradient graph is not built at all.
	passOne, passed bool
}

func newStepGradients(steps int) *stepGradients {
	return &stepGradients{nodes: make([]*Node, steps), grads: make([]*Node, steps)}
}

// record returns x (the value of step t) with a gradient that is recorded and
// passed on unchanged.
func (s *stepGradients) record(t int, x *Node) *Node {
	s.nodes[t] = x
	return IdentityWithCustomGradient(x, func(_, v *Node) *Node {
		s.grads[t] = v
		if s.passOne {
			if s.passed {
				return nil
			}
			s.passed = true
		}
		return v
	})
}

// take returns the recorded gradients (zeros where none arrived) and clears
// them, so a second backward pass over the same graph starts afresh.
func (s *stepGradients) take() []*Node {
	out := make([]*Node, len(s.grads))
	for t, v := range s.grads {
		if v == nil {
			v = ZerosLike(s.nodes[t])
		}
		out[t] = v
		s.grads[t] = nil
	}
	s.passed = false
	return out
}

// colSplit splits matrices [R, C] into column blocks of the given widths,
// like one Slice per block, but faster both ways on the Go backend:
//
//   - forward, each block is a Gather of contiguous row chunks of x viewed as
//     [R*C/u, u] (u the gcd of the widths), copied with memmove; the
//     backend's Slice copies element by element;
//   - backward, the gradient of x is one Concatenate of the blocks'
//     gradients. A Slice's own gradient is a zero-padded copy of the whole x
//     per block, summed over the blocks: P full-size buffers for P blocks,
//     O(T^2) work when a tensor is split into its T steps.
//
// The index constants are built once and shared by every split.
type colSplit struct {
	rows, cols, unit int
	widths           []int
	indices          []*Node // per block, [R, width/unit, 1]
}

func newColSplit(g *Graph, rows, cols int, widths []int) *colSplit {
	unit, sum := 0, 0
	for _, w := range widths {
		unit, sum = gcd(unit, w), sum+w
	}
	if sum != cols {
		exceptions.Panicf("recurrent: column blocks %v do not add up to %d columns", widths, cols)
	}
	cs := &colSplit{rows: rows, cols: cols, unit: unit, widths: widths}
	chunksPerRow := cols / unit
	from := 0
	for _, w := range widths {
		k := w / unit
		idx := make([]int32, 0, rows*k)
		for r := range rows {
			for j := range k {
				idx = append(idx, int32(r*chunksPerRow+from/unit+j))
			}
		}
		cs.indices = append(cs.indices, Const(g, tensors.FromFlatDataAndDimensions(idx, rows, k, 1)))
		from += w
	}
	return cs
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// split returns the column blocks of x [R, C].
func (cs *colSplit) split(x *Node) []*Node {
	rec := newStepGradients(len(cs.widths))
	rec.passOne = true
	whole := IdentityWithCustomGradient(x, func(_, _ *Node) *Node {
		return Concatenate(rec.take(), 1)
	})
	parts := cs.blocks(whole)
	for i, p := range parts {
		parts[i] = rec.record(i, p)
	}
	return parts
}

// blocks returns the column blocks of x [R, C] as plain gathers, with
// autodiff's gradient (for nodes built in a backward pass, or whose gradient
// is unused).
func (cs *colSplit) blocks(x *Node) []*Node {
	chunks := Reshape(x, cs.rows*cs.cols/cs.unit, cs.unit)
	parts := make([]*Node, len(cs.widths))
	for i, w := range cs.widths {
		parts[i] = Reshape(Gather(chunks, cs.indices[i], true), cs.rows, w)
	}
	return parts
}

// smallProduct is the size, in multiply-adds, below which the Go backend
// multiplies two matrices directly on their memory (gomlx/compute v0.1.14,
// matmul.SmallMatMulSizeThreshold = 4 Mi); larger products pack both
// operands into panels first, at every call. For the recurrent products of
// small batches (B rows) packing the [k, m] weight matrix costs about as much
// as the multiply-adds: chained [32, 256] x [256, 1024] products took about
// 240 us as one product and 160 us as four [256, 256] blocks, and the
// backward [32, 1024] x [1024, 256] about 310 us as one and 175 us as four
// (2-core Xeon, GOEXPERIMENT=simd, 2026-12-07). BenchmarkStepProducts times
// the whole forward and backward of 50 steps: 1.2-1.75 ms per step as one
// product, 0.98-1.08 ms in blocks (three runs, shared machine). Other
// backends compute the same sums in a few more nodes.
var smallProduct = 4 << 20 // a variable for the tests

// stepProducts builds y_t = u_t . W for t = 0..T-1 with W [k, m] shared by
// all steps, u_t [B, k], y_t [B, m], with these gradient shortcuts:
//
//   - dW is one product over all steps, U^T . dY with U [T*B, k] and dY
//     [T*B, m], instead of T products of [k, B] x [B, m] (the small per-step
//     products spend more time packing their operands than multiplying);
//   - du_t = dy_t . W^T reads W^T, transposed once per pass, in the row-major
//     [K, N] layout. Each product of the Go backend packs both operands
//     again; it packs a [K, N] right operand with a fast copy of rows but a
//     transposed [N, K] one with a slower generic gather, so the forward
//     product uses W and the backward one W^T, both as [K, N];
//   - when one [B, k] x [k, m] product is above smallProduct and a block of
//     m/blocks columns is below it, W is cut once per pass into column
//     blocks W_j (the gate blocks of the cell): y_t is the concatenation of
//     the blocks' products u_t . W_j and du_t the sum of dy_tj . W_j^T.
type stepProducts struct {
	w, wT  *Node // [k, m], [m, k]
	inputs []*Node
	out    *stepGradients

	wBlocks, wTBlocks []*Node   // W_j [k, m/blocks] and W_j^T; nil: one product
	dySplit           *colSplit // dy_t [B, m] into its blocks
}

// newStepProducts returns the products u_t . w of steps steps of batch rows
// each; blocks (the number of gate blocks of w's columns) is the most
// column blocks the products may be cut into.
func newStepProducts(w *Node, steps, batch, blocks int) *stepProducts {
	sp := &stepProducts{inputs: make([]*Node, steps), out: newStepGradients(steps)}
	sp.w = IdentityWithCustomGradient(w, func(_, _ *Node) *Node {
		// U^T explicitly: given U and dY contracting their axis 0, the
		// backend would transpose both (to its [N, K] right-operand layout).
		uT := Transpose(StopGradient(Concatenate(sp.inputs, 0)), 0, 1) // [k, T*B]
		dy := Concatenate(sp.out.take(), 0)                            // [T*B, m]
		return DotGeneral(uT, []int{1}, nil, dy, []int{0}, nil)        // [k, m]
	})
	k, m := w.Shape().Dim(0), w.Shape().Dim(1)
	if blocks > 1 && m%blocks == 0 && batch*k*m >= smallProduct && batch*k*(m/blocks) < smallProduct {
		widths := make([]int, blocks)
		for j := range widths {
			widths[j] = m / blocks
		}
		sp.wBlocks = newColSplit(w.Graph(), k, m, widths).blocks(sp.w)
		for _, wj := range sp.wBlocks {
			sp.wTBlocks = append(sp.wTBlocks, Transpose(StopGradient(wj), 0, 1))
		}
		sp.dySplit = newColSplit(w.Graph(), batch, m, widths)
	} else {
		sp.wT = Transpose(w, 0, 1)
	}
	return sp
}

// step returns u . W for step t (u [B, k]).
func (sp *stepProducts) step(t int, u *Node) *Node {
	sp.inputs[t] = u
	u = IdentityWithCustomGradient(u, func(_, _ *Node) *Node {
		dy := sp.out.grads[t] // recorded below, and still there: take runs later
		if dy == nil {
			return ZerosLike(sp.inputs[t])
		}
		if sp.wBlocks == nil {
			return DotGeneral(dy, []int{1}, nil, sp.wT, []int{0}, nil)
		}
		var du *Node
		for j, dyj := range sp.dySplit.blocks(dy) {
			p := DotGeneral(dyj, []int{1}, nil, sp.wTBlocks[j], []int{0}, nil)
			if du == nil {
				du = p
			} else {
				du = Add(du, p)
			}
		}
		return du
	})
	if sp.wBlocks == nil {
		return sp.out.record(t, DotGeneral(u, []int{1}, nil, sp.w, []int{0}, nil))
	}
	parts := make([]*Node, len(sp.wBlocks))
	for j, wj := range sp.wBlocks {
		parts[j] = DotGeneral(u, []int{1}, nil, wj, []int{0}, nil)
	}
	return sp.out.record(t, Concatenate(parts, 1))
}

// batchNormalizer builds batch normalizations over the batch axis that share
// one scale gamma [1, width] (one per step of the recurrence, or one for all
// steps laid out side by side), each with the closed-form backward pass of
// batch normalization instead of the autodiff of its forward graph. With c =
// x - mean_b(x), s = 1/sqrt(var_b(x) + eps), k = gamma*s and y = c*k:
//
//	dx     = k*(dy - mean_b(dy)) - c * (k*s^2*mean_b(dy*c))
//	dgamma = s * sum_b(dy*c)
//
// five passes over [B, width] and two reductions, where autodiff builds about
// ten (the gradients of the two means, the square and the broadcasts). The
// gradients of gamma of every normalization are summed once, by the custom
// gradient of gamma (built first, so it runs last: see the top of this file).
type batchNormalizer struct {
	gamma   *Node   // [1, width], with the custom gradient
	dGammas []*Node // per normalization, [1, width], filled during the backward pass
}

func newBatchNormalizer(gamma *Node) *batchNormalizer {
	bn := &batchNormalizer{}
	bn.gamma = IdentityWithCustomGradient(gamma, func(_, _ *Node) *Node {
		d := bn.dGammas
		bn.dGammas = nil
		if len(d) == 0 {
			return ZerosLike(gamma)
		}
		if len(d) == 1 {
			return d[0]
		}
		return ReduceAndKeep(Concatenate(d, 0), ReduceSum, 0)
	})
	return bn
}

// normalize returns (x - mean)*gamma/sqrt(var + eps) for x [B, width] with the
// batch's mean and biased variance, and those statistics, [width] each.
func (bn *batchNormalizer) normalize(x *Node) (norm, mean, variance *Node) {
	g := x.Graph()
	var dy, centered, invStd, scale *Node
	xi := IdentityWithCustomGradient(x, func(_, _ *Node) *Node {
		if dy == nil {
			return ZerosLike(x)
		}
		meanDyC := ReduceAndKeep(Mul(dy, centered), ReduceMean, 0) // [1, width]
		meanDy := ReduceAndKeep(dy, ReduceMean, 0)
		coef := Mul(Mul(scale, Square(invStd)), meanDyC)
		bn.dGammas = append(bn.dGammas, Mul(invStd, MulScalar(meanDyC, float64(x.Shape().Dim(0)))))
		dx := Sub(Mul(Sub(dy, meanDy), scale), Mul(centered, coef))
		dy = nil
		return dx
	})
	meanK := ReduceAndKeep(xi, ReduceMean, 0)
	centered = Sub(xi, meanK)
	varK := ReduceAndKeep(Square(centered), ReduceMean, 0)
	// Only ops with gradients: autodiff builds (but never uses) the default
	// backward pass of these nodes.
	invStd = Div(ScalarOne(g, x.DType()), Sqrt(AddScalar(varK, Epsilon)))
	scale = Mul(bn.gamma, invStd)
	norm = IdentityWithCustomGradient(Mul(centered, scale), func(_, v *Node) *Node {
		dy = v
		return v
	})
	return norm, Squeeze(meanK, 0), Squeeze(varK, 0)
}

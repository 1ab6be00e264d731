package recurrent

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"
)

// This file holds two gradient shortcuts for the unrolled recurrence. Both
// change only how the backward pass is built, not what it computes: each
// returns the gradient autodiff would return, summed in another order (so
// the last bits of float32 sums may differ).
//
// Both rest on graph.IdentityWithCustomGradient and on the order of reverse
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
	chunks := Reshape(whole, cs.rows*cs.cols/cs.unit, cs.unit)
	parts := make([]*Node, len(cs.widths))
	for i, w := range cs.widths {
		parts[i] = rec.record(i, Reshape(Gather(chunks, cs.indices[i], true), cs.rows, w))
	}
	return parts
}

// stepProducts builds y_t = u_t . W for t = 0..T-1 with W [k, m] shared by
// all steps, u_t [B, k], y_t [B, m], with two gradient shortcuts:
//
//   - dW is one product over all steps, U^T . dY with U [T*B, k] and dY
//     [T*B, m], instead of T products of [k, B] x [B, m] (the small per-step
//     products spend more time packing their operands than multiplying);
//   - du_t = dy_t . W^T reads W^T, transposed once per pass, in the row-major
//     [K, N] layout. Each product of the Go backend packs both operands
//     again; it packs a [K, N] right operand with a fast copy of rows but a
//     transposed [N, K] one with a slower generic gather, so the forward
//     product uses W and the backward one W^T, both as [K, N].
type stepProducts struct {
	w, wT  *Node // [k, m], [m, k]
	inputs []*Node
	out    *stepGradients
}

func newStepProducts(w *Node, steps int) *stepProducts {
	sp := &stepProducts{inputs: make([]*Node, steps), out: newStepGradients(steps)}
	sp.wT = Transpose(w, 0, 1)
	sp.w = IdentityWithCustomGradient(w, func(_, _ *Node) *Node {
		// U^T explicitly: given U and dY contracting their axis 0, the
		// backend would transpose both (to its [N, K] right-operand layout).
		uT := Transpose(StopGradient(Concatenate(sp.inputs, 0)), 0, 1) // [k, T*B]
		dy := Concatenate(sp.out.take(), 0)                            // [T*B, m]
		return DotGeneral(uT, []int{1}, nil, dy, []int{0}, nil)        // [k, m]
	})
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
		return DotGeneral(dy, []int{1}, nil, sp.wT, []int{0}, nil)
	})
	return sp.out.record(t, DotGeneral(u, []int{1}, nil, sp.w, []int{0}, nil))
}

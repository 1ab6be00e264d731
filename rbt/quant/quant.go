// Package quant holds the weight quantizers of rbt as GoMLX graph functions.
//
// A quantizer maps a latent (full-precision, trained) weight matrix W to the
// weights used in the forward pass, Q(W). Every quantizer here has the
// straight-through gradient of the paper (METHOD.md, "Backward"):
//
//	dL/dW := dL/dQ(W)      (identity: no |W| <= 1 mask, no gradient through p)
//
// implemented exactly as Q(W) = StopGradient(q) + (W - StopGradient(W)), so the
// forward value is q bit for bit (W - W is exactly 0) and the gradient is 1.
//
// The quantizers of the paper use the per-matrix scale W0 of [W0]:
//
//	binary,  stochastic   p = clip((W/W0+1)/2, 0, 1); +W0 with probability p, else -W0
//	binary,  determ.      +W0 if W >= 0 else -W0
//	ternary, stochastic   sign(W)*W0 with probability clip(|W|/W0, 0, 1), else 0
//	ternary, determ.      W0 * ([W > -W0/3] + [W > W0/3] - 1)
//	full precision        W
//
// The baselines of the trade-off plots (no W0 scale, or other rules) are
// BinaryConnect, TernaryConnect, TWN and k-bit uniform quantization.
//
// Stochastic quantizers take u, uniform samples in [0, 1) of W's shape. A
// layer draws u once per forward pass (Quantizer.Sample uses the scope's RNG,
// so draws are reproducible by seed and the RNG state is checkpointed) and
// reuses the sample for every time step.
//
// Quantizer values bundle a function with its name, its bits per weight (for
// memory accounting), whether it is stochastic, its deterministic (deploy)
// counterpart and how the packed model stores it; Lookup finds one by name,
// so configs and notebooks choose quantizers by string.
package quant

import (
	"fmt"
	"sort"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/ml/model"

	"github.com/rbt-project/rbt/rbt/packed"
)

// StraightThrough returns a node with the forward value of q and the gradient
// of w (identity): StopGradient(q) + (w - StopGradient(w)). The forward value
// equals q exactly, since w - w = 0 in floating point.
func StraightThrough(w, q *Node) *Node {
	return Add(StopGradient(q), Sub(w, StopGradient(w)))
}

func scalarLike(w *Node, v float64) *Node { return Scalar(w.Graph(), w.DType(), v) }

// FullPrecision is the identity: forward W, gradient identity.
func FullPrecision(w *Node) *Node { return w }

// BinaryDet is the deterministic binary quantizer of METHOD.md:
// forward +w0 where W >= 0, -w0 where W < 0 (W = 0 maps to +w0, unlike Sign);
// gradient identity (straight-through).
func BinaryDet(w *Node, w0 float64) *Node {
	q := Where(GreaterOrEqual(w, ScalarZero(w.Graph(), w.DType())), scalarLike(w, w0), scalarLike(w, -w0))
	return StraightThrough(w, q)
}

// BinaryStochastic is the stochastic binary quantizer of METHOD.md (all of the
// paper's binary runs): with p = clip((W/w0+1)/2, 0, 1), forward +w0 where
// u < p and -w0 elsewhere, so E[Q(W)] = clip(W, -w0, w0); gradient identity.
// u holds uniform samples in [0, 1) of w's shape.
func BinaryStochastic(w, u *Node, w0 float64) *Node {
	p := ClipScalar(AddScalar(MulScalar(w, 0.5/w0), 0.5), 0, 1)
	q := Where(LessThan(u, p), scalarLike(w, w0), scalarLike(w, -w0))
	return StraightThrough(w, q)
}

// TernaryDet is the deterministic ternary quantizer of METHOD.md:
// forward w0 * ([W > -w0/3] + [W > w0/3] - 1), that is -w0 for W <= -w0/3,
// +w0 for W > w0/3 and 0 in between; gradient identity.
func TernaryDet(w *Node, w0 float64) *Node {
	g := w.Graph()
	q := Where(GreaterThan(w, scalarLike(w, w0/3)), scalarLike(w, w0),
		Where(GreaterThan(w, scalarLike(w, -w0/3)), ScalarZero(g, w.DType()), scalarLike(w, -w0)))
	return StraightThrough(w, q)
}

// TernaryStochastic is the stochastic ternary quantizer of METHOD.md (all of
// the paper's ternary runs): forward sign(W)*w0 where u < clip(|W|/w0, 0, 1),
// 0 elsewhere, so E[Q(W)] = clip(W, -w0, w0); gradient identity.
func TernaryStochastic(w, u *Node, w0 float64) *Node {
	p := MinScalar(MulScalar(Abs(w), 1/w0), 1)
	q := Where(LessThan(u, p), MulScalar(Sign(w), w0), ZerosLike(w))
	return StraightThrough(w, q)
}

// BinaryConnect is deterministic BinaryConnect (Courbariaux et al. 2015)
// without a scale: forward +1 where W >= 0, -1 elsewhere (never Sign: Sign(0) = 0);
// gradient identity.
func BinaryConnect(w *Node) *Node { return BinaryDet(w, 1) }

// TernaryConnect is stochastic ternarization in the manner of Lin et al. 2016
// ("Neural networks with few multiplications") without a scale: forward sign(W)
// where u < clip(|W|/w0, 0, 1), 0 elsewhere (values in {-1, 0, +1}; the
// probability is measured in units of w0 so that it matches the latent weights'
// initial range); gradient identity. Its deploy counterpart is TernaryConnectDet.
func TernaryConnect(w, u *Node, w0 float64) *Node {
	p := MinScalar(MulScalar(Abs(w), 1/w0), 1)
	q := Where(LessThan(u, p), Sign(w), ZerosLike(w))
	return StraightThrough(w, q)
}

// TernaryConnectDet is TernaryDet without the scale: forward +1 for W > w0/3,
// -1 for W <= -w0/3, 0 in between; gradient identity.
func TernaryConnectDet(w *Node, w0 float64) *Node {
	g := w.Graph()
	q := Where(GreaterThan(w, scalarLike(w, w0/3)), ScalarOne(g, w.DType()),
		Where(GreaterThan(w, scalarLike(w, -w0/3)), ScalarZero(g, w.DType()), scalarLike(w, -1)))
	return StraightThrough(w, q)
}

// TWN is Ternary Weight Networks (Li et al. 2016): with the threshold
// delta = 0.7 * mean|W| and the scale alpha = mean of |W| over |W| > delta
// (0 if no weight passes), forward alpha*sign(W) where |W| > delta, 0 elsewhere;
// gradient identity (delta and alpha are not differentiated).
func TWN(w *Node) *Node {
	absW := Abs(w)
	delta := MulScalar(ReduceAllMean(absW), 0.7)
	mask := ConvertDType(GreaterThan(absW, delta), w.DType())
	count := MaxScalar(ReduceAllSum(mask), 1)
	alpha := Div(ReduceAllSum(Mul(absW, mask)), count)
	q := Mul(Mul(Sign(w), mask), alpha)
	return StraightThrough(w, q)
}

// Uniform is k-bit uniform quantization with 2^k levels spread evenly over
// [-alpha, alpha], alpha = max|W| of the matrix (DoReFa-style "mid-rise" grid,
// without the tanh): forward alpha * (2*round((W/alpha+1)/2 * (2^k-1))/(2^k-1) - 1);
// k = 2 gives {-1, -1/3, 1/3, 1}*alpha. Gradient identity. k must be in 1..16.
func Uniform(w *Node, k int) *Node {
	if k < 1 || k > 16 {
		panic(fmt.Sprintf("quant.Uniform: k=%d bits, want 1..16", k))
	}
	levels := float64(int(1)<<k - 1)
	alpha := MaxScalar(ReduceAllMax(Abs(w)), 1e-12)
	x := AddScalar(MulScalar(Div(w, alpha), 0.5), 0.5) // in [0, 1]
	x = DivScalar(Round(MulScalar(ClipScalar(x, 0, 1), levels)), levels)
	q := Mul(AddScalar(MulScalar(x, 2), -1), alpha)
	return StraightThrough(w, q)
}

// Quantizer is a named quantization rule, as chosen by configs and notebooks.
type Quantizer struct {
	// Name is the registry key, e.g. "binary".
	Name string
	// Bits per stored weight, for memory accounting: 32 for full precision,
	// 1 for binary, 2 for ternary, k for k-bit.
	Bits int
	// Stochastic quantizers need uniform samples (u) in Fn.
	Stochastic bool
	// Deploy is the name of the deterministic quantizer used in deploy mode
	// (the quantizer itself when it is deterministic).
	Deploy string
	// Kind says how the deploy-form (packed) model stores the weights.
	Kind packed.WeightKind
	// Summary is a one-line description for listings.
	Summary string
	// LatentBound > 0 asks the optimizer to clip the latent weights to
	// [-LatentBound, LatentBound] after every update (optim's
	// AdamConfig.LatentBound): BinaryConnect's rule for its +-1 weights
	// (Courbariaux et al. 2015), also ternary connect's (Lin et al. 2016).
	LatentBound float64
	// Fn computes Q(w) with straight-through gradient; w0 is the matrix scale
	// (W0 of the matrix) and u the uniform samples (nil for deterministic ones).
	Fn func(w, u *Node, w0 float64) *Node
}

// String returns the name.
func (q Quantizer) String() string { return q.Name }

// IsFullPrecision reports whether Q is the identity.
func (q Quantizer) IsFullPrecision() bool { return q.Name == "fp" }

// Apply returns Q(w) for the matrix scale w0; u (uniform [0,1) samples of w's
// shape) is used by stochastic quantizers and must then be non-nil.
func (q Quantizer) Apply(w, u *Node, w0 float64) *Node {
	if q.Stochastic && u == nil {
		panic(fmt.Sprintf("quant: stochastic quantizer %q needs uniform samples", q.Name))
	}
	return q.Fn(w, u, w0)
}

// Sample returns Q(w), drawing the uniform samples of stochastic quantizers
// from the scope's RNG (one sample of the whole matrix per call: call it once
// per forward pass and reuse the result for every time step).
func (q Quantizer) Sample(scope *model.Scope, w *Node, w0 float64) *Node {
	var u *Node
	if q.Stochastic {
		u = scope.RandomUniform(w.Graph(), w.Shape())
		if u.DType() != w.DType() {
			u = ConvertDType(u, w.DType())
		}
	}
	return q.Apply(w, u, w0)
}

// Deterministic returns the quantizer used in deploy mode (Deploy).
func (q Quantizer) Deterministic() Quantizer {
	if !q.Stochastic {
		return q
	}
	d, err := Lookup(q.Deploy)
	if err != nil {
		panic(err) // the registry is consistent; checked by tests.
	}
	return d
}

var registry = map[string]Quantizer{}

// Register adds a quantizer to the registry; it fails on an empty or duplicate
// name, a nil Fn, or a stochastic quantizer without a registered Deploy.
func Register(q Quantizer) error {
	switch {
	case q.Name == "":
		return fmt.Errorf("quant.Register: empty name")
	case q.Fn == nil:
		return fmt.Errorf("quant.Register(%q): nil Fn", q.Name)
	case q.Bits < 1 || q.Bits > 32:
		return fmt.Errorf("quant.Register(%q): bits=%d, want 1..32", q.Name, q.Bits)
	}
	if _, dup := registry[q.Name]; dup {
		return fmt.Errorf("quant.Register(%q): name already registered", q.Name)
	}
	if q.Deploy == "" {
		q.Deploy = q.Name
	}
	if q.Stochastic {
		d, ok := registry[q.Deploy]
		if !ok || d.Stochastic {
			return fmt.Errorf("quant.Register(%q): deploy quantizer %q must be registered first and be deterministic", q.Name, q.Deploy)
		}
	}
	registry[q.Name] = q
	return nil
}

// Lookup returns the quantizer registered under name (case-insensitive).
func Lookup(name string) (Quantizer, error) {
	q, ok := registry[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Quantizer{}, fmt.Errorf("quant: unknown quantizer %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return q, nil
}

// MustLookup is Lookup that panics on an unknown name (for fixed names in code).
func MustLookup(name string) Quantizer {
	q, err := Lookup(name)
	if err != nil {
		panic(err)
	}
	return q
}

// Names lists the registered quantizer names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func mustRegister(q Quantizer) {
	if err := Register(q); err != nil {
		panic(err)
	}
}

func init() {
	mustRegister(Quantizer{Name: "fp", Bits: 32, Kind: packed.Float32,
		Summary: "full precision (identity)",
		Fn:      func(w, _ *Node, _ float64) *Node { return FullPrecision(w) }})
	mustRegister(Quantizer{Name: "binary-det", Bits: 1, Kind: packed.Binary,
		Summary: "deterministic binary: +-W0 by the sign of W (METHOD.md)",
		Fn:      func(w, _ *Node, w0 float64) *Node { return BinaryDet(w, w0) }})
	mustRegister(Quantizer{Name: "binary", Bits: 1, Kind: packed.Binary, Stochastic: true, Deploy: "binary-det",
		Summary: "stochastic binary: +W0 with probability clip((W/W0+1)/2,0,1), else -W0 (METHOD.md)",
		Fn:      func(w, u *Node, w0 float64) *Node { return BinaryStochastic(w, u, w0) }})
	mustRegister(Quantizer{Name: "ternary-det", Bits: 2, Kind: packed.Ternary,
		Summary: "deterministic ternary: W0*([W>-W0/3]+[W>W0/3]-1) (METHOD.md)",
		Fn:      func(w, _ *Node, w0 float64) *Node { return TernaryDet(w, w0) }})
	mustRegister(Quantizer{Name: "ternary", Bits: 2, Kind: packed.Ternary, Stochastic: true, Deploy: "ternary-det",
		Summary: "stochastic ternary: sign(W)*W0 with probability clip(|W|/W0,0,1), else 0 (METHOD.md)",
		Fn:      func(w, u *Node, w0 float64) *Node { return TernaryStochastic(w, u, w0) }})
	mustRegister(Quantizer{Name: "bc", Bits: 1, Kind: packed.Binary, LatentBound: 1,
		Summary: "BinaryConnect (Courbariaux et al. 2015), deterministic: +-1 by the sign of W, no scale",
		Fn:      func(w, _ *Node, _ float64) *Node { return BinaryConnect(w) }})
	mustRegister(Quantizer{Name: "tc-det", Bits: 2, Kind: packed.Ternary, LatentBound: 1,
		Summary: "deterministic TernaryConnect: {-1,0,+1} with thresholds +-W0/3, no scale",
		Fn:      func(w, _ *Node, w0 float64) *Node { return TernaryConnectDet(w, w0) }})
	mustRegister(Quantizer{Name: "tc", Bits: 2, Kind: packed.Ternary, Stochastic: true, Deploy: "tc-det", LatentBound: 1,
		Summary: "TernaryConnect (Lin et al. 2016), stochastic: sign(W) with probability clip(|W|/W0,0,1), no scale",
		Fn:      func(w, u *Node, w0 float64) *Node { return TernaryConnect(w, u, w0) }})
	mustRegister(Quantizer{Name: "twn", Bits: 2, Kind: packed.Ternary,
		Summary: "Ternary Weight Networks (Li et al. 2016): threshold 0.7*mean|W|, scale mean|W| above it",
		Fn:      func(w, _ *Node, _ float64) *Node { return TWN(w) }})
	for k := 2; k <= 4; k++ {
		mustRegister(Quantizer{Name: fmt.Sprintf("k%d", k), Bits: k, Kind: packed.Float32,
			Summary: fmt.Sprintf("%d-bit uniform: %d levels evenly over [-max|W|, max|W|]", k, 1<<k),
			Fn:      func(w, _ *Node, _ float64) *Node { return Uniform(w, k) }})
	}
}

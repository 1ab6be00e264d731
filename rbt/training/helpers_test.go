package training

import (
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
)

// A tiny character-level LSTM written with GoMLX ops, on synthetic
// deterministic data: vocabulary V, hidden H, length T, batch B.
const (
	tV, tH, tT, tB = 8, 8, 6, 4
)

// noisy adds N(0, 0.01^2) noise to the input matrix in every forward pass
// (training and inference), so that the store's RNG is used everywhere, like
// the stochastic quantizers of the "code" inference mode.
func charLSTM(noisy bool) func(scope *model.Scope, tokens *Node) *Node {
	return func(scope *model.Scope, tokens *Node) *Node {
		g := tokens.Graph()
		f32 := dtypes.Float32
		emb := scope.In("emb").VariableWithShape("table", shapes.Make(f32, tV, tH)).NodeValue(g)
		x := Gather(emb, InsertAxes(tokens, -1)) // [B, T, H]
		sc := scope.In("lstm")
		wx := sc.VariableWithShape("qw_x", shapes.Make(f32, tH, 4*tH)).NodeValue(g)
		if noisy {
			wx = Add(wx, StopGradient(MulScalar(scope.RandomNormal(g, wx.Shape()), 0.01)))
		}
		wh := sc.VariableWithShape("qw_h", shapes.Make(f32, tH, 4*tH)).NodeValue(g)
		bias := sc.VariableWithValue("bias", make([]float32, 4*tH)).NodeValue(g)
		b := tokens.Shape().Dim(0)
		h := Zeros(g, shapes.Make(f32, b, tH))
		c := h
		outs := make([]*Node, tT)
		for t := range tT {
			xt := Reshape(SliceAxis(x, 1, AxisElem(t)), b, tH)
			z := Add(Add(MatMul(xt, wx), MatMul(h, wh)), ExpandAxes(bias, 0))
			gate := func(k int) *Node { return SliceAxis(z, 1, AxisRange(k*tH, (k+1)*tH)) }
			c = Add(Mul(Sigmoid(gate(1)), c), Mul(Sigmoid(gate(0)), Tanh(gate(2))))
			h = Mul(Sigmoid(gate(3)), Tanh(c))
			outs[t] = ExpandAxes(h, 1)
		}
		hs := Concatenate(outs, 1)
		w := scope.In("out").VariableWithShape("w", shapes.Make(f32, tH, tV)).NodeValue(g)
		return Einsum("bth,hv->btv", hs, w)
	}
}

// nats returns the per-character cross entropy [B, T] of logits [B, T, V] and labels [B, T].
func nats(logits, labels *Node) *Node {
	oneHot := OneHot(labels, tV, logits.DType())
	return Neg(ReduceSum(Mul(oneHot, LogSoftmax(logits, -1)), -1))
}

func ceLoss(labels, predictions []*Node) *Node { return ReduceAllMean(nats(predictions[0], labels[0])) }

// bitsSum is the SumFn of the tiny model: total bits and characters.
func bitsSum(noisy bool) SumFn {
	m := charLSTM(noisy)
	return func(scope *model.Scope, inputs, labels []*Node) (*Node, *Node) {
		logits := m(scope, inputs[0])
		sum := DivScalar(ReduceAllSum(nats(logits, labels[0])), math.Ln2)
		return sum, Scalar(sum.Graph(), dtypes.Float32, float64(labels[0].Shape().Size()))
	}
}

// synth is a Source of synthetic text: each row follows x[k+1] = (x[k] + step)
// mod V with a row-specific step and 10% random characters, so it is
// learnable; batches are a pure function of (seed, epoch, index).
type synth struct {
	seed uint64
	n    int
}

func (s synth) BatchesPerEpoch() int { return s.n }

func (s synth) Batch(epoch, index int) (train.Batch, error) {
	r := rand.New(rand.NewPCG(s.seed, uint64(epoch)<<32|uint64(index)))
	in := make([]int32, tB*tT)
	lab := make([]int32, tB*tT)
	for b := range tB {
		step := int32(1 + r.IntN(2))
		x := int32(r.IntN(tV))
		for t := 0; t <= tT; t++ {
			if t < tT {
				in[b*tT+t] = x
			}
			if t > 0 {
				lab[b*tT+t-1] = x
			}
			x = (x + step) % tV
			if r.Float64() < 0.1 {
				x = int32(r.IntN(tV))
			}
		}
	}
	return train.Batch{
		Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(in, tB, tT)},
		Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(lab, tB, tT)},
	}, nil
}

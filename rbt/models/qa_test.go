package models

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// TestReverseWithin checks the in-length reversal on a hand-worked case and
// that it is its own inverse.
func TestReverseWithin(t *testing.T) {
	x := [][]float32{{1, 2, 3, 4, 5}, {6, 7, 8, 0, 0}, {9, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}
	lens := []int32{5, 3, 1, 0}
	want := [][]float32{{5, 4, 3, 2, 1}, {8, 7, 6, 0, 0}, {9, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}
	out := MustExecOnceN(backend.Must(), func(x, l *Node) []*Node {
		x3 := InsertAxes(x, -1)
		r := ReverseWithin(x3, l)
		return []*Node{Squeeze(r, -1), Squeeze(ReverseWithin(r, l), -1)}
	}, x, lens)
	got := out[0].Value().([][]float32)
	back := out[1].Value().([][]float32)
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] || back[i][j] != x[i][j] {
				t.Fatalf("row %d: reversed %v (want %v), twice %v (want %v)", i, got[i], want[i], back[i], x[i])
			}
		}
	}
}

// TestQALoss compares QALoss with a float64 log-softmax on random logits,
// with and without a row mask.
func TestQALoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const B, E = 4, 7
	logits := make([][]float32, B)
	ans := []int32{0, 3, 6, 2}
	mask := []float32{1, 1, 0, 1}
	var sum, sumMasked, cnt float64
	for b := range B {
		logits[b] = make([]float32, E)
		mx := math.Inf(-1)
		for e := range E {
			logits[b][e] = float32(rng.NormFloat64() * 3)
			mx = math.Max(mx, float64(logits[b][e]))
		}
		z := 0.0
		for e := range E {
			z += math.Exp(float64(logits[b][e]) - mx)
		}
		nll := math.Log(z) + mx - float64(logits[b][ans[b]])
		sum += nll
		sumMasked += nll * float64(mask[b])
		cnt += float64(mask[b])
	}
	out := MustExecOnceN(backend.Must(), func(lg, a, m *Node) []*Node {
		return []*Node{QALoss([]*Node{a}, []*Node{lg}), QALoss([]*Node{a, m}, []*Node{lg})}
	}, logits, ans, mask)
	if got := float64(out[0].Value().(float32)); math.Abs(got-sum/B) > 1e-5 {
		t.Errorf("QALoss = %v, want %v", got, sum/B)
	}
	if got := float64(out[1].Value().(float32)); math.Abs(got-sumMasked/cnt) > 1e-5 {
		t.Errorf("masked QALoss = %v, want %v", got, sumMasked/cnt)
	}
}

// qaBatch builds a random batch: documents of lengths docLens padded to D
// with pad (token ids), questions of lengths qLens padded to Q.
type qaRows struct {
	doc, q   [][]int32
	dl, ql   []int32
	cand     [][]float32
	ans      []int32
	vocab, E int
}

func (r qaRows) tensors(D, Q int, pad func(b, t int) int32) []*tensors.Tensor {
	B := len(r.doc)
	d := make([]int32, B*D)
	q := make([]int32, B*Q)
	for b := range B {
		for t := range D {
			if t < len(r.doc[b]) {
				d[b*D+t] = r.doc[b][t]
			} else {
				d[b*D+t] = pad(b, t)
			}
		}
		for t := range Q {
			if t < len(r.q[b]) {
				q[b*Q+t] = r.q[b][t]
			} else {
				q[b*Q+t] = pad(b, t)
			}
		}
	}
	return []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(d, B, D), tensors.FromValue(r.dl),
		tensors.FromFlatDataAndDimensions(q, B, Q), tensors.FromValue(r.ql),
		tensors.FromValue(r.cand),
	}
}

// TestAttentiveReaderPaddingAndMask trains a tiny reader for a few steps,
// then checks in deploy mode (population statistics: each row is computed
// independently of the others) that
//   - a row's logits do not change when its padding tokens are replaced by
//     random tokens and the batch is padded further (neither direction of
//     either biLSTM, nor the attention, reads padding), and
//   - non-candidates get -1e9 and the arg max is always a candidate.
func TestAttentiveReaderPaddingAndMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const B, E, V = 8, 10, 30
	r := qaRows{vocab: V, E: E}
	for range B {
		dl, ql := 4+rng.IntN(6), 2+rng.IntN(3)
		doc := make([]int32, dl)
		for i := range doc {
			doc[i] = int32(rng.IntN(V))
		}
		q := make([]int32, ql)
		for i := range q {
			q[i] = int32(E + rng.IntN(V-E))
		}
		cand := make([]float32, E)
		for _, e := range []int{rng.IntN(E), rng.IntN(E), rng.IntN(E)} {
			cand[e] = 1
		}
		var a int32
		for e := range E {
			if cand[e] == 1 {
				a = int32(e)
			}
		}
		r.doc, r.q, r.dl, r.ql = append(r.doc, doc), append(r.q, q), append(r.dl, int32(dl)), append(r.ql, int32(ql))
		r.cand, r.ans = append(r.cand, cand), append(r.ans, a)
	}
	b := backend.Must()
	for _, tc := range []struct {
		q    string
		norm recurrent.Normalization
	}{{"binary", recurrent.PerStepBN}, {"ternary", recurrent.PerStepBN}, {"fp", recurrent.None}} {
		t.Run(tc.q+"/"+tc.norm.String(), func(t *testing.T) {
			net := AttentiveReader{Vocab: V, Entities: E, Embedding: 6, Hidden: 5, Attention: 4, Quantizer: tc.q, Normalization: tc.norm}
			store := model.NewStore()
			store.SetRNGStateFromSeed(3)
			tr := train.NewTrainer(b, store, net.Logits, QALoss, optim.Adam().LearningRate(0.01).Done(), nil, nil)
			for range 3 {
				if _, err := tr.TrainStep(train.Batch{Inputs: r.tensors(10, 5, func(int, int) int32 { return 0 }),
					Labels: []*tensors.Tensor{tensors.FromValue(r.ans)}}); err != nil {
					t.Fatal(err)
				}
			}
			deploy := net
			deploy.Inference = recurrent.DeployMode
			eval := func(ins []*tensors.Tensor) [][]float32 {
				exec := model.MustNewExec(b, store, func(scope *model.Scope, xs []*Node) *Node {
					scope.SetTraining(xs[0].Graph(), false)
					return deploy.Logits(scope, xs)
				})
				args := make([]any, len(ins))
				for i, x := range ins {
					args[i] = x
				}
				return exec.MustCall(args...)[0].Value().([][]float32)
			}
			base := eval(r.tensors(10, 5, func(int, int) int32 { return 0 }))
			noisy := eval(r.tensors(14, 7, func(b, t int) int32 { return int32((b*7 + t*3) % V) }))
			for row := range B {
				best := 0
				for e := range E {
					if d := math.Abs(float64(base[row][e] - noisy[row][e])); d > 1e-4*(1+math.Abs(float64(base[row][e]))) && r.cand[row][e] == 1 {
						t.Errorf("row %d entity %d: logit %v with zero padding, %v with other padding", row, e, base[row][e], noisy[row][e])
					}
					if r.cand[row][e] == 0 && base[row][e] > -1e8 {
						t.Errorf("row %d: non-candidate %d has logit %v", row, e, base[row][e])
					}
					if base[row][e] > base[row][best] {
						best = e
					}
				}
				if r.cand[row][best] != 1 {
					t.Errorf("row %d: arg max %d is not a candidate", row, best)
				}
			}
		})
	}
}

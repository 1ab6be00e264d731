package packed

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestRandomZeroFrac checks the share of zero weights that ZeroFrac asks for
// (and the 1/3 of the default ternary draw), and the specs it rejects.
func TestRandomZeroFrac(t *testing.T) {
	for _, zf := range []float64{0, 0.1, 0.5, 0.9} {
		m, err := RandomModel(RandomSpec{Cell: GRU, Weights: Ternary, Input: OneHot, Vocab: 50, Hidden: []int{100}, ZeroFrac: zf, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		l := m.Layers[0]
		zeros, plus := 0, 0
		all := slices.Concat(l.WxSign, l.WhSign)
		for _, s := range all {
			switch s {
			case 0:
				zeros++
			case 1:
				plus++
			}
		}
		want := zf
		if zf == 0 {
			want = 1.0 / 3
		}
		n := float64(len(all)) // 45,000 weights: the share's spread is below 0.003
		if got := float64(zeros) / n; math.Abs(got-want) > 0.01 {
			t.Errorf("ZeroFrac %g: %.4f of the weights are zero, want %.4f", zf, got, want)
		}
		if got := float64(plus) / n; math.Abs(got-(1-want)/2) > 0.01 {
			t.Errorf("ZeroFrac %g: %.4f of the weights are +1, want %.4f", zf, got, (1-want)/2)
		}
	}
	for _, tc := range []struct {
		spec RandomSpec
		want string
	}{
		{RandomSpec{Cell: LSTM, Weights: Ternary, Input: OneHot, Vocab: 5, Hidden: []int{4}, ZeroFrac: 1}, "ZeroFrac 1 not in [0, 1)"},
		{RandomSpec{Cell: LSTM, Weights: Ternary, Input: OneHot, Vocab: 5, Hidden: []int{4}, ZeroFrac: -0.1}, "ZeroFrac -0.1 not in [0, 1)"},
		{RandomSpec{Cell: LSTM, Weights: Binary, Input: OneHot, Vocab: 5, Hidden: []int{4}, ZeroFrac: 0.5}, "needs Ternary weights"},
	} {
		if _, err := RandomModel(tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ZeroFrac %g with %s weights: error %v, want %q", tc.spec.ZeroFrac, tc.spec.Weights, err, tc.want)
		}
	}
}

// TestRandomBatchNorm runs BatchNorm models in float64 and checks what the
// option promises: the gates' pre-activations (logit of the sigmoid gates)
// spread by a few tenths, the forget gate sits around its shift of 1, and
// the per-step blocks differ by about 10%. The default statistics serve as
// the contrast: no forget-gate shift and a wider spread.
func TestRandomBatchNorm(t *testing.T) {
	for _, tc := range []struct {
		name               string
		spec               RandomSpec
		forget             float64 // mean forget-gate pre-activation
		spreadLo, spreadHi float64 // standard deviation of the input gate's pre-activation
	}{
		{"binary-onehot", RandomSpec{Weights: Binary, Input: OneHot, Vocab: 20, Hidden: []int{64, 64}, BatchNorm: true}, 1, 0.1, 0.8},
		{"ternary-sparse-dense", RandomSpec{Weights: Ternary, Input: Dense, Features: 30, Classes: 4, Hidden: []int{80}, ZeroFrac: 0.6, BatchNorm: true}, 1, 0.1, 0.8},
		{"float-embedding", RandomSpec{Weights: Float32, Input: Embedding, Vocab: 20, EmbeddingDim: 16, Hidden: []int{48}, BatchNorm: true}, 1, 0.1, 0.8},
		{"default-statistics", RandomSpec{Weights: Binary, Input: OneHot, Vocab: 20, Hidden: []int{64}}, 0, 0.8, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Cell, spec.Steps, spec.Seed = LSTM, 8, 7
			m, err := RandomModel(spec)
			if err != nil {
				t.Fatal(err)
			}
			st, err := NewStepper64(m)
			if err != nil {
				t.Fatal(err)
			}
			logit := func(p float64) float64 { return math.Log(p / (1 - p)) }
			var sumF, sumI, sumI2, count float64
			st.OnLSTMGates = func(layer, unit int, i, f, o, g, c, h float64) {
				sumF += logit(f)
				sumI += logit(i)
				sumI2 += logit(i) * logit(i)
				count++
			}
			rng := rand.New(rand.NewPCG(1, 2))
			x := make([]float32, spec.Features)
			for range 40 {
				for k := range x {
					x[k] = float32(2*rng.Float64() - 1)
				}
				if err := st.Step(rng.IntN(max(spec.Vocab, 1)), x); err != nil {
					t.Fatal(err)
				}
			}
			forget, mean := sumF/count, sumI/count
			spread := math.Sqrt(sumI2/count - mean*mean)
			t.Logf("forget-gate pre-activation mean %.3f, input-gate pre-activation mean %.3f sd %.3f", forget, mean, spread)
			if math.Abs(forget-tc.forget) > 0.25 {
				t.Errorf("forget-gate pre-activation mean %.3f, want %g +- 0.25", forget, tc.forget)
			}
			if spread < tc.spreadLo || spread > tc.spreadHi {
				t.Errorf("input-gate pre-activation sd %.3f, want in [%g, %g]", spread, tc.spreadLo, tc.spreadHi)
			}
			if !spec.BatchNorm {
				return
			}
			// Step s's scale over step 0's, unit by unit: 10% jitter on both
			// gives a ratio with a spread of about 0.14.
			l := m.Layers[0]
			gn := 4 * l.Hidden
			var sum, sum2, k float64
			for s := 1; s < l.Steps; s++ {
				for j := range gn {
					r := float64(l.ScaleX[s*gn+j] / l.ScaleX[j])
					sum += r
					sum2 += r * r
					k++
				}
			}
			rmean := sum / k
			rsd := math.Sqrt(sum2/k - rmean*rmean)
			if math.Abs(rmean-1) > 0.05 || rsd < 0.1 || rsd > 0.2 {
				t.Errorf("ScaleX step/step-0 ratio: mean %.3f sd %.3f, want about 1 and 0.14", rmean, rsd)
			}
		})
	}
}

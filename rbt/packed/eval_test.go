package packed

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// refNLL computes the windowed cross-entropy from Reference64, window by
// window, each from the initial state.
func refNLL(t *testing.T, m *Model, tokens []int, w int) (float64, int) {
	var total float64
	count := 0
	for s := 0; s < len(tokens)-1; s += w {
		length := min(w, len(tokens)-1-s)
		logits, err := Reference64(m, tokens[s:s+length], nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range logits {
			mx := math.Inf(-1)
			for _, v := range l {
				mx = max(mx, v)
			}
			var sum float64
			for _, v := range l {
				sum += math.Exp(v - mx)
			}
			total += math.Log(sum) + mx - l[tokens[s+i+1]]
			count++
		}
	}
	return total, count
}

func TestEvaluateLM(t *testing.T) {
	for _, in := range []InputKind{OneHot, Embedding} {
		spec := RandomSpec{Cell: LSTM, Weights: Binary, Input: in, Vocab: 12, EmbeddingDim: 9, Hidden: []int{24}, Steps: 4, Seed: 8}
		m, err := RandomModel(spec)
		if err != nil {
			t.Fatal(err)
		}
		e, err := NewEngine(m)
		if err != nil {
			t.Fatal(err)
		}
		tokens, _ := randomInputs(spec, 48, 77) // 47 predictions: windows of 10 leave a short one
		for _, c := range []struct{ window, batch int }{{10, 1}, {10, 3}, {10, 8}, {0, 1}, {47, 2}, {5, 4}} {
			got, err := EvaluateLM(e, tokens, LMEval{Window: c.window, Batch: c.batch})
			if err != nil {
				t.Fatal(err)
			}
			w := c.window
			if w <= 0 {
				w = len(tokens) - 1
			}
			want, n := refNLL(t, m, tokens, w)
			if got.Predicted != n || n != len(tokens)-1 {
				t.Errorf("%s window %d: %d predictions, want %d", in, c.window, got.Predicted, n)
			}
			if math.Abs(got.NLL-want) > 1e-4*want {
				t.Errorf("%s window %d batch %d: NLL %.6f, reference %.6f", in, c.window, c.batch, got.NLL, want)
			}
			if bpc := got.BPC(); math.Abs(bpc-got.CrossEntropy()/math.Ln2) > 1e-12 || bpc <= 0 {
				t.Errorf("BPC %v inconsistent", bpc)
			}
		}
	}
}

// With one statistic block the step index does not matter, so carrying the
// state over windows must equal a single stream over the whole sequence.
func TestEvaluateLMCarry(t *testing.T) {
	spec := RandomSpec{Cell: GRU, Weights: Ternary, Input: OneHot, Vocab: 7, Hidden: []int{16}, Steps: 1, Seed: 9}
	m, _ := RandomModel(spec)
	e, _ := NewEngine(m)
	tokens, _ := randomInputs(spec, 40, 5)
	whole, err := EvaluateLM(e, tokens, LMEval{})
	if err != nil {
		t.Fatal(err)
	}
	carried, err := EvaluateLM(e, tokens, LMEval{Window: 6, Carry: true})
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := EvaluateLM(e, tokens, LMEval{Window: 6})
	if math.Abs(whole.NLL-carried.NLL) > 1e-9*whole.NLL || whole.Predicted != carried.Predicted {
		t.Errorf("carried windows %v != whole stream %v", carried, whole)
	}
	if math.Abs(whole.NLL-fresh.NLL) < 1e-6 {
		t.Errorf("fresh windows equal the whole stream: the Carry test proves nothing")
	}
	if _, err := EvaluateLM(e, []int{1, 99}, LMEval{}); err == nil {
		t.Error("out-of-range token accepted")
	}
}

func TestEvaluateAccuracy(t *testing.T) {
	spec := RandomSpec{Cell: LSTM, Weights: Ternary, Input: Dense, Features: 2, Hidden: []int{12}, Steps: 3, Classes: 4, Seed: 10}
	m, _ := RandomModel(spec)
	e, _ := NewEngine(m)
	const seqs, steps = 9, 5
	var x []float32
	labels := make([]int, seqs)
	wantCorrect := 0
	for i := range seqs {
		_, xi := randomInputs(spec, steps, uint64(i))
		x = append(x, xi...)
		ref, err := Reference64(m, nil, xi)
		if err != nil {
			t.Fatal(err)
		}
		last := ref[steps-1]
		best := 0
		for k, v := range last {
			if v > last[best] {
				best = k
			}
		}
		if i%3 == 0 {
			labels[i] = (best + 1) % 4 // deliberately wrong
		} else {
			labels[i] = best
			wantCorrect++
		}
	}
	for _, batch := range []int{1, 4, 9} {
		acc, err := EvaluateAccuracy(e, x, labels, steps, batch)
		if err != nil {
			t.Fatal(err)
		}
		if want := float64(wantCorrect) / seqs; acc != want {
			t.Errorf("batch %d: accuracy %v, want %v", batch, acc, want)
		}
	}
	if _, err := EvaluateAccuracy(e, x[:len(x)-1], labels, steps, 1); err == nil {
		t.Error("short features accepted")
	}
}

func TestGenerate(t *testing.T) {
	m, err := RandomModel(RandomSpec{Cell: LSTM, Weights: Binary, Input: OneHot, Vocab: 30, Hidden: []int{32}, Steps: 2, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Generate(m, "hello", 50, 0.8, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(m, "hello", 50, 0.8, 1)
	c, _ := Generate(m, "hello", 50, 0.8, 2)
	if a != b {
		t.Errorf("same seed, different text: %q vs %q", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same text %q", a)
	}
	if utf8.RuneCountInString(a) != 50 {
		t.Errorf("generated %d characters, want 50", utf8.RuneCountInString(a))
	}
	// Temperature 0 is greedy: check against the float64 reference.
	g, _ := Generate(m, "ab", 6, 0, 1)
	e, _ := NewEngine(m)
	toks, _ := e.Tokenize("ab")
	for i := range 6 {
		ref, _ := Reference64(m, toks, nil)
		last := ref[len(ref)-1]
		best := 0
		for k, v := range last {
			if v > last[best] {
				best = k
			}
		}
		if want := m.Vocab[best]; string([]rune(g)[i]) != want {
			t.Fatalf("greedy character %d = %q, reference argmax %q (text %q)", i, string([]rune(g)[i]), want, g)
		}
		toks = append(toks, best)
	}
	if _, err := Generate(m, "h\x00", 5, 1, 1); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("unknown character: err = %v", err)
	}
	if _, err := Generate(m, "", 5, 1, 1); err == nil {
		t.Error("empty prime accepted")
	}
}

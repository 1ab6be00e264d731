package packed

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// LMScore is the cross-entropy of a language model over a token sequence.
type LMScore struct {
	Predicted int     // number of predicted tokens (each counted once)
	NLL       float64 // total negative log-likelihood, in nats
}

// CrossEntropy is the mean NLL per predicted token, in nats.
func (s LMScore) CrossEntropy() float64 { return s.NLL / float64(s.Predicted) }

// BPC is the mean NLL in bits per token (bits per character for char models).
func (s LMScore) BPC() float64 { return s.CrossEntropy() / math.Ln2 }

// Perplexity is exp(CrossEntropy()).
func (s LMScore) Perplexity() float64 { return math.Exp(s.CrossEntropy()) }

// LMEval says how EvaluateLM walks a sequence.
type LMEval struct {
	// Window is the number of inputs per window: the sequence tokens[0..N-1]
	// is cut into windows tokens[k*W .. k*W+W] (W inputs, predicting the next
	// W tokens; consecutive windows share one boundary token, which is the
	// last target of one window and the first input of the next), so every
	// token after the first is predicted exactly once. The last window may be
	// shorter. Window <= 0 means one window over the whole sequence. The
	// char-level runs of the paper train and evaluate with W = 100.
	Window int
	// Batch is the number of windows run side by side (default 1). Ignored
	// with Carry.
	Batch int
	// Carry passes the final h, c of a window to the next (truncated-BPTT
	// evaluation, as in word-level PTB); the step index still restarts at 0
	// in every window, as during training. Without Carry every window starts
	// from the learned initial state (the char-level protocol).
	Carry bool
}

// EvaluateLM returns the cross-entropy of a token model on tokens.
func EvaluateLM(e *Engine, tokens []int, opt LMEval) (LMScore, error) {
	if e.input == Dense {
		return LMScore{}, errors.New("packed: EvaluateLM needs a token model")
	}
	if len(tokens) < 2 {
		return LMScore{}, fmt.Errorf("packed: EvaluateLM: %d tokens, need at least 2", len(tokens))
	}
	for i, t := range tokens {
		if t < 0 || t >= e.vocabSize || t >= e.classes {
			return LMScore{}, fmt.Errorf("packed: EvaluateLM: token %d at position %d out of range (vocabulary %d, classes %d)", t, i, e.vocabSize, e.classes)
		}
	}
	w := opt.Window
	if w <= 0 || w > len(tokens)-1 {
		w = len(tokens) - 1
	}
	batch := max(opt.Batch, 1)
	if opt.Carry {
		batch = 1
	}
	var starts []int
	for s := 0; s < len(tokens)-1; s += w {
		starts = append(starts, s)
	}
	var score LMScore
	var state *State
	logits := make([]float32, batch*e.classes)
	in := make([]int, 0, batch)
	for i := 0; i < len(starts); {
		// Group windows of equal length (all full ones; the last may be short).
		length := min(w, len(tokens)-1-starts[i])
		j := i
		for j < len(starts) && j-i < batch && min(w, len(tokens)-1-starts[j]) == length {
			j++
		}
		group := starts[i:j]
		if state == nil || state.Batch != len(group) {
			state = e.NewState(len(group))
			logits = logits[:len(group)*e.classes]
		} else if opt.Carry {
			state.T = 0
		} else {
			state.Reset()
		}
		for t := range length {
			in = in[:0]
			for _, s := range group {
				in = append(in, tokens[s+t])
			}
			e.step(state, in, nil)
			if err := e.Logits(state, logits); err != nil {
				return LMScore{}, err
			}
			for b, s := range group {
				score.NLL += NLL(logits[b*e.classes:(b+1)*e.classes], tokens[s+t+1])
				score.Predicted++
			}
		}
		i = j
	}
	return score, nil
}

// EvaluateBPC is EvaluateLM's bits per token with independent windows of the
// given length (<= 0: the whole sequence), 8 windows per batch.
func EvaluateBPC(e *Engine, tokens []int, window int) (float64, error) {
	s, err := EvaluateLM(e, tokens, LMEval{Window: window, Batch: 8})
	if err != nil {
		return 0, err
	}
	return s.BPC(), nil
}

// NLL is -log softmax(logits)[target] in nats, computed in float64 with the
// maximum subtracted: the one log-softmax of the engine, the simulator and
// the packed evaluations of rbt/models.
func NLL[F float32 | float64](logits []F, target int) float64 {
	mx := float64(logits[0])
	for _, v := range logits {
		mx = max(mx, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	return math.Log(sum) + mx - float64(logits[target])
}

// EvaluateAccuracy classifies sequences of a Dense model from the logits
// after their last step (sequential MNIST: steps = 784, Input = 1). x holds
// len(labels) sequences of steps x InputWidth features, row-major; batch
// sequences run side by side. It returns the fraction classified correctly.
func EvaluateAccuracy(e *Engine, x []float32, labels []int, steps, batch int) (float64, error) {
	if e.input != Dense {
		return 0, errors.New("packed: EvaluateAccuracy needs a dense-input model")
	}
	per := steps * e.inputWidth
	if steps <= 0 || len(labels) == 0 || len(x) != len(labels)*per {
		return 0, fmt.Errorf("packed: EvaluateAccuracy: %d features for %d sequences of %d steps x %d", len(x), len(labels), steps, e.inputWidth)
	}
	for i, l := range labels {
		if l < 0 || l >= e.classes {
			return 0, fmt.Errorf("packed: EvaluateAccuracy: label %d of sequence %d out of range [0, %d)", l, i, e.classes)
		}
	}
	batch = max(batch, 1)
	correct := 0
	var s *State
	var in, logits []float32
	for lo := 0; lo < len(labels); lo += batch {
		hi := min(lo+batch, len(labels))
		if s == nil || s.Batch != hi-lo { // all batches but the last have the same size
			s = e.NewState(hi - lo)
			in = make([]float32, (hi-lo)*e.inputWidth)
			logits = make([]float32, (hi-lo)*e.classes)
		} else {
			s.Reset()
		}
		for t := range steps {
			for b := lo; b < hi; b++ {
				copy(in[(b-lo)*e.inputWidth:], x[b*per+t*e.inputWidth:][:e.inputWidth])
			}
			e.step(s, nil, in)
		}
		if err := e.Logits(s, logits); err != nil {
			return 0, err
		}
		for b := lo; b < hi; b++ {
			if Argmax(logits[(b-lo)*e.classes:(b-lo+1)*e.classes]) == labels[b] {
				correct++
			}
		}
	}
	return float64(correct) / float64(len(labels)), nil
}

// Argmax returns the index of the largest value of v (the first on ties): the
// predicted class or token of a row of logits.
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Tokenize maps text to token ids with the model's vocabulary: character by
// character (rune by rune) when every vocabulary entry is one character,
// else by whitespace-separated words. Unknown characters or words are an
// error naming them.
func (e *Engine) Tokenize(text string) ([]int, error) {
	if len(e.vocab) == 0 {
		return nil, errors.New("packed: model has no vocabulary")
	}
	index := make(map[string]int, len(e.vocab))
	for i, v := range e.vocab {
		if _, dup := index[v]; !dup {
			index[v] = i
		}
	}
	var pieces []string
	if e.charVocab() {
		for _, r := range text {
			pieces = append(pieces, string(r))
		}
	} else {
		pieces = strings.Fields(text)
	}
	out := make([]int, len(pieces))
	for i, p := range pieces {
		id, ok := index[p]
		if !ok {
			return nil, fmt.Errorf("packed: %q is not in the model's vocabulary", p)
		}
		out[i] = id
	}
	return out, nil
}

func (e *Engine) charVocab() bool {
	for _, v := range e.vocab {
		if utf8.RuneCountInString(v) != 1 {
			return false
		}
	}
	return true
}

// Generate primes the model with prime (at least one token), then samples n
// more tokens from softmax(logits / temperature) (temperature <= 0: always
// the most likely token), with a PCG generator seeded by seed: the same
// arguments give the same text. It returns the generated text only (without
// the prime); word models join tokens with spaces.
func (e *Engine) Generate(prime string, n int, temperature float64, seed int64) (string, error) {
	if e.input == Dense {
		return "", errors.New("packed: Generate needs a token model")
	}
	if e.classes != e.vocabSize || len(e.vocab) != e.vocabSize {
		return "", fmt.Errorf("packed: Generate needs Classes = vocabulary size (classes %d, vocabulary %d)", e.classes, len(e.vocab))
	}
	toks, err := e.Tokenize(prime)
	if err != nil {
		return "", err
	}
	if len(toks) == 0 {
		return "", errors.New("packed: Generate: empty prime (give at least one token)")
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x67656e))
	s := e.NewState(1)
	logits := make([]float32, e.classes)
	probs := make([]float64, e.classes)
	var sb strings.Builder
	sep := ""
	if !e.charVocab() {
		sep = " "
	}
	next := toks[0]
	for i := 0; i < len(toks)+n-1; i++ {
		if i < len(toks) {
			next = toks[i]
		}
		e.step(s, []int{next}, nil)
		if i < len(toks)-1 {
			continue
		}
		if err := e.Logits(s, logits); err != nil {
			return "", err
		}
		next = SampleLogits(logits, probs, temperature, rng)
		if sb.Len() > 0 {
			sb.WriteString(sep)
		}
		sb.WriteString(e.vocab[next])
	}
	return sb.String(), nil
}

// Generate builds an engine for m and calls Engine.Generate.
func Generate(m *Model, prime string, n int, temperature float64, seed int64) (string, error) {
	e, err := NewEngine(m)
	if err != nil {
		return "", err
	}
	return e.Generate(prime, n, temperature, seed)
}

// SampleLogits draws a token from softmax(logits / temperature) with rng
// (the argmax when temperature <= 0); probs is scratch space of len(logits).
func SampleLogits(logits []float32, probs []float64, temperature float64, rng *rand.Rand) int {
	if temperature <= 0 {
		return Argmax(logits)
	}
	mx := float64(logits[Argmax(logits)])
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp((float64(v) - mx) / temperature)
		sum += probs[i]
	}
	u := rng.Float64() * sum
	for i, p := range probs {
		u -= p
		if u < 0 {
			return i
		}
	}
	return len(probs) - 1
}

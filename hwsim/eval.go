package hwsim

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rbt-project/rbt/rbt/packed"
)

// EvalOptions controls a language-model evaluation of the functional sim.
type EvalOptions struct {
	// Segment resets the state (H0, C0, t = 0) every Segment input tokens,
	// as an evaluation over independent windows does; 0 runs the whole text
	// as one stream (how a deployed accelerator would see it). Every token
	// after the first is predicted exactly once either way.
	Segment int
	// Workers is the number of goroutines, each taking whole windows
	// (0: GOMAXPROCS). A single stream (Segment 0) uses one.
	Workers int
	// Reference also runs the float64 Reference on the same windows and
	// reports its BPC and the largest |h_fixed - h_float| (slow: a float
	// matrix-vector product per step).
	Reference bool
	// Progress, if set, is called with the predictions done so far and the
	// total, every few thousand steps and once at the end. It is called from
	// the worker goroutines and must be safe for concurrent use.
	Progress func(done, total int64)
}

// progressEvery is how many steps a worker takes between Progress calls.
const progressEvery = 4096

// Eval is the result of a functional evaluation.
type Eval struct {
	Design      string  `csv:"design"`
	ActBits     int     `csv:"act_bits"`
	Predictions int64   `csv:"predictions"`
	BPC         float64 `csv:"bpc"`     // bits per character (mean -log2 p) on the fixed-point datapath
	RefBPC      float64 `csv:"ref_bpc"` // same windows, float64 Reference (NaN if not run)
	MaxAbsDH    float64 `csv:"max_abs_dh"`
	Seconds     float64 `csv:"seconds"`
	StepsPerSec float64 `csv:"steps_per_s"`
	// AccOverflow: the accumulator width could saturate for this model.
	AccOverflow bool    `csv:"acc_overflow_possible"`
	SigmErr     float64 `csv:"sigm_table_max_err"`
	TanhErr     float64 `csv:"tanh_table_max_err"`
}

// EvalTokens runs a next-token evaluation of the simulated accelerator on
// tokens (ids in [0, vocabulary)): the fixed-point recurrent layers, then the
// model's full-precision output layer in float64 on the dequantized h, and
// reports bits per token (BPC for a character model).
func (s *Sim) EvalTokens(tokens []int, opt EvalOptions) (Eval, error) {
	m := s.model
	if m.Input == packed.Dense {
		return Eval{}, fmt.Errorf("hwsim: EvalTokens needs a token model, this one has dense input")
	}
	if len(tokens) < 2 {
		return Eval{}, fmt.Errorf("hwsim: EvalTokens needs at least 2 tokens, got %d", len(tokens))
	}
	voc := m.VocabSize()
	for i, t := range tokens {
		if t < 0 || t >= voc || t >= m.Classes {
			return Eval{}, fmt.Errorf("hwsim: token %d at position %d out of range [0, %d)", t, i, min(voc, m.Classes))
		}
	}
	n := len(tokens) - 1 // predictions
	seg := opt.Segment
	if seg <= 0 || seg > n {
		seg = n
	}
	windows := (n + seg - 1) / seg
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, windows))
	start := time.Now()
	var done atomic.Int64
	progress := func(k int64) {
		if opt.Progress != nil && k > 0 {
			opt.Progress(done.Add(k), int64(n))
		}
	}
	type part struct {
		bits, refBits, maxDH float64
		err                  error
	}
	parts := make([]part, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			p := &parts[w]
			st := s.NewState()
			var ref *Reference
			if opt.Reference {
				ref, p.err = NewReference(m, s.cfg.ParamSteps)
				if p.err != nil {
					return
				}
			}
			last := len(m.Layers) - 1
			logits := make([]float64, m.Classes)
			hf := make([]float64, 0, m.Layers[last].Hidden)
			var pending int64 // steps not yet reported to Progress
			defer func() { progress(pending) }()
			for win := w * windows / workers; win < (w+1)*windows/workers; win++ {
				st.Reset()
				if ref != nil {
					ref.Reset()
				}
				for i := win * seg; i < min((win+1)*seg, n); i++ {
					if p.err = st.StepToken(tokens[i]); p.err != nil {
						return
					}
					if pending++; pending == progressEvery {
						progress(pending)
						pending = 0
					}
					hf = st.HFloat(hf[:0], last)
					s.output.logits(hf, logits)
					p.bits -= LogProb2(logits, tokens[i+1])
					if ref != nil {
						ref.Step(tokens[i], nil)
						for k, v := range ref.H(last) {
							p.maxDH = math.Max(p.maxDH, math.Abs(v-hf[k]))
						}
						s.output.logits(ref.H(last), logits)
						p.refBits -= LogProb2(logits, tokens[i+1])
					}
				}
			}
		}(w)
	}
	wg.Wait()
	e := Eval{Design: s.cfg.Name, ActBits: s.a, Predictions: int64(n), RefBPC: math.NaN(), AccOverflow: s.AccOverflowPossible,
		SigmErr: s.sig.maxErr, TanhErr: s.th.maxErr}
	var bits, refBits float64
	for _, p := range parts {
		if p.err != nil {
			return Eval{}, p.err
		}
		bits += p.bits
		refBits += p.refBits
		e.MaxAbsDH = math.Max(e.MaxAbsDH, p.maxDH)
	}
	e.BPC = bits / float64(n)
	if opt.Reference {
		e.RefBPC = refBits / float64(n)
	}
	e.Seconds = time.Since(start).Seconds()
	e.StepsPerSec = float64(n) / e.Seconds
	return e, nil
}

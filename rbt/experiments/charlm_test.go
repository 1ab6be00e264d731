package experiments

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/train/metric"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/budget"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/plots"
	"github.com/rbt-project/rbt/rbt/training"
)

// TestCharLMSmoke runs the smoke budget of the PTB-char experiment end to
// end (every model, both inference modes, figures, samples, files).
func TestCharLMSmoke(t *testing.T) {
	data, err := LoadCharLMData(TaskPTBChar, true)
	if err != nil {
		t.Skipf("PTB characters absent: %v", err)
	}
	cfg, err := CharLMSettings(TaskPTBChar, budget.Smoke)
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	start := time.Now()
	res, err := RunCharLM(context.Background(), cfg, data, "", &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	checkReport(t, res, true)
	t.Logf("smoke run: %s\n%s", time.Since(start), log.String())
	if len(res.Runs) != len(cfg.Models) {
		t.Fatalf("%d runs, want %d", len(res.Runs), len(cfg.Models))
	}
	for _, run := range res.Runs {
		for _, mode := range []string{"code", "deploy"} {
			for _, v := range []float64{run.Valid[mode], run.Test[mode]} {
				if math.IsNaN(v) || v <= 0 || v > 10 {
					t.Errorf("%s %s: BPC %v out of range", run.Model.Name, mode, v)
				}
			}
		}
	}
	// Learning happens: every run validated twice improved in between.
	learned := 0
	for _, run := range res.Runs {
		pts := run.History.Valid()
		if run.Diverged != "" || len(pts) < 2 {
			continue
		}
		if first, last := pts[0].Valid, pts[len(pts)-1].Valid; !(last < first) {
			t.Errorf("%s: validation BPC %.4f -> %.4f, did not fall", run.Model.Name, first, last)
		}
		learned++
	}
	if learned < 4 {
		t.Errorf("only %d runs with two validations", learned)
	}
	dir := t.TempDir()
	if err := res.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.md", "results.json", "curves.png", "tradeoff.png", "gates.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 100 {
			t.Errorf("%s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "results.md"))
	t.Logf("%s", md)
}

// tinyCharLM is a seconds-long config on PTB characters (or, when the data
// is absent, a generated corpus), for the tests below.
func tinyCharLM(t *testing.T) (CharLMConfig, *CharLMData) {
	t.Helper()
	data, err := LoadCharLMData(TaskPTBChar, true)
	if err != nil {
		// Generated text: a noisy counter over 12 symbols, learnable.
		ids := make([]uint8, 20000)
		for i := range ids {
			ids[i] = uint8((i*7 + i/13) % 12)
		}
		syms := []rune("abcdefghijkl")
		data = &CharLMData{Corpus: &datasets.CharCorpus{Name: "generated", Symbols: syms,
			Train: ids[:16000], Valid: ids[16000:18000], Test: ids[18000:]}, Label: "generated", Note: "generated"}
	}
	cfg := CharLMConfig{Task: TaskPTBChar, Budget: budget.Smoke, Hidden: 16, SeqLen: 10, Batch: 4,
		Steps: 8, EvalEvery: 3, LR: 0.01, LRFinal: 0.01, ValidChars: 81, TestChars: 81, Seed: 3,
		Models: []string{"bn-binary"}}
	return cfg, data
}

func tensorBytes(t *testing.T, x *tensors.Tensor) []byte {
	t.Helper()
	var out []byte
	if err := x.ConstBytes(func(b []byte) { out = append([]byte(nil), b...) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCharLMResumeIsBitIdentical trains the real BN binary CharLM (stochastic
// binary weights, per-step BN, Adam with the W0 step clip, validation in the
// stochastic "code" mode) for 8 steps uninterrupted, then the same run with
// its context cancelled after step 5 and resumed by a fresh loop (new store,
// new trainer) from its checkpoint directory: every variable (weights, BN
// statistics, Adam moments and counters, RNG state) must end bit-identical,
// and so must the learning curve.
func TestCharLMResumeIsBitIdentical(t *testing.T) {
	base, data := tinyCharLM(t)
	teacher := tinyTeacher(t, base, data)
	for _, tc := range []struct {
		name string
		opts func(*CharLMConfig)
	}{
		{"paper's recipe", func(*CharLMConfig) {}},
		{"distilled, latent step x2, moments reset", func(c *CharLMConfig) {
			c.Distill = Distillation{Teacher: teacher, Temperature: 2, Mix: 0.5}
			c.LatentLRScale, c.ResetMoments = 2, true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.opts(&cfg)
			checkResumeBitIdentical(t, cfg, data)
		})
	}
}

// trainTiny trains model name of cfg in dir (fresh or resumed) and returns
// its loop.
func trainTiny(t *testing.T, cfg CharLMConfig, data *CharLMData, name, dir string) *training.Loop {
	t.Helper()
	m, err := LookupCharLMModel(name)
	if err != nil {
		t.Fatal(err)
	}
	j, err := newCharLMJob(cfg, data, m, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.checkDir(); err != nil {
		t.Fatal(err)
	}
	l, err := j.loop(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l
}

// tinyTeacher trains the tiny full-precision BN-LSTM for the distillation
// tests and returns its run directory.
func tinyTeacher(t *testing.T, cfg CharLMConfig, data *CharLMData) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bn-fp")
	trainTiny(t, cfg, data, "bn-fp", dir)
	return dir
}

func checkResumeBitIdentical(t *testing.T, cfg CharLMConfig, data *CharLMData) {
	t.Helper()
	m, _ := LookupCharLMModel("bn-binary")
	newLoop := func(dir string, onStep func(*training.Loop, training.StepInfo) error) *training.Loop {
		j, err := newCharLMJob(cfg, data, m, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.checkDir(); err != nil {
			t.Fatal(err)
		}
		l, err := j.loop(nil, onStep)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	ref := newLoop(t.TempDir(), nil)
	if err := ref.Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := newLoop(dir, func(l *training.Loop, s training.StepInfo) error {
		if s.Step == 5 {
			cancel()
		}
		return nil
	})
	if err := first.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: got %v, want context.Canceled", err)
	}
	if got := first.State().Step; got != 5 {
		t.Fatalf("interrupted run stopped at step %d, want 5", got)
	}
	second := newLoop(dir, nil)
	if err := second.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if second.ResumedFrom() == "" {
		t.Fatal("the second run did not resume")
	}
	if second.State().Step != 8 {
		t.Fatalf("resumed run ended at step %d, want 8", second.State().Step)
	}
	compared := 0
	for va := range ref.Store().IterVariables() {
		if strings.HasPrefix(va.Path(), "/"+metric.Scope+"/") {
			continue // the trainer's loss moving average: per trainer, not checkpointed.
		}
		vb := second.Store().GetVariable(va.Path())
		if vb == nil {
			t.Errorf("variable %s missing after resume", va.Path())
			continue
		}
		if !bytes.Equal(tensorBytes(t, va.MustValue()), tensorBytes(t, vb.MustValue())) {
			t.Errorf("variable %s differs after resume", va.Path())
		}
		compared++
	}
	if compared < 15 {
		t.Errorf("only %d variables compared", compared)
	}
	a, b := ref.History(), second.History()
	if len(a.Points) != len(b.Points) {
		t.Fatalf("history: %d points uninterrupted, %d resumed", len(a.Points), len(b.Points))
	}
	for i := range a.Points {
		pa, pb := a.Points[i], b.Points[i]
		if pa.Step != pb.Step || pa.Valid != pb.Valid || pa.TrainLoss != pb.TrainLoss {
			t.Errorf("history point %d: %+v vs %+v", i, pa, pb)
		}
	}
	// Another config in the same directory is refused with a clear error.
	other := cfg
	other.Hidden = 17
	j, _ := newCharLMJob(other, data, m, dir)
	if err := j.checkDir(); err == nil || !strings.Contains(err.Error(), runSettingsFile) {
		t.Errorf("other settings in the same directory: got %v, want an error naming %s", err, runSettingsFile)
	}
}

// TestDeployBPCMatchesPackedModel trains the tiny BN binary model, then
// checks the whole deploy path: the deploy-mode BPC computed by GoMLX (the
// graph with deterministic weights and population statistics) equals, within
// float32 rounding, the BPC of the exported packed model evaluated in float64
// by RecordGates on the same test windows.
func TestDeployBPCMatchesPackedModel(t *testing.T) {
	cfg, data := tinyCharLM(t)
	cfg.TestChars = 2*cfg.Batch*cfg.SeqLen + 1 // whole batches: no padding
	m, _ := LookupCharLMModel("bn-binary")
	run, err := TrainCharLM(context.Background(), cfg, data, m, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, bits, err := RecordGates(run.Packed, data.Corpus.Test[:cfg.TestChars], cfg.SeqLen, 2*cfg.Batch)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(bits - run.Test["deploy"]); d > 2e-4*bits {
		t.Errorf("deploy BPC: GoMLX %.6f, packed model in float64 %.6f", run.Test["deploy"], bits)
	}
	if run.Packed.Layers[0].Weights != packed.Binary {
		t.Errorf("exported weights %v, want binary", run.Packed.Layers[0].Weights)
	}
	if want := int64(4 * 16 * (data.Corpus.NumSymbols() + 16)); run.Weights != want || run.WeightBytes != (want+7)/8 {
		t.Errorf("weights %d (%d bytes), want %d (%d bytes)", run.Weights, run.WeightBytes, want, (want+7)/8)
	}
	t.Logf("deploy BPC %.6f (GoMLX) vs %.6f (packed, float64); code %.4f", run.Test["deploy"], bits, run.Test["code"])
}

// TestRecordGatesMatchesReference checks RecordGates against
// packed.Reference64 on random binary and float models with per-step
// statistics: the same bits per character, and gate values in range.
func TestRecordGatesMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name   string
		w      packed.WeightKind
		hidden []int
	}{{"binary 1 layer", packed.Binary, []int{12}}, {"float 2 layers", packed.Float32, []int{8, 6}}} {
		t.Run(tc.name, func(t *testing.T) {
			pm, err := packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: tc.w, Input: packed.OneHot,
				Vocab: 9, Hidden: tc.hidden, Steps: 4, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			const T, windows = 6, 3
			data := make([]uint8, windows*T+1)
			for i := range data {
				data[i] = uint8((i * 5) % 9)
			}
			gv, bits, err := RecordGates(pm, data, T, windows)
			if err != nil {
				t.Fatal(err)
			}
			want := 0.0
			for w := range windows {
				toks := make([]int, T)
				for k := range T {
					toks[k] = int(data[w*T+k])
				}
				logits, err := packed.Reference64(pm, toks, nil)
				if err != nil {
					t.Fatal(err)
				}
				for k := range T {
					mx, s := math.Inf(-1), 0.0
					for _, v := range logits[k] {
						mx = math.Max(mx, v)
					}
					for _, v := range logits[k] {
						s += math.Exp(v - mx)
					}
					want += (math.Log(s) + mx - logits[k][int(data[w*T+k+1])]) / math.Ln2
				}
			}
			want /= float64(windows * T)
			if math.Abs(bits-want) > 1e-9 {
				t.Errorf("BPC %.12f, Reference64 %.12f", bits, want)
			}
			n := windows * T * tc.hidden[0]
			for name, vs := range map[string][]float64{"i": gv.I, "f": gv.F, "o": gv.O, "g": gv.G, "c": gv.C, "h": gv.H} {
				if len(vs) != n {
					t.Errorf("%s: %d values, want %d", name, len(vs), n)
				}
				lo, hi := 0.0, 1.0
				if name == "g" || name == "h" {
					lo = -1
				}
				for _, v := range vs {
					if name != "c" && (v < lo || v > hi) {
						t.Fatalf("%s value %v outside [%v, %v]", name, v, lo, hi)
					}
				}
			}
		})
	}
	if _, _, err := RecordGates(&packed.Model{}, nil, 5, 1); err == nil {
		t.Error("an invalid model gave no error")
	}
}

// TestSampleText: same seed, same text; temperature 0 follows the argmax of
// packed.Reference64.
func TestSampleText(t *testing.T) {
	pm, err := packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot,
		Vocab: 7, Hidden: []int{10}, Steps: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	prime := []uint8{1, 2, 3}
	a, err := SampleText(pm, prime, 30, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SampleText(pm, prime, 30, 1, 5)
	if !bytes.Equal(a, b) || len(a) != 30 {
		t.Errorf("same seed, different text or length: %v / %v", a, b)
	}
	greedy, _ := SampleText(pm, prime, 8, 0, 1)
	toks := []int{1, 2, 3}
	for k := range greedy {
		logits, _ := packed.Reference64(pm, toks, nil)
		last := logits[len(logits)-1]
		best := 0
		for j, v := range last {
			if v > last[best] {
				best = j
			}
		}
		if int(greedy[k]) != best {
			t.Fatalf("greedy symbol %d = %d, Reference64 argmax %d", k, greedy[k], best)
		}
		toks = append(toks, best)
	}
	if _, err := SampleText(pm, nil, 3, 1, 1); err == nil {
		t.Error("empty prime gave no error")
	}
}

func TestText8Sample(t *testing.T) {
	c := Text8Sample("Hello,  World!\n\nÉtude 42 -- the END.")
	got := c.Decode(append(append(append([]uint8(nil), c.Train...), c.Valid...), c.Test...))
	if want := "hello world tude the end "; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if c.NumSymbols() != 27 || !c.Substitute {
		t.Errorf("%d symbols, substitute %v", c.NumSymbols(), c.Substitute)
	}
}

// TestCharLMSettings checks the paper budget against METHOD.md and that bad
// configurations give clear errors.
func TestCharLMSettings(t *testing.T) {
	for _, tc := range []struct {
		task           string
		hidden, length int
		epochs         int
		lr, final      float64
	}{
		{TaskPTBChar, 1000, 100, 50, 0.002, 0.002},
		{TaskWarAndPeace, 512, 100, 200, 0.002, 0.001},
		{TaskLinux, 512, 100, 200, 0.002, 0.001},
		{TaskText8, 2000, 180, 100, 0.001, 0.001},
	} {
		c, err := CharLMSettings(tc.task, budget.Paper)
		if err != nil {
			t.Fatal(err)
		}
		if c.Hidden != tc.hidden || c.SeqLen != tc.length || c.Batch != 64 || c.Epochs != tc.epochs || c.Steps != 0 ||
			c.LR != tc.lr || c.LRFinal != tc.final || c.ValidChars != 0 || c.TestChars != 0 || c.EvalEvery != 500 {
			t.Errorf("%s paper settings: %+v", tc.task, c)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", tc.task, err)
		}
	}
	if _, err := CharLMSettings("enwik8", budget.Quick); err == nil {
		t.Error("unknown task gave no error")
	}
	c, _ := CharLMSettings(TaskPTBChar, budget.Quick)
	for name, bad := range map[string]func(*CharLMConfig){
		"no bound":    func(c *CharLMConfig) { c.Steps, c.Epochs = 0, 0 },
		"bad model":   func(c *CharLMConfig) { c.Models = []string{"bn-quaternary"} },
		"tiny hidden": func(c *CharLMConfig) { c.Hidden = 0 },
		"zero lr":     func(c *CharLMConfig) { c.LR = 0 },
	} {
		cc := c
		cc.Models = append([]string(nil), c.Models...)
		bad(&cc)
		if err := cc.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := LookupCharLMModel("nope"); err == nil || !strings.Contains(err.Error(), "bn-binary") {
		t.Errorf("unknown model: %v", err)
	}
}

// TestCharLMDivergenceIsReported: a run whose weights blow up (learning rate
// 1e37) is not an error: TrainCharLM stops, says where, and scores the last
// good checkpoint if there is one (NaN otherwise).
func TestCharLMDivergenceIsReported(t *testing.T) {
	cfg, data := tinyCharLM(t)
	cfg.LR, cfg.LRFinal = 1e37, 1e37
	m, _ := LookupCharLMModel("fp")
	run, err := TrainCharLM(context.Background(), cfg, data, m, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if run.Diverged == "" || run.DivergedStep < 1 || run.DivergedStep > cfg.Steps {
		t.Fatalf("diverged %q at step %d, want a divergence report", run.Diverged, run.DivergedStep)
	}
	if v := run.Test["code"]; !math.IsNaN(v) && run.Packed == nil {
		t.Errorf("scored %v without an exported model", v)
	}
	res := &CharLMResult{Config: cfg, Data: data, Runs: []*CharLMRun{run}}
	if tab := res.Table(); !strings.Contains(tab.Rows[0][0], "diverged at step") {
		t.Errorf("table row %q does not say the run diverged", tab.Rows[0][0])
	}
	t.Logf("%s; test BPC %v", run.Diverged, run.Test["code"])
}

// TestGatesHistogramSaturated: saturated gate values a few ulps below the
// maximum (as BinaryConnect's are) must not make the histogram panic.
func TestGatesHistogramSaturated(t *testing.T) {
	v := []float64{-1, -0.9999999999999999, 0.3, 0.9999999999999999, 1, 1}
	png, err := plots.Histograms(plots.Options{}, 1, []plots.Histogram{{Title: "g", Series: []plots.Series{{Name: "bc", Y: roundF32(v)}}}})
	if err != nil || len(png) < 100 {
		t.Fatalf("%d bytes, %v", len(png), err)
	}
}

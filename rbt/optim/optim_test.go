package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/quant"
)

// Test problem: a latent matrix "layer/qw_w" [2,3] and a plain vector
// "layer/b" [3], loss = 0.5*sum((w-Tw)^2) + 0.5*sum((b-Tb)^2), so the
// gradients are w-Tw and b-Tb, easy to reproduce in float64.
var (
	w0 = [][]float32{{0.3, -0.2, 0.05}, {-0.4, 0.1, 0.0}}
	tw = [][]float32{{1.0, -1.0, 0.5}, {2.0, 0.3, -0.7}}
	b0 = []float32{0.5, -0.5, 0.25}
	tb = []float32{-1, 1, 0.25}
)

type problem struct {
	store *model.Store
	exec  *model.Exec
}

func newProblem(t *testing.T, opt optimizer.Interface) *problem {
	t.Helper()
	store := model.NewStore()
	exec, err := model.NewExec(backend.Must(), store, func(scope *model.Scope, g *Graph) *Node {
		// Training mode: otherwise the Go backend embeds variables with a
		// value as constants (PreferConstantsForVariables) and updates are lost.
		scope.SetTraining(g, true)
		sc := scope.In("layer")
		w := sc.VariableWithValue("qw_w", w0).NodeValue(g)
		b := sc.VariableWithValue("b", b0).NodeValue(g)
		loss := Add(
			MulScalar(ReduceAllSum(Square(Sub(w, Const(g, tw)))), 0.5),
			MulScalar(ReduceAllSum(Square(Sub(b, Const(g, tb)))), 0.5))
		opt.UpdateGraph(scope, g, loss)
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	return &problem{store, exec}
}

func (p *problem) step(t *testing.T) {
	t.Helper()
	if _, err := p.exec.Call(); err != nil {
		t.Fatal(err)
	}
}

func (p *problem) values(t *testing.T) (w []float64, b []float64) {
	t.Helper()
	wt := p.store.GetVariable("/layer/qw_w").MustValue().Value().([][]float32)
	for _, row := range wt {
		for _, x := range row {
			w = append(w, float64(x))
		}
	}
	for _, x := range p.store.GetVariable("/layer/b").MustValue().Value().([]float32) {
		b = append(b, float64(x))
	}
	return
}

// refAdam is the released code's Adam in float64.
type refAdam struct {
	m, v []float64
	t    float64
}

func (r *refAdam) reset() {
	clear(r.m)
	clear(r.v)
	r.t = 0
}

func (r *refAdam) step(w, target []float64, lr, clip float64) { r.scaledStep(w, target, lr, 1, clip) }

// scaledStep is step with the Adam step multiplied by scale before the clip
// (AdamConfig.LatentStepScale).
func (r *refAdam) scaledStep(w, target []float64, lr, scale, clip float64) {
	if r.m == nil {
		r.m, r.v = make([]float64, len(w)), make([]float64, len(w))
	}
	r.t++
	at := lr * math.Sqrt(1-math.Pow(0.999, r.t)) / (1 - math.Pow(0.9, r.t))
	for i := range w {
		g := w[i] - target[i]
		r.m[i] = 0.9*r.m[i] + 0.1*g
		r.v[i] = 0.999*r.v[i] + 0.001*g*g
		s := scale * at * r.m[i] / (math.Sqrt(r.v[i]) + 1e-8)
		if clip > 0 {
			s = max(-clip, min(clip, s))
		}
		w[i] -= s
	}
}

func flat(x [][]float32) []float64 {
	var out []float64
	for _, row := range x {
		for _, v := range row {
			out = append(out, float64(v))
		}
	}
	return out
}

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > tol*(1+math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.9g, want %.9g (diff %.3g)", what, i, got[i], want[i], d)
		}
	}
}

func TestAdamMatchesReleasedFormula(t *testing.T) {
	const lr = 0.01
	for _, tc := range []struct {
		name       string
		clip       bool
		resetEvery int
		lrChange   float64 // learning rate set from the host after step 2 (0: none)
		// latentScale multiplies the step of the latent qw_w only (0: not set).
		latentScale float64
	}{
		{name: "plain"},
		{name: "latent step scale 3: qw_w moves 3x, b as plain", latentScale: 3},
		{name: "latent step scale 0.5", latentScale: 0.5},
		{name: "clip enabled, steps below W0", clip: true},
		{name: "reset every 2", resetEvery: 2},
		{name: "lr changed from host", lrChange: 0.03},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProblem(t, Adam().LearningRate(lr).ClipLatent(tc.clip).ResetEvery(tc.resetEvery).LatentStepScale(tc.latentScale).Done())
			scale := 1.0
			if tc.latentScale > 0 {
				scale = tc.latentScale
			}
			w, b := flat(w0), f64(b0)
			var rw, rb refAdam
			curLR := lr
			for s := 1; s <= 5; s++ {
				if tc.resetEvery > 0 && s > 1 && (s-1)%tc.resetEvery == 0 {
					rw.reset()
					rb.reset()
				}
				if tc.lrChange > 0 && s == 3 {
					curLR = tc.lrChange
					if err := SetLearningRate(p.store, curLR); err != nil {
						t.Fatal(err)
					}
				}
				p.step(t)
				rw.scaledStep(w, flat(tw), curLR, scale, 0)
				rb.step(b, f64(tb), curLR, 0)
				gw, gb := p.values(t)
				assertClose(t, "w", gw, w, 2e-6)
				assertClose(t, "b", gb, b, 2e-6)
			}
			if got := optimizer.GetGlobalStep(p.store); got != 5 {
				t.Errorf("global step %d, want 5", got)
			}
		})
	}
}

// The hand-computed first step: m1 = 0.1 g, v1 = 0.001 g^2,
// a_1 = lr*sqrt(0.001)/0.1, so step = lr*g/(|g| + 1e-8/sqrt(0.001)) ~ lr*sign(g).
func TestAdamFirstStepByHand(t *testing.T) {
	p := newProblem(t, Adam().LearningRate(0.01).Done())
	p.step(t)
	_, b := p.values(t)
	for i := range b0 {
		g := float64(b0[i] - tb[i])
		want := float64(b0[i])
		if g != 0 {
			want -= 0.01 * g / (math.Abs(g) + 1e-8/math.Sqrt(0.001))
		}
		if math.Abs(b[i]-want) > 1e-7 {
			t.Errorf("b[%d] after one step = %.9g, want %.9g", i, b[i], want)
		}
	}
	// The third element has g = 0: m = v = 0 and the step is exactly 0.
	if b[2] != float64(b0[2]) {
		t.Errorf("zero-gradient element moved: %v -> %v", b0[2], b[2])
	}
}

func TestAdamClipLatentBoundsStepExactly(t *testing.T) {
	w0clip := float32(quant.W0(2, 3)) // 0.5477
	for _, clip := range []bool{true, false} {
		// lr = 1: the unclipped Adam step is ~1 > W0 in every element with g != 0.
		p := newProblem(t, Adam().LearningRate(1).ClipLatent(clip).Done())
		p.step(t)
		wt := p.store.GetVariable("/layer/qw_w").MustValue().Value().([][]float32)
		bt := p.store.GetVariable("/layer/b").MustValue().Value().([]float32)
		for i := range w0 {
			for j := range w0[i] {
				g := w0[i][j] - tw[i][j]
				sign := float32(1)
				if g < 0 {
					sign = -1
				}
				if clip {
					want := w0[i][j] - sign*w0clip
					if wt[i][j] != want {
						t.Errorf("clip: w[%d][%d] = %v, want exactly %v (W0 = %v)", i, j, wt[i][j], want, w0clip)
					}
				} else if d := math.Abs(float64(wt[i][j] - (w0[i][j] - sign))); d > 1e-4 {
					t.Errorf("no clip: w[%d][%d] = %v, want ~%v", i, j, wt[i][j], w0[i][j]-sign)
				}
			}
		}
		// b is not latent: never clipped.
		if d := math.Abs(float64(bt[0] - (b0[0] - 1))); d > 1e-4 {
			t.Errorf("clip=%v: non-latent b[0] = %v, want ~%v", clip, bt[0], b0[0]-1)
		}
	}
}

func TestAdamClipLatentRejectsNonMatrix(t *testing.T) {
	exec := model.MustNewExec(backend.Must(), model.NewStore(), func(scope *model.Scope, g *Graph) *Node {
		scope.SetTraining(g, true)
		v := scope.VariableWithValue("qw_vec", []float32{1, 2}).NodeValue(g)
		loss := ReduceAllSum(Square(v))
		Adam().ClipLatent(true).Done().UpdateGraph(scope, g, loss)
		return loss
	})
	_, err := exec.Call()
	if err == nil || !strings.Contains(err.Error(), `"qw_vec"`) {
		t.Fatalf("a rank-1 latent variable with ClipLatent: got error %v, want one naming qw_vec", err)
	}
}

func TestResetMomentsFromHost(t *testing.T) {
	p := newProblem(t, Adam().LearningRate(0.01).Done())
	w, b := flat(w0), f64(b0)
	var rw, rb refAdam
	for s := 1; s <= 4; s++ {
		if s == 3 {
			n, err := ResetMoments(p.store)
			if err != nil {
				t.Fatal(err)
			}
			if n != 5 { // t, and m, v of two variables.
				t.Errorf("ResetMoments reset %d variables, want 5", n)
			}
			rw.reset()
			rb.reset()
		}
		p.step(t)
		rw.step(w, flat(tw), 0.01, 0)
		rb.step(b, f64(tb), 0.01, 0)
	}
	gw, gb := p.values(t)
	assertClose(t, "w", gw, w, 2e-6)
	assertClose(t, "b", gb, b, 2e-6)

	// Without the reset the trajectory is different: the test can fail.
	q := newProblem(t, Adam().LearningRate(0.01).Done())
	for range 4 {
		q.step(t)
	}
	qw, _ := q.values(t)
	same := true
	for i := range qw {
		if math.Abs(qw[i]-gw[i]) > 1e-5 {
			same = false
		}
	}
	if same {
		t.Error("reset and no-reset runs ended at the same weights")
	}
}

func TestSGDGlobalNormClip(t *testing.T) {
	gw := make([]float64, 0, 6)
	for i, row := range w0 {
		for j := range row {
			gw = append(gw, float64(w0[i][j]-tw[i][j]))
		}
	}
	gb := make([]float64, len(b0))
	norm2 := 0.0
	for _, g := range gw {
		norm2 += g * g
	}
	for i := range b0 {
		gb[i] = float64(b0[i] - tb[i])
		norm2 += gb[i] * gb[i]
	}
	norm := math.Sqrt(norm2) // ~3.96
	for _, tc := range []struct {
		clip, coef float64
	}{
		{0, 1},                       // no clipping
		{0.25, 0.25 / (norm + 1e-6)}, // clipped (word-level PTB value)
		{100, 1},                     // clip above the norm: no effect
	} {
		const lr = 0.5
		p := newProblem(t, SGD().LearningRate(lr).ClipNorm(tc.clip).Done())
		p.step(t)
		w, b := p.values(t)
		for i := range gw {
			want := flat(w0)[i] - lr*tc.coef*gw[i]
			if math.Abs(w[i]-want) > 1e-6 {
				t.Errorf("clip %v: w[%d] = %.8g, want %.8g", tc.clip, i, w[i], want)
			}
		}
		for i := range gb {
			want := float64(b0[i]) - lr*tc.coef*gb[i]
			if math.Abs(b[i]-want) > 1e-6 {
				t.Errorf("clip %v: b[%d] = %.8g, want %.8g", tc.clip, i, b[i], want)
			}
		}
	}
}

func TestSetLearningRate(t *testing.T) {
	store := model.NewStore()
	if _, ok, _ := LearningRate(store); ok {
		t.Fatal("fresh store has a learning rate")
	}
	for _, lr := range []float64{0.002, 20} {
		if err := SetLearningRate(store, lr); err != nil {
			t.Fatal(err)
		}
		got, ok, err := LearningRate(store)
		if err != nil || !ok || math.Abs(got-lr) > 1e-6*lr {
			t.Errorf("LearningRate = %v, %v, %v; want %v", got, ok, err, lr)
		}
	}
	v := store.GetVariable(LearningRatePath)
	if v.Trainable {
		t.Error("learning-rate variable is trainable")
	}
	// A learning rate of another dtype is an error, not a panic.
	bad := model.NewStore()
	if _, err := bad.CreateVariable(LearningRatePath, tensors.FromShape(shapes.Make(dtypes.Int32))); err != nil {
		t.Fatal(err)
	}
	if err := SetLearningRate(bad, 1); err == nil {
		t.Error("int32 learning-rate variable accepted")
	}
}

func TestSchedules(t *testing.T) {
	geo := Geometric{Start: 0.002, Final: 0.001, Epochs: 2}
	for e, want := range []float64{0.002, 0.002 / math.Sqrt2, 0.001, 0.001} {
		if got := geo.Rate(e); math.Abs(got-want) > 1e-15 {
			t.Errorf("Geometric.Rate(%d) = %v, want %v", e, got, want)
		}
	}
	// The released scripts' loop: lr *= (final/start)^(1/E) after each epoch while lr > final.
	g200 := Geometric{Start: 0.002, Final: 0.001, Epochs: 200}
	lr, decay := 0.002, math.Pow(0.5, 1.0/200)
	for e := 0; e < 200; e++ {
		if math.Abs(g200.Rate(e)-lr) > 1e-12 {
			t.Fatalf("epoch %d: Geometric %v, released loop %v", e, g200.Rate(e), lr)
		}
		if lr > 0.001 {
			lr *= decay
		}
	}
	if c := Constant(0.002); c.Rate(0) != 0.002 || c.Rate(99) != 0.002 || c.Validated(5) {
		t.Error("Constant misbehaves")
	}

	// Word-level PTB: lr 20, /4 at every validation without improvement.
	p := NewPlateau(20, 4, 0)
	type obs struct {
		metric  float64
		changed bool
		lr      float64
	}
	for i, o := range []obs{
		{150, false, 20}, {140, false, 20}, {141, true, 5}, {139, false, 5},
		{139, true, 1.25}, {138.9, false, 1.25},
	} {
		if got := p.Validated(o.metric); got != o.changed || p.Rate(0) != o.lr {
			t.Errorf("step %d: Validated(%v) = %v, lr %v; want %v, %v", i, o.metric, got, p.Rate(0), o.changed, o.lr)
		}
	}
	// Patience 1 with a floor: the second non-improvement cuts, never below Min.
	q := NewPlateau(1, 10, 1)
	q.Min = 0.05
	for i, o := range []obs{
		{1, false, 1}, {2, false, 1}, {2, true, 0.1}, {3, false, 0.1}, {3, true, 0.05}, {3, false, 0.05}, {3, false, 0.05},
	} {
		if got := q.Validated(o.metric); got != o.changed || q.Rate(7) != o.lr {
			t.Errorf("patience step %d: Validated(%v) = %v, lr %v; want %v, %v", i, o.metric, got, q.Rate(7), o.changed, o.lr)
		}
	}
	// State round trip: a restored schedule continues identically.
	data, err := p.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	r := NewPlateau(20, 4, 0)
	if err := r.UnmarshalState(data); err != nil {
		t.Fatal(err)
	}
	if r.Rate(0) != p.Rate(0) || r.Cuts() != p.Cuts() || r.Validated(139) != p.Validated(139) || r.Rate(0) != p.Rate(0) {
		t.Errorf("restored plateau differs: %v vs %v", r, p)
	}
	if err := r.UnmarshalState([]byte(`{"lr": -1}`)); err == nil {
		t.Error("negative saved learning rate accepted")
	}
	if err := r.UnmarshalState([]byte(`not json`)); err == nil {
		t.Error("bad JSON accepted")
	}
}

// TestAdamClipGradientKeepsSecondMomentFinite: a gradient of 1e30 (whose
// square overflows float32, as BinaryConnect's exploding BPTT gradients do)
// leaves the second moment at +Inf and the weight where it was without
// ClipGradient; with ClipGradient(5) the moments stay finite and the first
// step moves each weight by the learning rate (Adam's first step is
// lr*sign(g) for |g| >> eps). LatentBound(0.3) then clips the latent matrix,
// and only it, to [-0.3, 0.3].
func TestAdamClipGradientKeepsSecondMomentFinite(t *testing.T) {
	run := func(opt optimizer.Interface) (w, b, v []float32) {
		store := model.NewStore()
		exec := model.MustNewExec(backend.Must(), store, func(scope *model.Scope, g *Graph) *Node {
			scope.SetTraining(g, true)
			sc := scope.In("layer")
			wv := sc.VariableWithValue("qw_w", w0).NodeValue(g)
			bv := sc.VariableWithValue("b", b0).NodeValue(g)
			loss := MulScalar(Add(ReduceAllSum(wv), ReduceAllSum(bv)), 1e30)
			opt.UpdateGraph(scope, g, loss)
			return loss
		})
		exec.MustCall()
		get := func(path string) []float32 {
			return tensors.MustCopyFlatData[float32](store.GetVariable(path).MustValue())
		}
		return get("/layer/qw_w"), get("/layer/b"), get("/" + AdamScope + "/layer/qw_w_v")
	}
	w, _, v := run(Adam().LearningRate(0.1).Done())
	if !math.IsInf(float64(v[0]), 1) || w[0] != w0[0][0] {
		t.Errorf("without clip: v = %v, w[0] = %v: expected the overflow this test guards against (v = +Inf, w unchanged)", v[0], w[0])
	}
	w, _, v = run(Adam().LearningRate(0.1).ClipGradient(5).Done())
	for i, x := range flat(w0) {
		if math.IsInf(float64(v[i]), 0) || math.Abs(float64(w[i])-(x-0.1)) > 1e-6 {
			t.Errorf("clip: w[%d] = %v (v = %v), want %v", i, w[i], v[i], x-0.1)
		}
	}
	w, b, _ := run(Adam().LearningRate(1).ClipGradient(5).LatentBound(0.3).Done())
	for i, x := range w {
		if want := math.Max(flat(w0)[i]-1, -0.3); math.Abs(float64(x)-want) > 1e-6 {
			t.Errorf("latent bound: w[%d] = %v, want %v", i, x, want)
		}
	}
	if math.Abs(float64(b[0])-float64(b0[0]-1)) > 1e-6 {
		t.Errorf("latent bound clipped the non-latent b: b[0] = %v, want %v", b[0], b0[0]-1)
	}
}

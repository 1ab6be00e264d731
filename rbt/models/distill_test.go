package models

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive

	"github.com/rbt-project/rbt/rbt/backend"
)

// A tiny case: B = 1, T = 2, V = 3, in float64 so that finite differences
// are exact to ~1e-9.
var (
	distillStudent = [][][]float64{{{0.5, -1.0, 2.0}, {1.5, 0.2, -0.3}}}
	distillTeacher = [][][]float64{{{1.0, 0.0, 1.5}, {-0.5, 2.5, 0.1}}}
	distillLabels  = [][]int32{{2, 1}}
)

func softmax64(z []float64, temp float64) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v/temp)
	}
	out := make([]float64, len(z))
	var s float64
	for i, v := range z {
		out[i] = math.Exp(v/temp - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// distillRef is the loss of DistillLoss written out in float64:
// (1-mix) * mean_t -log q_1(label_t) + mix * T^2 * mean_t sum_v p_T log(p_T / q_T).
func distillRef(student, teacher [][][]float64, labels [][]int32, temp, mix float64) float64 {
	var ce, kl float64
	n := 0
	for b := range student {
		for t := range student[b] {
			q1 := softmax64(student[b][t], 1)
			ce -= math.Log(q1[labels[b][t]])
			p, q := softmax64(teacher[b][t], temp), softmax64(student[b][t], temp)
			for v := range p {
				kl += p[v] * math.Log(p[v]/q[v])
			}
			n++
		}
	}
	return (1-mix)*ce/float64(n) + mix*temp*temp*kl/float64(n)
}

// distillGraph returns the loss of DistillLoss and its gradient with respect
// to the student's logits.
func distillGraph(t *testing.T, student [][][]float64, temp, mix float64) (float64, [][][]float64) {
	t.Helper()
	out := MustExecOnceN(backend.Must(), func(z, u, l *Node) []*Node {
		loss := DistillLoss(temp, mix)([]*Node{l, TeacherLogProbs(u, temp)}, []*Node{z})
		return []*Node{loss, Gradient(loss, z)[0]}
	}, student, distillTeacher, distillLabels)
	return out[0].Value().(float64), out[1].Value().([][][]float64)
}

// TestDistillLossMatchesHandMix checks the mix of hard and soft terms against
// the float64 formula, and its two ends: mix 0 is CharLMLoss, and a student
// equal to its teacher at mix 1 has loss 0.
func TestDistillLossMatchesHandMix(t *testing.T) {
	for _, tc := range []struct {
		name      string
		temp, mix float64
	}{
		{"T=1 mix=0.5", 1, 0.5},
		{"T=2 mix=0.3", 2, 0.3},
		{"T=4 mix=0.9", 4, 0.9},
		{"mix 0 is the cross-entropy", 2, 0},
		{"mix 1 is the soft term alone", 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := distillGraph(t, distillStudent, tc.temp, tc.mix)
			want := distillRef(distillStudent, distillTeacher, distillLabels, tc.temp, tc.mix)
			if math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
				t.Errorf("loss %.15g, want %.15g", got, want)
			}
		})
	}
	ce := MustExecOnceN(backend.Must(), func(z, l *Node) []*Node {
		return []*Node{CharLMLoss([]*Node{l}, []*Node{z})}
	}, distillStudent, distillLabels)[0].Value().(float64)
	if got, _ := distillGraph(t, distillStudent, 2, 0); got != ce {
		t.Errorf("mix 0: %.15g, CharLMLoss %.15g", got, ce)
	}
	if got, _ := distillGraph(t, distillTeacher, 2.5, 1); math.Abs(got) > 1e-12 {
		t.Errorf("a student equal to its teacher at mix 1: loss %g, want 0", got)
	}
}

// TestDistillLossGradientFiniteDifference checks the gradient with respect
// to the student's logits against central differences of the float64
// reference.
func TestDistillLossGradientFiniteDifference(t *testing.T) {
	const temp, mix, h = 2.5, 0.6, 1e-6
	_, grad := distillGraph(t, distillStudent, temp, mix)
	for b := range distillStudent {
		for s := range distillStudent[b] {
			for v := range distillStudent[b][s] {
				z := clone3(distillStudent)
				z[b][s][v] += h
				up := distillRef(z, distillTeacher, distillLabels, temp, mix)
				z[b][s][v] -= 2 * h
				down := distillRef(z, distillTeacher, distillLabels, temp, mix)
				want := (up - down) / (2 * h)
				if got := grad[b][s][v]; math.Abs(got-want) > 1e-7 {
					t.Errorf("dL/dz[%d][%d][%d] = %.10g, finite difference %.10g", b, s, v, got, want)
				}
			}
		}
	}
}

func TestDistillLossRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct{ temp, mix float64 }{{0, 0.5}, {-1, 0.5}, {math.NaN(), 0.5}, {math.Inf(1), 0.5}, {2, -0.1}, {2, 1.1}, {2, math.NaN()}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("DistillLoss(%v, %v) did not panic", tc.temp, tc.mix)
				}
			}()
			DistillLoss(tc.temp, tc.mix)
		}()
	}
}

func clone3(x [][][]float64) [][][]float64 {
	out := make([][][]float64, len(x))
	for i := range x {
		out[i] = make([][]float64, len(x[i]))
		for j := range x[i] {
			out[i][j] = append([]float64(nil), x[i][j]...)
		}
	}
	return out
}

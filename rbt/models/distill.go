package models

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/ml/train"
)

// DistillLoss is the knowledge-distillation loss of Hinton, Vinyals and Dean
// ("Distilling the Knowledge in a Neural Network", 2015) for a language model
// whose student is quantized and whose teacher is a trained full-precision
// model:
//
//	L = (1 - mix) * CE(labels[0], logits) + mix * T^2 * mean_{b,t} KL(p_T || q_T)
//
// with logits [B, T, V] the student's, labels[0] [B, T] the next symbols
// (int32), labels[1] [B, T, V] the teacher's tempered log-probabilities
// log softmax(teacher logits / T) (TeacherLogProbs), q_T = softmax(logits / T)
// and CE the mean cross-entropy in nats (CharLMLoss). The factor T^2 keeps
// the soft term's gradients at the size of the hard term's whatever T
// (Hinton et al., section 2). mix = 0 is CharLMLoss exactly; KL rather than
// the cross-entropy to the soft targets, so that the loss of a student that
// matches its teacher is its hard term alone (the two differ by the
// teacher's entropy, a constant, and have the same gradients).
//
// It panics when temperature <= 0 or mix is outside [0, 1]: callers
// validate their settings first (experiments.Distillation.Validate).
func DistillLoss(temperature, mix float64) train.LossFn {
	if !(temperature > 0) || math.IsInf(temperature, 0) || !(mix >= 0 && mix <= 1) {
		panic(fmt.Sprintf("models: DistillLoss: temperature %v, mix %v: want temperature > 0 and mix in [0, 1]", temperature, mix))
	}
	return func(labels, logits []*Node) *Node {
		hard := CharLMLoss(labels[:1], logits)
		if mix == 0 {
			return hard
		}
		if len(labels) < 2 {
			panic("models: DistillLoss: labels[1], the teacher's log-probabilities, is missing")
		}
		teacher := labels[1]
		student := LogSoftmax(DivScalar(logits[0], temperature), -1)
		kl := ReduceSum(Mul(Exp(teacher), Sub(teacher, student)), -1) // [B, T]
		soft := MulScalar(ReduceAllMean(kl), temperature*temperature)
		return Add(MulScalar(hard, 1-mix), MulScalar(soft, mix))
	}
}

// TeacherLogProbs turns a teacher's logits [B, T, V] into the soft targets
// that DistillLoss reads: log softmax(logits / temperature) over V.
func TeacherLogProbs(logits *Node, temperature float64) *Node {
	return LogSoftmax(DivScalar(logits, temperature), -1)
}

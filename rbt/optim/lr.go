package optim

import (
	"fmt"
	"path"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// LearningRatePath is the store path of the learning-rate variable read by
// the optimizers of this package (and by GoMLX's own).
var LearningRatePath = path.Join("/", optimizer.Scope, optimizer.ParamLearningRate)

// SetLearningRate writes lr into the learning-rate variable, creating it
// (float32, non-trainable) when absent. The compiled training graph reads the
// variable at every step, so nothing is recompiled. Note that
// train.NewTrainer deletes this variable: call SetLearningRate after it.
func SetLearningRate(store *model.Store, lr float64) error {
	v := store.GetVariable(LearningRatePath)
	if v == nil {
		_, err := store.CreateVariable(LearningRatePath, tensors.FromScalar(float32(lr)))
		if err != nil {
			return fmt.Errorf("optim: creating the learning-rate variable: %w", err)
		}
		store.GetVariable(LearningRatePath).SetTrainable(false)
		return nil
	}
	var t *tensors.Tensor
	switch v.DType() {
	case dtypes.Float32:
		t = tensors.FromScalar(float32(lr))
	case dtypes.Float64:
		t = tensors.FromScalar(lr)
	default:
		return fmt.Errorf("optim: learning-rate variable %s has dtype %s, want float32 or float64", LearningRatePath, v.DType())
	}
	return v.SetValue(t)
}

// LearningRate reads the learning-rate variable; ok is false when it does not
// exist yet.
func LearningRate(store *model.Store) (lr float64, ok bool, err error) {
	v := store.GetVariable(LearningRatePath)
	if v == nil {
		return 0, false, nil
	}
	t, err := v.Value()
	if err != nil {
		return 0, false, err
	}
	switch x := t.Value().(type) {
	case float32:
		return float64(x), true, nil
	case float64:
		return x, true, nil
	}
	return 0, false, fmt.Errorf("optim: learning-rate variable %s holds %T", LearningRatePath, t.Value())
}

// ResetMoments zeroes, from the host, Adam's moments and its step counter t
// (every variable under /AdamScope except the "batches" counter), as the
// released code does after each validation pass. It returns the number of
// variables reset; 0 if Adam has not run yet.
func ResetMoments(store *model.Store) (int, error) {
	return ResetMomentsIn(store, AdamScope)
}

// ResetMomentsIn is ResetMoments for an Adam configured with another Scope.
func ResetMomentsIn(store *model.Store, scopeName string) (int, error) {
	prefix := path.Join("/", scopeName) + "/"
	n := 0
	for v := range store.IterVariables() {
		if !strings.HasPrefix(v.Path(), prefix) || v.Path() == prefix+"batches" {
			continue
		}
		if err := v.SetValue(tensors.FromShape(v.Shape())); err != nil {
			return n, fmt.Errorf("optim: resetting %s: %w", v.Path(), err)
		}
		n++
	}
	return n, nil
}

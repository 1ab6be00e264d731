package recurrent

import (
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// ResetPopulationCounts sets every recurrent layer's count of
// population-statistics updates (VarPopUpdates) in store to 0 and returns how
// many it found. Before a calibration (CalibrateMode) it makes the first pass
// replace the statistics and the later ones average with it, so that the
// statistics become the plain mean over the calibration passes. Calibrate a
// clone of the training store (model.Store.Clone) when training may go on:
// the counts and statistics are part of its checkpoints.
func ResetPopulationCounts(store *model.Store) int {
	n := 0
	for v := range store.IterVariables() {
		if v.Name() == VarPopUpdates {
			v.MustSetValue(tensors.FromShape(v.Shape()))
			n++
		}
	}
	return n
}

package training

import (
	"github.com/gomlx/gomlx/ml/train"
)

// Source gives random access to a split's batches. Batch must be a pure
// function of (epoch, index) (and of whatever seed the source was built
// with): the loop asks for batch (epoch, index) after a resume exactly as it
// would have without the interruption, so the data order is reproduced.
//
// The loop takes ownership of the returned tensors (train.Trainer finalizes
// them after the step).
type Source interface {
	// BatchesPerEpoch is the number of batches in one epoch (> 0).
	BatchesPerEpoch() int
	// Batch returns batch index (0 <= index < BatchesPerEpoch) of the given epoch.
	Batch(epoch, index int) (train.Batch, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc struct {
	N  int
	Fn func(epoch, index int) (train.Batch, error)
}

// BatchesPerEpoch implements Source.
func (s SourceFunc) BatchesPerEpoch() int { return s.N }

// Batch implements Source.
func (s SourceFunc) Batch(epoch, index int) (train.Batch, error) { return s.Fn(epoch, index) }

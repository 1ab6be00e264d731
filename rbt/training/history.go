package training

import "math"

// Point is one point of a learning curve.
type Point struct {
	Step     int64   `json:"step"`     // training steps done (batches).
	Epoch    float64 `json:"epoch"`    // Step / BatchesPerEpoch.
	Examples int64   `json:"examples"` // examples (e.g. characters) seen: Step * Config.ExamplesPerStep.
	// TrainLoss is the mean training loss of the batches since the previous point.
	TrainLoss float64 `json:"train_loss"`
	// Valid is the validation metric, when HasValid.
	Valid    float64 `json:"valid"`
	HasValid bool    `json:"has_valid"`
	LR       float64 `json:"lr"`      // learning rate of the last step (NaN-free: 0 if unknown).
	Seconds  float64 `json:"seconds"` // wall time of training so far (all sessions).
}

// History is the learning curve of a run, saved in every checkpoint and
// continued on resume.
type History struct {
	Metric string  `json:"metric"` // name of the validation metric, e.g. "BPC".
	Unit   string  `json:"unit"`   // what an example is, e.g. "chars".
	Points []Point `json:"points"`
}

// Valid returns the points that carry a validation value.
func (h *History) Valid() []Point {
	var out []Point
	for _, p := range h.Points {
		if p.HasValid {
			out = append(out, p)
		}
	}
	return out
}

// Best returns the point with the lowest (or, with higherIsBetter, highest)
// validation value; ok is false when there is none.
func (h *History) Best(higherIsBetter bool) (best Point, ok bool) {
	for _, p := range h.Points {
		if !p.HasValid || math.IsNaN(p.Valid) {
			continue
		}
		if !ok || (higherIsBetter && p.Valid > best.Valid) || (!higherIsBetter && p.Valid < best.Valid) {
			best, ok = p, true
		}
	}
	return
}

// XY returns the validation curve as (examples seen, valid value) pairs, for plotting.
func (h *History) XY() (x, y []float64) {
	for _, p := range h.Valid() {
		x = append(x, float64(p.Examples))
		y = append(y, p.Valid)
	}
	return
}

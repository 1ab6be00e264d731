package optim

import (
	"encoding/json"
	"fmt"
	"math"
)

// Schedule gives the learning rate of each epoch and may react to validation
// results. Schedules are small values; those with state (Plateau) save it with
// MarshalState and restore it with UnmarshalState, so that a resumed run
// continues exactly (the training loop stores it in its checkpoints).
type Schedule interface {
	// Rate is the learning rate to use during the given epoch (0-based).
	Rate(epoch int) float64
	// Validated reports a validation metric (lower is better); it returns
	// true when the schedule changed its rate.
	Validated(metric float64) bool
	// MarshalState returns the schedule's mutable state (nil if none).
	MarshalState() ([]byte, error)
	// UnmarshalState restores what MarshalState returned.
	UnmarshalState(data []byte) error
	// String describes the schedule, e.g. for notebooks and logs.
	String() string
}

// Constant is a fixed learning rate.
type Constant float64

// Rate implements Schedule.
func (c Constant) Rate(int) float64 { return float64(c) }

// Validated implements Schedule: a constant rate ignores validation.
func (c Constant) Validated(float64) bool { return false }

// MarshalState implements Schedule (no state).
func (c Constant) MarshalState() ([]byte, error) { return nil, nil }

// UnmarshalState implements Schedule (no state).
func (c Constant) UnmarshalState([]byte) error { return nil }

func (c Constant) String() string { return fmt.Sprintf("constant %g", float64(c)) }

// Geometric decays the rate geometrically per epoch from Start to Final over
// Epochs epochs, as the released run scripts do (lr_decay =
// (final/start)^(1/epochs), lr *= lr_decay after each epoch while lr > final):
//
//	Rate(e) = Start * (Final/Start)^(min(e, Epochs)/Epochs)
//
// so epoch 0 runs at Start, epoch Epochs (and later) at Final. For example
// Start 0.002, Final 0.001, Epochs 2 gives 0.002, 0.0014142, 0.001, 0.001, ...
type Geometric struct {
	Start, Final float64
	Epochs       int
}

// Rate implements Schedule.
func (s Geometric) Rate(epoch int) float64 {
	if s.Epochs <= 0 || epoch <= 0 {
		return s.Start
	}
	e := min(epoch, s.Epochs)
	return s.Start * math.Pow(s.Final/s.Start, float64(e)/float64(s.Epochs))
}

// Validated implements Schedule: the geometric decay ignores validation.
func (s Geometric) Validated(float64) bool { return false }

// MarshalState implements Schedule (no state: the rate is a function of the epoch).
func (s Geometric) MarshalState() ([]byte, error) { return nil, nil }

// UnmarshalState implements Schedule (no state).
func (s Geometric) UnmarshalState([]byte) error { return nil }

func (s Geometric) String() string {
	return fmt.Sprintf("geometric %g -> %g over %d epochs", s.Start, s.Final, s.Epochs)
}

// Plateau divides the rate by Factor when the validation metric has not
// improved (strictly decreased below the best so far) for more than Patience
// validations in a row; the rate never goes below Min. With Patience 0 the
// rate is divided at every validation that does not improve: the word-level
// PTB recipe (lr 20, Factor 4). Create it with NewPlateau; it is a pointer
// because it has state.
type Plateau struct {
	Factor   float64
	Patience int
	Min      float64
	state    plateauState
}

type plateauState struct {
	LR      float64 `json:"lr"`
	Best    float64 `json:"best"`
	HasBest bool    `json:"has_best"`
	Bad     int     `json:"bad"` // validations since the last improvement.
	Cuts    int     `json:"cuts"`
}

// NewPlateau returns a divide-on-plateau schedule starting at lr.
func NewPlateau(lr, factor float64, patience int) *Plateau {
	return &Plateau{Factor: factor, Patience: patience, state: plateauState{LR: lr}}
}

// Rate implements Schedule: the current rate, whatever the epoch.
func (p *Plateau) Rate(int) float64 { return p.state.LR }

// Validated implements Schedule.
func (p *Plateau) Validated(metric float64) bool {
	s := &p.state
	if !s.HasBest || metric < s.Best {
		s.Best, s.HasBest, s.Bad = metric, true, 0
		return false
	}
	s.Bad++
	if s.Bad <= p.Patience || p.Factor <= 0 {
		return false
	}
	s.Bad = 0
	lr := max(s.LR/p.Factor, p.Min)
	if lr == s.LR {
		return false
	}
	s.LR = lr
	s.Cuts++
	return true
}

// Cuts is the number of times the rate was divided.
func (p *Plateau) Cuts() int { return p.state.Cuts }

// MarshalState implements Schedule.
func (p *Plateau) MarshalState() ([]byte, error) { return json.Marshal(p.state) }

// UnmarshalState implements Schedule.
func (p *Plateau) UnmarshalState(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	var s plateauState
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("optim.Plateau: bad saved state %q: %w", data, err)
	}
	if !(s.LR > 0) || math.IsInf(s.LR, 0) {
		return fmt.Errorf("optim.Plateau: bad saved learning rate %v", s.LR)
	}
	p.state = s
	return nil
}

func (p *Plateau) String() string {
	return fmt.Sprintf("plateau: lr %g, /%g after %d validations without improvement (min %g)",
		p.state.LR, p.Factor, p.Patience+1, p.Min)
}

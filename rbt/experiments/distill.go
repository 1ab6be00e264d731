package experiments

// Knowledge distillation for the char-LM trainer: the quantized student also
// fits the softened output distribution of a trained teacher (Hinton, Vinyals
// and Dean 2015), one of the two ways beyond the paper's recipe that the gap
// study measures.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/recurrent"
	"github.com/rbt-project/rbt/rbt/training"
)

// Distillation configures knowledge distillation of the quantized models of
// a char-LM run: each training batch is also scored by Teacher, and the
// student minimizes models.DistillLoss, (1 - Mix) * cross-entropy + Mix * T^2
// * KL(teacher_T || student_T) at temperature T = Temperature. The zero
// value (no Teacher) is the paper's recipe. The full-precision models of the
// run are never distilled: they are the baselines the students are compared
// with.
type Distillation struct {
	// Teacher is a char-LM run directory (its best checkpoint is used, as in
	// evaluation) or one checkpoint directory inside one. The teacher is
	// evaluated in deploy mode (fixed weights, population statistics), so
	// that its targets are the same at every visit of a batch and a resumed
	// run is bit-identical. It must have been trained on the same corpus
	// (vocabulary) as the student.
	Teacher string
	// Temperature T > 0 softens both distributions (Hinton et al.: 2-20;
	// 1 is the teacher's own distribution).
	Temperature float64
	// Mix in [0, 1] weighs the soft term; 0 trains on the labels alone.
	Mix float64
}

// DefaultDistillation is the setting the gap study uses: T = 2, half the
// loss from the teacher. Hinton et al. found a lower weight on the hard
// term best; with a teacher only a few percent better than the student the
// labels still carry most of the signal, so an even mix.
func DefaultDistillation(teacher string) Distillation {
	return Distillation{Teacher: teacher, Temperature: 2, Mix: 0.5}
}

// Enabled reports whether a teacher is set.
func (d Distillation) Enabled() bool { return d.Teacher != "" }

// Validate checks the numeric settings (the teacher itself is checked when
// it is loaded, against the corpus: loadTeacher).
func (d Distillation) Validate() error {
	if !d.Enabled() {
		if d.Temperature != 0 || d.Mix != 0 {
			return errors.New("experiments: distillation temperature or mix set without a teacher (set the teacher's run directory)")
		}
		return nil
	}
	if !(d.Temperature > 0) || math.IsInf(d.Temperature, 0) {
		return fmt.Errorf("experiments: distillation temperature %v: want a finite value > 0 (e.g. 2)", d.Temperature)
	}
	if !(d.Mix >= 0 && d.Mix <= 1) {
		return fmt.Errorf("experiments: distillation mix %v: want a value in [0, 1] (the weight of the teacher's term)", d.Mix)
	}
	return nil
}

// String describes the setting for logs and tables.
func (d Distillation) String() string {
	if !d.Enabled() {
		return "no distillation"
	}
	return fmt.Sprintf("distilled from %s at T=%g, mix %g", d.Teacher, d.Temperature, d.Mix)
}

// charTeacher scores training batches with a trained char LM.
type charTeacher struct {
	checkpoint string
	lm         models.CharLM
	store      *model.Store
	exec       *model.Exec
}

// resolveTeacher returns the checkpoint that path names (a run directory:
// its best checkpoint; or a checkpoint directory) and the run's settings.
func resolveTeacher(path string) (ckpt string, s runSettings, err error) {
	fail := func(format string, args ...any) (string, runSettings, error) {
		return "", runSettings{}, fmt.Errorf("experiments: distillation teacher %s: "+format, append([]any{path}, args...)...)
	}
	info, err := os.Stat(path)
	if err != nil {
		return fail("%v (want a char-LM run directory, e.g. runs/ptb-char/cpu/bn-fp)", err)
	}
	if !info.IsDir() {
		return fail("not a directory (want a char-LM run directory or one of its checkpoints)")
	}
	runDir := path
	if _, err := os.Stat(filepath.Join(path, training.StateFile)); err == nil {
		ckpt, runDir = path, filepath.Dir(path)
	}
	raw, err := os.ReadFile(filepath.Join(runDir, runSettingsFile))
	if err != nil {
		return fail("no %s: not a char-LM run directory (%v)", runSettingsFile, err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return fail("%s: %v", runSettingsFile, err)
	}
	if ckpt == "" {
		var ok bool
		if ckpt, _, ok, err = training.SelectCheckpoint(runDir); err != nil {
			return fail("%v", err)
		} else if !ok {
			return fail("no checkpoint yet: train the teacher first")
		}
	}
	return ckpt, s, nil
}

// loadTeacher loads d's teacher for a student trained on data, checking that
// it is a char LM of the same vocabulary and output size.
func loadTeacher(be compute.Backend, d Distillation, data *CharLMData) (*charTeacher, error) {
	ckpt, s, err := resolveTeacher(d.Teacher)
	if err != nil {
		return nil, err
	}
	if s.Corpus != data.Corpus.Name {
		return nil, fmt.Errorf("experiments: distillation teacher %s was trained on %s, the student on %s: another vocabulary", d.Teacher, s.Corpus, data.Corpus.Name)
	}
	store := model.NewStore()
	if _, err := training.LoadCheckpoint(store, ckpt); err != nil {
		return nil, fmt.Errorf("experiments: distillation teacher: %w", err)
	}
	vocab := data.Corpus.NumSymbols()
	out := store.GetVariable("/output/weights")
	if out == nil || out.Shape().Rank() != 2 || out.Shape().Dimensions[0] != s.Hidden {
		return nil, fmt.Errorf("experiments: distillation teacher %s: no output layer of %d units (not a char LM checkpoint?)", ckpt, s.Hidden)
	}
	if got := out.Shape().Dimensions[1]; got != vocab {
		return nil, fmt.Errorf("experiments: distillation teacher %s has %d outputs, the student's corpus %d symbols: another size of output", ckpt, got, vocab)
	}
	cell := recurrent.LSTM
	if wh := store.GetVariable("/rnn/layer_0/qw_h"); wh != nil && wh.Shape().Rank() == 2 && wh.Shape().Dimensions[1] == 3*s.Hidden {
		cell = recurrent.GRU
	}
	norm, err := recurrent.ParseNormalization(s.Normalization)
	if err != nil {
		return nil, fmt.Errorf("experiments: distillation teacher %s: %w", d.Teacher, err)
	}
	lm := models.CharLM{Vocab: vocab, Hidden: s.Hidden, Cell: cell, Quantizer: s.Quantizer, Normalization: norm,
		Inference: recurrent.DeployMode}
	if err := lm.Validate(); err != nil {
		return nil, fmt.Errorf("experiments: distillation teacher %s: %w", d.Teacher, err)
	}
	exec, err := model.NewExec(be, store, func(scope *model.Scope, tokens *Node) *Node {
		training.PrepareInference(scope.Store(), tokens.Graph())
		return models.TeacherLogProbs(lm.Logits(scope, tokens), d.Temperature)
	})
	if err != nil {
		return nil, fmt.Errorf("experiments: distillation teacher: %w", err)
	}
	return &charTeacher{checkpoint: ckpt, lm: lm, store: store, exec: exec}, nil
}

// CheckTeacher loads the teacher of cfg's distillation, if any, and checks it
// against data (a char-LM run of the same vocabulary and output size), so
// that a bad teacher stops a run before anything is written.
func CheckTeacher(cfg CharLMConfig, data *CharLMData) error {
	if !cfg.Distill.Enabled() {
		return nil
	}
	be, err := backend.New()
	if err != nil {
		return err
	}
	t, err := loadTeacher(be, cfg.Distill, data)
	if err != nil {
		return err
	}
	t.exec.Finalize()
	return nil
}

// logProbs returns the teacher's tempered log-probabilities [B, T, V] of the
// next symbol after each input token [B, T].
func (t *charTeacher) logProbs(inputs *tensors.Tensor) (*tensors.Tensor, error) {
	out, err := t.exec.Call(inputs)
	if err != nil {
		return nil, fmt.Errorf("experiments: distillation teacher %s: %w", t.checkpoint, err)
	}
	return out[0], nil
}

// withTeacher adds the teacher's soft targets to every batch of src, as a
// second label (models.DistillLoss).
func withTeacher(src training.SourceFunc, t *charTeacher) training.SourceFunc {
	return training.SourceFunc{N: src.N, Fn: func(epoch, index int) (train.Batch, error) {
		b, err := src.Fn(epoch, index)
		if err != nil {
			return b, err
		}
		soft, err := t.logProbs(b.Inputs[0])
		if err != nil {
			return b, err
		}
		b.Labels = append(b.Labels, soft)
		return b, nil
	}}
}

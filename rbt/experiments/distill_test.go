package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

)

// trainedWeights trains model name of cfg for cfg.Steps steps in a fresh
// directory and returns the bytes of its latent recurrent matrix.
func trainedWeights(t *testing.T, cfg CharLMConfig, data *CharLMData, name string) []byte {
	t.Helper()
	v := trainTiny(t, cfg, data, name, t.TempDir()).Store().GetVariable("/rnn/layer_0/qw_h")
	if v == nil {
		t.Fatal("no /rnn/layer_0/qw_h after training")
	}
	return tensorBytes(t, v.MustValue())
}

// TestDistillationReachesTheGradients trains the tiny BN binary model from the
// same seed three ways: the paper's recipe, a teacher at mix 0 (which must be
// the paper's recipe to the bit) and a teacher at mix 0.5 (which must not).
func TestDistillationReachesTheGradients(t *testing.T) {
	cfg, data := tinyCharLM(t)
	cfg.Steps = 3
	teacher := tinyTeacher(t, cfg, data)
	plain := trainedWeights(t, cfg, data, "bn-binary")
	mix0 := cfg
	mix0.Distill = Distillation{Teacher: teacher, Temperature: 2, Mix: 0}
	if !bytes.Equal(plain, trainedWeights(t, mix0, data, "bn-binary")) {
		t.Error("a teacher at mix 0 changed training: the loss is not the paper's cross-entropy")
	}
	half := cfg
	half.Distill = Distillation{Teacher: teacher, Temperature: 2, Mix: 0.5}
	if bytes.Equal(plain, trainedWeights(t, half, data, "bn-binary")) {
		t.Error("a teacher at mix 0.5 left training unchanged: its soft targets do not reach the loss")
	}
	// The full-precision baseline of a distilled run is never distilled.
	if !bytes.Equal(trainedWeights(t, cfg, data, "bn-fp"), trainedWeights(t, half, data, "bn-fp")) {
		t.Error("the full-precision model of a distilled run was distilled")
	}
}

// TestDistillationRejectsBadSettings covers every setting that must stop a
// run before it writes anything, each with an error that says what to fix.
func TestDistillationRejectsBadSettings(t *testing.T) {
	cfg, data := tinyCharLM(t)
	teacher := tinyTeacher(t, cfg, data)
	plainDir := t.TempDir()
	other := *data
	otherCorpus := *data.Corpus
	otherCorpus.Name = "another corpus"
	other.Corpus = &otherCorpus
	wider := *data
	widerCorpus := *data.Corpus
	widerCorpus.Symbols = append(append([]rune(nil), data.Corpus.Symbols...), '\u2603')
	wider.Corpus = &widerCorpus
	for _, tc := range []struct {
		name string
		d    Distillation
		data *CharLMData
		want string
	}{
		{"temperature 0", Distillation{Teacher: teacher, Temperature: 0, Mix: 0.5}, data, "temperature 0"},
		{"negative temperature", Distillation{Teacher: teacher, Temperature: -1, Mix: 0.5}, data, "temperature -1"},
		{"mix above 1", Distillation{Teacher: teacher, Temperature: 2, Mix: 1.5}, data, "mix 1.5"},
		{"negative mix", Distillation{Teacher: teacher, Temperature: 2, Mix: -0.1}, data, "mix -0.1"},
		{"settings without a teacher", Distillation{Temperature: 2, Mix: 0.5}, data, "without a teacher"},
		{"teacher that does not exist", Distillation{Teacher: filepath.Join(plainDir, "nope"), Temperature: 2, Mix: 0.5}, data, "no such file"},
		{"teacher that is no run directory", Distillation{Teacher: plainDir, Temperature: 2, Mix: 0.5}, data, "not a char-LM run directory"},
		{"teacher of another vocabulary", Distillation{Teacher: teacher, Temperature: 2, Mix: 0.5}, &other, "another vocabulary"},
		{"teacher of another output size", Distillation{Teacher: teacher, Temperature: 2, Mix: 0.5}, &wider, "another size of output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.Distill = tc.d
			out := filepath.Join(t.TempDir(), "run")
			_, err := RunCharLM(context.Background(), c, tc.data, out, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if _, statErr := os.Stat(out); statErr == nil {
				t.Errorf("%s was written before the error", out)
			}
		})
	}
	// A checkpoint directory is a teacher too.
	ckpt, _, err := resolveTeacher(teacher)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := resolveTeacher(ckpt); err != nil {
		t.Errorf("a checkpoint directory as teacher: %v", err)
	}
}

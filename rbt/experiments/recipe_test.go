package experiments

import (
	"strings"
	"testing"

	"github.com/rbt-project/rbt/rbt/recurrent"
)

func TestRecipes(t *testing.T) {
	for _, tc := range []struct {
		cell       recurrent.Cell
		name       string
		quantizer  string
		norm       recurrent.Normalization
		clip       bool
		wantErrSub string
	}{
		{recurrent.LSTM, "bn-binary", "binary", recurrent.PerStepBN, true, ""},
		{recurrent.LSTM, "binary", "binary", recurrent.None, true, ""}, // the W0-scaled ablation of the list
		{recurrent.LSTM, "bc", "bc", recurrent.None, false, ""},        // BinaryConnect, as in the list
		{recurrent.LSTM, "bn-twn", "twn", recurrent.PerStepBN, true, ""},
		{recurrent.LSTM, "K3", "k3", recurrent.None, false, ""},
		{recurrent.GRU, "bn-ternary", "ternary", recurrent.PerStepBN, true, ""},
		{recurrent.GRU, "bn-k4", "k4", recurrent.PerStepBN, false, ""},
		{recurrent.LSTM, "nope", "", 0, false, "bn-binary"},
		{recurrent.LSTM, "bn-nope", "", 0, false, "twn"},
	} {
		r, err := LookupCharLMRecipe(tc.cell, tc.name)
		if tc.wantErrSub != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErrSub) {
				t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.wantErrSub)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if r.Cell != tc.cell || r.Quantizer != tc.quantizer || r.Normalization != tc.norm || r.ClipLatent != tc.clip || r.Validate() != nil {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
	// Every listed recipe is valid, and names are unique in each list.
	for _, list := range [][]Recipe{charLMModels, gruCharLMModels, wordLMModels, SeqMNISTModels, QAModels} {
		seen := map[string]bool{}
		for _, r := range list {
			if seen[r.Name] {
				t.Errorf("%s twice", r.Name)
			}
			seen[r.Name] = true
			if _, err := quantizerOK(r); err != nil {
				t.Errorf("%s: %v", r.Name, err)
			}
		}
	}
}

func quantizerOK(r Recipe) (Recipe, error) {
	if r.Cell == 0 { // the sequential-MNIST list takes its cell from the config
		r.Cell = recurrent.LSTM
	}
	return r, r.Validate()
}

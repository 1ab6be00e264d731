package experiments

// The corpora of the character-level experiments: loading, stand-ins, and
// where a notebook keeps its checkpoints.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/budget"
)

// CharLMData is a corpus ready for the char-LM experiments.
type CharLMData struct {
	Corpus *datasets.CharCorpus
	// Label names what was loaded, e.g. "PTB characters" or "Linux kernel
	// stand-in (linux_input.txt absent)".
	Label string
	// Note is non-empty when the data is not the paper's (a stand-in or a
	// sample): scores are then not comparable with the paper's.
	Note string
}

// LoadCharLMData loads the corpus of task from the data root (package
// datasets). Linux falls back to the stand-in when linux_input.txt is absent
// (Note says so). text8 falls back, when the real file is absent and allowSample
// is true, to a text8-like sample made from War and Peace (lowercase a-z and
// single spaces, 27 symbols, 90/5/5), clearly labelled; with allowSample false
// its absence is an error naming the fetch command.
func LoadCharLMData(task string, allowSample bool) (*CharLMData, error) {
	switch task {
	case TaskPTBChar:
		c, err := datasets.LoadPTBChar()
		if err != nil {
			return nil, err
		}
		return &CharLMData{Corpus: c, Label: "PTB characters"}, nil
	case TaskWarAndPeace:
		c, err := datasets.LoadWarAndPeace()
		if err != nil {
			return nil, err
		}
		return &CharLMData{Corpus: c, Label: "War and Peace"}, nil
	case TaskLinux:
		c, err := datasets.LoadLinux()
		if err != nil {
			return nil, err
		}
		if c.Substitute {
			return &CharLMData{Corpus: c, Label: "Linux kernel stand-in (kernel 6.1 sources)",
				Note: "linux_input.txt (Karpathy's file, the paper's data) is absent: this run uses the same-size stand-in " +
					"linux_substitute_kernel6.1.txt, whose BPC is not comparable with the paper's"}, nil
		}
		return &CharLMData{Corpus: c, Label: "Linux kernel (linux_input.txt)"}, nil
	case TaskText8:
		c, err := datasets.LoadText8()
		if err == nil {
			return &CharLMData{Corpus: c, Label: "text8"}, nil
		}
		if !allowSample {
			return nil, err
		}
		wp, err2 := datasets.LoadWarAndPeace()
		if err2 != nil {
			return nil, fmt.Errorf("experiments: text8 is absent (%v) and War and Peace, the source of its stand-in sample, too: %w", err, err2)
		}
		s := Text8Sample(wp.Decode(wp.Train) + wp.Decode(wp.Valid) + wp.Decode(wp.Test))
		return &CharLMData{Corpus: s, Label: "text8-like SAMPLE made from War and Peace (real text8 absent)",
			Note: "the real text8 (100M chars of Wikipedia) is absent: this run uses a text8-like sample, War and Peace " +
				"lowercased to a-z and single spaces (27 symbols, split 90/5/5); its BPC is not comparable with text8's. " +
				"Get the real file with `" + datasets.FetchCommand + " text8` (http://mattmahoney.net/dc/text8.zip)"}, nil
	}
	return nil, checkTask(task)
}

// Text8Sample turns text into a text8-like corpus the way Mahoney's wikifil.pl
// cleans Wikipedia: letters lowercased to a-z, every other run of characters
// one space; split 90/5/5 contiguous like text8. Name is "text8-sample".
func Text8Sample(text string) *datasets.CharCorpus {
	ids := make([]uint8, 0, len(text))
	space := true // no leading space
	for _, r := range text {
		switch {
		case r >= 'a' && r <= 'z':
			ids = append(ids, uint8(r-'a'+1))
			space = false
		case r >= 'A' && r <= 'Z':
			ids = append(ids, uint8(r-'A'+1))
			space = false
		default:
			if !space {
				ids = append(ids, 0)
				space = true
			}
		}
	}
	n := len(ids)
	a, b := n*9/10, n*95/100
	return &datasets.CharCorpus{Name: "text8-sample", Symbols: []rune(datasets.Text8Alphabet),
		Train: ids[:a], Valid: ids[a:b], Test: ids[b:], Substitute: true}
}

// RunsDir is where a notebook keeps the checkpoints of task at budget b:
// $RBT_RUNS/<task>/<budget> when RBT_RUNS is set (a re-run resumes), else ""
// (a temporary directory removed at the end).
func RunsDir(task string, b budget.Budget) string {
	if runs := os.Getenv("RBT_RUNS"); runs != "" {
		return filepath.Join(runs, task, string(b))
	}
	return ""
}

// RunCharLMTask loads the corpus of cfg.Task (a labelled stand-in for absent
// data is allowed except at the paper budget, LoadCharLMData) and runs every
// model of cfg on it (RunCharLM): the one call of the char-LM notebooks.
func RunCharLMTask(ctx context.Context, cfg CharLMConfig, dir string, w io.Writer) (*CharLMResult, error) {
	data, err := LoadCharLMData(cfg.Task, cfg.Budget != budget.Paper)
	if err != nil {
		return nil, err
	}
	if w != nil {
		c := data.Corpus
		fmt.Fprintf(w, "data: %s, %d symbols, train/valid/test %d / %d / %d characters\n", data.Label, c.NumSymbols(), len(c.Train), len(c.Valid), len(c.Test))
	}
	return RunCharLM(ctx, cfg, data, dir, w)
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rbt-project/rbt/rbt/packed"
)

// TestBadInput: every command given bad values exits with status 2, prints a
// message that says what to do, and writes nothing (neither -dir nor any file
// in its working directory).
func TestBadInput(t *testing.T) {
	files := t.TempDir()
	good := filepath.Join(files, "good.rbtm")
	m, err := packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, Vocab: 30, Hidden: []int{16}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := packed.WriteFile(good, m); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	write := func(name string, data []byte) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	text := write("notes.txt", []byte("not a model\n"))
	truncated := write("truncated.rbtm", raw[:len(raw)/2])
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 0x40
	flippedPath := write("flipped.rbtm", flipped)
	badJSON := write("design.json", []byte(`{"name": "x", "pe_rows": `))
	emptyData := t.TempDir()
	// A data root whose PTB file has the right name and wrong bytes.
	wrongData := t.TempDir()
	os.MkdirAll(filepath.Join(wrongData, "ptb-char"), 0o755)
	os.WriteFile(filepath.Join(wrongData, "ptb-char", "ptb.char.train.txt"), []byte("a b c\n"), 0o644)

	cases := []struct {
		name string
		env  []string
		args []string
		want string // in stderr: what is wrong or what to do
	}{
		{"no-command", nil, nil, "usage: rbt <command>"},
		{"unknown-command", nil, []string{"trian"}, `unknown command "trian"`},
		{"train-unknown-task", nil, []string{"train", "-task", "ptb-word-x", "-dir", "D"}, "known: "},
		{"train-unknown-model", nil, []string{"train", "-model", "bn-binray", "-dir", "D"}, "known: "},
		{"train-unknown-model-in-list", nil, []string{"train", "-model", "bn-binary,nope", "-dir", "D"}, "known: "},
		{"train-negative-seeds", nil, []string{"train", "-seeds", "-1", "-budget", "smoke", "-dir", "D"}, "-seeds -1: want >= 0"},
		{"train-budget-typo", nil, []string{"train", "-budget", "smok", "-dir", "D"}, "use smoke"},
		{"train-budget-env-typo", []string{"RBT_BUDGET=quik"}, []string{"train", "-dir", "D"}, "use smoke"},
		{"train-negative-steps", nil, []string{"train", "-budget", "smoke", "-steps", "-5", "-dir", "D"}, "want >= 0"},
		{"train-steps-not-a-number", nil, []string{"train", "-steps", "ten", "-dir", "D"}, "invalid value"},
		{"train-negative-seed", nil, []string{"train", "-seed", "-1", "-dir", "D"}, "invalid value"},
		{"train-no-dir", nil, []string{"train", "-budget", "smoke"}, "-dir is required"},
		{"train-unknown-flag", nil, []string{"train", "-epoch", "3", "-dir", "D"}, "flag provided but not defined"},
		{"train-extra-argument", nil, []string{"train", "-dir", "D", "ptb"}, "unexpected arguments"},
		{"train-missing-dataset", []string{"RBT_DATA=" + emptyData}, []string{"train", "-budget", "smoke", "-dir", "D"}, "fetch"},
		{"train-bad-data-root", []string{"RBT_DATA=" + filepath.Join(emptyData, "nope")}, []string{"train", "-budget", "smoke", "-dir", "D"}, "RBT_DATA"},
		{"inspect-no-model", nil, []string{"inspect"}, "-model is required"},
		{"inspect-missing-file", nil, []string{"inspect", "-model", filepath.Join(files, "absent.rbtm")}, "absent.rbtm"},
		{"inspect-not-a-model", nil, []string{"inspect", "-model", text}, text},
		{"inspect-truncated-model", nil, []string{"inspect", "-model", truncated}, truncated},
		{"inspect-flipped-model", nil, []string{"inspect", "-model", flippedPath}, flippedPath},
		{"generate-not-a-model", nil, []string{"generate", "-model", text}, text},
		{"generate-flipped-model", nil, []string{"generate", "-model", flippedPath}, flippedPath},
		{"generate-negative-n", nil, []string{"generate", "-model", good, "-n", "-1"}, "want >= 0"},
		{"generate-unknown-prime", nil, []string{"generate", "-model", good, "-prime", "\x01"}, "vocabulary"},
		{"hwsim-unknown-design", nil, []string{"hwsim", "-config", "fp13"}, "fp12"},
		{"hwsim-bad-config-file", nil, []string{"hwsim", "-config", badJSON}, badJSON},
		{"hwsim-missing-config-file", nil, []string{"hwsim", "-config", filepath.Join(files, "absent.yaml")}, "absent.yaml"},
		{"hwsim-zero-hidden", nil, []string{"hwsim", "-hidden", "0"}, "-hidden 0: want a whole number >= 1"},
		{"hwsim-negative-window", nil, []string{"hwsim", "-window", "-1"}, "-window -1"},
		{"hwsim-negative-chars", nil, []string{"hwsim", "-chars", "-3"}, "-chars -3"},
		{"hwsim-negative-steps", nil, []string{"hwsim", "-steps", "-2"}, "-steps -2"},
		{"hwsim-not-a-model", nil, []string{"hwsim", "-model", text}, text},
		{"data-no-subcommand", nil, []string{"data"}, "usage: rbt data"},
		{"data-unknown-subcommand", nil, []string{"data", "fecth"}, "usage: rbt data"},
		{"data-fetch-unknown", nil, []string{"data", "fetch", "-dir", "D", "ptb-chars"}, "ptb-char"},
		{"data-verify-unknown", nil, []string{"data", "verify", "mnistt"}, "mnist"},
		{"data-verify-wrong-checksum", []string{"RBT_DATA=" + wrongData}, []string{"data", "verify", "ptb-char"}, "rbt data fetch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cwd := t.TempDir()
			p := run(t, rbtCmd(t, cwd, c.env, c.args...))
			if p.code != exitBadInput {
				t.Errorf("exit %d, want %d\n%s", p.code, exitBadInput, p.stderr)
			}
			if !strings.Contains(p.stderr, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, p.stderr)
			}
			if entries, _ := os.ReadDir(cwd); len(entries) > 0 {
				t.Errorf("wrote %d entries into the working directory (first %s)", len(entries), entries[0].Name())
			}
		})
	}
	t.Logf("bad inputs: %d tried", len(cases))
}

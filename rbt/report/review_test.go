package report

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHeadlineVerdicts(t *testing.T) {
	for _, c := range []struct {
		name    string
		r       Result
		claim   string
		verdict string
	}{
		{"at most, met", Headline("e", "m", "BPC", "cpu", 1, 1.60, 1.64, 1.62).AtMost(1.65), "at most 1.65", "met: 1.62 vs at most 1.65 (-1.8%)"},
		{"at most, missed", Headline("e", "m", "BPC", "cpu", 1, 1.80).AtMost(1.65), "at most 1.65", "MISSED: 1.8 vs at most 1.65 (+9.1%)"},
		{"at least", Headline("e", "m", "acc", "cpu", 1, 94.5).AtLeast(95), "at least 95", "MISSED: 94.5 vs at least 95 (-0.50)"},
		{"within percent", Headline("e", "m", "BPC", "cpu", 1, 1.69).WithinPercent(1.60, 6, "of fp"), "within 6% of fp", "met: +5.6% (1.69 vs 1.6)"},
		{"within percent, missed", Headline("e", "m", "BPC", "cpu", 1, 1.70).WithinPercent(1.60, 3, "of fp"), "within 3% of fp", "MISSED: +6.2% (1.7 vs 1.6)"},
		{"within points", Headline("e", "m", "acc", "cpu", 1, 92).WithinPoints(96, 3, "of fp"), "within 3 points of fp", "MISSED: -4.00 points (92 vs 96)"},
		{"ablation", Headline("e", "m", "BPC", "cpu", 1, 3.2).AtLeastPercentAbove(1.6, 20, "fp"), "at least 20% above fp", "met: +100.0% (3.2 vs 1.6)"},
		{"near", Headline("e", "m", "BPC", "cpu", 1, 1.601).Near(1.6, 0.5, "of deploy"), "within 0.5% of deploy", "met: +0.06% (1.601 vs 1.6)"},
		{"NaN never meets", Headline("e", "m", "BPC", "cpu", 1, math.NaN()).AtMost(1.65), "at most 1.65", "missed: the value is not finite (NaN)"},
		{"NaN reference never meets", Headline("e", "m", "BPC", "cpu", 1, 1.0).WithinPercent(math.NaN(), 3, "of fp"), "within 3% of fp", "MISSED: +NaN% (1 vs NaN)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.r.Claim != c.claim || c.r.Verdict != c.verdict {
				t.Errorf("claim %q verdict %q, want %q / %q", c.r.Claim, c.r.Verdict, c.claim, c.verdict)
			}
		})
	}
}

// The mean and spread of three seeds worked by hand: (1.60+1.64+1.62)/3 = 1.62, max-min = 0.04.
func TestHeadlineSeeds(t *testing.T) {
	h := Headline("e", "m", "BPC", "cpu", 1.5, 1.60, 1.64, 1.62)
	if math.Abs(h.Value-1.62) > 1e-12 || math.Abs(h.Spread-0.04) > 1e-12 || h.Seeds != 3 || h.Epochs != 1.5 || !h.Headline {
		t.Fatalf("%+v", h)
	}
	if one := Headline("e", "m", "BPC", "cpu", 1, 2); one.Spread != 0 || one.Seeds != 1 {
		t.Fatalf("one seed: %+v", one)
	}
}

func TestReviewRoundTripAndUpdate(t *testing.T) {
	dir := t.TempDir()
	csvPath, md := filepath.Join(dir, "RESULTS.csv"), filepath.Join(dir, "RESULTS.md")
	row := func(nb, b, model string, v float64) ReviewRow {
		return ReviewRow{Notebook: nb, Budget: b, Commit: "abc", Date: "2026-12-06",
			Result: Headline("PTB char", model, "test BPC (deploy)", b, 1, v, v+0.02).AtMost(1.65).Cite("1.32", "Cooijmans et al.")}
	}
	first := []ReviewRow{row("01_ptb_char", "quick", "bn-fp", 2.0), row("01_ptb_char", "quick", "bn-binary", 2.2), row("05_ptb_word", "quick", "bn-fp", 700)}
	if err := WriteReview(csvPath, md, UpdateReview(nil, first)); err != nil {
		t.Fatal(err)
	}
	got, err := ReadReview(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Verdict != first[0].Verdict || got[0].Seeds != 2 || math.Abs(got[0].Spread-0.02) > 1e-9 || got[0].Published != "1.32" {
		t.Fatalf("read back %+v", got)
	}
	// A new quick run of 01 replaces 01's quick rows only; a cpu run adds its own section, listed first.
	next := UpdateReview(got, []ReviewRow{row("01_ptb_char", "quick", "bn-fp", 1.9), row("01_ptb_char", "cpu", "bn-fp", 1.6)})
	if len(next) != 3 || next[0].Budget != "cpu" || next[1].Notebook != "01_ptb_char" || next[1].Value != 1.91 || next[2].Notebook != "05_ptb_word" {
		t.Fatalf("updated %+v", next)
	}
	if err := WriteReview(csvPath, md, next); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(md)
	for _, want := range []string{"## RBT_BUDGET=cpu", "## RBT_BUDGET=quick", "| bn-fp | test BPC (deploy) | 1.610 | 2 | 0.02 | 1.00 | 1.32 [1] | at most 1.65 | met:", "1. Cooijmans et al."} {
		if !strings.Contains(string(text), want) {
			t.Errorf("RESULTS.md lacks %q:\n%s", want, text)
		}
	}
	// Rows read back in any order (a CSV merged by hand) still render cpu first.
	if err := WriteReview(csvPath, md, []ReviewRow{next[1], next[2], next[0]}); err != nil {
		t.Fatal(err)
	}
	text, _ = os.ReadFile(md)
	if c, q := strings.Index(string(text), "## RBT_BUDGET=cpu"), strings.Index(string(text), "## RBT_BUDGET=quick"); c < 0 || q < 0 || c > q {
		t.Errorf("cpu section at %d, quick at %d: want cpu first", c, q)
	}
}

func TestReadReviewRejectsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "RESULTS.csv")
	if rows, err := ReadReview(p); err != nil || rows != nil {
		t.Fatalf("missing file: %v %v", rows, err)
	}
	os.WriteFile(p, []byte("a,b\n1,2\n"), 0o644)
	if _, err := ReadReview(p); err == nil || !strings.Contains(err.Error(), "not a results table") {
		t.Fatalf("foreign CSV: %v", err)
	}
	os.WriteFile(p, []byte(strings.Join(reviewHeader, ",")+"\n01,cpu,c,d,e,m,x,notanumber,1,,1,,,,,s\n"), 0o644)
	if _, err := ReadReview(p); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad number: %v", err)
	}
}

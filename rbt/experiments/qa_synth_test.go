package experiments

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/rbt/budget"
)

// TestSyntheticQAParses writes a few generated stories and reads them back
// with the real .question parser (datasets.LoadCNNQAFrom): one @placeholder
// per question, 2*Facts listed candidates, the answer among them and in the
// document, and exactly one fact of the document matching both the query's
// cue word and object, whose subject is the answer. The same seed writes the
// same files; invalid settings write nothing.
func TestSyntheticQAParses(t *testing.T) {
	dir := t.TempDir()
	s := SyntheticQA{Train: 20, Valid: 2, Test: 3, Seed: 9}
	if err := s.Write(dir); err != nil {
		t.Fatal(err)
	}
	c, err := datasets.LoadCNNQAFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Train) != 20 || len(c.Valid) != 2 || len(c.Test) != 3 {
		t.Fatalf("splits %d/%d/%d", len(c.Train), len(c.Valid), len(c.Test))
	}
	cues := map[string]bool{}
	for _, w := range synthCues {
		cues[w] = true
	}
	for _, x := range c.Train {
		if _, ok := x.Entities[x.Answer]; !ok || len(x.Entities) != 8 {
			t.Errorf("%s: answer %s, %d entities", x.File, x.Answer, len(x.Entities))
		}
		cue, obj, holes := "", "", 0
		for i, w := range x.Question {
			if w == datasets.Placeholder {
				holes++
				cue, obj = x.Question[i+1], x.Question[i+2]
			}
		}
		if holes != 1 || !cues[cue] {
			t.Fatalf("%s: %d placeholders, cue %q", x.File, holes, cue)
		}
		var matches, cueOnly, objOnly int
		for i := 1; i+1 < len(x.Context); i++ {
			if !cues[x.Context[i]] {
				continue
			}
			switch c, o := x.Context[i] == cue, x.Context[i+1] == obj; {
			case c && o:
				matches++
				if x.Context[i-1] != x.Answer {
					t.Errorf("%s: the matching fact's subject is %s, answer %s", x.File, x.Context[i-1], x.Answer)
				}
			case c:
				cueOnly++
			case o:
				objOnly++
			}
		}
		if matches != 1 || cueOnly < 1 || objOnly < 1 {
			t.Errorf("%s: %d facts match the query, %d its cue only, %d its object only; want 1, >= 1, >= 1", x.File, matches, cueOnly, objOnly)
		}
	}
	again := t.TempDir()
	if err := s.Write(again); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"training/000000.question", "test/000002.question"} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, _ := os.ReadFile(filepath.Join(again, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two writes of the same seed", f)
		}
	}
	for _, bad := range []SyntheticQA{{Train: 1, Valid: 1, Test: 1, Facts: 30}, {Train: 1, Valid: 1, Test: 1, Facts: 2}} {
		if err := bad.Write(filepath.Join(dir, "bad")); err == nil {
			t.Errorf("Facts=%d accepted", bad.Facts)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad")); err == nil {
		t.Error("invalid settings still wrote files")
	}
}

// TestSyntheticQAIsAReadingTask measures, over 4,000 generated stories at
// the quick budget's settings (3 facts, 4 cue words, 12 entity numbers) and at
// the defaults, the accuracy of answers that do not read the story at the
// place the query points to: uniform guessing (chance, at most 20%), the most
// frequent entity of the document, the most frequent one excluding the query's
// entities, and matching the cue word only or the object only (uniform among
// the subjects of the facts that match). Each must stay far below what
// matching the whole query context gives (100%, checked by
// TestSyntheticQAParses); the two frequency baselines must be at most
// chance + 10 points. Entity numbers are renumbered per story: the answer's
// number is uniform over the entity range.
func TestSyntheticQAIsAReadingTask(t *testing.T) {
	const n = 4000
	for _, s := range []SyntheticQA{QASettings(budget.Quick).Synthetic, {}} {
		s.Train, s.Valid, s.Test = n, 1, 1
		s = s.withDefaults()
		rng := rand.New(rand.NewPCG(5, 6))
		k := 2 * s.Facts
		chance := 1 / float64(k)
		var freq, freqExcl, cueOnly, objOnly float64
		answerIDs := make([]int, s.EntityRange)
		for range n {
			st := s.story(rng, "t")
			answerIDs[st.ents[st.answer]]++
			counts := make([]int, k)
			for _, w := range st.doc {
				for e, id := range st.ents {
					if w == fmt.Sprintf("@entity%d", id) {
						counts[e]++
					}
				}
			}
			q := st.facts[st.queryFct]
			freq += pickMax(counts, nil, st.answer)
			freqExcl += pickMax(counts, map[int]bool{q.obj: true}, st.answer)
			var byCue, byObj []int
			for _, f := range st.facts {
				if f.cue == q.cue {
					byCue = append(byCue, f.subj)
				}
				if f.obj == q.obj {
					byObj = append(byObj, f.subj)
				}
			}
			cueOnly += share(byCue, st.answer)
			objOnly += share(byObj, st.answer)
		}
		freq, freqExcl, cueOnly, objOnly = freq/n, freqExcl/n, cueOnly/n, objOnly/n
		t.Logf("facts %d, cues %d, entity range %d: chance %.3f; most frequent %.3f, most frequent not in the query %.3f, cue only %.3f, object only %.3f",
			s.Facts, s.Cues, s.EntityRange, chance, freq, freqExcl, cueOnly, objOnly)
		if chance > 0.2 {
			t.Errorf("chance %.3f > 20%%", chance)
		}
		if freq > chance+0.1 || freqExcl > chance+0.1 {
			t.Errorf("frequency baselines %.3f / %.3f, want at most chance %.3f + 0.1", freq, freqExcl, chance)
		}
		if cueOnly > 0.6 || objOnly > 0.6 {
			t.Errorf("matching one word of the query answers %.3f (cue) / %.3f (object), want <= 0.6", cueOnly, objOnly)
		}
		for id, c := range answerIDs {
			if exp := float64(n) / float64(s.EntityRange); float64(c) < exp/2 || float64(c) > exp*2 {
				t.Errorf("answer @entity%d: %d of %d stories, expected about %.0f (ids renumbered per story)", id, c, n, exp)
			}
		}
	}
}

// pickMax returns the expected accuracy of choosing uniformly among the
// entities (not in skip) of highest count.
func pickMax(counts []int, skip map[int]bool, answer int) float64 {
	best, ties, hit := -1, 0, false
	for e, c := range counts {
		if skip[e] {
			continue
		}
		switch {
		case c > best:
			best, ties, hit = c, 1, e == answer
		case c == best:
			ties++
			hit = hit || e == answer
		}
	}
	if !hit {
		return 0
	}
	return 1 / float64(ties)
}

// share is the accuracy of choosing uniformly among the distinct subjects.
func share(subjects []int, answer int) float64 {
	seen := map[int]bool{}
	for _, s := range subjects {
		seen[s] = true
	}
	if !seen[answer] {
		return 0
	}
	return 1 / float64(len(seen))
}

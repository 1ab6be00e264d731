package experiments

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// SyntheticQA describes a generated stand-in for the CNN corpus, written in
// the real `.question` format (datasets.ParseQuestion) so that the whole real
// pipeline (parser, vocabulary, batches, model) runs on it.
//
// It is a reading task in the manner of Hermann et al. 2015: every story has
// 2*Facts candidate entities, anonymised as @entityN with numbers drawn afresh
// for every story from 0..EntityRange-1 (so an id carries no meaning across
// stories and no answer can be learned by heart), and Facts facts
// "@entityS <cue> @entityO" (cue words from a fixed list of Cues verbs)
// between filler words. The query restates one fact with its subject replaced
// by @placeholder, "... @placeholder <cue> @entityO ."; the answer is that
// fact's subject.
//
// The story is built so that only matching the whole query context to the
// story finds the answer: another fact has the same cue word (with another
// object) and another the same object (with another cue word), each with a
// different subject, so neither the cue nor the object alone decides; every
// entity is mentioned in filler sentences until it occurs 2 or 3 times (at
// random), so the most frequent entity is no better than chance; and
// the facts and filler sentences come in random order. Chance is
// 1/(2*Facts): at most 20% (Facts >= 3). TestSyntheticQAIsAReadingTask
// measures these baselines on generated stories.
type SyntheticQA struct {
	Train, Valid, Test int // number of stories per split
	Facts              int // facts per story (default 4); 2*Facts candidate entities
	Cues               int // cue words used (default 16)
	EntityRange        int // entity numbers 0..EntityRange-1 (default 40; at most 550)
	Seed               uint64
}

var (
	synthCues = []string{"visited", "praised", "sued", "hired", "met", "called", "blamed", "thanked",
		"defeated", "joined", "warned", "interviewed", "followed", "funded", "replaced", "criticized"}
	synthFiller = []string{"the", "a", "on", "in", "yesterday", "officials", "after", "report",
		"city", "new", "week", "according", "to", "sources", "while", "during", "talks", "public", "statement",
		"late", "early", "again", "also", "however", "later", "team", "local", "police", "government"}
	// synthMention are the verbs of the filler sentences that mention an entity
	// outside the facts (never cue words).
	synthMention = []string{"said", "spoke", "declined", "arrived", "left", "commented"}
)

func (s SyntheticQA) withDefaults() SyntheticQA {
	if s.Facts == 0 {
		s.Facts = 4
	}
	if s.Cues == 0 {
		s.Cues = len(synthCues)
	}
	if s.EntityRange == 0 {
		s.EntityRange = 40
	}
	return s
}

// Validate checks the description.
func (s SyntheticQA) Validate() error {
	s = s.withDefaults()
	switch {
	case s.Train < 1 || s.Valid < 1 || s.Test < 1:
		return fmt.Errorf("synthetic QA: Train=%d Valid=%d Test=%d stories, want >= 1 each", s.Train, s.Valid, s.Test)
	case s.Cues < 2 || s.Cues > len(synthCues):
		return fmt.Errorf("synthetic QA: Cues=%d, want 2..%d", s.Cues, len(synthCues))
	case s.Facts < 3:
		return fmt.Errorf("synthetic QA: Facts=%d, want >= 3 (2*Facts candidates: chance at most 20%%)", s.Facts)
	case s.EntityRange < 2*s.Facts || s.EntityRange > 550:
		return fmt.Errorf("synthetic QA: EntityRange=%d, want %d..550", s.EntityRange, 2*s.Facts)
	}
	return nil
}

// Summary describes the generated data in one line, for result tables.
func (s SyntheticQA) Summary() string {
	s = s.withDefaults()
	return fmt.Sprintf("GENERATED stand-in in the CNN .question format (not the CNN corpus): %d/%d/%d stories of %d facts, "+
		"%d anonymised entities renumbered per story (chance %.1f%%); answer = the subject of the one fact that matches "+
		"both the query's cue word and its object", s.Train, s.Valid, s.Test, s.Facts, 2*s.Facts, 100/float64(2*s.Facts))
}

// Write generates the stories into dir/{training,validation,test}/NNNNNN.question.
// The same description (Seed included) writes the same files.
func (s SyntheticQA) Write(dir string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s = s.withDefaults()
	rng := rand.New(rand.NewPCG(s.Seed, 0x5157))
	for _, split := range []struct {
		name string
		n    int
	}{{"training", s.Train}, {"validation", s.Valid}, {"test", s.Test}} {
		sub := filepath.Join(dir, split.name)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		for i := range split.n {
			text := s.story(rng, fmt.Sprintf("%s/%d", split.name, i)).question()
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%06d.question", i)), []byte(text), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// synthFact is "subject cue object", entities as indices into synthStory.ents.
type synthFact struct{ subj, cue, obj int }

// synthStory is one generated example.
type synthStory struct {
	id       string
	ents     []int // entity numbers of the story's candidates
	doc      []string
	query    []string
	answer   int // index into ents
	facts    []synthFact
	queryFct int // index into facts
}

func (st synthStory) question() string {
	ent := func(n int) string { return fmt.Sprintf("@entity%d", n) }
	var b strings.Builder
	fmt.Fprintf(&b, "http://synthetic.rbt/%s\n\n%s\n\n%s\n\n%s\n\n", st.id, strings.Join(st.doc, " "),
		strings.Join(st.query, " "), ent(st.ents[st.answer]))
	for _, e := range st.ents {
		fmt.Fprintf(&b, "%s:Person %d\n", ent(e), e)
	}
	return b.String()
}

// story generates one example (see SyntheticQA).
func (s SyntheticQA) story(rng *rand.Rand, id string) synthStory {
	k := 2 * s.Facts
	st := synthStory{id: id, ents: rng.Perm(s.EntityRange)[:k]}
	other := func(not ...int) int { // a random entity index not in not
		for {
			e := rng.IntN(k)
			ok := true
			for _, n := range not {
				ok = ok && e != n
			}
			if ok {
				return e
			}
		}
	}
	otherCue := func(not int) int {
		c := rng.IntN(s.Cues - 1)
		if c >= not {
			c++
		}
		return c
	}
	// The queried fact, a fact with its cue and another object, a fact with
	// its object and another cue (distinct subjects), then random facts that
	// do not repeat the queried (cue, object) pair.
	q := synthFact{subj: rng.IntN(k), cue: rng.IntN(s.Cues)}
	q.obj = other(q.subj)
	sameCue := synthFact{subj: other(q.subj), cue: q.cue}
	sameCue.obj = other(sameCue.subj, q.obj)
	sameObj := synthFact{subj: other(q.subj, q.obj), cue: otherCue(q.cue), obj: q.obj}
	facts := []synthFact{q, sameCue, sameObj}
	for len(facts) < s.Facts {
		f := synthFact{subj: rng.IntN(k), cue: rng.IntN(s.Cues)}
		f.obj = other(f.subj)
		if f.cue == q.cue && f.obj == q.obj {
			continue
		}
		facts = append(facts, f)
	}
	filler := func(n int) []string {
		w := make([]string, n)
		for i := range w {
			w[i] = synthFiller[rng.IntN(len(synthFiller))]
		}
		return w
	}
	ent := func(i int) string { return fmt.Sprintf("@entity%d", st.ents[i]) }
	// Sentences: the facts, and mentions that bring every entity to 2 or 3
	// occurrences (at least one mention for an entity outside the facts).
	var sentences [][]string
	inFacts := make([]int, k)
	for _, f := range facts {
		sentences = append(sentences, append(filler(1+rng.IntN(3)), ent(f.subj), synthCues[f.cue], ent(f.obj), "."))
		inFacts[f.subj]++
		inFacts[f.obj]++
	}
	for e := range k {
		mentions := max(2+rng.IntN(2)-inFacts[e], 0)
		if inFacts[e] == 0 {
			mentions = max(mentions, 1)
		}
		for range mentions {
			sentences = append(sentences, append(append(filler(1+rng.IntN(2)), ent(e), synthMention[rng.IntN(len(synthMention))]),
				append(filler(1+rng.IntN(2)), ".")...))
		}
	}
	order := rng.Perm(len(sentences))
	for _, i := range order {
		st.doc = append(st.doc, sentences[i]...)
	}
	// Facts in document order, for the tests' baselines.
	for _, i := range order {
		if i < len(facts) {
			if i == 0 {
				st.queryFct = len(st.facts)
			}
			st.facts = append(st.facts, facts[i])
		}
	}
	st.query = append(filler(1+rng.IntN(2)), "@placeholder", synthCues[q.cue], ent(q.obj), ".")
	st.answer = q.subj
	return st
}

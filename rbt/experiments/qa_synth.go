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
// Every story states Facts facts "@entityS <cue> @entityO", each with its
// own cue word (a verb from a fixed list), between random filler words; the
// entity numbers are drawn at random per story from 0..EntityRange-1 (the
// real corpus also renumbers entities per story). The query restates one
// fact with its subject replaced by @placeholder: "... @placeholder <cue>
// @entityO ...". The answer is the entity that stands right before that cue
// word in the story, so the task is answerable only by reading the story at
// the place the question's cue word points to: exactly what the attention
// of the Attentive Reader must learn. The candidates are the story's
// 2*Facts entities (chance: 1/(2*Facts)).
type SyntheticQA struct {
	Train, Valid, Test int // number of stories per split
	Facts              int // facts per story (default 4)
	Cues               int // cue words used (default 16; the more, the harder the matching)
	EntityRange        int // entity numbers 0..EntityRange-1 (default 40; at most 550)
	Seed               uint64
}

var (
	synthCues = []string{"visited", "praised", "sued", "hired", "met", "called", "blamed", "thanked",
		"defeated", "joined", "warned", "interviewed", "followed", "funded", "replaced", "criticized"}
	synthFiller = []string{"the", "a", "on", "in", "yesterday", "officials", "said", "after", "report",
		"city", "new", "week", "according", "to", "sources", "while", "during", "talks", "public", "statement",
		"late", "early", "again", "also", "however", "later", "team", "local", "police", "government"}
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
	case s.Facts < 2 || s.Facts > s.Cues:
		return fmt.Errorf("synthetic QA: Facts=%d, want 2..Cues (%d)", s.Facts, s.Cues)
	case s.EntityRange < 2*s.Facts || s.EntityRange > 550:
		return fmt.Errorf("synthetic QA: EntityRange=%d, want %d..550", s.EntityRange, 2*s.Facts)
	}
	return nil
}

// Write generates the stories into dir/{training,validation,test}/NNNNNN.question.
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
			text := s.story(rng, fmt.Sprintf("%s/%d", split.name, i))
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%06d.question", i)), []byte(text), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// story returns one .question file.
func (s SyntheticQA) story(rng *rand.Rand, id string) string {
	ents := rng.Perm(s.EntityRange)[:2*s.Facts]
	cues := rng.Perm(s.Cues)[:s.Facts]
	filler := func(k int) []string {
		w := make([]string, k)
		for i := range w {
			w[i] = synthFiller[rng.IntN(len(synthFiller))]
		}
		return w
	}
	ent := func(n int) string { return fmt.Sprintf("@entity%d", n) }
	var doc []string
	for f := range s.Facts {
		doc = append(doc, filler(1+rng.IntN(3))...)
		doc = append(doc, ent(ents[2*f]), synthCues[cues[f]], ent(ents[2*f+1]), ".")
	}
	q := rng.IntN(s.Facts)
	query := append(filler(1+rng.IntN(2)), "@placeholder", synthCues[cues[q]], ent(ents[2*q+1]), ".")
	var b strings.Builder
	fmt.Fprintf(&b, "http://synthetic.rbt/%s\n\n%s\n\n%s\n\n%s\n\n", id, strings.Join(doc, " "), strings.Join(query, " "), ent(ents[2*q]))
	for _, e := range ents {
		fmt.Fprintf(&b, "%s:Person %d\n", ent(e), e)
	}
	return b.String()
}

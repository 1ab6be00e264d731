package datasets

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Stand-ins for the datasets that are not available here (text8, CNN QA),
// made from text that is: PTB. They exercise the same code paths at a smoke
// budget; their results say nothing about the real datasets, and they are
// always labelled (Name "...-sample-from-ptb", Substitute = true).

// Text8SampleName labels the text8 stand-in.
const Text8SampleName = "text8-sample-from-ptb"

// Text8SampleFrom builds a text8-format corpus of n characters (a-z and
// single spaces, 27-symbol alphabet, 90/5/5 split) from the word-level PTB
// files in ptbDir: tokens are lower-cased, stripped to their letters
// ("<unk>" -> "unk", "n't" -> "nt", "N" -> "n"), and joined by spaces. The
// result has Substitute = true and Name Text8SampleName.
func Text8SampleFrom(ptbDir string, n int) (*CharCorpus, error) {
	var sb strings.Builder
	sb.Grow(n)
	for _, split := range []string{"train", "valid", "test"} {
		p, err := fileIn(ptbDir, PTBWord, "ptb."+split+".txt")
		if err != nil {
			return nil, err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		for _, tok := range bytes.Fields(raw) {
			if sb.Len() >= n {
				break
			}
			w := lettersOnly(tok)
			if w == "" {
				continue
			}
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(w)
		}
	}
	text := sb.String()
	if len(text) < n {
		return nil, fmt.Errorf("datasets: PTB in %s gives only %d text8 characters, %d asked", ptbDir, len(text), n)
	}
	text = text[:n]
	c := &CharCorpus{Name: Text8SampleName, Symbols: []rune(Text8Alphabet), Substitute: true,
		Files: []string{filepath.Join(ptbDir, "ptb.train.txt")}}
	ids, err := encodeText(charText{name: Text8SampleName, ascii: []byte(text)}, c.Symbols, "text8")
	if err != nil {
		return nil, err
	}
	c.Train, c.Valid, c.Test = splitContiguous(ids, 18, 19, 20)
	return c, nil
}

func lettersOnly(tok []byte) string {
	out := make([]byte, 0, len(tok))
	for _, c := range tok {
		switch {
		case c >= 'a' && c <= 'z':
			out = append(out, c)
		case c >= 'A' && c <= 'Z':
			out = append(out, c+'a'-'A')
		}
	}
	return string(out)
}

// QASampleURL marks the examples made by QASampleFrom.
const QASampleURL = "synthetic:qa-sample-from-ptb"

// QASampleFrom makes n cloze questions in the CNN format from the word-level
// PTB text in ptbDir, for smoke runs of the QA pipeline when CNN is absent.
// Each example takes a run of consecutive sentences (documentSentences,
// e.g. 8) as the document; the longer words that occur in at least two of
// its sentences become entities, anonymised as @entityN with numbers drawn
// per example from (seed) below numEntities; one sentence that holds an
// entity becomes the query with that entity replaced by @placeholder, and
// is removed from the document (the entity still occurs elsewhere in it).
// URL is QASampleURL: these are not CNN data.
func QASampleFrom(ptbDir string, n, documentSentences, numEntities int, seed uint64) ([]*QAExample, error) {
	if n < 1 || documentSentences < 2 || numEntities < 2 {
		return nil, fmt.Errorf("datasets: QASampleFrom needs n >= 1, documentSentences >= 2, numEntities >= 2")
	}
	p, err := fileIn(ptbDir, PTBWord, "ptb.train.txt")
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer fh.Close()
	var sentences [][]string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 {
			sentences = append(sentences, f)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", p, err)
	}
	rng := newStream(seed, 0x71617361 /* "qasa" */)
	var out []*QAExample
	for start := 0; len(out) < n && start+documentSentences <= len(sentences); start += documentSentences {
		if ex := makeCloze(sentences[start:start+documentSentences], numEntities, rng); ex != nil {
			ex.File = fmt.Sprintf("%s#%d", p, start)
			out = append(out, ex)
		}
	}
	if len(out) < n {
		return nil, fmt.Errorf("datasets: %s gives only %d sample questions, %d asked", p, len(out), n)
	}
	return out, nil
}

// makeCloze turns a run of sentences into one example, or nil if no word
// qualifies as an entity.
func makeCloze(doc [][]string, numEntities int, rng *splitMix64) *QAExample {
	inSentences := map[string]map[int]bool{}
	for i, s := range doc {
		for _, w := range s {
			if len(w) >= 5 && lettersOnly([]byte(w)) == w {
				if inSentences[w] == nil {
					inSentences[w] = map[int]bool{}
				}
				inSentences[w][i] = true
			}
		}
	}
	var words []string
	for w, ss := range inSentences {
		if len(ss) >= 2 {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return nil
	}
	sort.Strings(words)
	if len(words) > numEntities {
		words = words[:numEntities]
	}
	ids := rng.permutation(numEntities)
	ent := map[string]string{}
	ex := &QAExample{URL: QASampleURL, Entities: map[string]string{}}
	for i, w := range words {
		marker := "@entity" + strconv.Itoa(int(ids[i]))
		ent[w] = marker
		ex.Entities[marker] = w
	}
	answerWord := words[rng.intn(len(words))]
	var qs []int
	for i := range inSentences[answerWord] {
		qs = append(qs, i)
	}
	sort.Ints(qs)
	qi := qs[rng.intn(len(qs))]
	for i, s := range doc {
		for _, w := range s {
			tok := w
			if m, ok := ent[w]; ok {
				tok = m
			}
			if i == qi {
				if w == answerWord {
					tok = Placeholder
				}
				ex.Question = append(ex.Question, tok)
			} else {
				ex.Context = append(ex.Context, tok)
			}
		}
	}
	ex.Answer = ent[answerWord]
	return ex
}

// FormatQuestion writes ex in the .question layout that ParseQuestion reads.
func FormatQuestion(ex *QAExample) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\n%s\n\n%s\n\n%s\n\n", ex.URL, strings.Join(ex.Context, " "), strings.Join(ex.Question, " "), ex.Answer)
	keys := make([]string, 0, len(ex.Entities))
	for k := range ex.Entities {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, _ := EntityNumber(keys[i])
		c, _ := EntityNumber(keys[j])
		return a < c
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:%s\n", k, ex.Entities[k])
	}
	return b.Bytes()
}

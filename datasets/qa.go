package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// QAExample is one CNN question (Hermann et al. 2015, "Teaching Machines to
// Read and Comprehend"): a news story whose entities are anonymised as
// @entityN (with ids randomly permuted per story, as the dataset ships), a
// cloze query with @placeholder for the missing entity, and the answer.
type QAExample struct {
	File     string            // path, for errors
	URL      string            // source article
	Context  []string          // document tokens
	Question []string          // query tokens, one of them "@placeholder"
	Answer   string            // "@entityN"
	Entities map[string]string // "@entityN" -> surface form, e.g. "@entity3" -> "Toronto"
}

// Placeholder is the query token that stands for the answer.
const Placeholder = "@placeholder"

// EntityNumber parses "@entityN" and returns N.
func EntityNumber(tok string) (int, bool) {
	rest, ok := strings.CutPrefix(tok, "@entity")
	if !ok || rest == "" || len(rest) > 9 {
		return 0, false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// ParseQuestion parses the content of a `.question` file:
//
//	URL
//	<blank>
//	context tokens
//	<blank>
//	query tokens (with @placeholder)
//	<blank>
//	answer (@entityN)
//	<blank>
//	@entityN:surface form      (one line per entity)
//
// CRLF line ends are accepted. name is used in errors, which give the line.
func ParseQuestion(data []byte, name string) (*QAExample, error) {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("datasets: %s:%d: %s", name, line, fmt.Sprintf(format, args...))
	}
	if len(lines) < 9 {
		return nil, fmt.Errorf("datasets: %s: %d non-empty-trailed lines, a .question file needs at least 9 "+
			"(URL, context, query, answer, entities, separated by blank lines)", name, len(lines))
	}
	parts := []string{"URL", "context", "query", "answer"}
	for i, what := range parts {
		if strings.TrimSpace(lines[2*i]) == "" {
			return nil, bad(2*i+1, "empty %s line", what)
		}
		if strings.TrimSpace(lines[2*i+1]) != "" {
			return nil, bad(2*i+2, "want the blank line after the %s, got %q", what, clip(lines[2*i+1]))
		}
	}
	ex := &QAExample{
		File:     name,
		URL:      strings.TrimSpace(lines[0]),
		Context:  strings.Fields(lines[2]),
		Question: strings.Fields(lines[4]),
		Answer:   strings.TrimSpace(lines[6]),
		Entities: map[string]string{},
	}
	hasPlaceholder := false
	for _, t := range ex.Question {
		if t == Placeholder {
			hasPlaceholder = true
		}
	}
	if !hasPlaceholder {
		return nil, bad(5, "query has no %s: %q", Placeholder, clip(lines[4]))
	}
	if _, ok := EntityNumber(ex.Answer); !ok {
		return nil, bad(7, "answer %q is not an @entityN marker", clip(ex.Answer))
	}
	for i, l := range lines[8:] {
		ln := i + 9
		key, surface, ok := strings.Cut(l, ":")
		key = strings.TrimSpace(key)
		if !ok {
			return nil, bad(ln, "entity line %q has no ':' (want @entityN:surface form)", clip(l))
		}
		if _, isEnt := EntityNumber(key); !isEnt {
			return nil, bad(ln, "entity line starts with %q, want @entityN", clip(key))
		}
		if _, dup := ex.Entities[key]; dup {
			return nil, bad(ln, "entity %s listed twice", key)
		}
		ex.Entities[key] = strings.TrimSpace(surface)
	}
	if _, ok := ex.Entities[ex.Answer]; !ok {
		return nil, bad(7, "answer %s is not in the entity list", ex.Answer)
	}
	return ex, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// ReadQuestionFile reads and parses one .question file.
func ReadQuestionFile(p string) (*QAExample, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	return ParseQuestion(b, p)
}

// LoadQuestions parses every *.question file of dir, in file-name order.
// The first bad file stops the load with its error.
func LoadQuestions(dir string) ([]*QAExample, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	var out []*QAExample
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".question") {
			continue
		}
		ex, err := ReadQuestionFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, ex)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("datasets: %s holds no .question files", dir)
	}
	return out, nil
}

// QACorpus is the CNN QA corpus: the standard questions/{training,
// validation,test} split (380,298 / 3,924 / 3,198 queries in the full set).
type QACorpus struct {
	Train, Valid, Test []*QAExample
	Dir                string
}

// LoadCNNQA loads <root>/cnn-qa/questions/{training,validation,test}. The
// data is not in shared/data; the error says how to get it.
func LoadCNNQA() (*QACorpus, error) {
	p, err := Path(CNNQA, "questions")
	if err != nil {
		return nil, err
	}
	return LoadCNNQAFrom(p)
}

// LoadCNNQAFrom loads dir/{training,validation,test}/*.question.
func LoadCNNQAFrom(dir string) (*QACorpus, error) {
	c := &QACorpus{Dir: dir}
	for _, s := range []struct {
		sub string
		dst *[]*QAExample
	}{{"training", &c.Train}, {"validation", &c.Valid}, {"test", &c.Test}} {
		d := filepath.Join(dir, s.sub)
		if _, err := os.Stat(d); errors.Is(err, fs.ErrNotExist) {
			return nil, &MissingError{Dataset: CNNQA, File: "questions/" + s.sub, Searched: []string{d}, Help: manualHelp[CNNQA]}
		}
		ex, err := LoadQuestions(d)
		if err != nil {
			return nil, err
		}
		*s.dst = ex
	}
	return c, nil
}

// QA vocabulary constants (the paper's QA code, after thomasmesnard's
// attentive reader: 550 entity ids first).
const (
	QAEntities = 550
	QAUnknown  = "<UNK>"
)

// QAVocab maps QA tokens to ids: ids 0..NumEntities-1 are @entity0..., so an
// entity's id is its number; then @placeholder, then <UNK>, then the other
// words of the examples it was built from, most frequent first (ties in
// lexical order).
type QAVocab struct {
	Words       []string
	Index       map[string]int32
	NumEntities int
	Placeholder int32
	Unk         int32
}

// BuildQAVocab builds the vocabulary from examples (normally the training
// split): numEntities entity ids (QAEntities for the paper), @placeholder,
// <UNK>, then at most maxWords other words (0 = all).
func BuildQAVocab(examples []*QAExample, numEntities, maxWords int) (*QAVocab, error) {
	if numEntities < 1 {
		return nil, fmt.Errorf("datasets: BuildQAVocab needs numEntities >= 1, got %d", numEntities)
	}
	v := &QAVocab{NumEntities: numEntities, Index: map[string]int32{}}
	add := func(w string) int32 {
		id := int32(len(v.Words))
		v.Words = append(v.Words, w)
		v.Index[w] = id
		return id
	}
	for i := range numEntities {
		add("@entity" + strconv.Itoa(i))
	}
	v.Placeholder = add(Placeholder)
	v.Unk = add(QAUnknown)
	counts := map[string]int{}
	for _, ex := range examples {
		for _, toks := range [][]string{ex.Context, ex.Question} {
			for _, t := range toks {
				if _, isEnt := EntityNumber(t); isEnt || t == Placeholder {
					continue
				}
				counts[t]++
			}
		}
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		if _, taken := v.Index[w]; !taken {
			words = append(words, w)
		}
	}
	sort.Slice(words, func(i, j int) bool {
		if counts[words[i]] != counts[words[j]] {
			return counts[words[i]] > counts[words[j]]
		}
		return words[i] < words[j]
	})
	if maxWords > 0 && len(words) > maxWords {
		words = words[:maxWords]
	}
	for _, w := range words {
		add(w)
	}
	return v, nil
}

// Size is len(Words).
func (v *QAVocab) Size() int { return len(v.Words) }

// Encode maps tokens to ids; unknown words and entities numbered beyond
// NumEntities become Unk.
func (v *QAVocab) Encode(tokens []string) []int32 {
	out := make([]int32, len(tokens))
	for i, t := range tokens {
		if id, ok := v.Index[t]; ok {
			out[i] = id
		} else {
			out[i] = v.Unk
		}
	}
	return out
}

// isEntity says whether id is an entity id.
func (v *QAVocab) isEntity(id int32) bool { return id >= 0 && int(id) < v.NumEntities }

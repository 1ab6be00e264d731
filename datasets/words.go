package datasets

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
)

// EOS is the end-of-sentence token appended to every line of a word corpus.
const EOS = "<eos>"

// PTB word level: the paper's split sizes (tokens including <eos>) and vocabulary.
const (
	PTBWordTrainLen = 929_589
	PTBWordValidLen = 73_760
	PTBWordTestLen  = 82_430
	PTBWordVocab    = 10_000
)

// WordCorpus is a word-level language-modelling corpus.
type WordCorpus struct {
	Name string
	// Words maps id -> word, in order of first appearance in the train split
	// (with <eos> added at the first line end), as pytorch/examples'
	// word_language_model Dictionary, which the paper's PTB code ports.
	Words []string
	// Index maps word -> id.
	Index map[string]int32
	// Train, Valid and Test are token ids; every line contributes its words
	// then <eos>.
	Train, Valid, Test []int32
	// EOSID is the id of <eos>.
	EOSID int32
	Files []string
}

// VocabSize is len(Words).
func (c *WordCorpus) VocabSize() int { return len(c.Words) }

// LoadPTBWord loads Mikolov's ptb.{train,valid,test}.txt from the data root:
// 10,000 words including <eos> (and <unk>), 929,589 / 73,760 / 82,430 tokens.
func LoadPTBWord() (*WordCorpus, error) {
	return fromRoot(PTBWord, "ptb.train.txt", LoadPTBWordFrom)
}

// LoadPTBWordFrom loads dir/ptb.{train,valid,test}.txt. The vocabulary comes
// from train; a valid/test word outside it is an error naming the file, line
// and word (PTB maps rare words to <unk> already, so there are none).
func LoadPTBWordFrom(dir string) (*WordCorpus, error) {
	c := &WordCorpus{Name: PTBWord, Index: map[string]int32{}}
	for i, split := range []string{"train", "valid", "test"} {
		p, err := fileIn(dir, PTBWord, "ptb."+split+".txt")
		if err != nil {
			return nil, err
		}
		c.Files = append(c.Files, p)
		ids, err := c.readWords(p, i == 0)
		if err != nil {
			return nil, err
		}
		switch i {
		case 0:
			c.Train = ids
		case 1:
			c.Valid = ids
		default:
			c.Test = ids
		}
	}
	c.EOSID = c.Index[EOS]
	return c, nil
}

// readWords tokenizes a file by whitespace, one <eos> per line; grow adds new words.
func (c *WordCorpus) readWords(p string, grow bool) ([]int32, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(bufio.NewReaderSize(fh, 1<<20))
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	var ids []int32
	line := 0
	lookup := func(w string) (int32, error) {
		if id, ok := c.Index[w]; ok {
			return id, nil
		}
		if !grow {
			return 0, fmt.Errorf("datasets: %s:%d: word %q is not in the vocabulary of %s (%d words)",
				p, line, w, c.Files[0], len(c.Words))
		}
		id := int32(len(c.Words))
		c.Words = append(c.Words, w)
		c.Index[w] = id
		return id, nil
	}
	for sc.Scan() {
		line++
		for _, w := range bytes.Fields(sc.Bytes()) {
			id, err := lookup(string(w))
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		id, err := lookup(EOS)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", p, err)
	}
	return ids, nil
}

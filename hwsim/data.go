package hwsim

import (
	"fmt"
	"os"

	"github.com/rbt-project/rbt/datasets"
)

// PTBCharSymbols is the 50-symbol alphabet of the PTB character files in
// byte order: \n # $ & ' * - . / 0-9 < > N \ _ a-z
// (data/ptb-char/README.md). A model whose Vocab is not made of single
// characters (e.g. a random one) is fed token ids in this order.
var PTBCharSymbols = func() []string {
	var s []string
	for _, c := range "\n#$&'*-./0123456789<>N\\_abcdefghijklmnopqrstuvwxyz" {
		s = append(s, string(c))
	}
	return s
}()

// CharTokens maps a PTB-style character file (every even byte is a symbol,
// odd bytes are separator spaces) to token ids using vocab (single-character
// strings, e.g. packed.Model.Vocab); a vocab that is not all single
// characters is replaced by PTBCharSymbols. The format is parsed by
// datasets.ParsePTBChar. name is used in errors.
func CharTokens(name string, data []byte, vocab []string) ([]int, error) {
	index := map[byte]int{}
	for i, v := range vocab {
		if len(v) != 1 {
			index = nil
			break
		}
		index[v[0]] = i
	}
	if index == nil || len(vocab) == 0 {
		index = map[byte]int{}
		for i, v := range PTBCharSymbols {
			index[v[0]] = i
		}
	}
	syms, err := datasets.ParsePTBChar(name, data)
	if err != nil {
		return nil, err
	}
	toks := make([]int, len(syms))
	for i, c := range syms {
		id, ok := index[c]
		if !ok {
			return nil, fmt.Errorf("%s: byte offset %d: symbol %q not in the vocabulary", name, 2*i, c)
		}
		toks[i] = id
	}
	return toks, nil
}

// LoadCharTokens reads a PTB-style character file with CharTokens.
func LoadCharTokens(path string, vocab []string) ([]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return CharTokens(path, data, vocab)
}

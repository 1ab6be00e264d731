package datasets

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// CharCorpus is a character-level language-modelling corpus: a symbol table
// and three splits of token ids.
//
// Symbols are Unicode code points (War and Peace and Linux are UTF-8 and are
// decoded; a leading byte-order mark is dropped). Ids index Symbols, which is
// sorted by code point, so ids are stable for a given alphabet. Ids are uint8:
// every corpus of the paper has at most 101 symbols (a corpus with more than
// 256 symbols is an error).
type CharCorpus struct {
	// Name is the dataset: "ptb-char", "warpeace", "linux",
	// "linux-substitute" or "text8".
	Name string
	// Symbols maps id -> code point, ascending. PTB uses '_' for the word
	// boundary and '\n' for the end of sentence; War and Peace keeps '\r'
	// of its CRLF line ends.
	Symbols []rune
	// Train, Valid and Test are the splits as ids into Symbols.
	Train, Valid, Test []uint8
	// Substitute is true when a stand-in was loaded instead of the paper's
	// file (Linux: the kernel 6.1 text when linux_input.txt is absent). Scores
	// on a substitute are not comparable with the paper's.
	Substitute bool
	// Files are the paths read.
	Files []string
}

// NumSymbols is len(Symbols), the one-hot / softmax width.
func (c *CharCorpus) NumSymbols() int { return len(c.Symbols) }

// Decode turns ids back into text (ids out of range become U+FFFD).
func (c *CharCorpus) Decode(ids []uint8) string {
	var sb strings.Builder
	for _, id := range ids {
		if int(id) < len(c.Symbols) {
			sb.WriteRune(c.Symbols[id])
		} else {
			sb.WriteRune(utf8.RuneError)
		}
	}
	return sb.String()
}

// Encode maps text to ids; a symbol outside the alphabet is an error.
func (c *CharCorpus) Encode(text string) ([]uint8, error) {
	idx := make(map[rune]uint8, len(c.Symbols))
	for i, r := range c.Symbols {
		idx[r] = uint8(i)
	}
	out := make([]uint8, 0, len(text))
	for i, r := range text {
		id, ok := idx[r]
		if !ok {
			return nil, fmt.Errorf("datasets: %q at byte %d is not one of the %d symbols of %s", r, i, len(c.Symbols), c.Name)
		}
		out = append(out, id)
	}
	return out, nil
}

// charText is a decoded text: its code points when not ASCII, else nil and
// the bytes are the symbols.
type charText struct {
	name  string // file name, for errors
	ascii []byte // set when the text is pure ASCII
	runes []rune // set otherwise
}

func (t charText) len() int {
	if t.runes != nil {
		return len(t.runes)
	}
	return len(t.ascii)
}

// decodeText validates UTF-8 and drops a leading BOM.
func decodeText(name string, b []byte) (charText, error) {
	b = slicesTrimBOM(b)
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return charText{name: name, ascii: b}, nil
	}
	runes := make([]rune, 0, len(b))
	for off := 0; off < len(b); {
		r, n := utf8.DecodeRune(b[off:])
		if r == utf8.RuneError && n <= 1 {
			return charText{}, fmt.Errorf("datasets: %s: invalid UTF-8 at byte offset %d", name, off)
		}
		runes = append(runes, r)
		off += n
	}
	return charText{name: name, runes: runes}, nil
}

func slicesTrimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// alphabetOf returns the sorted distinct symbols of the texts.
func alphabetOf(texts ...charText) []rune {
	var seenASCII [128]bool
	seen := map[rune]bool{}
	for _, t := range texts {
		for _, c := range t.ascii {
			seenASCII[c] = true
		}
		for _, r := range t.runes {
			if r < utf8.RuneSelf {
				seenASCII[r] = true
			} else {
				seen[r] = true
			}
		}
	}
	var out []rune
	for c, ok := range seenASCII {
		if ok {
			out = append(out, rune(c))
		}
	}
	for r := range seen {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// encodeText maps t to ids of symbols; a symbol outside them is an error that
// names the file, the symbol and its position.
func encodeText(t charText, symbols []rune, vocabFrom string) ([]uint8, error) {
	if len(symbols) > 256 {
		return nil, fmt.Errorf("datasets: %s has %d distinct symbols, more than the 256 a uint8 id holds", vocabFrom, len(symbols))
	}
	var table [128]int16
	for i := range table {
		table[i] = -1
	}
	other := map[rune]uint8{}
	for i, r := range symbols {
		if r < utf8.RuneSelf {
			table[r] = int16(i)
		} else {
			other[r] = uint8(i)
		}
	}
	out := make([]uint8, t.len())
	bad := func(pos int, r rune) error {
		return fmt.Errorf("datasets: %s: symbol %q (U+%04X) at symbol %d is not in the vocabulary of %s (%d symbols)",
			t.name, r, r, pos, vocabFrom, len(symbols))
	}
	if t.runes == nil {
		for i, c := range t.ascii {
			id := table[c]
			if id < 0 {
				return nil, bad(i, rune(c))
			}
			out[i] = uint8(id)
		}
		return out, nil
	}
	for i, r := range t.runes {
		if r < utf8.RuneSelf {
			id := table[r]
			if id < 0 {
				return nil, bad(i, r)
			}
			out[i] = uint8(id)
			continue
		}
		id, ok := other[r]
		if !ok {
			return nil, bad(i, r)
		}
		out[i] = id
	}
	return out, nil
}

// PTB character level: the paper's split sizes and alphabet (tested against
// shared/data/ptb-char/README.md).
const (
	PTBCharTrainLen = 5_017_482
	PTBCharValidLen = 393_042
	PTBCharTestLen  = 442_423
	PTBCharSymbols  = 50
)

// LoadPTBChar loads Mikolov's ptb.char.{train,valid,test}.txt from the data
// root (see Path). 50 symbols (newline, `#$&'*-./0-9<>N\_a-z`), splits of
// 5,017,482 / 393,042 / 442,423 characters.
func LoadPTBChar() (*CharCorpus, error) {
	return fromRoot(PTBChar, "ptb.char.train.txt", LoadPTBCharFrom)
}

// LoadPTBCharFrom loads ptb.char.{train,valid,test}.txt from dir.
//
// Format: every symbol is followed by one space, so the symbols are the
// bytes at even offsets; '_' is the word boundary and '\n' ends a sentence.
// A non-space separator is an error naming the file and offset. The
// alphabet is the train split's; a valid/test symbol outside it is an error.
func LoadPTBCharFrom(dir string) (*CharCorpus, error) {
	var texts [3]charText
	c := &CharCorpus{Name: PTBChar}
	for i, split := range []string{"train", "valid", "test"} {
		p, err := fileIn(dir, PTBChar, "ptb.char."+split+".txt")
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		sym, err := ParsePTBChar(p, b)
		if err != nil {
			return nil, err
		}
		if texts[i], err = decodeText(p, sym); err != nil {
			return nil, err
		}
		c.Files = append(c.Files, p)
	}
	c.Symbols = alphabetOf(texts[0])
	var err error
	for i, dst := range []*[]uint8{&c.Train, &c.Valid, &c.Test} {
		if *dst, err = encodeText(texts[i], c.Symbols, c.Files[0]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ParsePTBChar returns the symbols of a ptb.char file (its even bytes),
// checking that every odd byte is the separating space; name is used in errors.
// It is the one parser of the format (hwsim reads the test split with it).
func ParsePTBChar(name string, b []byte) ([]byte, error) {
	if len(b)%2 != 0 {
		return nil, fmt.Errorf("datasets: %s: odd length %d; every symbol must be followed by a space (ptb.char format)", name, len(b))
	}
	out := make([]byte, len(b)/2)
	for i := range out {
		if b[2*i+1] != ' ' {
			return nil, fmt.Errorf("datasets: %s: byte offset %d is %q, want the space that follows every symbol (ptb.char format)",
				name, 2*i+1, b[2*i+1])
		}
		out[i] = b[2*i]
	}
	return out, nil
}

// War and Peace: size of Karpathy's file and the paper's alphabet.
const (
	WarAndPeaceBytes   = 3_258_246
	WarAndPeaceSymbols = 83
)

// LoadWarAndPeace loads Karpathy's warpeace_input.txt from the data root.
func LoadWarAndPeace() (*CharCorpus, error) {
	return fromRoot(WarAndPeace, "warpeace_input.txt", LoadWarAndPeaceFrom)
}

// LoadWarAndPeaceFrom loads dir/warpeace_input.txt. The UTF-8 text is decoded
// to code points and the leading BOM dropped: 3,258,226 symbols over an
// alphabet of 83 (the paper's 83 classes; '\r' of the CRLF line ends is one
// of them). The split is 80/10/10 contiguous, cut in symbols (not bytes) at
// floor(0.8·N) and floor(0.9·N): 2,606,580 / 325,823 / 325,823.
func LoadWarAndPeaceFrom(dir string) (*CharCorpus, error) {
	p, err := fileIn(dir, WarAndPeace, "warpeace_input.txt")
	if err != nil {
		return nil, err
	}
	return loadSingleFile(WarAndPeace, p, 8, 9, 10)
}

// Linux: the paper's file (only its size and git blob id are known).
const (
	LinuxBytes   = 6_206_996
	LinuxSymbols = 101
)

// LoadLinux loads Karpathy's linux_input.txt from the data root when present;
// otherwise the same-size stand-in linux-substitute/linux_substitute_kernel6.1.txt,
// with Substitute set and Name "linux-substitute". Check Substitute before
// reporting scores: the stand-in's BPC is not comparable with the paper's.
func LoadLinux() (*CharCorpus, error) {
	p, err := Path(Linux, "linux_input.txt")
	if err == nil {
		return LoadLinuxFrom(filepath.Dir(p))
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	ps, serr := Path(LinuxSubstitute, "linux_substitute_kernel6.1.txt")
	if serr != nil {
		return nil, fmt.Errorf("%w; the stand-in is missing too: %v", err, serr)
	}
	return LoadLinuxFrom(filepath.Dir(ps))
}

// LoadLinuxFrom loads dir/linux_input.txt, or when it is absent
// dir/linux_substitute_kernel6.1.txt (Substitute = true). Decoded to code
// points (101 symbols for both files); split 90/5/5 contiguous, cut in
// symbols at floor(0.9·N) and floor(0.95·N).
func LoadLinuxFrom(dir string) (*CharCorpus, error) {
	p, err := fileIn(dir, Linux, "linux_input.txt")
	if err == nil {
		return loadSingleFile(Linux, p, 18, 19, 20)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	ps, serr := fileIn(dir, LinuxSubstitute, "linux_substitute_kernel6.1.txt")
	if serr != nil {
		return nil, err
	}
	c, err := loadSingleFile(LinuxSubstitute, ps, 18, 19, 20)
	if c != nil {
		c.Substitute = true
	}
	return c, err
}

// loadSingleFile decodes one file and cuts it at floor(N·a/d), floor(N·b/d).
func loadSingleFile(name, p string, a, b, d int) (*CharCorpus, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	t, err := decodeText(p, raw)
	if err != nil {
		return nil, err
	}
	c := &CharCorpus{Name: name, Symbols: alphabetOf(t), Files: []string{p}}
	ids, err := encodeText(t, c.Symbols, p)
	if err != nil {
		return nil, err
	}
	c.Train, c.Valid, c.Test = splitContiguous(ids, a, b, d)
	return c, nil
}

// splitContiguous cuts ids at floor(N·a/d) and floor(N·b/d).
func splitContiguous(ids []uint8, a, b, d int) (train, valid, test []uint8) {
	n := len(ids)
	i, j := int(int64(n)*int64(a)/int64(d)), int(int64(n)*int64(b)/int64(d))
	return ids[:i:i], ids[i:j:j], ids[j:]
}

// text8: Mahoney's 10^8 bytes of a-z and space.
const (
	Text8Bytes    = 100_000_000
	Text8Alphabet = " abcdefghijklmnopqrstuvwxyz"
)

// LoadText8 loads text8 (or text8.zip) from the data root. Not in
// shared/data; fetch it with FetchCommand.
func LoadText8() (*CharCorpus, error) {
	p, err := Path(Text8, "text8")
	if errors.Is(err, fs.ErrNotExist) {
		if pz, zerr := Path(Text8, "text8.zip"); zerr == nil {
			p, err = pz, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return LoadText8From(filepath.Dir(p))
}

// LoadText8From loads dir/text8, or the member text8 of dir/text8.zip. The
// alphabet is fixed: the 27 symbols of Text8Alphabet (any other byte is an
// error naming its offset). Split 90/5/5 contiguous at floor(0.9·N) and
// floor(0.95·N): 90M / 5M / 5M on the real file.
func LoadText8From(dir string) (*CharCorpus, error) {
	var raw []byte
	p, err := fileIn(dir, Text8, "text8")
	if err == nil {
		raw, err = os.ReadFile(p)
	} else if errors.Is(err, fs.ErrNotExist) {
		pz, zerr := fileIn(dir, Text8, "text8.zip")
		if zerr != nil {
			return nil, err
		}
		p = pz
		raw, err = readZipMember(pz, "text8")
	}
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	t := charText{name: p, ascii: raw}
	for i, c := range raw {
		if c != ' ' && (c < 'a' || c > 'z') {
			return nil, fmt.Errorf("datasets: %s: byte %q at offset %d is not one of the 27 text8 symbols (a-z, space)", p, c, i)
		}
	}
	c := &CharCorpus{Name: Text8, Symbols: []rune(Text8Alphabet), Files: []string{p}}
	ids, err := encodeText(t, c.Symbols, "text8")
	if err != nil {
		return nil, err
	}
	c.Train, c.Valid, c.Test = splitContiguous(ids, 18, 19, 20)
	return c, nil
}

func readZipMember(p, member string) ([]byte, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == member {
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("%s: member %s: %w", p, member, err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				return nil, fmt.Errorf("%s: member %s: %w", p, member, err)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s: no member %q", p, member)
}

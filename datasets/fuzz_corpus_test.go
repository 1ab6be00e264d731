package datasets

import (
	"os"
	"path/filepath"
	"testing"
)

// writeSplits writes data as the three split files name(split) of a corpus
// directory.
func writeSplits(t *testing.T, name func(split string) string, data []byte) string {
	dir := t.TempDir()
	for _, split := range []string{"train", "valid", "test"} {
		if err := os.WriteFile(filepath.Join(dir, name(split)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// FuzzLoadPTBChar: PTB character files with any contents load into a corpus
// whose every id is below its vocabulary size, or give an error; never a
// panic. Seeds: testdata/fuzz/FuzzLoadPTBChar.
func FuzzLoadPTBChar(f *testing.F) {
	f.Add([]byte("a e r _ b a n k n o t e\nc h i p\n"))
	f.Add([]byte("\xef\xbb\xbfa _ b\r\n"))
	f.Add([]byte("ab _ \xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := writeSplits(t, func(s string) string { return "ptb.char." + s + ".txt" }, data)
		c, err := LoadPTBCharFrom(dir)
		if err != nil {
			return
		}
		for _, split := range [][]uint8{c.Train, c.Valid, c.Test} {
			for _, id := range split {
				if int(id) >= len(c.Symbols) {
					t.Fatalf("id %d with %d symbols", id, len(c.Symbols))
				}
			}
		}
	})
}

// FuzzLoadPTBWord: PTB word files with any contents load into a corpus whose
// ids index its vocabulary, or give an error; never a panic. Seeds:
// testdata/fuzz/FuzzLoadPTBWord.
func FuzzLoadPTBWord(f *testing.F) {
	f.Add([]byte(" aer banknote berlitz <unk>\n the n years\n"))
	f.Add([]byte("\n\n\xff\xfe\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := writeSplits(t, func(s string) string { return "ptb." + s + ".txt" }, data)
		c, err := LoadPTBWordFrom(dir)
		if err != nil {
			return
		}
		for _, split := range [][]int32{c.Train, c.Valid, c.Test} {
			for _, id := range split {
				if id < 0 || int(id) >= len(c.Words) {
					t.Fatalf("id %d with %d words", id, len(c.Words))
				}
			}
		}
	})
}

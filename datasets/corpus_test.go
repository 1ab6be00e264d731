package datasets

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPTBCharReal(t *testing.T) {
	dir := realDir(t, PTBChar, "ptb.char.train.txt")
	c, err := LoadPTBCharFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Counts from shared/data/ptb-char/README.md.
	for _, s := range []struct {
		name      string
		got, want int
	}{
		{"train", len(c.Train), 5_017_482}, {"valid", len(c.Valid), 393_042}, {"test", len(c.Test), 442_423},
		{"symbols", len(c.Symbols), 50},
	} {
		if s.got != s.want {
			t.Errorf("%s: %d, want %d", s.name, s.got, s.want)
		}
	}
	if got, want := string(c.Symbols), "\n#$&'*-./0123456789<>N\\_abcdefghijklmnopqrstuvwxyz"; got != want {
		t.Errorf("symbols %q, want %q", got, want)
	}
	// Independent reference: the README's rule applied to the word-level files.
	wdir := realDir(t, PTBWord, "ptb.train.txt")
	for _, s := range []struct {
		split string
		ids   []uint8
	}{{"valid", c.Valid}, {"test", c.Test}} {
		words, err := os.ReadFile(filepath.Join(wdir, "ptb."+s.split+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		want := ptbCharOf(string(words))
		var symbols strings.Builder
		for i := 0; i < len(want); i += 2 {
			symbols.WriteByte(want[i])
		}
		if c.Decode(s.ids) != symbols.String() {
			t.Errorf("%s split differs from the rule applied to ptb.%s.txt", s.split, s.split)
		}
	}
}

func TestWarAndPeaceReal(t *testing.T) {
	dir := realDir(t, WarAndPeace, "warpeace_input.txt")
	raw, err := os.ReadFile(filepath.Join(dir, "warpeace_input.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != WarAndPeaceBytes {
		t.Fatalf("file is %d bytes, want %d", len(raw), WarAndPeaceBytes)
	}
	c, err := LoadWarAndPeaceFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimPrefix(string(raw), "\uFEFF")
	n := utf8.RuneCountInString(text)
	if n != 3_258_226 || len(c.Train)+len(c.Valid)+len(c.Test) != n {
		t.Fatalf("%d symbols in file, corpus has %d", n, len(c.Train)+len(c.Valid)+len(c.Test))
	}
	if len(c.Symbols) != WarAndPeaceSymbols || slices.Contains(c.Symbols, '\uFEFF') || !slices.Contains(c.Symbols, '\r') {
		t.Errorf("%d symbols (BOM dropped, CR kept), want %d", len(c.Symbols), WarAndPeaceSymbols)
	}
	if len(c.Train) != 2_606_580 || len(c.Valid) != 325_823 || len(c.Test) != 325_823 {
		t.Errorf("split %d/%d/%d", len(c.Train), len(c.Valid), len(c.Test))
	}
	all := append(append(append([]uint8{}, c.Train...), c.Valid...), c.Test...)
	if c.Decode(all) != text {
		t.Error("decoded corpus differs from the file")
	}
}

func TestLinuxSubstitute(t *testing.T) {
	dir := realDir(t, LinuxSubstitute, "linux_substitute_kernel6.1.txt")
	t.Setenv(EnvVar, filepath.Dir(dir)) // a root without linux/linux_input.txt
	c, err := LoadLinux()
	if err != nil {
		t.Fatal(err)
	}
	if !c.Substitute || c.Name != LinuxSubstitute {
		t.Fatalf("Substitute=%v Name=%s, want the flagged stand-in", c.Substitute, c.Name)
	}
	n := len(c.Train) + len(c.Valid) + len(c.Test)
	if len(c.Symbols) != LinuxSymbols || n != 6_206_983 {
		t.Errorf("%d symbols, %d characters", len(c.Symbols), n)
	}
	if len(c.Train) != n*9/10 || len(c.Valid) != n*19/20-n*9/10 {
		t.Errorf("split %d/%d/%d is not 90/5/5", len(c.Train), len(c.Valid), len(c.Test))
	}
}

func TestLinuxPrefersRealFile(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"linux/linux_input.txt":                           "int main(void) { return 0; }\n/* real */\n",
		"linux-substitute/linux_substitute_kernel6.1.txt": "stand-in text\n",
	})
	t.Setenv(EnvVar, root)
	c, err := LoadLinux()
	if err != nil {
		t.Fatal(err)
	}
	if c.Substitute || c.Name != Linux || !strings.Contains(c.Decode(c.Train), "int main") {
		t.Fatalf("loaded %s (substitute %v), want the real file", c.Name, c.Substitute)
	}
	os.Remove(filepath.Join(root, "linux-substitute", "linux_substitute_kernel6.1.txt"))
	os.Remove(filepath.Join(root, "linux", "linux_input.txt"))
	_, err = LoadLinux()
	wantErr(t, err, "linux/linux_input.txt", FetchCommand+" linux", "karpathy/char-rnn/linux_input.txt", "stand-in is missing too")
}

func TestText8Small(t *testing.T) {
	// A reduced-scale text8: a-z and spaces on one line, no newline.
	var sb strings.Builder
	for i := 0; sb.Len() < 2000; i++ {
		sb.WriteString("anarchism originated as a term of abuse ")
	}
	text := sb.String()[:2000]
	dir := writeFiles(t, map[string]string{"text8": text})
	c, err := LoadText8From(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Symbols) != 27 || len(c.Train) != 1800 || len(c.Valid) != 100 || len(c.Test) != 100 {
		t.Fatalf("%d symbols, split %d/%d/%d", len(c.Symbols), len(c.Train), len(c.Valid), len(c.Test))
	}
	if c.Decode(c.Train)+c.Decode(c.Valid)+c.Decode(c.Test) != text {
		t.Fatal("round trip")
	}
	// The same from text8.zip.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("text8")
	w.Write([]byte(text))
	zw.Close()
	zdir := writeFiles(t, map[string]string{"text8.zip": zb.String()})
	cz, err := LoadText8From(zdir)
	if err != nil || !slices.Equal(cz.Test, c.Test) {
		t.Fatalf("from zip: %v", err)
	}
	// A byte outside the alphabet.
	bad := writeFiles(t, map[string]string{"text8": "abc def\nghi"})
	_, err = LoadText8From(bad)
	wantErr(t, err, filepath.Join(bad, "text8"), "offset 7", "27 text8 symbols")
	// Missing entirely: says how to fetch it.
	_, err = LoadText8From(t.TempDir())
	wantErr(t, err, "text8/text8", "mattmahoney.net/dc/text8.zip")
}

func TestPTBCharErrors(t *testing.T) {
	good := "a _ b \n "
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"symbol outside vocabulary in test", map[string]string{
			"ptb.char.train.txt": good, "ptb.char.valid.txt": good, "ptb.char.test.txt": "a _ z \n "},
			[]string{"ptb.char.test.txt", "'z'", "symbol 2", "not in the vocabulary of", "ptb.char.train.txt"}},
		{"missing separator", map[string]string{
			"ptb.char.train.txt": good, "ptb.char.valid.txt": "a_b \n ", "ptb.char.test.txt": good},
			[]string{"ptb.char.valid.txt", "byte offset 1", "'_'"}},
		{"odd length", map[string]string{
			"ptb.char.train.txt": "a _ b", "ptb.char.valid.txt": good, "ptb.char.test.txt": good},
			[]string{"ptb.char.train.txt", "odd length"}},
		{"missing file", map[string]string{"ptb.char.train.txt": good, "ptb.char.valid.txt": good},
			[]string{"ptb.char.test.txt", FetchCommand + " ptb-char"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadPTBCharFrom(writeFiles(t, c.files))
			wantErr(t, err, c.want...)
		})
	}
}

func TestInvalidUTF8(t *testing.T) {
	dir := writeFiles(t, map[string]string{"warpeace_input.txt": "War and \xff Peace"})
	_, err := LoadWarAndPeaceFrom(dir)
	wantErr(t, err, "warpeace_input.txt", "invalid UTF-8 at byte offset 8")
}

func TestCharEncodeDecode(t *testing.T) {
	dir := writeFiles(t, map[string]string{"warpeace_input.txt": "\uFEFFÉtienne said: “hello”.\r\nBye."})
	c, err := LoadWarAndPeaceFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.Encode("hello”")
	if err != nil || c.Decode(ids) != "hello”" {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := c.Encode("hello?"); err == nil {
		t.Fatal("Encode accepted a symbol outside the alphabet")
	}
	if !slices.IsSorted(c.Symbols) {
		t.Fatal("symbols not sorted")
	}
}

func TestPTBWordReal(t *testing.T) {
	dir := realDir(t, PTBWord, "ptb.train.txt")
	c, err := LoadPTBWordFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Train) != 929_589 || len(c.Valid) != 73_760 || len(c.Test) != 82_430 || c.VocabSize() != 10_000 {
		t.Fatalf("tokens %d/%d/%d, vocab %d", len(c.Train), len(c.Valid), len(c.Test), c.VocabSize())
	}
	if c.Words[c.EOSID] != EOS || c.Index["<unk>"] == 0 && c.Words[0] != "<unk>" {
		t.Fatal("<eos>/<unk> missing")
	}
	// The first line of train, token by token.
	raw, _ := os.ReadFile(filepath.Join(dir, "ptb.train.txt"))
	first := strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])
	for i, w := range first {
		if c.Words[c.Train[i]] != w {
			t.Fatalf("token %d = %q, want %q", i, c.Words[c.Train[i]], w)
		}
	}
	if c.Train[len(first)] != c.EOSID {
		t.Fatal("no <eos> after the first line")
	}
	eos := 0
	for _, id := range c.Test {
		if id == c.EOSID {
			eos++
		}
	}
	if eos != 3761 {
		t.Errorf("%d <eos> in test, want 3761 lines", eos)
	}
}

func TestPTBWordOOV(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"ptb.train.txt": " the cat sat \n the dog \n",
		"ptb.valid.txt": " the cat \n",
		"ptb.test.txt":  " the cat \n the bird \n",
	})
	_, err := LoadPTBWordFrom(dir)
	wantErr(t, err, "ptb.test.txt:2", `"bird"`, "not in the vocabulary", "ptb.train.txt")

	os.WriteFile(filepath.Join(dir, "ptb.test.txt"), []byte(" dog sat the\n"), 0o644)
	c, err := LoadPTBWordFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Vocabulary in order of first appearance, <eos> at the first line end.
	if strings.Join(c.Words, " ") != "the cat sat <eos> dog" || !slices.Equal(c.Test, []int32{4, 2, 0, 3}) {
		t.Fatalf("words %q, test %v", c.Words, c.Test)
	}
}

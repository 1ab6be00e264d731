package datasets

import (
	"reflect"
	"slices"
	"testing"
)

func TestText8SampleFromPTB(t *testing.T) {
	dir := realDir(t, PTBWord, "ptb.train.txt")
	c, err := Text8SampleFrom(dir, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Substitute || c.Name != Text8SampleName {
		t.Fatal("the sample is not labelled as a stand-in")
	}
	if string(c.Symbols) != Text8Alphabet || len(c.Train) != 90_000 || len(c.Valid) != 5_000 || len(c.Test) != 5_000 {
		t.Fatalf("alphabet %q, split %d/%d/%d", string(c.Symbols), len(c.Train), len(c.Valid), len(c.Test))
	}
	if got := c.Decode(c.Train[:40]); got != "aer banknote berlitz calloway centrust c" {
		t.Fatalf("start %q", got)
	}
	if _, err := Text8SampleFrom(dir, 1e9); err == nil {
		t.Fatal("asked more text than PTB has")
	}
}

func TestQASampleFromPTB(t *testing.T) {
	dir := realDir(t, PTBWord, "ptb.train.txt")
	exs, err := QASampleFrom(dir, 40, 8, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exs {
		if ex.URL != QASampleURL {
			t.Fatal("sample not labelled")
		}
		// The real parser accepts the format and gives back the same example.
		back, err := ParseQuestion(FormatQuestion(ex), ex.File)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, ex) {
			t.Fatalf("round trip:\n%+v\n%+v", back, ex)
		}
		if !slices.Contains(ex.Context, ex.Answer) {
			t.Fatalf("%s: answer %s not in the document", ex.File, ex.Answer)
		}
	}
	v, _ := BuildQAVocab(exs, 50, 0)
	q, err := NewQABatches(exs, v, 8, 1).Done()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.BatchData(0, q.BatchesPerEpoch()-1); err != nil {
		t.Fatal(err)
	}
	again, _ := QASampleFrom(dir, 40, 8, 50, 3)
	if !reflect.DeepEqual(again, exs) {
		t.Fatal("sample not deterministic")
	}
}

package datasets

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A hand-made file in the layout of Hermann et al.'s .question files.
const sampleQuestion = `http://web.archive.org/web/20150101000000/http://www.cnn.com/2015/01/01/example/index.html

( @entity0 ) -- the @entity2 said on thursday that @entity1 will visit @entity0 next week , officials said .

@entity1 will travel to @placeholder next week

@entity0

@entity0:Toronto
@entity1:Jane Doe
@entity2:Ministry of Transport
`

// question builds a .question file with a context of the given tokens.
func question(context, query, answer string, entities ...string) string {
	return "http://example.com/story\n\n" + context + "\n\n" + query + "\n\n" + answer + "\n\n" + strings.Join(entities, "\n") + "\n"
}

func TestParseQuestion(t *testing.T) {
	ex, err := ParseQuestion([]byte(sampleQuestion), "a.question")
	if err != nil {
		t.Fatal(err)
	}
	if ex.Answer != "@entity0" || ex.Entities["@entity1"] != "Jane Doe" || len(ex.Entities) != 3 ||
		ex.Context[1] != "@entity0" || len(ex.Context) != 20 || ex.Question[4] != Placeholder ||
		!strings.HasPrefix(ex.URL, "http://web.archive.org/") {
		t.Fatalf("parsed %+v", ex)
	}
	// CRLF is accepted.
	if _, err := ParseQuestion([]byte(strings.ReplaceAll(sampleQuestion, "\n", "\r\n")), "crlf.question"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, text string
		want       []string
	}{
		{"too short", "http://x\n\nctx\n", []string{"at least 9"}},
		{"no blank after URL", strings.Replace(sampleQuestion, ".html\n\n", ".html\nextra\n", 1), []string{":2:", "blank line after the URL"}},
		{"empty context", question("", "q @placeholder", "@entity0", "@entity0:A"), []string{":3:", "empty context"}},
		{"no placeholder", question("a b", "who is it", "@entity0", "@entity0:A"), []string{":5:", "@placeholder"}},
		{"answer not an entity", question("a b", "q @placeholder", "Toronto", "@entity0:A"), []string{":7:", "not an @entityN"}},
		{"answer not listed", question("a b", "q @placeholder", "@entity4", "@entity0:A"), []string{":7:", "@entity4 is not in the entity list"}},
		{"entity without colon", question("a b", "q @placeholder", "@entity0", "@entity0:A", "@entity1 B"), []string{":10:", "no ':'"}},
		{"bad entity key", question("a b", "q @placeholder", "@entity0", "@entity0:A", "@entityX:B"), []string{":10:", "@entityX"}},
		{"duplicate entity", question("a b", "q @placeholder", "@entity0", "@entity0:A", "@entity0:B"), []string{":10:", "twice"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseQuestion([]byte(c.text), "bad.question")
			wantErr(t, err, append(c.want, "bad.question")...)
		})
	}
}

// qaDir writes a small corpus: n training questions with documents of
// growing length, 2 validation and 2 test questions.
func qaDir(t *testing.T, n int) string {
	files := map[string]string{}
	for i := range n {
		ctx := strings.Repeat("w"+fmt.Sprint(i%3)+" ", i+1) + "@entity1 met @entity3 ."
		files[fmt.Sprintf("questions/training/%03d.question", i)] = question(ctx, "@entity1 met @placeholder", "@entity3",
			"@entity1:Ann", "@entity3:Bob")
	}
	for _, s := range []string{"validation", "test"} {
		for i := range 2 {
			files[fmt.Sprintf("questions/%s/%d.question", s, i)] = sampleQuestion
		}
	}
	files["questions/training/README.txt"] = "not a question"
	return writeFiles(t, files)
}

func TestLoadCNNQA(t *testing.T) {
	root := qaDir(t, 30)
	t.Setenv(EnvVar, root)
	c, err := LoadCNNQA() // the root has questions/ directly, not under cnn-qa/
	if err == nil {
		t.Fatal("found questions outside cnn-qa/")
	}
	wantErr(t, err, "cnn-qa/questions", "cs.nyu.edu")
	c, err = LoadCNNQAFrom(filepath.Join(root, "questions"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Train) != 30 || len(c.Valid) != 2 || len(c.Test) != 2 {
		t.Fatalf("%d/%d/%d", len(c.Train), len(c.Valid), len(c.Test))
	}
	bad := writeFiles(t, map[string]string{"training/x.question": "nope", "validation/a.question": sampleQuestion, "test/a.question": sampleQuestion})
	_, err = LoadCNNQAFrom(bad)
	wantErr(t, err, filepath.Join(bad, "training", "x.question"))
}

func TestQAVocab(t *testing.T) {
	ex, _ := ParseQuestion([]byte(sampleQuestion), "a.question")
	v, err := BuildQAVocab([]*QAExample{ex, ex}, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	// 5 entities, @placeholder, <UNK>, then the 3 most frequent words (ties lexical).
	want := "@entity0 @entity1 @entity2 @entity3 @entity4 @placeholder <UNK> next said week"
	if got := strings.Join(v.Words, " "); got != want {
		t.Fatalf("vocab %q\nwant  %q", got, want)
	}
	ids := v.Encode([]string{"@entity3", "@entity9", "week", "zebra", Placeholder})
	if !slices.Equal(ids, []int32{3, v.Unk, 9, v.Unk, v.Placeholder}) {
		t.Fatalf("Encode = %v", ids)
	}
}

func TestQABatches(t *testing.T) {
	root := qaDir(t, 30)
	c, err := LoadCNNQAFrom(filepath.Join(root, "questions"))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := BuildQAVocab(c.Train, 10, 0)
	q, err := NewQABatches(c.Train, v, 4, 1).Bucket(2).PadTo(8).Done()
	if err != nil {
		t.Fatal(err)
	}
	if q.BatchesPerEpoch() != 7 {
		t.Fatalf("%d batches", q.BatchesPerEpoch())
	}
	seen := map[int]bool{}
	for i := range 7 {
		d, err := q.BatchData(0, i)
		if err != nil {
			t.Fatal(err)
		}
		if d.DocLen%8 != 0 || d.QLen%8 != 0 {
			t.Fatalf("lengths %d/%d not multiples of 8", d.DocLen, d.QLen)
		}
		for b, k := range d.Examples {
			if seen[k] {
				t.Fatalf("example %d twice", k)
			}
			seen[k] = true
			ex := c.Train[k]
			if int(d.DocumentLen[b]) != len(ex.Context) || !slices.Equal(d.Document[b*d.DocLen:b*d.DocLen+len(ex.Context)], v.Encode(ex.Context)) {
				t.Fatalf("row %d document", b)
			}
			var ones float32
			for _, m := range d.DocumentMask[b*d.DocLen : (b+1)*d.DocLen] {
				ones += m
			}
			if int(ones) != len(ex.Context) || d.Document[b*d.DocLen+d.DocLen-1] != 0 && len(ex.Context) < d.DocLen {
				t.Fatalf("row %d mask/padding", b)
			}
			if d.Answer[b] != 3 || !slices.Equal(d.Candidates[b*10:(b+1)*10], []float32{0, 1, 0, 1, 0, 0, 0, 0, 0, 0}) {
				t.Fatalf("row %d answer %d candidates %v", b, d.Answer[b], d.Candidates[b*10:(b+1)*10])
			}
		}
		// Rows of a batch come from one sorted bucket.
		if !slices.IsSorted(d.DocumentLen) {
			t.Errorf("batch %d lengths %v not sorted", i, d.DocumentLen)
		}
	}
	// One bucket holding the whole epoch: batches are consecutive runs of the
	// length-sorted examples, so their length ranges do not interleave.
	one, _ := NewQABatches(c.Train, v, 4, 1).Bucket(7).Done()
	var ranges [][2]int32
	for i := range one.BatchesPerEpoch() {
		d, _ := one.BatchData(3, i)
		ranges = append(ranges, [2]int32{slices.Min(d.DocumentLen), slices.Max(d.DocumentLen)})
	}
	slices.SortFunc(ranges, func(a, b [2]int32) int { return int(a[0] - b[0]) })
	for k := 1; k < len(ranges); k++ {
		if ranges[k][0] <= ranges[k-1][1] {
			t.Fatalf("batch length ranges interleave: %v", ranges)
		}
	}
	// Determinism and a new order next epoch.
	q2, _ := NewQABatches(c.Train, v, 4, 1).Bucket(2).PadTo(8).Done()
	a, _ := q.BatchData(0, 5)
	b, _ := q2.BatchData(0, 5)
	e1, _ := q2.BatchData(1, 5)
	if !slices.Equal(a.Examples, b.Examples) || !slices.Equal(a.Document, b.Document) || slices.Equal(a.Examples, e1.Examples) {
		t.Fatal("QA batches not a function of (seed, epoch, i)")
	}
	// Sequential: all 30, sorted by length, last batch padded.
	s, _ := NewQABatches(c.Train, v, 4, 0).Sequential().Done()
	last, _ := s.BatchData(0, s.BatchesPerEpoch()-1)
	if s.BatchesPerEpoch() != 8 || last.N != 2 || !slices.Equal(last.Mask, []float32{1, 1, 0, 0}) {
		t.Fatalf("sequential: %d batches, last N %d", s.BatchesPerEpoch(), last.N)
	}
	first, _ := s.BatchData(0, 0)
	if !slices.Equal(first.Examples, []int{0, 1, 2, 3}) {
		t.Fatalf("sequential first batch %v", first.Examples)
	}
}

func TestQAPermuteEntities(t *testing.T) {
	ex, _ := ParseQuestion([]byte(sampleQuestion), "a.question")
	v, _ := BuildQAVocab([]*QAExample{ex}, 50, 0)
	q, err := NewQABatches([]*QAExample{ex, ex}, v, 2, 7).PermuteEntities().Done()
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := NewQABatches([]*QAExample{ex, ex}, v, 2, 7).Done()
	d0, _ := plain.BatchData(0, 0)
	changed := false
	for epoch := range 3 {
		d, _ := q.BatchData(epoch, 0)
		for b := range 2 {
			// A consistent relabelling: same positions hold entities, the
			// mapping is one-to-one, and the answer follows it.
			m := map[int32]int32{}
			for t2, id := range d0.Document[b*d0.DocLen : (b+1)*d0.DocLen] {
				nid := d.Document[b*d.DocLen+t2]
				if v.isEntity(id) != v.isEntity(nid) || (!v.isEntity(id) && id != nid) {
					t.Fatalf("non-entity token changed at %d", t2)
				}
				if v.isEntity(id) {
					if prev, ok := m[id]; ok && prev != nid {
						t.Fatal("entity mapped two ways")
					}
					m[id] = nid
					changed = changed || id != nid
				}
			}
			if d.Answer[b] != m[d0.Answer[b]] || d.Candidates[b*50+int(d.Answer[b])] != 1 {
				t.Fatal("answer not relabelled with the document")
			}
			var nc float32
			for _, c := range d.Candidates[b*50 : (b+1)*50] {
				nc += c
			}
			if nc != 3 {
				t.Fatalf("%v candidates, want 3", nc)
			}
		}
	}
	if !changed {
		t.Error("PermuteEntities never changed an entity")
	}
	big := *ex
	big.Answer = "@entity77"
	big.Entities = map[string]string{"@entity77": "X"}
	if _, err := NewQABatches([]*QAExample{&big}, v, 1, 0).Done(); err == nil || !strings.Contains(err.Error(), "a.question") {
		t.Fatalf("answer beyond the entity ids: %v", err)
	}
}

package datasets

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParseIDX: any input either parses into an array whose data size is the
// product of its dimensions, or gives an error naming the file; it never
// panics or allocates beyond the header limit. Seeds: testdata/fuzz/FuzzParseIDX.
func FuzzParseIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(idxBytes([]int{3}, []byte{7, 8, 9}))
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ParseIDX(data, "fuzz.idx")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.idx") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		size := 1
		for _, d := range x.Dims {
			size *= d
		}
		if len(x.Data) != size || 4+4*len(x.Dims)+size != len(data) {
			t.Fatalf("dims %v, %d data bytes, input %d bytes", x.Dims, len(x.Data), len(data))
		}
		if !slices.Equal(idxBytes(x.Dims, x.Data), data) {
			t.Fatal("re-encoding differs from the input")
		}
	})
}

// FuzzParseQuestion: any input either parses into an example whose answer is
// a listed entity and whose query holds @placeholder, or gives an error
// naming the file. Seeds: testdata/fuzz/FuzzParseQuestion.
func FuzzParseQuestion(f *testing.F) {
	f.Add([]byte(sampleQuestion))
	f.Add([]byte(question("a b", "q @placeholder", "@entity0", "@entity0:A")))
	f.Add([]byte("http://x\n\n\n\n\n\n\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, err := ParseQuestion(data, "fuzz.question")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.question") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if _, ok := ex.Entities[ex.Answer]; !ok || !slices.Contains(ex.Question, Placeholder) || len(ex.Context) == 0 {
			t.Fatalf("accepted an inconsistent example: %+v", ex)
		}
		for k := range ex.Entities {
			if _, ok := EntityNumber(k); !ok {
				t.Fatalf("entity key %q", k)
			}
		}
		// FormatQuestion is its inverse on everything ParseQuestion accepts.
		back, err := ParseQuestion(FormatQuestion(ex), "fuzz.question")
		if err != nil || !reflect.DeepEqual(back, ex) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, back, ex)
		}
	})
}

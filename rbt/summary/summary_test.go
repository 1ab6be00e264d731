package summary

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/rbt-project/rbt/rbt/quant"
)

// The rows of METHOD.md's "Weight memory of the quantized matrices" table,
// copied verbatim: weights, 32-bit, 12-bit, binary, ternary (2 bit).
var methodTable = []struct {
	model                                   string
	weights, fp32, fixed12, binary, ternary string
}{
	{"PTB char 1000", "4,200,000", "16,800 KB", "6,300 KB", "525 KB", "1,050 KB"},
	{"War and Peace 512", "1,218,560", "4,874 KB", "1,828 KB", "152 KB", "305 KB"},
	{"Linux 512", "1,255,424", "5,022 KB", "1,883 KB", "157 KB", "314 KB"},
	{"text8 2000", "16,216,000", "64,864 KB", "24,324 KB", "2,027 KB", "4,054 KB"},
	{"PTB word 300", "720,000", "2,880 KB", "1,080 KB", "90 KB", "180 KB"},
	{"sMNIST 100", "40,400", "162 KB", "61 KB", "5 KB", "10 KB"},
}

func TestPaperTableMatchesMethod(t *testing.T) {
	rows := PaperTable()
	if len(rows) != len(methodTable) {
		t.Fatalf("%d rows, want %d", len(rows), len(methodTable))
	}
	for i, want := range methodTable {
		r := rows[i]
		got := []string{r.Model, FormatInt(r.Weights), FormatKB(r.Float32), FormatKB(r.Fixed12), FormatKB(r.Binary), FormatKB(r.Ternary)}
		exp := []string{want.model, want.weights, want.fp32, want.fixed12, want.binary, want.ternary}
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Errorf("row %d:\n got %v\nwant %v", i, got, exp)
		}
		if r.Weights != int64(4*r.N*(r.D+r.N)) {
			t.Errorf("%s: %d weights, want 4n(d+n) = %d", r.Model, r.Weights, 4*r.N*(r.D+r.N))
		}
	}
	// The two sizes the brief singles out.
	if rows[3].Weights != 16_216_000 || rows[5].Weights != 40_400 {
		t.Errorf("text8 %d, sMNIST %d weights", rows[3].Weights, rows[5].Weights)
	}
	md := PaperMarkdown(rows)
	if !strings.Contains(md, "| text8 2000 | 16,216,000 | 64,864 KB | 24,324 KB | 2,027 KB | 4,054 KB |") {
		t.Errorf("markdown lacks the text8 row:\n%s", md)
	}
}

func TestBytesAndCompression(t *testing.T) {
	for _, tc := range []struct {
		weights int64
		p       Precision
		bytes   int64
	}{
		{8, Binary, 1}, {9, Binary, 2}, {4, Ternary, 1}, {5, Ternary, 2}, {2, Fixed12, 3}, {3, Fixed12, 5},
		{1, Float32, 4}, {7, KBit(3), 3},
	} {
		if got := Bytes(tc.weights, tc.p); got != tc.bytes {
			t.Errorf("Bytes(%d, %v) = %d, want %d", tc.weights, tc.p, got, tc.bytes)
		}
	}
	for _, tc := range []struct {
		p     Precision
		ratio float64
	}{{Binary, 32}, {Ternary, 16}, {Fixed12, 32.0 / 12}, {Float32, 1}} {
		s := LSTM("ptb", 50, 1000, tc.p)
		if got := s.Compression(); got != tc.ratio {
			t.Errorf("compression at %v = %v, want %v", tc.p, got, tc.ratio)
		}
	}
	if g := GRU("gru", 10, 20, Binary); g.Weights() != 3*20*(10+20) {
		t.Errorf("GRU weights %d", g.Weights())
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := FormatInt(n); got != want {
			t.Errorf("FormatInt(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFromStore(t *testing.T) {
	store := model.NewStore()
	mk := func(path string, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v, err := store.CreateVariable(path, tensors.FromFlatDataAndDimensions(make([]float32, n), shape...))
		if err != nil {
			t.Fatal(err)
		}
		_ = v
	}
	mk("/lstm/qw_x", 50, 400)
	mk("/lstm/qw_h", 100, 400)
	mk("/lstm/bias", 400)
	mk("/softmax/w", 100, 50)
	mk("/lstm/bn_mean", 100, 400)
	store.GetVariable("/lstm/bn_mean").SetTrainable(false)
	s := FromStore("tiny", store, Ternary, quant.IsLatent)
	if len(s.Matrices) != 4 {
		t.Fatalf("%d matrices, want 4 (non-trainable skipped): %+v", len(s.Matrices), s.Matrices)
	}
	if s.Weights() != 4*100*(50+100) {
		t.Errorf("quantized weights %d, want %d", s.Weights(), 4*100*150)
	}
	if s.FullPrecisionWeights() != 400+100*50 {
		t.Errorf("full-precision weights %d", s.FullPrecisionWeights())
	}
	if s.QuantizedBytes() != 60000*2/8 || s.Compression() != 16 {
		t.Errorf("quantized bytes %d, compression %v", s.QuantizedBytes(), s.Compression())
	}
	var buf bytes.Buffer
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/lstm/qw_x", "50x400", "total quantized", "60,000", "16.0x"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text table lacks %q:\n%s", want, buf.String())
		}
	}
	if md := s.Markdown(); !strings.Contains(md, "| /lstm/qw_h | 100x400 | 40,000 | ternary | 80,000 | 10,000 |") {
		t.Errorf("markdown:\n%s", md)
	}
}

func ExamplePaperMarkdown() {
	fmt.Print(PaperMarkdown(PaperTable()[:1]))
	// Output:
	// | model | weights | 32-bit | 12-bit | binary | ternary (2 bit) |
	// |---|---|---|---|---|---|
	// | PTB char 1000 | 4,200,000 | 16,800 KB | 6,300 KB | 525 KB | 1,050 KB |
}

func ExampleSummary_WriteText() {
	s := LSTM("PTB char, BN binary LSTM", 50, 1000, Binary)
	_ = s.WriteText(os.Stdout)
	// Output:
	// PTB char, BN binary LSTM
	//            matrix      shape    weights  precision       bits    bytes     32-bit    12-bit     2-bit   1-bit
	//                Wx    50x4000    200,000     binary    200,000   25,000     800 KB    300 KB     50 KB   25 KB
	//                Wh  1000x4000  4,000,000     binary  4,000,000  500,000  16,000 KB  6,000 KB  1,000 KB  500 KB
	//   total quantized             4,200,000                        525,000  16,800 KB  6,300 KB  1,050 KB  525 KB
	// compression of the quantized matrices vs 32-bit float: 32.0x
}

// Package summary lists a model's weight matrices with their precision and
// memory, and reproduces the weight-memory table of the paper (METHOD.md,
// "Weight memory of the quantized matrices").
//
// Memory is counted in bits and bytes: a matrix of w weights stored at b bits
// takes w*b bits and ceil(w*b/8) bytes (weights packed densely: binary 1 bit,
// ternary 2 bits, 12-bit fixed point 12 bits, float 32 bits). KB means 1000
// bytes, as in the paper. Only the quantized matrices (the LSTM/GRU input and
// recurrent matrices Wx, Wh) count in the paper's table; the biases, BN
// parameters, h0/c0, embeddings and softmax layer stay full precision and are
// listed separately.
//
// For the paper's sizes, an LSTM with input width d (one-hot vocabulary or
// embedding size) and n hidden units has Wx: d x 4n and Wh: n x 4n, so
// 4n(d+n) quantized weights: PTB characters (d=50, n=1000) 4,200,000 weights,
// 16,800 KB at 32 bits and 525 KB binary.
package summary

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/gomlx/gomlx/ml/model"
)

// Precision is the storage format of a weight.
type Precision struct {
	Name string
	Bits int
}

// The precisions of the paper's memory table; KBit gives others.
var (
	Float32 = Precision{"float32", 32}
	Fixed12 = Precision{"12-bit fixed", 12}
	Ternary = Precision{"ternary", 2}
	Binary  = Precision{"binary", 1}
)

// KBit is k-bit uniform quantization (the trade-off plots' 2, 3, 4 bits).
func KBit(k int) Precision { return Precision{fmt.Sprintf("%d-bit", k), k} }

// Columns are the precisions listed for every matrix, as in the paper's table.
var Columns = []Precision{Float32, Fixed12, Ternary, Binary}

func (p Precision) String() string { return fmt.Sprintf("%s (%d bit)", p.Name, p.Bits) }

// Matrix is one weight tensor of a model.
type Matrix struct {
	Name      string
	Shape     []int
	Precision Precision // the precision it is trained/deployed with.
	Quantized bool      // whether it is one of the quantized matrices (counted in Summary.Weights).
}

// Weights is the number of elements.
func (m Matrix) Weights() int64 {
	n := int64(1)
	for _, d := range m.Shape {
		n *= int64(d)
	}
	return n
}

// Bits is the memory at precision p.
func (m Matrix) Bits(p Precision) int64 { return m.Weights() * int64(p.Bits) }

// Bytes is the memory at precision p, in whole bytes.
func (m Matrix) Bytes(p Precision) int64 { return Bytes(m.Weights(), p) }

// Bytes is ceil(weights*bits/8).
func Bytes(weights int64, p Precision) int64 { return (weights*int64(p.Bits) + 7) / 8 }

// KB converts bytes to the paper's kilobytes (1000 bytes).
func KB(bytes int64) float64 { return float64(bytes) / 1000 }

// Summary is a list of matrices.
type Summary struct {
	Model    string
	Matrices []Matrix
}

// Weights is the number of quantized weights.
func (s Summary) Weights() int64 {
	var n int64
	for _, m := range s.Matrices {
		if m.Quantized {
			n += m.Weights()
		}
	}
	return n
}

// FullPrecisionWeights is the number of weights of the other matrices.
func (s Summary) FullPrecisionWeights() int64 {
	var n int64
	for _, m := range s.Matrices {
		if !m.Quantized {
			n += m.Weights()
		}
	}
	return n
}

// Bytes is the memory of the quantized matrices stored at precision p.
func (s Summary) Bytes(p Precision) int64 { return Bytes(s.Weights(), p) }

// QuantizedBytes is the memory of the quantized matrices at their own precisions.
func (s Summary) QuantizedBytes() int64 {
	var bits int64
	for _, m := range s.Matrices {
		if m.Quantized {
			bits += m.Bits(m.Precision)
		}
	}
	return (bits + 7) / 8
}

// Compression is the ratio of the quantized matrices' memory at 32 bits to
// their memory at their own precision (32 for binary, 16 for ternary).
func (s Summary) Compression() float64 {
	q := s.QuantizedBytes()
	if q == 0 {
		return math.NaN()
	}
	return float64(s.Bytes(Float32)) / float64(q)
}

// LSTM is the paper's recurrent layer: Wx d x 4n and Wh n x 4n at precision p
// (quantized; 4n(d+n) weights).
func LSTM(model string, d, n int, p Precision) Summary {
	return recurrent(model, d, n, 4, p)
}

// GRU is the same recipe for a GRU: Wx d x 3n and Wh n x 3n (3n(d+n) weights).
func GRU(model string, d, n int, p Precision) Summary {
	return recurrent(model, d, n, 3, p)
}

func recurrent(model string, d, n, gates int, p Precision) Summary {
	return Summary{Model: model, Matrices: []Matrix{
		{Name: "Wx", Shape: []int{d, gates * n}, Precision: p, Quantized: true},
		{Name: "Wh", Shape: []int{n, gates * n}, Precision: p, Quantized: true},
	}}
}

// FromStore lists the trainable variables of store (optimizer state, counters
// and BN running statistics are not weights and are skipped): those whose
// base name satisfies isQuantized (e.g. quant.IsLatent) at precision p, the
// others at Float32.
func FromStore(modelName string, store *model.Store, p Precision, isQuantized func(name string) bool) Summary {
	s := Summary{Model: modelName}
	for v := range store.IterVariables() {
		if !v.Trainable || !v.DType().IsFloat() {
			continue
		}
		q := isQuantized != nil && isQuantized(v.Name())
		prec := Float32
		if q {
			prec = p
		}
		s.Matrices = append(s.Matrices, Matrix{
			Name: v.Path(), Shape: append([]int(nil), v.Shape().Dimensions...), Precision: prec, Quantized: q,
		})
	}
	return s
}

// FormatInt writes n with thousands separators: 4200000 -> "4,200,000".
func FormatInt(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatKB writes bytes as whole kilobytes (1000 bytes), rounded to nearest:
// 4874240 -> "4,874 KB".
func FormatKB(bytes int64) string {
	return FormatInt(int64(math.Round(KB(bytes)))) + " KB"
}

func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "x")
}

// rows returns the table: header, one row per matrix, totals.
func (s Summary) rows() [][]string {
	head := []string{"matrix", "shape", "weights", "precision", "bits", "bytes"}
	for _, p := range Columns {
		head = append(head, fmt.Sprintf("%d-bit", p.Bits))
	}
	out := [][]string{head}
	for _, m := range s.Matrices {
		r := []string{m.Name, shapeString(m.Shape), FormatInt(m.Weights()), m.Precision.Name,
			FormatInt(m.Bits(m.Precision)), FormatInt(m.Bytes(m.Precision))}
		for _, p := range Columns {
			r = append(r, FormatKB(m.Bytes(p)))
		}
		out = append(out, r)
	}
	q := []string{"total quantized", "", FormatInt(s.Weights()), "", "",
		FormatInt(s.QuantizedBytes())}
	for _, p := range Columns {
		q = append(q, FormatKB(s.Bytes(p)))
	}
	out = append(out, q)
	if fp := s.FullPrecisionWeights(); fp > 0 {
		out = append(out, []string{"total full precision", "", FormatInt(fp), Float32.Name,
			FormatInt(fp * 32), FormatInt(Bytes(fp, Float32)), "", "", "", ""})
	}
	return out
}

// WriteText writes an aligned plain-text table and the compression ratio.
func (s Summary) WriteText(w io.Writer) error {
	if s.Model != "" {
		if _, err := fmt.Fprintf(w, "%s\n", s.Model); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, r := range s.rows() {
		if _, err := fmt.Fprintln(tw, strings.Join(r, "\t")+"\t"); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "compression of the quantized matrices vs 32-bit float: %.1fx\n", s.Compression())
	return err
}

// Markdown returns the table in Markdown, with the compression ratio.
func (s Summary) Markdown() string {
	var b strings.Builder
	if s.Model != "" {
		fmt.Fprintf(&b, "**%s**\n\n", s.Model)
	}
	for i, r := range s.rows() {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		if i == 0 {
			b.WriteString("|" + strings.Repeat("---|", len(r)) + "\n")
		}
	}
	fmt.Fprintf(&b, "\nCompression of the quantized matrices vs 32-bit float: %.1fx\n", s.Compression())
	return b.String()
}

// PaperRow is one row of the paper's memory table.
type PaperRow struct {
	Model   string
	D, N    int // input width (vocabulary or embedding size) and hidden units.
	Weights int64
	// Bytes at 32-bit float, 12-bit fixed, binary (1 bit) and ternary (2 bits).
	Float32, Fixed12, Binary, Ternary int64
}

// PaperTable computes the rows of METHOD.md's memory table from the LSTM
// sizes of the released run scripts (PTB characters, War and Peace, Linux,
// text8, word-level PTB, sequential MNIST).
func PaperTable() []PaperRow {
	sizes := []struct {
		name string
		d, n int
	}{
		{"PTB char 1000", 50, 1000},
		{"War and Peace 512", 83, 512},
		{"Linux 512", 101, 512},
		{"text8 2000", 27, 2000},
		{"PTB word 300", 300, 300},
		{"sMNIST 100", 1, 100},
	}
	rows := make([]PaperRow, len(sizes))
	for i, sz := range sizes {
		s := LSTM(sz.name, sz.d, sz.n, Binary)
		rows[i] = PaperRow{Model: sz.name, D: sz.d, N: sz.n, Weights: s.Weights(),
			Float32: s.Bytes(Float32), Fixed12: s.Bytes(Fixed12), Binary: s.Bytes(Binary), Ternary: s.Bytes(Ternary)}
	}
	return rows
}

// PaperMarkdown writes rows as METHOD.md's table (KB = 1000 bytes, rounded).
func PaperMarkdown(rows []PaperRow) string {
	var b strings.Builder
	b.WriteString("| model | weights | 32-bit | 12-bit | binary | ternary (2 bit) |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.Model, FormatInt(r.Weights),
			FormatKB(r.Float32), FormatKB(r.Fixed12), FormatKB(r.Binary), FormatKB(r.Ternary))
	}
	return b.String()
}

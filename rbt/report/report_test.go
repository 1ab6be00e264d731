package report

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	t.Setenv(ResultsFileEnv, path)
	in := []Result{
		{Experiment: "PTB char", Model: "BN binary", Metric: "test BPC", Value: 1.4321, Source: Measured("smoke")},
		{Experiment: "PTB char", Model: "BinaryConnect", Metric: "test BPC", Value: math.NaN(), Source: Measured("smoke")},
		{Experiment: "text8", Model: "BN-LSTM 2000", Metric: "test BPC", Value: 1.36, Source: "Cooijmans et al. 2017"},
	}
	if err := Record(in[:2]...); err != nil {
		t.Fatal(err)
	}
	if err := Record(in[2]); err != nil {
		t.Fatal(err)
	}
	out, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("read %d results, want %d", len(out), len(in))
	}
	for i := range in {
		same := out[i].Value == in[i].Value || (math.IsNaN(out[i].Value) && math.IsNaN(in[i].Value))
		if !same || out[i].Model != in[i].Model || out[i].Source != in[i].Source {
			t.Errorf("result %d: got %+v, want %+v", i, out[i], in[i])
		}
	}
}

func TestRecordWithoutFileIsNoop(t *testing.T) {
	t.Setenv(ResultsFileEnv, "")
	if err := Record(Result{Value: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestTables(t *testing.T) {
	tab := ResultsTable([]Result{{Experiment: "e", Model: "m|x", Metric: "BPC", Value: 1.23456, Source: "s"}, {Experiment: "e", Model: "m", Metric: "weights", Value: 4200000, Source: "s"}})
	md := tab.Markdown()
	for _, want := range []string{"| experiment | model |", `m\|x`, "1.235", "4200000"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if h := tab.HTML(); !strings.Contains(h, "<td") || strings.Contains(h, "m|x<") == false {
		t.Errorf("HTML table malformed: %s", h)
	}
}

func TestFromStructs(t *testing.T) {
	type row struct {
		Design string  `csv:"design"`
		Speed  float64 `csv:"speedup"`
		Paper  float64
		hidden int
	}
	rows := []row{{"binary", 11.123456, 10, 1}, {"fp12", 1, math.NaN(), 2}}
	all := FromStructs(rows)
	if got := strings.Join(all.Header, ","); got != "design,speedup,Paper" {
		t.Errorf("header %q", got)
	}
	if all.Rows[0][1] != "11.12" || all.Rows[1][2] != "–" || all.Rows[0][2] != "10" {
		t.Errorf("rows %q", all.Rows)
	}
	some := FromStructs(rows, "speedup", "design")
	if some.Header[0] != "speedup" || some.Rows[1][1] != "fp12" {
		t.Errorf("selected columns: %+v", some)
	}
	defer func() {
		if recover() == nil {
			t.Error("FromStructs accepted an unknown column")
		}
	}()
	FromStructs(rows, "nope")
}

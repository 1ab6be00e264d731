package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseLines(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		rbt, peer []measurement
		err       bool
	}{
		{name: "both sides, comments and noise ignored",
			in: "# torch 1.13.0a0 threads 1\npeer charlm-h256-t50 bn-binary 79.4 20151\npeercpu charlm-h256-t50 bn-binary 0.0801\n" +
				"# rbt charlm-h256-t50 bn-binary first step (build+compile+run) 0.25 s\n" +
				"rbt charlm-h256-t50 bn-binary 40.5 0.0812 310\nsome warning\n",
			peer: []measurement{{shape: "charlm-h256-t50", model: "bn-binary", msPerStep: 79.4, cpuPerStep: 0.0801}},
			rbt:  []measurement{{shape: "charlm-h256-t50", model: "bn-binary", msPerStep: 40.5, cpuPerStep: 0.0812, peakMiB: 310}}},
		{name: "empty", in: ""},
		{name: "short peer line", in: "peer charlm-h256-t50 bn-binary 79.4\n", err: true},
		{name: "peercpu without its peer line", in: "peer s1 bn-fp 80 1\npeercpu s1 bn-binary 0.08\n", err: true},
		{name: "bad number", in: "rbt charlm-h256-t50 bn-fp 4x.5 0.08 300\n", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rbt, peer, err := parseLines(strings.NewReader(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if tc.err {
				return
			}
			if !equal(rbt, tc.rbt) || !equal(peer, tc.peer) {
				t.Errorf("got rbt %+v peer %+v, want rbt %+v peer %+v", rbt, peer, tc.rbt, tc.peer)
			}
		})
	}
}

func equal(a, b []measurement) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTable builds the table from three runs of one pair and one rbt-only
// measurement: medians per column, the ratio as PyTorch ms / rbt ms, "-"
// where a side is missing, rows in the order of shapes then models.
func TestTable(t *testing.T) {
	in := `peer s1 bn-fp 80 1
peercpu s1 bn-fp 0.09
rbt s1 bn-fp 50 0.05 300
peer s1 bn-fp 100 1
peercpu s1 bn-fp 0.1
rbt s1 bn-fp 40 0.04 310
peer s1 bn-fp 70 1
peercpu s1 bn-fp 0.08
rbt s1 bn-fp 45 0.06 305
rbt s2 bn-binary 10 0.01 100
`
	rbt, peer, err := parseLines(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	writeTable(&b, buildRows([]string{"s2", "s1"}, []string{"bn-binary", "bn-fp"}, rbt, peer), map[string]int{"s1": 1000})
	want := `| model | shape | PyTorch ms/step | rbt ms/step | rbt/PyTorch throughput | PyTorch CPU s/step | rbt CPU s/step | CPU ratio | rbt CPU µs/symbol | rbt peak MiB |
|---|---|---|---|---|---|---|---|---|---|
| bn-binary | s2 | - | 10.0 | - | - | 0.010 | - | - | 100 |
| bn-fp | s1 | 80.0 | 45.0 | 1.78x | 0.090 | 0.050 | 1.80x | 50.00 | 305 |
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// measurement is one timed run of one model on one shape, by rbt or by the
// PyTorch peer.
type measurement struct {
	shape, model string
	msPerStep    float64
	cpuPerStep   float64 // rbt only: process CPU seconds per step
	peakMiB      float64 // rbt only: peak resident memory of the process
}

// parseLines reads the lines the two sides print and returns rbt's and the
// peer's measurements; other lines (comments, warnings) are ignored.
//
//	peer SHAPE MODEL MS_PER_STEP SYMBOLS_PER_S        (torch_lstm_bench.py)
//	rbt SHAPE MODEL MS_PER_STEP CPU_S_PER_STEP PEAK_MIB (this command's child)
func parseLines(r io.Reader) (rbt, peer []measurement, err error) {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || (f[0] != "peer" && f[0] != "rbt") {
			continue
		}
		want := map[string]int{"peer": 5, "rbt": 6}[f[0]]
		if len(f) != want {
			return nil, nil, fmt.Errorf("line %d: %q: want %d fields", n, sc.Text(), want)
		}
		nums := make([]float64, len(f)-3)
		for i, s := range f[3:] {
			v, perr := strconv.ParseFloat(s, 64)
			if perr != nil {
				return nil, nil, fmt.Errorf("line %d: %q: %v", n, sc.Text(), perr)
			}
			nums[i] = v
		}
		m := measurement{shape: f[1], model: f[2], msPerStep: nums[0]}
		if f[0] == "peer" {
			peer = append(peer, m)
		} else {
			m.cpuPerStep, m.peakMiB = nums[1], nums[2]
			rbt = append(rbt, m)
		}
	}
	return rbt, peer, sc.Err()
}

// row is one line of the table: medians over the runs of one (shape, model).
type row struct {
	shape, model    string
	peerMS, rbtMS   float64 // 0: not measured
	rbtCPU, peakMiB float64
	runs            int // rbt runs
}

// ratio is rbt's throughput relative to PyTorch's (> 1: rbt is faster), 0
// when either side is missing.
func (r row) ratio() float64 {
	if r.peerMS == 0 || r.rbtMS == 0 {
		return 0
	}
	return r.peerMS / r.rbtMS
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// buildRows groups the measurements by (shape, model), in the order given by
// shapes and models, and takes the median of every column.
func buildRows(shapes, models []string, rbt, peer []measurement) []row {
	var rows []row
	for _, s := range shapes {
		for _, m := range models {
			var pm, rm, rc, rp []float64
			for _, x := range peer {
				if x.shape == s && x.model == m {
					pm = append(pm, x.msPerStep)
				}
			}
			for _, x := range rbt {
				if x.shape == s && x.model == m {
					rm, rc, rp = append(rm, x.msPerStep), append(rc, x.cpuPerStep), append(rp, x.peakMiB)
				}
			}
			if len(pm) == 0 && len(rm) == 0 {
				continue
			}
			rows = append(rows, row{shape: s, model: m, peerMS: median(pm), rbtMS: median(rm),
				rbtCPU: median(rc), peakMiB: median(rp), runs: len(rm)})
		}
	}
	return rows
}

// writeTable prints the rows as a Markdown table.
func writeTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| model | shape | PyTorch ms/step | rbt ms/step | rbt/PyTorch throughput | rbt CPU s/step | rbt peak MiB |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	num := func(v float64, format string) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf(format, v)
	}
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", r.model, r.shape,
			num(r.peerMS, "%.1f"), num(r.rbtMS, "%.1f"), num(r.ratio(), "%.2fx"),
			num(r.rbtCPU, "%.3f"), num(r.peakMiB, "%.0f"))
	}
}

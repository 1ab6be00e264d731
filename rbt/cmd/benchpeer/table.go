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
	cpuPerStep   float64 // process CPU seconds per step (peer: from a "peercpu" line)
	peakMiB      float64 // rbt only: peak resident memory of the process
}

// parseLines reads the lines the two sides print and returns rbt's and the
// peer's measurements; other lines (comments, warnings) are ignored.
//
//	peer SHAPE MODEL MS_PER_STEP SYMBOLS_PER_S        (torch_lstm_bench.py)
//	peercpu SHAPE MODEL CPU_S_PER_STEP               (this command, for the peer line before it)
//	rbt SHAPE MODEL MS_PER_STEP CPU_S_PER_STEP PEAK_MIB (this command's child)
func parseLines(r io.Reader) (rbt, peer []measurement, err error) {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		want, ok := map[string]int{"peer": 5, "peercpu": 4, "rbt": 6}[firstField(f)]
		if !ok {
			continue
		}
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
		switch f[0] {
		case "peer":
			peer = append(peer, m)
		case "peercpu":
			last := len(peer) - 1
			if last < 0 || peer[last].shape != m.shape || peer[last].model != m.model {
				return nil, nil, fmt.Errorf("line %d: %q follows no peer line of the same shape and model", n, sc.Text())
			}
			peer[last].cpuPerStep = nums[0]
		default:
			m.cpuPerStep, m.peakMiB = nums[1], nums[2]
			rbt = append(rbt, m)
		}
	}
	return rbt, peer, sc.Err()
}

func firstField(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// row is one line of the table: medians over the runs of one (shape, model).
type row struct {
	shape, model    string
	peerMS, rbtMS   float64 // 0: not measured
	peerCPU, rbtCPU float64
	peakMiB         float64
	runs            int // rbt runs
}

// ratio is rbt's throughput relative to PyTorch's (> 1: rbt is faster), 0
// when either side is missing.
func (r row) ratio() float64 { return quotient(r.peerMS, r.rbtMS) }

// cpuRatio is the same for CPU seconds per step: steadier than wall time on
// a shared machine, and fair to a peer on one thread against rbt's backend,
// which runs independent ops on every core.
func (r row) cpuRatio() float64 { return quotient(r.peerCPU, r.rbtCPU) }

func quotient(a, b float64) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	return a / b
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
			var pm, pc, rm, rc, rp []float64
			for _, x := range peer {
				if x.shape == s && x.model == m {
					pm = append(pm, x.msPerStep)
					if x.cpuPerStep > 0 {
						pc = append(pc, x.cpuPerStep)
					}
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
				peerCPU: median(pc), rbtCPU: median(rc), peakMiB: median(rp), runs: len(rm)})
		}
	}
	return rows
}

// writeTable prints the rows as a Markdown table; symbols gives the input
// symbols of one step of each shape (batch x length), for rbt's CPU
// microseconds per symbol (missing: "-").
func writeTable(w io.Writer, rows []row, symbols map[string]int) {
	fmt.Fprintln(w, "| model | shape | PyTorch ms/step | rbt ms/step | rbt/PyTorch throughput | PyTorch CPU s/step | rbt CPU s/step | CPU ratio | rbt CPU µs/symbol | rbt peak MiB |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	num := func(v float64, format string) string {
		if v == 0 {
			return "-"
		}
		return fmt.Sprintf(format, v)
	}
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.model, r.shape,
			num(r.peerMS, "%.1f"), num(r.rbtMS, "%.1f"), num(r.ratio(), "%.2fx"),
			num(r.peerCPU, "%.3f"), num(r.rbtCPU, "%.3f"), num(r.cpuRatio(), "%.2fx"),
			num(quotient(r.rbtCPU*1e6, float64(symbols[r.shape])), "%.2f"), num(r.peakMiB, "%.0f"))
	}
}

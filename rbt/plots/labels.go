package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// LabelOffsets returns a vertical offset for the label of each point (x, y)
// so that no two labels overlap on a plot of the given size: a label (one
// text line, about 9 points high, up to a fifth of the width long, written to
// the right of its point) that collides with one already placed is moved up or
// down by whole lines, alternately, until it is free. Points are placed in
// order of y; offsets are 0 where nothing collides.
func LabelOffsets(xs, ys []float64, logX, logY bool, width, height vg.Length) []vg.Length {
	n := len(xs)
	out := make([]vg.Length, n)
	if n == 0 {
		return out
	}
	norm := func(v []float64, log bool) []float64 {
		t := make([]float64, len(v))
		lo, hi := math.Inf(1), math.Inf(-1)
		for i, x := range v {
			if log && x > 0 {
				x = math.Log10(x)
			}
			t[i] = x
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
		span := hi - lo
		if !(span > 0) {
			span = 1
		}
		for i := range t {
			t[i] = (t[i] - lo) / span
		}
		return t
	}
	// In points: the data area is about 75% of the canvas.
	nx, ny := norm(xs, logX), norm(ys, logY)
	pw, ph := 0.75*float64(width), 0.75*float64(height)
	const line = 10.0 // points per text line
	labelW := math.Min(0.2*float64(width), 110)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	for i := 1; i < n; i++ { // insertion sort by y: stable, small n
		for j := i; j > 0 && ny[order[j]] < ny[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	type box struct{ x, y float64 }
	var placed []box
	free := func(x, y float64) bool {
		for _, b := range placed {
			if math.Abs(b.x-x) < labelW && math.Abs(b.y-y) < line {
				return false
			}
		}
		return true
	}
	for _, i := range order {
		x, y := nx[i]*pw, ny[i]*ph
		if math.IsNaN(x) || math.IsNaN(y) {
			continue
		}
		off := 0.0
		for k := 1; !free(x, y+off) && k < 4*n; k++ {
			off = float64((k+1)/2) * line
			if k%2 == 0 {
				off = -off
			}
		}
		placed = append(placed, box{x, y + off})
		out[i] = vg.Points(off)
	}
	return out
}

// DistinctTicks wraps a ticker so that no two labelled ticks read the same:
// where rounding gives two ticks one label (e.g. "2.1" for 2.10 and 2.12),
// the labels are rewritten with as many significant digits as it takes.
type DistinctTicks struct{ plot.Ticker }

// Ticks implements plot.Ticker.
func (d DistinctTicks) Ticks(min, max float64) []plot.Tick {
	ticks := d.Ticker.Ticks(min, max)
	if distinctLabels(ticks) {
		return ticks
	}
	for digits := 2; digits <= 10; digits++ {
		out := make([]plot.Tick, len(ticks))
		copy(out, ticks)
		for i := range out {
			if out[i].Label != "" {
				out[i].Label = strconv.FormatFloat(out[i].Value, 'g', digits, 64)
			}
		}
		if distinctLabels(out) {
			return out
		}
	}
	return ticks
}

func distinctLabels(ticks []plot.Tick) bool {
	seen := map[string]bool{}
	for _, t := range ticks {
		if t.Label == "" {
			continue
		}
		if seen[t.Label] {
			return false
		}
		seen[t.Label] = true
	}
	return true
}

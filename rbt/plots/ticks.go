package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// LogTicks marks a logarithmic axis at 1, 2 and 5 times each power of ten,
// all labelled, with unlabelled minor ticks at the other integers. Unlike
// gonum's plot.LogTicks, which labels only powers of ten, it keeps labels on
// ranges narrower than a decade or two (e.g. 3 to 50 mm²).
type LogTicks struct{}

// Ticks implements plot.Ticker.
func (LogTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= min {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow(10, e)
			if e < 0 {
				v = float64(m) / math.Pow(10, -e) // 3/10 is 0.3; 3*0.1 is not
			}
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			label := ""
			if m == 1 || m == 2 || m == 5 {
				label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
	}
	return ticks
}

package training

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/gomlx/gomlx/ui/notebooks"
)

// progress is a one-line progress bar. On a terminal or in a notebook (GoNB,
// bash kernel) it rewrites its line with "\r"; elsewhere (logs, files) it
// prints a full line every interval.
type progress struct {
	w        io.Writer
	inPlace  bool
	every    time.Duration
	last     time.Time
	lastLen  int
	disabled bool
}

func newProgress(w io.Writer, every time.Duration) *progress {
	if w == nil {
		return &progress{disabled: true}
	}
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.inPlace = true
		}
		if notebooks.IsNotebook() && (f == os.Stdout || f == os.Stderr) {
			p.inPlace = true
		}
	}
	p.every = every
	if p.every <= 0 {
		if p.inPlace {
			p.every = 500 * time.Millisecond
		} else {
			p.every = 30 * time.Second
		}
	}
	return p
}

// due reports whether update(line, force) would show its line now.
func (p *progress) due(force bool) bool {
	return !p.disabled && (force || time.Since(p.last) >= p.every)
}

// update shows line if the interval has passed (or force).
func (p *progress) update(line string, force bool) {
	if !p.due(force) {
		return
	}
	p.last = time.Now()
	if p.inPlace {
		pad := ""
		if n := p.lastLen - len(line); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		fmt.Fprintf(p.w, "\r%s%s", line, pad)
		p.lastLen = len(line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// println prints a permanent line (e.g. a validation result).
func (p *progress) println(line string) {
	if p.disabled {
		return
	}
	if p.inPlace && p.lastLen > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.lastLen))
		p.lastLen = 0
	}
	fmt.Fprintln(p.w, line)
	p.last = time.Time{} // redraw the bar at the next update.
}

// done ends the in-place line.
func (p *progress) done() {
	if !p.disabled && p.inPlace && p.lastLen > 0 {
		fmt.Fprintln(p.w)
		p.lastLen = 0
	}
}

// humanRate writes 12345.6 as "12.3k".
func humanRate(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "-"
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.1f", x)
}

// humanDuration writes a duration as 1h02m, 4m10s or 12s.
func humanDuration(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

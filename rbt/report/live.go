package report

import (
	"html"
	"strings"
	"sync"
)

// Live is an io.Writer for progress lines that shows them in one display
// updated in place, instead of a scroll of lines: every write that completes
// a line calls update with the last Keep lines as HTML. In a GoNB notebook
// update is a display update:
//
//	id := gonbui.UniqueID()
//	progress := report.NewLive(func(h string) { gonbui.UpdateHTML(id, h) }, 8)
//	res, err := experiments.RunCharLM(ctx, cfg, data, dir, progress)
//
// A carriage return starts the line again (a progress bar redrawing itself).
// Safe for concurrent writers.
type Live struct {
	update  func(html string)
	Keep    int
	mu      sync.Mutex
	lines   []string
	current string
}

// NewLive returns a Live display of the last keep lines (at least 1).
func NewLive(update func(html string), keep int) *Live {
	return &Live{update: update, Keep: max(keep, 1)}
}

// Write implements io.Writer; it never fails.
func (l *Live) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := false
	for _, r := range string(p) {
		switch r {
		case '\n':
			l.lines = append(l.lines, l.current)
			if len(l.lines) > l.Keep {
				l.lines = l.lines[len(l.lines)-l.Keep:]
			}
			l.current = ""
			changed = true
		case '\r':
			l.current = ""
		default:
			l.current += string(r)
		}
	}
	if changed {
		l.update(l.html())
	}
	return len(p), nil
}

// Text returns the lines shown now.
func (l *Live) Text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (l *Live) html() string {
	return "<pre style=\"margin:0\">" + html.EscapeString(strings.Join(l.lines, "\n")) + "</pre>"
}

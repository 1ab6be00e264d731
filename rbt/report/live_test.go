package report

import (
	"fmt"
	"strings"
	"testing"
)

func TestLive(t *testing.T) {
	var shown []string
	l := NewLive(func(h string) { shown = append(shown, h) }, 2)
	fmt.Fprint(l, "step 1")
	if len(shown) != 0 {
		t.Fatal("an incomplete line was shown")
	}
	fmt.Fprint(l, "\nstep 2\n")
	fmt.Fprint(l, "bar 10%\rbar 20%\nstep <3>\n")
	if len(shown) != 2 {
		t.Fatalf("%d updates, want 2 (one per write that ends a line)", len(shown))
	}
	if got := l.Text(); got != "bar 20%\nstep <3>" {
		t.Fatalf("kept %q", got)
	}
	if last := shown[len(shown)-1]; !strings.Contains(last, "step &lt;3&gt;") || strings.Contains(last, "step 1") {
		t.Fatalf("last update %q", last)
	}
}

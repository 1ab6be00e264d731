package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pngDataURL(t *testing.T, blank bool) string {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			c := color.RGBA{255, 255, 255, 255}
			if !blank && x == y {
				c = color.RGBA{0, 0, 200, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

// The check, in a real headless Chromium, on pages made to pass or fail in each
// way it looks for.
func TestHTMLCheckInChromium(t *testing.T) {
	chromium, err := findChromium("")
	if err != nil {
		t.Skip(err)
	}
	good := `<img src="` + pngDataURL(t, false) + `">`
	svg := `<svg width="50" height="40"><line x1="0" y1="0" x2="50" y2="40" stroke="black"/><rect x="1" y="1" width="5" height="5"/><text x="5" y="20">a</text></svg>`
	for _, tc := range []struct {
		name, body string
		figures    int
		want       string // "" = passes; else a part of the error
	}{
		{"one figure", good, 1, ""},
		{"png and inline svg", good + svg, 2, ""},
		{"blank figure", `<img src="` + pngDataURL(t, true) + `">`, 1, "blank"},
		{"missing figure", `<img src="figure-that-is-not-there.png">`, 1, "did not load"},
		{"fewer figures than the notebook", good, 2, "1 figures shown, the notebook has 2"},
		{"external script", good + `<script src="https://cdn.example.com/x.js"></script>`, 1, "resource from outside the file: script https://cdn.example.com/x.js"},
		{"external stylesheet", good + `<link rel="stylesheet" href="http://example.com/a.css">`, 1, "outside the file: link http://example.com/a.css"},
		{"external image", good + `<img src="https://example.com/a.png">`, 1, "outside the file"},
		{"a link is not a fetch", good + `<a href="https://arxiv.org/abs/1809.11086">paper</a>`, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "page.html")
			if err := os.WriteFile(p, []byte("<html><body><h1>x</h1>"+tc.body+"</body></html>"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := checkHTML(context.Background(), chromium, p, tc.figures)
			msg := "" // the problems, without the file's path (which holds the test's name)
			if err != nil {
				msg = err.Error()[strings.Index(err.Error(), p)+len(p):]
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want pass, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(msg, tc.want)):
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

// TestCommittedReportsInChromium renders the committed notebooks' HTML when
// RBT_HTML_DIR names a folder of reports (e.g. results/smoke); a manual check.
func TestCommittedReportsInChromium(t *testing.T) {
	dir := os.Getenv("RBT_HTML_DIR")
	if dir == "" {
		t.Skip("RBT_HTML_DIR not set")
	}
	chromium, err := findChromium("")
	if err != nil {
		t.Skip(err)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "*.html"))
	if len(pages) == 0 {
		t.Fatalf("no HTML in %s", dir)
	}
	for _, p := range pages {
		nb, err := readNotebook(strings.TrimSuffix(p, ".html") + ".ipynb")
		if err != nil {
			t.Fatal(err)
		}
		_, figs := check(nb)
		if err := checkHTML(context.Background(), chromium, p, len(figs)); err != nil {
			t.Error(err)
		}
	}
}

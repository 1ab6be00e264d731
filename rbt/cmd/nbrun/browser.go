package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The HTML report check: the rendered notebook is opened in headless Chromium
// with the network off, and a script run after the page loaded reports every
// image (decoded? blank?) and every resource that came, or would come, from
// outside the file. The page is the reader's view of the results: a figure
// that does not show, or a report that needs the network, is a failure.

// checkScript is appended to a copy of the HTML. It writes its findings as
// JSON between markers into the DOM, which Chromium's --dump-dom prints.
const checkScript = `<script>
window.addEventListener('load', function () { setTimeout(function () {
  var out = {images: [], external: []};
  var local = /^(file|data|blob|about|javascript):/i;
  var imgs = document.images;
  for (var i = 0; i < imgs.length; i++) {
    var im = imgs[i];
    var r = {src: im.src.slice(0, 64), width: im.naturalWidth, height: im.naturalHeight, complete: im.complete, colors: -1};
    if (im.complete && im.naturalWidth > 0) {
      try {
        var c = document.createElement('canvas');
        c.width = Math.min(im.naturalWidth, 400); c.height = Math.min(im.naturalHeight, 400);
        var g = c.getContext('2d');
        g.drawImage(im, 0, 0, c.width, c.height);
        var d = g.getImageData(0, 0, c.width, c.height).data, seen = {}, n = 0;
        for (var k = 0; k < d.length && n < 16; k += 4) {
          var key = d[k] + ',' + d[k+1] + ',' + d[k+2] + ',' + d[k+3];
          if (!seen[key]) { seen[key] = 1; n++; }
        }
        r.colors = n;
      } catch (e) { r.error = String(e); }
    }
    out.images.push(r);
  }
  document.querySelectorAll('svg').forEach(function (sv) {
    if (sv.parentElement && sv.parentElement.closest('svg')) return;
    var b = sv.getBoundingClientRect();
    out.images.push({src: 'inline svg', width: Math.round(b.width), height: Math.round(b.height), complete: true,
      colors: sv.querySelectorAll('path,line,polyline,polygon,rect,circle,text').length > 2 ? 16 : 1});
  });
  performance.getEntriesByType('resource').forEach(function (e) { if (!local.test(e.name)) out.external.push(e.name); });
  document.querySelectorAll('script[src],img[src],iframe[src],embed[src],source[src],video[src],audio[src],object[data],link[href]').forEach(function (el) {
    if (el.tagName === 'LINK' && !/stylesheet|icon|preload|prefetch|modulepreload|manifest/i.test(el.rel)) return;
    var u = el.src || el.href || el.data || '';
    if (u && !local.test(u)) out.external.push(el.tagName.toLowerCase() + ' ' + u);
  });
  document.querySelectorAll('style').forEach(function (s) {
    var m = s.textContent.match(/(@import|url\()\s*["']?(https?:|\/\/)[^"')\s]*/gi);
    if (m) m.forEach(function (x) { out.external.push('css ' + x); });
  });
  var pre = document.createElement('pre');
  pre.textContent = 'RBT-CHECK-BEGIN' + JSON.stringify(out) + 'RBT-CHECK-END';
  document.body.appendChild(pre);
}, 500); });
</script>`

// pageImage is what the script reports about one <img>.
type pageImage struct {
	Src      string `json:"src"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Complete bool   `json:"complete"`
	Colors   int    `json:"colors"` // distinct RGBA values sampled, up to 16 (1: blank); for an inline SVG 16 when it draws something
	Error    string `json:"error"`
}

type pageReport struct {
	Images   []pageImage `json:"images"`
	External []string    `json:"external"`
}

// findChromium returns the headless browser: given, else $RBT_CHROMIUM, else
// Debian's chromium (installed by .ci/setup.sh) or another Chrome on PATH.
func findChromium(given string) (string, error) {
	if given == "" {
		given = os.Getenv("RBT_CHROMIUM")
	}
	if given != "" {
		return exec.LookPath(given)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no headless browser found for the HTML check (Debian: apt-get install chromium; .ci/setup.sh installs it); -check-html=false skips the check")
}

// browserReport opens htmlPath in headless Chromium, network off, and returns
// the script's report.
func browserReport(ctx context.Context, chromium, htmlPath string) (*pageReport, error) {
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		return nil, err
	}
	s := string(page)
	if i := strings.LastIndex(s, "</body>"); i >= 0 {
		s = s[:i] + checkScript + s[i:]
	} else {
		s += checkScript
	}
	tmp, err := os.MkdirTemp("", "rbt-htmlcheck-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	// The copy sits beside nothing: a relative resource it needed would be missing, as for a reader.
	copyPath := filepath.Join(tmp, filepath.Base(htmlPath))
	if err := os.WriteFile(copyPath, []byte(s), 0o644); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--user-data-dir="+filepath.Join(tmp, "profile"),
		// Network off: no name resolves and every connection goes to a closed proxy.
		"--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
		"--virtual-time-budget=15000", "--dump-dom", "file://"+copyPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("chromium on %s: %v: %s", htmlPath, err, lastLines(stderr.String(), 5))
	}
	dom := string(out)
	// The last markers: the first ones are in the script's own source.
	i, j := strings.LastIndex(dom, "RBT-CHECK-BEGIN"), strings.LastIndex(dom, "RBT-CHECK-END")
	if i < 0 || j < i {
		return nil, fmt.Errorf("chromium on %s: the check script did not report (page did not finish loading?): %s", htmlPath, lastLines(stderr.String(), 5))
	}
	var rep pageReport
	if err := json.Unmarshal([]byte(unescapeHTML(dom[i+len("RBT-CHECK-BEGIN"):j])), &rep); err != nil {
		return nil, fmt.Errorf("chromium on %s: report: %w", htmlPath, err)
	}
	return &rep, nil
}

// unescapeHTML undoes the escaping of text content in a dumped DOM.
func unescapeHTML(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&amp;", "&").Replace(s)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// problems lists what is wrong with a rendered page that should show at
// least wantFigures figures.
func (r *pageReport) problems(wantFigures int) []string {
	var out []string
	shown := 0
	for i, im := range r.Images {
		switch {
		case !im.Complete || im.Width == 0 || im.Height == 0:
			out = append(out, fmt.Sprintf("image %d (%s...) did not load", i+1, im.Src))
		case im.Error != "":
			out = append(out, fmt.Sprintf("image %d (%s...) could not be read back: %s", i+1, im.Src, im.Error))
		case im.Colors <= 1:
			out = append(out, fmt.Sprintf("image %d (%s..., %dx%d) is blank (one color)", i+1, im.Src, im.Width, im.Height))
		default:
			shown++
		}
	}
	if shown < wantFigures {
		out = append(out, fmt.Sprintf("%d figures shown, the notebook has %d", shown, wantFigures))
	}
	for _, e := range r.External {
		out = append(out, "resource from outside the file: "+e)
	}
	return out
}

// checkHTML renders htmlPath in the browser and returns an error listing
// every problem (nil when the page shows its figures and is self-contained).
func checkHTML(ctx context.Context, chromium, htmlPath string, wantFigures int) error {
	rep, err := browserReport(ctx, chromium, htmlPath)
	if err != nil {
		return err
	}
	if p := rep.problems(wantFigures); len(p) > 0 {
		return fmt.Errorf("HTML check of %s (headless Chromium, network off): %s", htmlPath, strings.Join(p, "; "))
	}
	return nil
}

package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// notebook is the part of the Jupyter nbformat 4 document the runner reads.
type notebook struct {
	Cells []struct {
		CellType string   `json:"cell_type"`
		Source   textish  `json:"source"`
		Outputs  []output `json:"outputs"`
	} `json:"cells"`
}

type output struct {
	OutputType string             `json:"output_type"` // stream, display_data, execute_result, error
	Name       string             `json:"name"`        // stream: stdout or stderr
	Text       textish            `json:"text"`
	Data       map[string]textish `json:"data"`
	EName      string             `json:"ename"`
	EValue     string             `json:"evalue"`
}

// textish is nbformat's multi-line string: a string or a list of strings.
type textish string

func (t *textish) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = textish(s)
		return nil
	}
	var parts []string
	if err := json.Unmarshal(b, &parts); err != nil {
		return err
	}
	*t = textish(strings.Join(parts, ""))
	return nil
}

func readNotebook(path string) (*notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var nb notebook
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("%s is not a Jupyter notebook: %w", path, err)
	}
	return &nb, nil
}

// figure is one image output of an executed notebook.
type figure struct {
	Cell int
	Mime string // image/png or image/svg+xml
	Data []byte
}

// check inspects an executed notebook: it returns the error outputs (as text)
// and the figures, in cell order.
func check(nb *notebook) (errs []string, figs []figure) {
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "error":
				errs = append(errs, fmt.Sprintf("cell %d: %s: %s", i+1, o.EName, o.EValue))
			case "display_data", "execute_result":
				if png, ok := o.Data["image/png"]; ok {
					if data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(png))); err == nil {
						figs = append(figs, figure{i + 1, "image/png", data})
					} else {
						errs = append(errs, fmt.Sprintf("cell %d: image/png output is not base64: %v", i+1, err))
					}
				}
				if svg, ok := o.Data["image/svg+xml"]; ok {
					figs = append(figs, figure{i + 1, "image/svg+xml", []byte(svg)})
				}
				// GoNB's DisplaySVG sends the SVG wrapped in HTML (Jupyter's HTML export drops image/svg+xml).
				if h, ok := o.Data["text/html"]; ok {
					if start := strings.Index(string(h), "<svg"); start >= 0 {
						if end := strings.LastIndex(string(h), "</svg>"); end > start {
							figs = append(figs, figure{i + 1, "image/svg+xml", []byte(string(h)[start : end+len("</svg>")])})
						}
					}
				}
			}
		}
	}
	return errs, figs
}

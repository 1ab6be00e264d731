package main

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadNotebook: a notebook file with any contents reads (and is checked
// for errors and figures) or gives an error naming the file; never a panic.
// Seeds: the committed notebooks' shapes, and testdata/fuzz/FuzzReadNotebook.
func FuzzReadNotebook(f *testing.F) {
	f.Add([]byte(`{"cells":[{"cell_type":"code","source":["x := 1\n"],"outputs":[{"output_type":"stream","name":"stdout","text":["1\n"]},{"output_type":"display_data","data":{"image/png":"iVBORw0KGgo="}},{"output_type":"error","ename":"E","evalue":"v","traceback":["t"]}]}],"metadata":{},"nbformat":4,"nbformat_minor":5}`))
	f.Add([]byte(`{"cells":[{"cell_type":"markdown","source":"# t"}]}`))
	f.Add([]byte(`{"cells":[{"outputs":[{"output_type":"display_data","data":{"image/svg+xml":["<svg/>"]}}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "n.ipynb")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		nb, err := readNotebook(p)
		if err != nil {
			return
		}
		check(nb)
	})
}

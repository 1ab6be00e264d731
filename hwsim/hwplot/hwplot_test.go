package hwplot

import (
	"bytes"
	"encoding/xml"
	"os"
	"testing"

	"github.com/rbt-project/rbt/hwsim"
	"github.com/rbt-project/rbt/rbt/packed"
)

func TestRun(t *testing.T) {
	m, err := packed.RandomModel(packed.RandomSpec{Cell: packed.LSTM, Weights: packed.Binary, Input: packed.OneHot, Vocab: 50, Hidden: []int{64}, Steps: 10, Seed: 3, BatchNorm: true})
	if err != nil {
		t.Fatal(err)
	}
	toks := make([]int, 300)
	for i := range toks {
		toks[i] = (i * 7) % 50
	}
	res, err := Run(hwsim.StudyOptions{Models: []*packed.Model{m}, Tokens: toks, ActBits: []int{6, 12}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Figures) != 8 {
		t.Errorf("%d figures, want 8", len(res.Figures))
	}
	pngMagic := []byte("\x89PNG\r\n\x1a\n")
	for _, f := range res.Figures {
		if !bytes.HasPrefix(f.PNG, pngMagic) || len(f.PNG) < 2000 {
			t.Errorf("figure %s: not a PNG (%d bytes)", f.Name, len(f.PNG))
		}
		if dir := os.Getenv("HWPLOT_OUT"); dir != "" {
			os.WriteFile(dir+"/"+f.Name+".png", f.PNG, 0o644)
		}
	}
	if err := xml.Unmarshal([]byte(res.DiagramSVG), new(struct{})); err != nil {
		t.Errorf("diagram is not well-formed XML: %v", err)
	}
	if len(res.Study.Accuracy) != 2 {
		t.Errorf("%d accuracy points, want 2", len(res.Study.Accuracy))
	}
}

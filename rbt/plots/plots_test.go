package plots

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"
)

func TestFiguresArePNGs(t *testing.T) {
	curve := Series{Name: "loss", X: []float64{1, 2, 3, 4}, Y: []float64{2, 1.5, math.NaN(), 1}}
	for _, tc := range []struct {
		name string
		draw func() ([]byte, error)
	}{
		{"lines", func() ([]byte, error) { return Lines(Options{Title: "t", XLabel: "x", YLabel: "y"}, curve) }},
		{"lines-logx", func() ([]byte, error) { return Lines(Options{LogX: true}, curve) }},
		{"scatter", func() ([]byte, error) {
			return Scatter(Options{LogX: true}, []Labeled{{"binary", 525, 1.4, 0}, {"fp", 16800, 1.38, 1}, {"bad", 0, 1, 2}})
		}},
		{"histograms", func() ([]byte, error) {
			return Histograms(Options{}, 2, []Histogram{
				{Title: "i", Series: []Series{{Name: "a", Y: []float64{0.1, 0.2, 0.2, 0.9}}, {Name: "b", Y: []float64{0.5, 0.5}}}},
				{Title: "f", Series: []Series{{Name: "a", Y: []float64{0.3, 0.4}}}},
				{Title: "o", Series: []Series{{Name: "a", Y: []float64{math.Inf(1)}}}},
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tc.draw()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
				t.Fatalf("image too small: %v", b)
			}
		})
	}
}

func TestLinesRejectsMismatchedSeries(t *testing.T) {
	if _, err := Lines(Options{}, Series{Name: "bad", X: []float64{1, 2}, Y: []float64{1}}); err == nil {
		t.Fatal("Lines accepted a series with 2 x and 1 y")
	}
}

func TestLogTicks(t *testing.T) {
	for _, tc := range []struct {
		min, max float64
		labels   []string
	}{
		{3, 50, []string{"5", "10", "20", "50"}},
		{1, 1000, []string{"1", "2", "5", "10", "20", "50", "100", "200", "500", "1e+03"}},
		{0.15, 0.3, []string{"0.2"}},
	} {
		var got []string
		for _, tk := range (LogTicks{}).Ticks(tc.min, tc.max) {
			if tk.Value < tc.min || tk.Value > tc.max {
				t.Errorf("[%g, %g]: tick %g outside", tc.min, tc.max, tk.Value)
			}
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.labels, ",") {
			t.Errorf("[%g, %g]: labels %v, want %v", tc.min, tc.max, got, tc.labels)
		}
	}
}

// TestHistogramsSaturated: values a rounding error below the maximum, as
// saturated sigmoid gates give, made gonum's NewHist panic.
func TestHistogramsSaturated(t *testing.T) {
	vals := []float64{0.2, 0.9999999999999999, 1, 1, math.Nextafter(1, 0)}
	for i := 0; i < 100; i++ {
		vals = append(vals, 1-float64(i)*1e-17)
	}
	if _, err := Histograms(Options{}, 1, []Histogram{{Title: "f", Series: []Series{{Name: "gate", Y: vals}}}}); err != nil {
		t.Fatal(err)
	}
	h := densityHist([]float64{0, 0.5, 1, 1}, 2)
	area := 0.0
	for _, b := range h.Bins {
		area += b.Weight * (b.Max - b.Min)
	}
	if math.Abs(area-1) > 1e-12 || h.Bins[1].Weight != 3/(4*0.5) {
		t.Errorf("density bins %+v, area %g", h.Bins, area)
	}
}

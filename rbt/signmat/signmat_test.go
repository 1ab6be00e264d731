package signmat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func randomSigns(rng *rand.Rand, n int, ternary bool) []int8 {
	s := make([]int8, n)
	for i := range s {
		if ternary {
			s[i] = int8(rng.IntN(3) - 1)
		} else {
			s[i] = int8(rng.IntN(2)*2 - 1)
		}
	}
	return s
}

// kernels runs f with the AVX2 kernels (where they run) and with the portable
// loop.
func kernels(t *testing.T, f func(t *testing.T)) {
	saved := Accelerated
	defer func() { Accelerated = saved }()
	paths := []bool{false}
	if saved {
		paths = []bool{true, false}
	}
	for _, acc := range paths {
		Accelerated = acc
		t.Run(fmt.Sprintf("accelerated=%v", acc), f)
	}
}

// TestMulMatchesReference checks MulFloat32 against a float64 dot product and
// MulInt32 against an exact int64 one, on sizes that hit every padding case
// (rows not a multiple of 3 or 30, cols not a multiple of 8).
func TestMulMatchesReference(t *testing.T) {
	kernels(t, func(t *testing.T) {
		for _, tc := range []struct{ rows, cols int }{
			{1, 1}, {2, 3}, {3, 8}, {29, 9}, {30, 16}, {31, 17}, {64, 40}, {257, 1024}, {1000, 4000},
		} {
			for _, ternary := range []bool{false, true} {
				rng := rand.New(rand.NewPCG(uint64(tc.rows), uint64(tc.cols)))
				s := randomSigns(rng, tc.rows*tc.cols, ternary)
				m, err := New(tc.rows, tc.cols, s, ternary)
				if err != nil {
					t.Fatal(err)
				}
				xf := make([]float32, tc.rows)
				xi := make([]int32, tc.rows)
				for i := range xf {
					xf[i] = float32(rng.NormFloat64())
					xi[i] = int32(rng.IntN(1<<16) - 1<<15)
				}
				of := make([]float32, tc.cols)
				oi := make([]int32, tc.cols)
				m.MulFloat32(xf, of, make([]float32, m.ScratchLen()))
				if !m.Int32Safe(1 << 15) {
					t.Fatalf("%dx%d: 2^15 inputs should be int32-safe", tc.rows, tc.cols)
				}
				m.MulInt32(xi, oi, make([]int32, m.ScratchLen()))
				for j := range tc.cols {
					var want, abs float64
					var wantI int64
					for i := range tc.rows {
						w := float64(s[i*tc.cols+j])
						want += w * float64(xf[i])
						abs += math.Abs(float64(xf[i]))
						wantI += int64(s[i*tc.cols+j]) * int64(xi[i])
					}
					if d := math.Abs(float64(of[j]) - want); d > 4e-7*abs+1e-7 {
						t.Fatalf("%dx%d ternary=%v col %d: float32 %v, float64 reference %v", tc.rows, tc.cols, ternary, j, of[j], want)
					}
					if int64(oi[j]) != wantI {
						t.Fatalf("%dx%d ternary=%v col %d: int32 %d, exact %d", tc.rows, tc.cols, ternary, j, oi[j], wantI)
					}
				}
			}
		}
	})
}

// TestWorkedExample is a 4 x 2 case by hand: x = (1, 2, 4, 8),
// column 0 = (+1, -1, +1, -1) -> 1 - 2 + 4 - 8 = -5,
// column 1 = (0, +1, -1, 0) (ternary) -> 2 - 4 = -2.
func TestWorkedExample(t *testing.T) {
	kernels(t, func(t *testing.T) {
		m, err := New(4, 2, []int8{1, 0, -1, 1, 1, -1, -1, 0}, true)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float32, 2)
		m.MulFloat32([]float32{1, 2, 4, 8}, out, make([]float32, m.ScratchLen()))
		if out[0] != -5 || out[1] != -2 {
			t.Fatalf("got %v, want [-5 -2]", out)
		}
		oi := make([]int32, 2)
		m.MulInt32([]int32{1, 2, 4, 8}, oi, make([]int32, m.ScratchLen()))
		if oi[0] != -5 || oi[1] != -2 {
			t.Fatalf("int32: got %v, want [-5 -2]", oi)
		}
	})
}

func TestSignAndRow(t *testing.T) {
	for _, ternary := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(7, 7))
		rows, cols := 61, 13
		s := randomSigns(rng, rows*cols, ternary)
		m, err := New(rows, cols, s, ternary)
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float32, cols)
		for i := range rows {
			m.RowFloat32(i, row)
			for j := range cols {
				if got := m.Sign(i, j); got != s[i*cols+j] {
					t.Fatalf("ternary=%v Sign(%d,%d) = %d, want %d", ternary, i, j, got, s[i*cols+j])
				}
				if row[j] != float32(s[i*cols+j]) {
					t.Fatalf("ternary=%v RowFloat32(%d)[%d] = %v, want %d", ternary, i, j, row[j], s[i*cols+j])
				}
			}
		}
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rows, cols int
		signs      []int8
		ternary    bool
		want       string
	}{
		{"zero rows", 0, 2, nil, false, "at least 1"},
		{"short", 2, 2, []int8{1, 1, 1}, false, "3 signs for a 2 x 2"},
		{"zero in binary", 1, 2, []int8{1, 0}, false, "entry (0, 1) is 0"},
		{"two in ternary", 1, 2, []int8{2, 0}, true, "entry (0, 0) is 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.rows, tc.cols, tc.signs, tc.ternary)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestInt32Safe(t *testing.T) {
	m, _ := New(1000, 8, make([]int8, 8000), true) // 2 x 34 words x 30 inputs
	limit := int64(math.MaxInt32) / (2 * 68 * 30)
	if !m.Int32Safe(limit) || m.Int32Safe(limit+1) || m.Int32Safe(-1) {
		t.Fatalf("Int32Safe bound wrong around %d", limit)
	}
}

func TestBytes(t *testing.T) {
	// 1000 x 4000 binary: 34 words x 500 blocks x 8 lanes x 4 bytes = 544,000
	// bytes (1.088 bits per weight); ternary twice that.
	for _, tc := range []struct {
		ternary bool
		want    int64
	}{{false, 544000}, {true, 1088000}} {
		m, err := New(1000, 4000, make([]int8, 4_000_000), true)
		if !tc.ternary {
			s := make([]int8, 4_000_000)
			for i := range s {
				s[i] = 1
			}
			m, err = New(1000, 4000, s, false)
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Bytes() != tc.want || PackedBytes(1000, 4000, tc.ternary) != tc.want {
			t.Fatalf("ternary=%v: %d bytes, want %d", tc.ternary, m.Bytes(), tc.want)
		}
	}
}

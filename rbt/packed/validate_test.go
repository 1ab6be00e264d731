package packed

import (
	"math"
	"strings"
	"testing"

	"github.com/rbt-project/rbt/rbt/signmat"
)

func TestValidate(t *testing.T) {
	base := func() *Model {
		m, err := RandomModel(RandomSpec{Cell: LSTM, Weights: Ternary, Input: Embedding, Vocab: 6, EmbeddingDim: 4, Hidden: []int{5, 3}, Steps: 2, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name, want string
		edit       func(m *Model)
	}{
		{"no layers", "no layers", func(m *Model) { m.Layers = nil }},
		{"input kind", "unknown input kind", func(m *Model) { m.Input = 0 }},
		{"cell kind", "layer 0: unknown cell kind", func(m *Model) { m.Layers[0].Cell = 7 }},
		{"weight kind", "layer 1: unknown weight kind", func(m *Model) { m.Layers[1].Weights = 9 }},
		{"chain", "layer 1: Input = 4, but layer 0 has Hidden = 5", func(m *Model) { m.Layers[1].Input = 4; m.Layers[1].WxSign = m.Layers[1].WxSign[:48] }},
		{"Wx length", "len(WxSign) = 79, want Input*G*Hidden = 4*4*5 = 80", func(m *Model) { m.Layers[0].WxSign = m.Layers[0].WxSign[:79] }},
		{"ternary value", "WhSign[3] = 2", func(m *Model) { m.Layers[0].WhSign[3] = 2 }},
		{"binary zero", "not a binary weight", func(m *Model) {
			m.Layers[0].Weights = Binary
			for i := range m.Layers[0].WxSign {
				m.Layers[0].WxSign[i] |= 1
			}
			for i := range m.Layers[0].WhSign {
				m.Layers[0].WhSign[i] = 0
			}
		}},
		{"float with signs", "WxFloat and WhFloat must be nil", func(m *Model) { m.Layers[0].WxFloat = []float32{1} }},
		{"scale length", "len(ScaleX) = 20, want Steps*G*n = 2*4*5 = 40", func(m *Model) { m.Layers[0].ScaleX = m.Layers[0].ScaleX[:20] }},
		{"NaN", "ShiftH[2] = NaN", func(m *Model) { m.Layers[1].ShiftH[2] = float32(math.NaN()) }},
		{"Inf", "Output[0] = +Inf", func(m *Model) { m.Output[0] = float32(math.Inf(1)) }},
		{"C0 missing", "len(C0) = 0", func(m *Model) { m.Layers[0].C0 = nil }},
		{"GRU gates", "layer 0: len(WxSign) = 80, want Input*G*Hidden = 4*3*5 = 60", func(m *Model) { m.Layers[0].Cell = GRU }},
		{"vocab", "len(Vocab) = 5, but Embedding has 6 rows", func(m *Model) { m.Vocab = m.Vocab[:5] }},
		{"embedding dim", "EmbeddingDim = 3, but layer 0 has Input = 4", func(m *Model) { m.EmbeddingDim = 3; m.Embedding = m.Embedding[:18] }},
		{"output", "len(Output) = 17, want Hidden(last layer)*Classes = 3*6 = 18", func(m *Model) { m.Output = m.Output[:17] }},
		{"classes", "Classes = 0", func(m *Model) { m.Classes = 0 }},
		{"steps", "layer 0: Steps = 0", func(m *Model) { m.Layers[0].Steps = 0 }},
		{"one-hot with embedding", "one-hot input: Embedding must be empty", func(m *Model) { m.Input = OneHot; m.Layers[0].Input = 6 }},
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("valid model rejected: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := base()
			c.edit(m)
			err := m.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
	var nilModel *Model
	if nilModel.Validate() == nil {
		t.Error("nil model accepted")
	}
}

func TestMemory(t *testing.T) {
	// The PTB-char model: 1 x 1000 LSTM, 50 symbols, as in METHOD.md's table:
	// 4n(d+n) = 4*1000*1050 = 4,200,000 weights; 525 KB binary, 16,800 KB float32.
	// Resident: portable planes pad the groups to multiples of 4 (50 inputs:
	// 7 -> 8 bytes per column, 1000: 125 -> 128; base 3: 10 -> 12, 200);
	// signmat (AVX2) keeps 4 bytes per 30 inputs per column (50: 2 words,
	// 1000: 34), twice for ternary.
	for _, c := range []struct {
		w                       WeightKind
		packed, avx2, fileBytes int64
	}{
		{Binary, 4000 * (8 + 128), 4000 * 4 * (2 + 34), 4000*50/8 + 4000*1000/8},
		{Ternary, 4000 * (12 + 200), 2 * 4000 * 4 * (2 + 34), (4000*50+4)/5 + 4000*1000/5},
		{Float32, 4 * 4200000, 4 * 4200000, 4 * 4200000},
	} {
		if signmat.Accelerated {
			c.packed = c.avx2
		}
		m, err := RandomModel(RandomSpec{Cell: LSTM, Weights: c.w, Input: OneHot, Vocab: 50, Hidden: []int{1000}, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		mem := m.Memory()
		if mem.Weights != 4200000 || mem.Float32Bytes != 16800000 {
			t.Errorf("%s: weights %d (%d bytes as float32), want 4,200,000 (16,800,000)", c.w, mem.Weights, mem.Float32Bytes)
		}
		if mem.PackedBytes != c.packed || mem.FileWeightBytes != c.fileBytes {
			t.Errorf("%s: packed %d file %d, want %d and %d", c.w, mem.PackedBytes, mem.FileWeightBytes, c.packed, c.fileBytes)
		}
		e, err := NewEngine(m)
		if err != nil {
			t.Fatal(err)
		}
		if e.WeightBytes() != mem.PackedBytes {
			t.Errorf("%s: engine holds %d weight bytes, Memory says %d", c.w, e.WeightBytes(), mem.PackedBytes)
		}
		if got := e.ResidentBytes(); got != mem.PackedBytes+mem.OtherBytes {
			t.Errorf("%s: resident %d, want packed + other = %d", c.w, got, mem.PackedBytes+mem.OtherBytes)
		}
		if mem.FileBytes != int64(len(encode(t, m))) {
			t.Errorf("%s: FileBytes %d, encoded %d", c.w, mem.FileBytes, len(encode(t, m)))
		}
	}
}

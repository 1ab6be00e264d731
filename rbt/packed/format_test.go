package packed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func encode(t testing.TB, m *Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, spec := range testSpecs() {
		t.Run(specName(spec), func(t *testing.T) {
			m, err := RandomModel(spec)
			if err != nil {
				t.Fatal(err)
			}
			m.Meta["quantizer"] = "stochastic"
			m.Meta["budget"] = "smoke"
			data := encode(t, m)
			if int64(len(data)) != EncodedSize(m) {
				t.Errorf("EncodedSize = %d, encoded %d bytes", EncodedSize(m), len(data))
			}
			got, err := Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("decoded model differs from the original")
			}
			if again := encode(t, got); !bytes.Equal(again, data) {
				t.Fatalf("re-encoding is not byte-identical")
			}
		})
	}
}

// TestWeightBits checks the weight codes' sizes: 1 bit per binary weight and
// 1.6 bits (5 per byte) per ternary weight in the file.
func TestWeightBits(t *testing.T) {
	size := func(w WeightKind) int64 {
		m, err := RandomModel(RandomSpec{Cell: LSTM, Weights: w, Input: Dense, Features: 40, Hidden: []int{40}, Classes: 2, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		return int64(len(encode(t, m)))
	}
	f, b, tr := size(Float32), size(Binary), size(Ternary)
	weights := int64(40*160 + 40*160) // Wx + Wh
	if f-b != 4*weights-weights/8 {
		t.Errorf("float32 file - binary file = %d bytes, want %d", f-b, 4*weights-weights/8)
	}
	if tr-b != weights/5-weights/8 {
		t.Errorf("ternary file - binary file = %d bytes, want %d", tr-b, weights/5-weights/8)
	}
}

func TestFileReadWrite(t *testing.T) {
	m, err := RandomModel(RandomSpec{Cell: GRU, Weights: Ternary, Input: OneHot, Vocab: 20, Hidden: []int{16}, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.rbtm")
	if err := WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatal("ReadFile differs from what WriteFile wrote")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("WriteFile left %d entries in the directory, want 1", len(ents))
	}
	// Trailing bytes after the checksum are rejected, with the file name.
	data, _ := os.ReadFile(path)
	os.WriteFile(path, append(data, 0), 0o644)
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, ErrFormat) {
		t.Errorf("trailing byte: err = %v", err)
	}
	// An invalid model is not written, and nothing is left behind.
	bad := *m
	bad.Classes = 0
	if err := WriteFile(filepath.Join(dir, "bad.rbtm"), &bad); err == nil {
		t.Error("WriteFile accepted an invalid model")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("failed WriteFile left files behind: %d entries", len(ents))
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.rbtm")); err == nil {
		t.Error("ReadFile of a missing file: no error")
	}
}

// fixCRC recomputes the checksum of an edited file so that the parser, not
// the checksum, must catch the edit.
func fixCRC(data []byte) []byte {
	n := len(data) - 4
	binary.LittleEndian.PutUint32(data[n:], crc32.Checksum(data[:n], castagnoli))
	return data
}

func TestDecodeRejects(t *testing.T) {
	m, err := RandomModel(RandomSpec{Cell: LSTM, Weights: Binary, Input: OneHot, Vocab: 9, Hidden: []int{7}, Steps: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	good := encode(t, m)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// Offsets in the body: task (4+6 "random"), input kind, classes, ...
	body := headerBytes
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"empty", "empty input", nil},
		{"short foreign", "no rbt magic", []byte("hello")},
		{"foreign", "bad magic", []byte("PK\x03\x04 this is a zip file, not a model at all")},
		{"truncated header", "truncated header", good[:12]},
		{"truncated body", "truncated", good[:len(good)/2]},
		{"missing checksum", "truncated", good[:len(good)-2]},
		{"version", "format version 2", edit(func(b []byte) []byte { b[8] = 2; return b })},
		{"reserved", "reserved header fields", edit(func(b []byte) []byte { b[12] = 1; return b })},
		{"huge length", "limit", edit(func(b []byte) []byte { binary.LittleEndian.PutUint64(b[16:], 1<<62); return b })},
		{"lying length", "truncated", edit(func(b []byte) []byte { binary.LittleEndian.PutUint64(b[16:], 1<<33); return b })},
		{"bit flip", "checksum mismatch", edit(func(b []byte) []byte { b[len(b)/2] ^= 4; return b })},
		{"bad input kind", "unknown input kind 9", edit(func(b []byte) []byte { b[body+10] = 9; return fixCRC(b) })},
		{"zero classes", "classes", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[body+11:], 0); return fixCRC(b) })},
		{"huge vocab count", "cannot fit", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[body+19:], 1<<30); return fixCRC(b) })},
		{"short body", "unexpected bytes", fixCRC(append(append(bytes.Clone(good[:len(good)-4]), 0, 0, 0, 0), 0, 0, 0, 0))},
	}
	// "short body": the header still says the old length, so the 4 extra bytes
	// become the checksum and the real checksum is read as... rebuild instead:
	cases[len(cases)-1].data = func() []byte {
		b := bytes.Clone(good[:len(good)-4])
		b = append(b, 1, 2, 3)
		binary.LittleEndian.PutUint64(b[16:], uint64(len(b)-headerBytes))
		return fixCRC(append(b, 0, 0, 0, 0))
	}()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(c.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error does not wrap ErrFormat: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// TestDecodeRejectsBadCodes edits weight codes inside the body (checksum
// fixed) and checks that padding bits and base-3 digits are verified.
func TestDecodeRejectsBadCodes(t *testing.T) {
	for _, w := range []WeightKind{Binary, Ternary} {
		// Wh of a 1-input, 1-hidden LSTM has 4 weights: the last byte of the
		// binary code has 4 padding bits; the base-3 code has 1 unused digit.
		m, err := RandomModel(RandomSpec{Cell: LSTM, Weights: w, Input: Dense, Features: 1, Hidden: []int{1}, Classes: 1, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		data := encode(t, m)
		d := &decoder{b: data[headerBytes : len(data)-4]}
		// Walk to the layer's Wx code: task, kind, classes, emb dim, vocab, meta, emb rows, layers, 4 bytes, 3 dims.
		d.str("")
		d.u8("")
		d.u32("")
		d.u32("")
		d.u32("")
		for range int(d.u32("")) {
			d.str("")
			d.str("")
		}
		d.u32("")
		d.u32("")
		d.take(4+12, "")
		off := headerBytes + d.off
		bad := bytes.Clone(data)
		bad[off] = 0xff
		_, err = Decode(bytes.NewReader(fixCRC(bad)))
		want := map[WeightKind]string{Binary: "padding bits", Ternary: "not a base-3 code"}[w]
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", w, err, want)
		}
	}
}

// FuzzDecode: Decode must never panic, never allocate from a lying header,
// and whatever it accepts must be a valid model that re-encodes to the same
// bytes. The body parser is also fuzzed behind the checksum.
//
//	GOTOOLCHAIN=go1.27.3 go test ./rbt/packed -run '^$' -fuzz FuzzDecode -fuzztime 60s
func FuzzDecode(f *testing.F) {
	for _, spec := range testSpecs()[:6] {
		spec.Hidden = []int{3}
		spec.Vocab, spec.EmbeddingDim, spec.Features, spec.Classes = 4, 2, 3, 4
		m, err := RandomModel(spec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(encode(f, m))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(bytes.NewReader(data))
		if err == nil {
			if err := m.Validate(); err != nil {
				t.Fatalf("Decode accepted an invalid model: %v", err)
			}
			var buf bytes.Buffer
			if err := Encode(&buf, m); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), data) {
				t.Fatal("accepted input does not re-encode to the same bytes")
			}
		}
		if len(data) > headerBytes+4 {
			if m, err := decodeBody(data[headerBytes : len(data)-4]); err == nil {
				if err := m.Validate(); err != nil {
					t.Fatalf("decodeBody accepted an invalid model: %v", err)
				}
				if _, err := NewEngine(m); err != nil {
					t.Fatalf("NewEngine rejected a decoded model: %v", err)
				}
			}
		}
	})
}

// TestWriteFuzzSeeds regenerates the committed seed corpus of FuzzDecode
// (testdata/fuzz/FuzzDecode) when RBT_WRITE_FUZZ_SEEDS=1; otherwise it checks
// that the committed seeds still decode as they did (valid ones valid).
func TestWriteFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	seeds := map[string][]byte{}
	for i, spec := range testSpecs() {
		spec.Hidden = []int{3}
		spec.Vocab, spec.EmbeddingDim, spec.Features, spec.Classes = 4, 2, 3, 4
		m, err := RandomModel(spec)
		if err != nil {
			t.Fatal(err)
		}
		data := encode(t, m)
		name := strings.ReplaceAll(specName(spec), "/", "-")
		seeds["valid-"+name] = data
		if i%6 == 0 {
			seeds["truncated-"+name] = data[:len(data)*2/3]
		}
	}
	seeds["foreign"] = []byte("GIF89a not a model")
	if os.Getenv("RBT_WRITE_FUZZ_SEEDS") == "1" {
		os.MkdirAll(dir, 0o755)
		for name, data := range seeds {
			content := "go test fuzz v1\n[]byte(" + strconvQuote(data) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, data := range seeds {
		_, err := Decode(bytes.NewReader(data))
		if valid := strings.HasPrefix(name, "valid-"); valid != (err == nil) {
			t.Errorf("seed %s: err = %v", name, err)
		}
		committed, rerr := os.ReadFile(filepath.Join(dir, name))
		if rerr != nil || !bytes.Contains(committed, []byte(strconvQuote(data))) {
			t.Errorf("committed seed %s is missing or stale (regenerate with RBT_WRITE_FUZZ_SEEDS=1)", name)
		}
	}
}

func strconvQuote(b []byte) string { return strconv.Quote(string(b)) }

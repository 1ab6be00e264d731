package packed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// The packed model file (extension .rbtm), format version 1.
//
// All integers are little-endian; "str" is a u32 byte length followed by the
// bytes; "f32[k]" is k IEEE-754 float32 values (k is implied by sizes that
// come earlier, never stored twice).
//
//	offset  size  field
//	0       8     magic "\x89RBT\r\n\x1a\n" (the PNG trick: catches text-mode mangling)
//	8       2     format version (1)
//	10      2     flags (0, reserved)
//	12      4     reserved (0)
//	16      8     body length L
//	24      L     body
//	24+L    4     CRC-32C (Castagnoli) of bytes [0, 24+L): header and body
//
// Body, in order:
//
//	str   task
//	u8    input kind (1 one-hot, 2 embedding, 3 dense)
//	u32   classes C
//	u32   embedding dim E (0 unless embedding input)
//	u32   vocabulary entries V, then V x str
//	u32   metadata entries, then (str key, str value) pairs, keys strictly increasing
//	u32   embedding rows R (0 unless embedding input), then f32[R*E]
//	u32   layers, then for each layer:
//	        u8 cell (1 LSTM, 2 GRU), u8 weight kind (1 float32, 2 binary, 3 ternary),
//	        u8 weight code (0 float32, 1 bit-packed binary, 2 base-3 ternary), u8 reserved (0)
//	        u32 input d, u32 hidden n, u32 statistic blocks S
//	        Wx (d x G*n), then Wh (n x G*n), row-major, each in the weight code
//	        f32[S*G*n] ScaleX, ShiftX, ScaleH, ShiftH
//	        f32[S*n] ScaleC, ShiftC       (LSTM only)
//	        f32[n] H0, then f32[n] C0     (C0 for LSTM only)
//	f32[n_last*C] output weights, f32[C] output bias
//
// Weight codes. Binary: weight k of the flattened matrix is bit k%8 (least
// significant first) of byte k/8, 1 for +1 and 0 for -1; unused bits of the
// last byte are 0. Ternary: 5 weights per byte in base 3, byte j =
// sum_{i<5} (w[5j+i]+1) * 3^i (3^5 = 243 <= 256, so 1.6 bits per weight, 20%
// smaller than a 2-bit code); unused digits of the last byte are 0. Float32:
// f32 values.
//
// Decoding reads the header, refuses foreign files (magic), other versions and
// bodies larger than MaxFileBytes, reads the body without trusting its
// announced length for allocation, verifies the checksum, then parses with
// every count checked against the bytes left before anything is allocated,
// and finally runs Model.Validate.

// Magic starts every packed model file.
const Magic = "\x89RBT\r\n\x1a\n"

// FormatVersion is the version written by Encode and the only one Decode reads.
const FormatVersion = 1

// MaxFileBytes bounds the body length Decode accepts (16 GiB).
const MaxFileBytes = 1 << 34

const headerBytes = 24

// Weight codes of the file format.
const (
	codeFloat32 = 0
	codeBits    = 1
	codeBase3   = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode validates m and writes it in the packed format.
func Encode(w io.Writer, m *Model) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("packed: encode: invalid model: %w", err)
	}
	var body bytes.Buffer
	e := &encoder{&body}
	e.str(m.Task)
	e.u8(uint8(m.Input))
	e.u32(m.Classes)
	e.u32(m.EmbeddingDim)
	e.u32(len(m.Vocab))
	for _, s := range m.Vocab {
		e.str(s)
	}
	keys := make([]string, 0, len(m.Meta))
	for k := range m.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.u32(len(keys))
	for _, k := range keys {
		e.str(k)
		e.str(m.Meta[k])
	}
	e.u32(m.VocabSize() * boolInt(m.Input == Embedding))
	e.f32s(m.Embedding)
	e.u32(len(m.Layers))
	for i := range m.Layers {
		l := &m.Layers[i]
		code, _ := weightCode(l.Weights)
		body.Write([]byte{uint8(l.Cell), uint8(l.Weights), code, 0})
		e.u32(l.Input)
		e.u32(l.Hidden)
		e.u32(l.Steps)
		switch l.Weights {
		case Float32:
			e.f32s(l.WxFloat)
			e.f32s(l.WhFloat)
		case Binary:
			body.Write(packBits(l.WxSign))
			body.Write(packBits(l.WhSign))
		case Ternary:
			body.Write(packBase3(l.WxSign))
			body.Write(packBase3(l.WhSign))
		}
		for _, a := range l.floats() {
			e.f32s(a) // ScaleC, ShiftC, C0 are nil (nothing written) for GRU.
		}
	}
	e.f32s(m.Output)
	e.f32s(m.OutputBias)

	var hdr [headerBytes]byte
	copy(hdr[:], Magic)
	binary.LittleEndian.PutUint16(hdr[8:], FormatVersion)
	binary.LittleEndian.PutUint64(hdr[16:], uint64(body.Len()))
	crc := crc32.Update(crc32.Checksum(hdr[:], castagnoli), castagnoli, body.Bytes())
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], crc)
	for _, b := range [][]byte{hdr[:], body.Bytes(), tail[:]} {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("packed: encode: %w", err)
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

type encoder struct{ b *bytes.Buffer }

func (e *encoder) u8(v uint8) { e.b.WriteByte(v) }
func (e *encoder) u32(v int) {
	var t [4]byte
	binary.LittleEndian.PutUint32(t[:], uint32(v))
	e.b.Write(t[:])
}
func (e *encoder) str(s string) { e.u32(len(s)); e.b.WriteString(s) }
func (e *encoder) f32s(v []float32) {
	var t [4]byte
	for _, x := range v {
		binary.LittleEndian.PutUint32(t[:], math.Float32bits(x))
		e.b.Write(t[:])
	}
}

// packBits codes +-1 weights one bit each (1 = +1), least significant bit first.
func packBits(w []int8) []byte {
	out := make([]byte, (len(w)+7)/8)
	for i, v := range w {
		if v > 0 {
			out[i>>3] |= 1 << (i & 7)
		}
	}
	return out
}

// weightCode is the file's weight code of a weight kind.
func weightCode(w WeightKind) (uint8, bool) {
	switch w {
	case Float32:
		return codeFloat32, true
	case Binary:
		return codeBits, true
	case Ternary:
		return codeBase3, true
	}
	return 0, false
}

// packBase3 codes {-1,0,+1} weights five per byte in base 3.
func packBase3(w []int8) []byte {
	out := make([]byte, (len(w)+4)/5)
	for j := range out {
		v, p := 0, 1
		for i := 5 * j; i < 5*j+5 && i < len(w); i++ {
			v += int(w[i]+1) * p
			p *= 3
		}
		out[j] = byte(v)
	}
	return out
}

// ErrFormat is wrapped by every error Decode returns for a file that is not a
// valid packed model (foreign, truncated, corrupted, inconsistent).
var ErrFormat = errors.New("not a valid packed rbt model")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// Decode reads one packed model from r (see the format above), checks the
// checksum and every size, and returns a validated model. Errors wrap
// ErrFormat (except read errors of r itself) and say what is wrong.
func Decode(r io.Reader) (*Model, error) {
	var hdr [headerBytes]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if n >= len(Magic) && string(hdr[:len(Magic)]) == Magic || n < len(Magic) && n > 0 && string(hdr[:n]) == Magic[:n] {
				return nil, formatErr("truncated header: %d of %d bytes", n, headerBytes)
			}
			if n == 0 {
				return nil, formatErr("empty input")
			}
			return nil, formatErr("too short (%d bytes) and no rbt magic", n)
		}
		return nil, fmt.Errorf("packed: reading header: %w", err)
	}
	if string(hdr[:len(Magic)]) != Magic {
		return nil, formatErr("bad magic %q, want %q (not an rbt packed model)", hdr[:len(Magic)], Magic)
	}
	if v := binary.LittleEndian.Uint16(hdr[8:]); v != FormatVersion {
		return nil, formatErr("format version %d, this reader knows only version %d", v, FormatVersion)
	}
	if f, res := binary.LittleEndian.Uint16(hdr[10:]), binary.LittleEndian.Uint32(hdr[12:]); f != 0 || res != 0 {
		return nil, formatErr("reserved header fields are not zero (flags %#x, reserved %#x)", f, res)
	}
	bodyLen := binary.LittleEndian.Uint64(hdr[16:])
	if bodyLen > MaxFileBytes {
		return nil, formatErr("header announces a %d-byte body, more than the %d-byte limit", bodyLen, uint64(MaxFileBytes))
	}
	// io.ReadAll grows its buffer as bytes arrive: a lying length cannot make
	// us allocate more than the input really holds.
	rest, err := io.ReadAll(io.LimitReader(r, int64(bodyLen)+4))
	if err != nil {
		return nil, fmt.Errorf("packed: reading body: %w", err)
	}
	if uint64(len(rest)) < bodyLen+4 {
		return nil, formatErr("truncated: header announces %d body bytes + 4 checksum bytes, only %d follow", bodyLen, len(rest))
	}
	body := rest[:bodyLen]
	want := binary.LittleEndian.Uint32(rest[bodyLen:])
	if got := crc32.Update(crc32.Checksum(hdr[:], castagnoli), castagnoli, body); got != want {
		return nil, formatErr("checksum mismatch (CRC-32C %08x, file says %08x): the file is corrupted", got, want)
	}
	return decodeBody(body)
}

// decodeBody parses a body whose checksum was verified (the fuzz test also
// calls it directly so that the fuzzer gets past the checksum).
func decodeBody(body []byte) (*Model, error) {
	d := &decoder{b: body}
	m := &Model{}
	m.Task = d.str("task")
	m.Input = InputKind(d.u8("input kind"))
	m.Classes = d.dim("classes", false)
	m.EmbeddingDim = d.dim("embedding dim", true)
	nv := d.count("vocabulary entries", 4)
	if nv > 0 {
		m.Vocab = make([]string, nv)
		for i := range m.Vocab {
			m.Vocab[i] = d.str("vocabulary entry")
		}
	}
	nm := d.count("metadata entries", 8)
	if nm > 0 {
		m.Meta = make(map[string]string, nm)
		prev := ""
		for i := range nm {
			k := d.str("metadata key")
			v := d.str("metadata value")
			if d.err == nil && i > 0 && k <= prev {
				d.fail("metadata keys not strictly increasing (%q after %q)", k, prev)
			}
			prev = k
			m.Meta[k] = v
		}
	}
	rows := d.dim("embedding rows", true)
	m.Embedding = d.f32s("embedding", rows, m.EmbeddingDim)
	nl := d.count("layers", 16)
	if d.err == nil && nl == 0 {
		d.fail("model has no layers")
	}
	if nl > 0 {
		m.Layers = make([]Layer, nl)
	}
	for i := 0; i < nl && d.err == nil; i++ {
		l := &m.Layers[i]
		d.ctx = fmt.Sprintf("layer %d: ", i)
		l.Cell = CellKind(d.u8("cell kind"))
		l.Weights = WeightKind(d.u8("weight kind"))
		code := d.u8("weight code")
		if res := d.u8("reserved byte"); d.err == nil && res != 0 {
			d.fail("reserved byte is %d, want 0", res)
		}
		if d.err == nil && !l.Cell.valid() {
			d.fail("unknown cell kind %d", uint8(l.Cell))
		}
		if c, ok := weightCode(l.Weights); d.err == nil && (!ok || c != code) {
			d.fail("weight kind %d with weight code %d is not defined", uint8(l.Weights), code)
		}
		l.Input = d.dim("input size", false)
		l.Hidden = d.dim("hidden size", false)
		l.Steps = d.dim("statistic blocks", false)
		if d.err != nil {
			break
		}
		g, n, s := l.Cell.Gates(), l.Hidden, l.Steps
		switch l.Weights {
		case Float32:
			l.WxFloat = d.f32s("Wx", l.Input, g*n)
			l.WhFloat = d.f32s("Wh", n, g*n)
		case Binary:
			l.WxSign = d.bits("Wx", l.Input*g*n)
			l.WhSign = d.bits("Wh", n*g*n)
		case Ternary:
			l.WxSign = d.base3("Wx", l.Input*g*n)
			l.WhSign = d.base3("Wh", n*g*n)
		}
		l.ScaleX = d.f32s("ScaleX", s, g*n)
		l.ShiftX = d.f32s("ShiftX", s, g*n)
		l.ScaleH = d.f32s("ScaleH", s, g*n)
		l.ShiftH = d.f32s("ShiftH", s, g*n)
		if l.Cell == LSTM {
			l.ScaleC = d.f32s("ScaleC", s, n)
			l.ShiftC = d.f32s("ShiftC", s, n)
		}
		l.H0 = d.f32s("H0", 1, n)
		if l.Cell == LSTM {
			l.C0 = d.f32s("C0", 1, n)
		}
	}
	d.ctx = ""
	if d.err == nil {
		n := m.Layers[nl-1].Hidden
		m.Output = d.f32s("output weights", n, m.Classes)
		m.OutputBias = d.f32s("output bias", 1, m.Classes)
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.off != len(d.b) {
		return nil, formatErr("%d unexpected bytes after the model body", len(d.b)-d.off)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return m, nil
}

// decoder reads the body with a sticky error: after the first failure every
// read returns zero values.
type decoder struct {
	b   []byte
	off int
	err error
	ctx string // "layer 3: "
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = formatErr("%s%s (body offset %d)", d.ctx, fmt.Sprintf(format, args...), d.off)
	}
}

func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.left() {
		d.fail("truncated body: %s needs %d bytes, %d left", what, n, d.left())
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u8(what string) uint8 {
	p := d.take(1, what)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *decoder) u32(what string) uint32 {
	p := d.take(4, what)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

// dim reads a size in [1, MaxDim] (or 0 when zeroOK).
func (d *decoder) dim(what string, zeroOK bool) int {
	v := d.u32(what)
	if d.err == nil && (v > MaxDim || v == 0 && !zeroOK) {
		d.fail("%s = %d, want %d..%d", what, v, 1-boolInt(zeroOK), MaxDim)
	}
	return int(v)
}

// count reads a number of entries each taking at least minBytes, and rejects
// counts the remaining bytes cannot hold.
func (d *decoder) count(what string, minBytes int) int {
	v := int(d.u32(what))
	if d.err == nil && v > d.left()/minBytes {
		d.fail("%d %s cannot fit in the %d bytes left", v, what, d.left())
	}
	if d.err != nil {
		return 0
	}
	return v
}

func (d *decoder) str(what string) string {
	n := d.u32(what + " length")
	if d.err == nil && int64(n) > int64(d.left()) {
		d.fail("truncated body: %s of %d bytes, %d left", what, n, d.left())
	}
	return string(d.take(int(n), what))
}

// f32s reads rows*cols float32 values (rows, cols <= MaxDim, so no overflow).
func (d *decoder) f32s(what string, rows, cols int) []float32 {
	n := rows * cols
	if d.err != nil || n == 0 {
		return nil
	}
	if n > d.left()/4 {
		d.fail("truncated body: %s needs %d float32 values (%d bytes), %d bytes left", what, n, 4*n, d.left())
		return nil
	}
	p := d.take(4*n, what)
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return out
}

func (d *decoder) bits(what string, n int) []int8 {
	if d.err != nil {
		return nil
	}
	nb := (n + 7) / 8
	if nb > d.left() {
		d.fail("truncated body: %s needs %d bytes for %d binary weights, %d left", what, nb, n, d.left())
		return nil
	}
	p := d.take(nb, what)
	if r := n % 8; r != 0 && p[nb-1]>>r != 0 {
		d.fail("%s: padding bits of the last byte are not zero", what)
		return nil
	}
	out := make([]int8, n)
	for i := range out {
		out[i] = int8(p[i>>3]>>(i&7)&1)*2 - 1
	}
	return out
}

var pow3 = [6]int{1, 3, 9, 27, 81, 243}

func (d *decoder) base3(what string, n int) []int8 {
	if d.err != nil {
		return nil
	}
	nb := (n + 4) / 5
	if nb > d.left() {
		d.fail("truncated body: %s needs %d bytes for %d ternary weights, %d left", what, nb, n, d.left())
		return nil
	}
	p := d.take(nb, what)
	out := make([]int8, n)
	for j, b := range p {
		k := min(5, n-5*j)
		if int(b) >= pow3[k] {
			d.fail("%s: byte %d = %d is not a base-3 code of %d ternary weights", what, j, b, k)
			return nil
		}
		v := int(b)
		for i := range k {
			out[5*j+i] = int8(v%3) - 1
			v /= 3
		}
	}
	return out
}

// WriteFile encodes m into path atomically: it writes a temporary file in the
// same directory, syncs it and renames it over path, so a reader never sees a
// half-written model.
func WriteFile(path string, m *Model) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("packed: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = Encode(f, m); err != nil {
		return fmt.Errorf("packed: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("packed: write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("packed: write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("packed: write %s: %w", path, err)
	}
	return nil
}

// ReadFile reads and validates a packed model file. Errors name the file; a
// file with bytes after the checksum is rejected too.
func ReadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("packed: %w", err)
	}
	defer f.Close()
	m, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("packed model %s: %w", path, err)
	}
	var one [1]byte
	if n, _ := f.Read(one[:]); n > 0 {
		return nil, fmt.Errorf("packed model %s: %w: bytes after the checksum (file longer than the header says)", path, ErrFormat)
	}
	return m, nil
}

package packed

import "github.com/rbt-project/rbt/rbt/signmat"

// Memory is the size accounting of a model's parameters, in bytes.
type Memory struct {
	// Weights counts the entries of every Wx and Wh (G*n*(d+n) per layer):
	// the matrices that binary/ternary quantization shrinks.
	Weights int64
	// Float32Bytes is those weights at 4 bytes each.
	Float32Bytes int64
	// PackedBytes is those weights as the packed engine (KernelLUT) keeps them
	// on this CPU: with AVX2, signmat's layout (1.07 bits per binary weight,
	// 2.13 per ternary weight); otherwise 1 bit per binary weight, 1.6 bits
	// (base 3) per ternary weight; 4 bytes per float32 weight; plus padding.
	PackedBytes int64
	// FileWeightBytes is those weights in the file (1 bit, 1.6 bits, 4 bytes).
	FileWeightBytes int64
	// OtherBytes is every other parameter, kept in float32: folded scales and
	// shifts, initial states, embedding, output layer.
	OtherBytes int64
	// FileBytes is the exact size of the encoded file (EncodedSize).
	FileBytes int64
}

// Memory returns the size accounting of m (which must be valid).
func (m *Model) Memory() Memory {
	var r Memory
	for i := range m.Layers {
		l := &m.Layers[i]
		g, n, d := int64(l.Cell.Gates()), int64(l.Hidden), int64(l.Input)
		w := g * n * (d + n)
		r.Weights += w
		r.Float32Bytes += 4 * w
		r.PackedBytes += lutBytes(l.Weights, d, g*n) + lutBytes(l.Weights, n, g*n)
		r.FileWeightBytes += l.fileWeightBytes()
		for _, a := range l.floats() {
			r.OtherBytes += 4 * int64(len(a))
		}
	}
	r.OtherBytes += 4 * int64(len(m.Embedding)+len(m.Output)+len(m.OutputBias))
	r.FileBytes = EncodedSize(m)
	return r
}

// fileWeightBytes is the size of l's Wx and Wh in the file: 4 bytes per
// float32 weight, 8 binary or 5 ternary (base 3) weights per byte, each
// matrix padded to a whole byte.
func (l *Layer) fileWeightBytes() int64 {
	g, n, d := int64(l.Cell.Gates()), int64(l.Hidden), int64(l.Input)
	switch l.Weights {
	case Float32:
		return 4 * g * n * (d + n)
	case Binary:
		return (g*n*d+7)/8 + (g*n*n+7)/8
	case Ternary:
		return (g*n*d+4)/5 + (g*n*n+4)/5
	}
	return 0
}

// floats lists l's per-unit float32 arrays in file order (ScaleC, ShiftC and
// C0 are nil for a GRU).
func (l *Layer) floats() [][]float32 {
	return [][]float32{l.ScaleX, l.ShiftX, l.ScaleH, l.ShiftH, l.ScaleC, l.ShiftC, l.H0, l.C0}
}

// lutBytes is the resident size of a rows x cols weight matrix of kind w
// under KernelLUT on this CPU.
func lutBytes(w WeightKind, rows, cols int64) int64 {
	switch {
	case w == Float32:
		return 4 * rows * cols
	case signmat.Accelerated:
		return signmat.PackedBytes(int(rows), int(cols), w == Ternary)
	case w == Binary:
		return cols * padGroups(rows, 8)
	default:
		return cols * padGroups(rows, 5)
	}
}

// padGroups is the number of code bytes per column for rows inputs in groups
// of per, padded to a multiple of 4 groups (the engine's layout).
func padGroups(rows, per int64) int64 {
	g := (rows + per - 1) / per
	return (g + 3) / 4 * 4
}

// EncodedSize is the exact number of bytes Encode writes for m (valid m).
func EncodedSize(m *Model) int64 {
	s := int64(headerBytes + 4)
	s += 4 + int64(len(m.Task)) + 1 + 4 + 4 + 4
	for _, v := range m.Vocab {
		s += 4 + int64(len(v))
	}
	s += 4
	for k, v := range m.Meta {
		s += 8 + int64(len(k)+len(v))
	}
	s += 4 + 4*int64(len(m.Embedding)) + 4
	for i := range m.Layers {
		l := &m.Layers[i]
		s += 4 + 12 + l.fileWeightBytes()
		for _, a := range l.floats() {
			s += 4 * int64(len(a))
		}
	}
	return s + 4*int64(len(m.Output)+len(m.OutputBias))
}

package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX is an array in LeCun's idx format with unsigned-byte elements (the
// only element type MNIST uses).
type IDX struct {
	Dims []int  // e.g. [60000 28 28] for images, [60000] for labels
	Data []byte // row-major, len = product of Dims
}

// maxIDXBytes bounds the payload an idx header may announce (MNIST's largest
// file is 47 MB), so a corrupt header cannot ask for an absurd allocation.
const maxIDXBytes = 1 << 30

// ReadIDX reads an idx array from r: magic 0x00 0x00 0x08 ndim, ndim
// big-endian uint32 dimensions, then exactly prod(dims) bytes and nothing
// more. name is used in errors.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, idxErr(name, "header", err)
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, fmt.Errorf("datasets: %s: wrong idx magic number 0x%02x%02x%02x%02x (want 0x0000 then type and rank)",
			name, hdr[0], hdr[1], hdr[2], hdr[3])
	}
	if hdr[2] != 0x08 {
		return nil, fmt.Errorf("datasets: %s: idx element type 0x%02x is not supported (only 0x08, unsigned byte)", name, hdr[2])
	}
	ndim := int(hdr[3])
	if ndim < 1 || ndim > 8 {
		return nil, fmt.Errorf("datasets: %s: idx rank %d out of range 1..8", name, ndim)
	}
	dimBytes := make([]byte, 4*ndim)
	if _, err := io.ReadFull(r, dimBytes); err != nil {
		return nil, idxErr(name, "dimensions", err)
	}
	x := &IDX{Dims: make([]int, ndim)}
	size := int64(1)
	for i := range x.Dims {
		d := int64(binary.BigEndian.Uint32(dimBytes[4*i:]))
		x.Dims[i] = int(d)
		size *= d
		if size > maxIDXBytes {
			return nil, fmt.Errorf("datasets: %s: idx dimensions %v announce more than %d bytes", name, x.Dims[:i+1], maxIDXBytes)
		}
	}
	x.Data = make([]byte, size)
	if n, err := io.ReadFull(r, x.Data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("datasets: %s: wrong idx size: dimensions %v need %d data bytes, file has %d",
				name, x.Dims, size, n)
		}
		return nil, idxErr(name, "data", err)
	}
	var extra [1]byte
	if n, err := io.ReadFull(r, extra[:]); n > 0 {
		return nil, fmt.Errorf("datasets: %s: wrong idx size: bytes after the %d data bytes of dimensions %v", name, size, x.Dims)
	} else if err != io.EOF {
		return nil, idxErr(name, "trailer", err)
	}
	return x, nil
}

// ParseIDX parses an uncompressed idx array held in memory.
func ParseIDX(b []byte, name string) (*IDX, error) { return ReadIDX(bytes.NewReader(b), name) }

func idxErr(name, part string, err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("datasets: %s: idx file ends inside its %s (truncated)", name, part)
	case errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("datasets: %s: corrupt gzip: %w", name, err)
	}
	return fmt.Errorf("datasets: %s: reading idx %s: %w", name, part, err)
}

// ReadIDXFile reads an idx file, gunzipping it when it starts with the gzip
// magic bytes. A truncated or corrupt gzip stream is an error naming the file.
func ReadIDXFile(p string) (*IDX, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 1<<20)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("datasets: %s: bad gzip header: %w", p, err)
		}
		rec := &errRecorder{r: gz}
		x, err := ReadIDX(rec, p)
		switch {
		case err == nil:
			// Reading one byte past the data made gzip check its CRC and length trailer.
			return x, nil
		case errors.Is(rec.err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("datasets: %s: truncated gzip: the compressed stream ends after %d decompressed bytes", p, rec.n)
		case errors.Is(rec.err, gzip.ErrChecksum):
			return nil, fmt.Errorf("datasets: %s: corrupt gzip: checksum mismatch", p)
		case rec.err != nil:
			return nil, fmt.Errorf("datasets: %s: corrupt gzip: %w", p, rec.err)
		}
		return nil, err
	}
	return ReadIDX(br, p)
}

// errRecorder remembers the first error (other than io.EOF) of a reader and
// counts the bytes it gave.
type errRecorder struct {
	r   io.Reader
	n   int64
	err error
}

func (e *errRecorder) Read(b []byte) (int, error) {
	n, err := e.r.Read(b)
	e.n += int64(n)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// MNIST sizes.
const (
	MNISTPixels    = 784 // 28 x 28, fed as 784 time steps of 1 pixel
	MNISTClasses   = 10
	MNISTTrainSize = 50_000 // training images 0..49999
	MNISTValidSize = 10_000 // training images 50000..59999
	MNISTTestSize  = 10_000 // t10k
)

// MNISTSplit is a set of images and labels. Pixels are kept as bytes (0..255);
// Pixels and the batchers scale them to float32 in [0,1] (x/255).
type MNISTSplit struct {
	N      int
	Images []uint8 // N*784, row-major, image i at [i*784, (i+1)*784)
	Labels []uint8 // N, 0..9
}

// Pixels returns image i as 784 float32 in [0,1].
func (s MNISTSplit) Pixels(i int) []float32 {
	out := make([]float32, MNISTPixels)
	for j, v := range s.Images[i*MNISTPixels : (i+1)*MNISTPixels] {
		out[j] = float32(v) / 255
	}
	return out
}

// MNIST holds the three splits of pixel-by-pixel MNIST.
type MNIST struct {
	Train, Valid, Test MNISTSplit
	Files              []string
}

// LoadMNIST loads the four idx .gz files from the data root. Split as in the
// paper's sMNIST/reader.py: train = training images 0..49999, valid =
// 50000..59999, test = the 10,000 t10k images.
func LoadMNIST() (*MNIST, error) {
	return fromRoot(MNISTDir, "train-images-idx3-ubyte.gz", LoadMNISTFrom)
}

// LoadMNISTFrom loads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from
// dir (uncompressed files without .gz are accepted too). Images must be
// N x 28 x 28 and labels N values in 0..9. Train is the first 5/6 of the
// training file (50,000 of 60,000), Valid the rest.
func LoadMNISTFrom(dir string) (*MNIST, error) {
	m := &MNIST{}
	var train, test MNISTSplit
	for _, s := range []struct {
		prefix string
		dst    *MNISTSplit
	}{{"train", &train}, {"t10k", &test}} {
		imgs, ip, err := readMNISTFile(dir, s.prefix+"-images-idx3-ubyte")
		if err != nil {
			return nil, err
		}
		labels, lp, err := readMNISTFile(dir, s.prefix+"-labels-idx1-ubyte")
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, ip, lp)
		if len(imgs.Dims) != 3 || imgs.Dims[1] != 28 || imgs.Dims[2] != 28 {
			return nil, fmt.Errorf("datasets: %s: images have dimensions %v, want N x 28 x 28", ip, imgs.Dims)
		}
		if len(labels.Dims) != 1 || labels.Dims[0] != imgs.Dims[0] {
			return nil, fmt.Errorf("datasets: %s: labels have dimensions %v, want [%d] to match %s", lp, labels.Dims, imgs.Dims[0], ip)
		}
		for i, l := range labels.Data {
			if l >= MNISTClasses {
				return nil, fmt.Errorf("datasets: %s: label %d of example %d is not a digit", lp, l, i)
			}
		}
		*s.dst = MNISTSplit{N: imgs.Dims[0], Images: imgs.Data, Labels: labels.Data}
	}
	nt := train.N * 5 / 6
	m.Train = MNISTSplit{N: nt, Images: train.Images[:nt*MNISTPixels], Labels: train.Labels[:nt]}
	m.Valid = MNISTSplit{N: train.N - nt, Images: train.Images[nt*MNISTPixels:], Labels: train.Labels[nt:]}
	m.Test = test
	return m, nil
}

func readMNISTFile(dir, base string) (*IDX, string, error) {
	p, err := fileIn(dir, MNISTDir, base+".gz")
	if err != nil {
		if alt, aerr := fileIn(dir, MNISTDir, base); aerr == nil {
			p, err = alt, nil
		}
	}
	if err != nil {
		return nil, "", err
	}
	x, err := ReadIDXFile(p)
	return x, p, err
}

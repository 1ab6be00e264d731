package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// idxBytes builds an idx file with unsigned-byte elements.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// smallMNIST writes a 12-image training set and a 3-image test set.
func smallMNIST(t *testing.T) (dir string, trainImgs, trainLabels []byte) {
	trainImgs = make([]byte, 12*784)
	for i := range trainImgs {
		trainImgs[i] = byte(i * 7)
	}
	trainLabels = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}
	dir = writeFiles(t, map[string]string{
		"train-images-idx3-ubyte.gz": string(gz(idxBytes([]int{12, 28, 28}, trainImgs))),
		"train-labels-idx1-ubyte.gz": string(gz(idxBytes([]int{12}, trainLabels))),
		"t10k-images-idx3-ubyte":     string(idxBytes([]int{3, 28, 28}, make([]byte, 3*784))), // uncompressed is fine too
		"t10k-labels-idx1-ubyte.gz":  string(gz(idxBytes([]int{3}, []byte{9, 8, 7}))),
	})
	return
}

func TestMNISTSmall(t *testing.T) {
	dir, imgs, labels := smallMNIST(t)
	m, err := LoadMNISTFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Train.N != 10 || m.Valid.N != 2 || m.Test.N != 3 {
		t.Fatalf("split %d/%d/%d, want 10/2/3 (5/6 of the training file)", m.Train.N, m.Valid.N, m.Test.N)
	}
	if !bytes.Equal(m.Valid.Images, imgs[10*784:]) || !bytes.Equal(m.Valid.Labels, labels[10:]) {
		t.Fatal("valid is not the end of the training file")
	}
	px := m.Train.Pixels(1)
	for j, v := range px {
		if want := float32(imgs[784+j]) / 255; v != want {
			t.Fatalf("pixel %d = %v, want %v", j, v, want)
		}
	}
}

func TestMNISTReal(t *testing.T) {
	dir := realDir(t, MNISTDir, "train-images-idx3-ubyte.gz")
	m, err := LoadMNISTFrom(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Train.N != 50_000 || m.Valid.N != 10_000 || m.Test.N != 10_000 {
		t.Fatalf("split %d/%d/%d", m.Train.N, m.Valid.N, m.Test.N)
	}
	// Label counts from shared/data/mnist/README.md (train file = Train + Valid).
	count := func(ls ...[]uint8) []int {
		c := make([]int, 10)
		for _, l := range ls {
			for _, v := range l {
				c[v]++
			}
		}
		return c
	}
	if got := count(m.Train.Labels, m.Valid.Labels); !slices.Equal(got, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}) {
		t.Errorf("train label counts %v", got)
	}
	if got := count(m.Test.Labels); !slices.Equal(got, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}) {
		t.Errorf("test label counts %v", got)
	}
	if mx := slices.Max(m.Test.Images); mx != 255 {
		t.Errorf("max pixel %d", mx)
	}
}

func TestIDXErrors(t *testing.T) {
	good := idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"wrong magic", append([]byte{0x12, 0x34}, good[2:]...), []string{"wrong idx magic number 0x12340802"}},
		{"float elements", append([]byte{0, 0, 0x0D}, good[3:]...), []string{"element type 0x0d"}},
		{"rank 0", []byte{0, 0, 8, 0}, []string{"rank 0"}},
		{"short data", good[:len(good)-1], []string{"wrong idx size", "need 6 data bytes, file has 5"}},
		{"extra data", append(slices.Clone(good), 7), []string{"wrong idx size", "bytes after"}},
		{"short header", good[:6], []string{"ends inside its dimensions"}},
		{"huge dims", idxBytes([]int{1 << 16, 1 << 16}, nil), []string{"more than"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseIDX(c.data, "x.idx")
			wantErr(t, err, append(c.want, "x.idx")...)
		})
	}
	x, err := ParseIDX(good, "x.idx")
	if err != nil || !slices.Equal(x.Dims, []int{2, 3}) || !bytes.Equal(x.Data, []byte{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("good idx: %v %v", x, err)
	}
}

func TestMNISTFileErrors(t *testing.T) {
	labels := gz(idxBytes([]int{12}, make([]byte, 12)))
	corruptCRC := slices.Clone(labels)
	corruptCRC[len(corruptCRC)-6] ^= 0xff // inside the CRC32 trailer
	cases := []struct {
		name   string
		labels []byte
		want   []string
	}{
		{"truncated gzip", labels[:len(labels)-12], []string{"truncated gzip"}},
		{"corrupt gzip", corruptCRC, []string{"corrupt gzip"}},
		{"wrong magic", gz(append([]byte{1, 2}, idxBytes([]int{12}, make([]byte, 12))[2:]...)), []string{"wrong idx magic"}},
		{"wrong size", gz(idxBytes([]int{12}, make([]byte, 11))), []string{"wrong idx size"}},
		{"label count", gz(idxBytes([]int{11}, make([]byte, 11))), []string{"labels have dimensions [11], want [12]"}},
		{"not a digit", gz(idxBytes([]int{12}, append(make([]byte, 11), 10))), []string{"label 10 of example 11"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, _, _ := smallMNIST(t)
			p := filepath.Join(dir, "train-labels-idx1-ubyte.gz")
			os.WriteFile(p, c.labels, 0o644)
			_, err := LoadMNISTFrom(dir)
			wantErr(t, err, append(c.want, p)...)
		})
	}
	dir, _, _ := smallMNIST(t)
	os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	_, err := LoadMNISTFrom(dir)
	wantErr(t, err, "mnist/t10k-labels-idx1-ubyte.gz", FetchCommand+" mnist", "yann.lecun.com")
}

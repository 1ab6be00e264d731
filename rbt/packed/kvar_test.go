package packed

import (
	"testing"
)

func vA(acc []float32, t0, t1, t2, t3 []float32, b0, b1, b2, b3 []byte) {
	n := len(acc)
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	t0, t1, t2, t3 = t0[:256], t1[:256], t2[:256], t3[:256]
	for j := range acc {
		acc[j] += t0[b0[j]] + t1[b1[j]] + t2[b2[j]] + t3[b3[j]]
	}
}

func vA8(acc []float32, t []float32, b [][]byte) {
	n := len(acc)
	b0, b1, b2, b3 := b[0][:n], b[1][:n], b[2][:n], b[3][:n]
	b4, b5, b6, b7 := b[4][:n], b[5][:n], b[6][:n], b[7][:n]
	t0, t1, t2, t3 := t[0:256], t[256:512], t[512:768], t[768:1024]
	t4, t5, t6, t7 := t[1024:1280], t[1280:1536], t[1536:1792], t[1792:2048]
	for j := range acc {
		acc[j] += ((t0[b0[j]] + t1[b1[j]]) + (t2[b2[j]] + t3[b3[j]])) + ((t4[b4[j]] + t5[b5[j]]) + (t6[b6[j]] + t7[b7[j]]))
	}
}

func vA2(acc []float32, t0, t1, t2, t3 []float32, b0, b1, b2, b3 []byte) {
	n := len(acc)
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	t0, t1, t2, t3 = t0[:256], t1[:256], t2[:256], t3[:256]
	for j := range acc {
		acc[j] += (t0[b0[j]] + t1[b1[j]]) + (t2[b2[j]] + t3[b3[j]])
	}
}

func BenchmarkVariants(b *testing.B) {
	acc := make([]float32, 4000)
	t := make([]float32, 2048)
	planes := make([][]byte, 8)
	for i := range planes {
		planes[i] = make([]byte, 4000)
		for j := range planes[i] {
			planes[i][j] = byte(j * (i + 7))
		}
	}
	b.Run("A", func(b *testing.B) {
		for b.Loop() {
			vA(acc, t[0:256], t[256:512], t[512:768], t[768:1024], planes[0], planes[1], planes[2], planes[3])
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16000, "ns/lookup")
	})
	b.Run("A2", func(b *testing.B) {
		for b.Loop() {
			vA2(acc, t[0:256], t[256:512], t[512:768], t[768:1024], planes[0], planes[1], planes[2], planes[3])
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16000, "ns/lookup")
	})
	b.Run("A8", func(b *testing.B) {
		for b.Loop() {
			vA8(acc, t, planes)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/32000, "ns/lookup")
	})
}

package datasets

import "math/bits"

// The batchers draw their randomness from this small generator rather than
// math/rand, whose streams for helpers like Shuffle are not promised to stay
// the same across Go releases: a batch must be a pure function of (seed,
// epoch, index) forever, so that a resumed run sees exactly the batches it
// would have seen.

// splitMix64 is Steele, Lea & Flood's SplitMix64 (the seeding generator of
// xoshiro): a 64-bit counter passed through a bijective mixer.
type splitMix64 struct{ state uint64 }

func (s *splitMix64) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newStream returns the generator of one (seed, stream...) tuple: each value
// is mixed in, so (seed, epoch) pairs give unrelated streams.
func newStream(seed uint64, stream ...uint64) *splitMix64 {
	s := &splitMix64{state: seed}
	for _, v := range stream {
		s.state = s.next() ^ v
	}
	s.next()
	return s
}

// intn returns a uniform integer in [0, n) (n > 0) by Lemire's nearly
// divisionless multiply-and-reject method: unbiased.
func (s *splitMix64) intn(n int) int {
	un := uint64(n)
	for {
		hi, lo := bits.Mul64(s.next(), un)
		if lo < un {
			thresh := -un % un
			if lo < thresh {
				continue
			}
		}
		return int(hi)
	}
}

// shuffle is Fisher-Yates over p.
func (s *splitMix64) shuffle(p []int32) {
	for i := len(p) - 1; i > 0; i-- {
		j := s.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
}

// permutation returns a shuffled 0..n-1.
func (s *splitMix64) permutation(n int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	s.shuffle(p)
	return p
}

// Permutation returns a fixed random permutation of 0..n-1 for a seed, e.g.
// the pixel order of permuted MNIST: Permutation(784, seed). The same seed
// gives the same permutation on every platform and Go release.
func Permutation(n int, seed uint64) []int {
	p32 := newStream(seed, 0x7065726d /* "perm" */).permutation(n)
	p := make([]int, n)
	for i, v := range p32 {
		p[i] = int(v)
	}
	return p
}

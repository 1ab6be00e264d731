//go:build !unix

package recurrent_test

func cpuSeconds() float64 { return 0 }

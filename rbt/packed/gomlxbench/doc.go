// Package gomlxbench holds only benchmarks: one LSTM step of the same model
// run by GoMLX's own graph execution (graph.MatMul, graph.Sigmoid, ... on
// backend.Must()) and by the packed engine's kernels, in one run, so the
// ratios come from the same machine state:
//
//	GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd go test ./rbt/packed/gomlxbench -run '^$' -bench . -benchtime 2s
//
// It is a separate package so that rbt/packed never imports GoMLX.
package gomlxbench

// Package packed is the deploy form of rbt's recurrent networks: a model
// with binary {-1,+1} or ternary {-1,0,+1} weight matrices and batch
// normalization folded into per-unit scales and shifts (Ardakani et al.,
// "Learning Recurrent Binary/Ternary Weights", ICLR 2019; METHOD.md,
// "Inference / deploy mode"), its file format, and a pure-Go CPU engine
// that runs it without GoMLX.
//
// # Model and file
//
// Model and Layer (model.go) describe the network; Model.Validate checks
// every size and value. Encode/Decode and WriteFile/ReadFile store it in a
// versioned binary format (.rbtm, see format.go): magic, version, 1 bit per
// binary weight, 5 ternary weights per byte (base 3, 1.6 bits each),
// float32 for everything else, CRC-32C. Decode rejects foreign, truncated
// and corrupted files with errors wrapping ErrFormat. Model.Memory and
// EncodedSize account for the bytes.
//
// # Engine
//
// NewEngine packs the weights and multiplies them with lookup tables over
// groups of inputs: every product is additions only. On amd64 with AVX2 it
// uses package signmat (8-entry tables over 3 inputs, eight columns per
// VPERMPS; 1.07 bits per binary weight, 2.13 per ternary weight); elsewhere,
// or with KernelLUTPortable, pure-Go bit planes with tables over 8 (binary)
// or 5 (ternary, base 3) inputs (kernels.go explains the layout). An Engine is
// read-only; each stream of sequences has its own State (h, c per layer and
// the step index T, which picks the per-time-step statistics):
//
//	e, _ := packed.NewEngine(m)
//	s := e.NewState(1)              // batch 1
//	e.StepTokens(s, []int{tok})     // one step (StepDense for features)
//	e.Logits(s, logits)             // output layer, Batch x Classes
//
// NewReferenceEngine computes the same model with float32 weights and plain
// multiply-adds, and Reference64 in float64 straight from the equations;
// the tests hold all three to each other.
//
// # Uses
//
// EvaluateLM / EvaluateBPC (cross-entropy, bits per character, perplexity
// over windows), EvaluateAccuracy (sequence classification), Generate (text
// from a character or word model), RandomModel (seeded models for tests,
// benchmarks and the hardware simulator; BatchNorm statistics on request).
package packed

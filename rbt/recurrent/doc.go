// Package recurrent builds the recurrent layers of "Learning Recurrent
// Binary/Ternary Weights" (Ardakani et al., ICLR 2019) on GoMLX: LSTMs and
// GRUs whose input and recurrent matrices are quantized (package quant) and
// whose products are batch-normalized with separate statistics for every
// time step (../shared/METHOD.md).
//
// # The cell
//
// For every step t (batch-major, n = hidden size, B = batch):
//
//	a~ = h_{t-1} . Q(Wh)                                   (B, 4n)
//	b~ = x_t . Q(Wx)                                       (B, 4n)
//	a  = gamma_h * (a~ - mean_t(a~)) / sqrt(var_t(a~) + eps)
//	b  = gamma_x * (b~ - mean_t(b~)) / sqrt(var_t(b~) + eps) + bias
//	g, f, i, o = tanh, sigm, sigm, sigm of the blocks of a + b
//	c_t = f*c_{t-1} + i*g                                  (un-normalized c is carried)
//	h_t = o * tanh(gamma_c * (c_t - mean_t(c_t)) / sqrt(var_t(c_t) + eps) + beta_c)
//
// mean_t/var_t are over the batch, separately for every step; eps = 1e-5,
// gammas start at 0.1, beta_c at 0, the bias at 0 except the forget block (1).
// (The bias is added on the input side; for the LSTM a + b is the same as
// METHOD.md's bias on a.) The GRU (packed/model.go) uses the same recipe on
// its 3 blocks r, z, n with the bias on the input side:
//
//	r = sigm(b_r + a_r); z = sigm(b_z + a_z); m = tanh(b_n + r*a_n)
//	h_t = (1-z)*m + z*h_{t-1}
//
// Q is drawn once per forward pass (one sample shared by all steps) and has the
// straight-through gradient. The latent weights start U(-W0, W0) with
// W0 = quant.W0(fanIn, G*n) and are named with quant.LatentPrefix (qw_x, qw_h),
// so the optimizer (package optim) can clip their Adam step to [-W0, W0].
// h_0 and c_0 are learned vectors (zero init) unless InitialState gives them;
// note that under BN the learned h_0 gets no gradient (its product is the same
// for the whole batch and is normalized away at the first step), as in the
// authors' code.
//
// # Usage
//
//	h, final := recurrent.New(scope.In("rnn"), tokens, 1000). // tokens: int32 [B, T]
//		OneHot(50).
//		Quantizer(quant.MustLookup("binary")).
//		Normalization(recurrent.PerStepBN).
//		Done() // h: [B, T, n]; final.H[k], final.C[k]: [B, n] per layer
//
// Options: Cell(LSTM|GRU), Quantizer(q), Normalization(PerStepBN|SharedBN|None),
// Layers(k), InitialState(h, c) (given [B, n] nodes per layer, for truncated
// BPTT), InitialStateNoise(std) (N(0, std^2) on h_0 in training), MaxSteps(S)
// (number of stored per-step statistics), Inference(CodeMode|DeployMode),
// DType (for token input). Builder.Weights(k) returns the quantized matrices
// used in the pass.
//
// # Training and the two inference modes
//
// In training (scope.IsTraining) the layer uses the quantizer's sample and the
// batch statistics, and updates non-trainable population statistics
// pop = 0.95*pop + 0.05*batch (METHOD.md), stored per step as [S, width]
// variables (pop_mean_x, pop_var_x, pop_mean_h, ...; S = MaxSteps, default the
// T of the first graph; SharedBN keeps a single row, updated with the average
// over steps). Where METHOD.md is silent, on the start: the first 19 updates
// average the batch statistics (weight min(0.95, n/(n+1)) on the old value
// after n updates, counted in pop_updates) instead of decaying the initial
// 0 / 1, which a deploy-mode user of a short run would otherwise pay for.
// Outside training:
//
//   - CodeMode (default) evaluates as the authors' released code: freshly
//     sampled stochastic weights and the evaluated batch's own statistics.
//   - DeployMode uses the deterministic counterpart of the quantizer
//     (quant.Quantizer.Deploy) and the population statistics of step
//     min(t, S-1), folded into a per-unit scale and shift
//     (ScaleX[s]*acc + ShiftX[s]), so the products are pure accumulations and
//     every sequence of a batch is independent of the others. With the
//     learned h_0, step 0's h-side block is zero: training normalizes the
//     batch-constant h_0 . Q(Wh) to exactly 0, while its population variance
//     (~0) would make the folded scale amplify the running mean's lag.
//
// ExportLayers reads a trained layer stack from the model.Store and returns it
// in the packed deploy form ([]packed.Layer: signs as int8 for binary/ternary
// quantizers, folded per-step scales and shifts, H0/C0); evaluating that form
// gives the deploy-mode graph's hidden states (tested).
//
// # Cost
//
// The GoMLX graph is unrolled over the T steps and grows linearly with T.
// Only the recurrence is done step by step: each step does one [B, n] x
// [n, G*n] recurrent product, its BN, the gate math and the cell BN. The
// input side does not depend on the state and is done for all steps at once
// (one row gather for token input or one [B*T, d] product, its BN as one
// reduction), and so is the gradient of Q(Wh): one [n, T*B] x [T*B, G*n]
// product instead of T small ones (grad.go: custom gradients through
// graph.IdentityWithCustomGradient, the same sums in another order). Where a
// gate block's product is small enough for the Go backend to multiply without
// packing its operands (small batches: the char LM at hidden 256, batch 32),
// the recurrent product is one product per gate block, forward and backward
// (grad.go, smallProduct). Every batch normalization has the closed-form
// backward pass instead of the autodiff of its forward graph. Gate blocks and
// per-step inputs are cut out by row-chunk gathers, whose gradient is one
// Concatenate. See bench_test.go and `make bench-peer` for measured step
// times.
package recurrent

// Package hwsim simulates accelerators for recurrent networks with binary
// {-1,+1}, ternary {-1,0,+1} or fixed-point weights, and runs trained packed
// models (rbt/packed) on them bit-exactly. It reproduces, from first
// principles, the hardware claim of Ardakani et al., "Learning Recurrent
// Binary/Ternary Weights" (ICLR 2019): "up to 12x memory saving and 10x
// inference speedup compared to the full-precision design".
//
// # Architecture (Config)
//
// A design (Config, loaded from JSON or YAML and validated) is:
//
//   - a processing array of Units processing units (PUs) with Lanes lanes
//     each. Output-stationary: each cycle every PU takes Lanes consecutive
//     inputs of one output row, the inputs being broadcast from the
//     activation buffer to all PUs; an adder tree and an accumulator of
//     AccBits sum them. A lane is a multiplier plus an adder for a fixed-point
//     design (12 or 16 bits), an adder/subtractor for a binary design, and an
//     adder/subtractor that skips zero weights (no energy, same cycle) for a
//     ternary one;
//   - a weight SRAM (banks x width x size); weights that do not fit are
//     streamed from DRAM at every step (batch-1 inference reuses nothing);
//   - an element-wise unit of Elementwise.Lanes lanes that folds batch
//     normalization (one multiply per output: ScaleX*acc + ShiftX), computes
//     sigmoid/tanh with a lookup table or piecewise-linear unit, the cell
//     update and h_t;
//   - a technology table (Technology; Horowitz, ISSCC 2014, 45 nm, each number
//     cited on its field) with explicit node-scaling factors.
//
// # Cycle model (Config.Schedule)
//
// One time step of a layer with G gate blocks (4 for LSTM, 3 for GRU), input
// d and hidden n, M = G*n outputs:
//
//	phase(K) = max(ceil(M/P)*ceil(K/L) + fill, SRAM cycles, DRAM cycles)
//	fill     = ceil(log2 L) + 1
//	tail     = ceil(M/V) + ceil(n/V) + pipeline depth
//	step     = phase(d) + phase(n) + tail     (summed over layers)
//
// The recurrent product needs all of h_{t-1}, so it cannot start before the
// previous step's tail ends: this is the sequential dependency. The input
// product of the first layer does not depend on h and can overlap the tail
// (Config.OverlapInput), leaving max(0, phase(d) - tail) per step and a
// once-per-sequence prologue. Every action (multiplies, adds, skipped zeros,
// element-wise operations, table reads, SRAM/DRAM/activation bits) is
// counted per step and priced by the technology table (Config.EnergyOf); the
// unit inventory gives the area (Config.AreaOf). testdata/golden holds small
// cases derived by hand, number by number.
//
// # Functional simulation (Sim)
//
// NewSim compiles a packed.Model for a design's datapath: activations are
// ActBits-bit fixed point in [-1, 1), accumulators are exact integer sums
// saturated to AccBits, the batch-norm fold uses block-floating-point scales
// of ParamBits, sigmoid/tanh are the design's table. State.StepToken runs one
// step exactly as the hardware would, and Sim.EvalTokens gives the bits per
// character the accelerator would achieve, next to the float64 Reference.
// The tests hold it to rbt/packed's Reference64, engine and file format.
//
// # Reports
//
// Simulate returns a Report (cycles/step, latency, steps/s, GOPS, weight
// memory, energy per step and per character, power, area split, GOPS/W,
// GOPS/mm^2); CompareEqualArea and CompareEqualThroughput size designs
// against a baseline; Ratios explains the 12x / 10x claims under stated
// assumptions; SweepUnits, SweepActBits and SweepHidden give the sweeps;
// RunStudy gathers all of it and hwplot.Run adds the figures. WriteCSV writes
// any of these tables.
//
// # What is not modelled
//
// Registers, control, interconnect and leakage (no Horowitz figure); the
// output (softmax) layer, which stays full precision on the host; clock
// differences between multiplier and adder datapaths (one clock per design);
// a one-hot input is a dense d-long product unless OneHotGather.
package hwsim

package quant

import (
	"strings"

	"github.com/rbt-project/rbt/rbt/packed"
)

// LatentPrefix starts the name of every latent (full-precision, trained)
// weight variable that is quantized in the forward pass. The optimizer uses it
// to find the matrices whose Adam step is clipped to [-W0, W0] in binary runs.
const LatentPrefix = "qw_"

// IsLatent reports whether a variable name denotes a quantized latent weight.
func IsLatent(name string) bool { return strings.HasPrefix(name, LatentPrefix) }

// W0 is the quantization scale of a fanIn x fanOut matrix, as in the authors'
// code: half the Glorot-uniform bound, sqrt(6/(fanIn+fanOut))/2 (packed.W0,
// the one formula shared with the GoMLX-free engine and simulator).
func W0(fanIn, fanOut int) float64 { return packed.W0(fanIn, fanOut) }

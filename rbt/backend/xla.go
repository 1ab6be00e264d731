//go:build xla

package backend

// With `-tags xla` GoMLX's XLA backend is linked in, so GOMLX_BACKEND=xla:cuda works.
// It is opt-in because the XLA plugin is downloaded at first use (autoinstall), which fails offline.
import _ "github.com/gomlx/gomlx/backends/default"

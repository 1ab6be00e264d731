package recurrent

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/quant"
)

// Config is the configuration a Builder records in its scope (parameter
// ParamConfig, saved in checkpoints), read back by ExportLayers.
type Config struct {
	Cell          Cell
	Quantizer     string
	Normalization Normalization
	Layers        int
	Hidden        int
}

// ReadConfig returns the configuration recorded by the Builder at scopePath.
func ReadConfig(store *model.Store, scopePath string) (Config, error) {
	var c Config
	v, ok := store.GetParam(model.JoinPath(scopePath, ParamConfig))
	if !ok {
		return c, fmt.Errorf("recurrent: no %q parameter under %q: was a recurrent layer built there?", ParamConfig, scopePath)
	}
	s, ok := v.(string)
	if !ok {
		return c, fmt.Errorf("recurrent: parameter %s/%s is %T, want string", scopePath, ParamConfig, v)
	}
	for _, kv := range strings.Split(s, ";") {
		k, val, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "cell":
			c.Cell, err = ParseCell(val)
		case "quantizer":
			c.Quantizer = val
			_, err = quant.Lookup(val)
		case "normalization":
			c.Normalization, err = ParseNormalization(val)
		case "layers":
			c.Layers, err = strconv.Atoi(val)
		case "hidden":
			c.Hidden, err = strconv.Atoi(val)
		}
		if err != nil {
			return c, fmt.Errorf("recurrent: parameter %s/%s = %q: %w", scopePath, ParamConfig, s, err)
		}
	}
	if c.Layers < 1 || c.Hidden < 1 || c.Quantizer == "" {
		return c, fmt.Errorf("recurrent: parameter %s/%s = %q is incomplete", scopePath, ParamConfig, s)
	}
	return c, nil
}

// variableValue returns the value of the variable at path.
func variableValue(store *model.Store, path string) (*tensors.Tensor, error) {
	v := store.GetVariable(path)
	if v == nil {
		return nil, fmt.Errorf("recurrent: export: variable %s not found", path)
	}
	t, err := v.Value()
	if err != nil {
		return nil, fmt.Errorf("recurrent: export: variable %s: %w", path, err)
	}
	return t, nil
}

// hostValues returns a variable's value as float64 and its dimensions.
func hostValues(store *model.Store, path string) ([]float64, []int, error) {
	t, err := variableValue(store, path)
	if err != nil {
		return nil, nil, err
	}
	return tensorFloat64(t), t.Shape().Dimensions, nil
}

func tensorFloat64(t *tensors.Tensor) []float64 {
	switch t.DType() {
	case dtypes.Float64:
		return tensors.MustCopyFlatData[float64](t)
	case dtypes.Float32:
		f := tensors.MustCopyFlatData[float32](t)
		out := make([]float64, len(f))
		for i, x := range f {
			out[i] = float64(x)
		}
		return out
	}
	panic(fmt.Sprintf("recurrent: export: unsupported dtype %s", t.DType()))
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// quantizeHost evaluates the deterministic quantizer q on a latent matrix
// variable (with the graph function itself, so export and deploy graph agree).
func quantizeHost(b compute.Backend, store *model.Store, path string, q quant.Quantizer, w0 float64) ([]float64, error) {
	t, err := variableValue(store, path)
	if err != nil {
		return nil, err
	}
	out, err := CallOnceN(b, func(w *Node) *Node { return q.Apply(w, nil, w0) }, t)
	if err != nil {
		return nil, fmt.Errorf("recurrent: export: quantizing %s: %w", path, err)
	}
	return tensorFloat64(out[0]), nil
}

// codes splits a binary/ternary quantized matrix into {-1,0,+1} codes and one
// scale (the nonzero magnitude).
func codes(q []float64, kind packed.WeightKind, path string) ([]int8, float64, error) {
	var scale float64
	for _, v := range q {
		scale = math.Max(scale, math.Abs(v))
	}
	c := make([]int8, len(q))
	if scale == 0 {
		if kind == packed.Binary {
			return nil, 0, fmt.Errorf("recurrent: export: %s: binary matrix is all zeros", path)
		}
		return c, 1, nil
	}
	for i, v := range q {
		r := v / scale
		switch {
		case math.Abs(r-1) < 1e-5:
			c[i] = 1
		case math.Abs(r+1) < 1e-5:
			c[i] = -1
		case math.Abs(r) < 1e-5 && kind == packed.Ternary:
			c[i] = 0
		default:
			return nil, 0, fmt.Errorf("recurrent: export: %s: value %g is not in {-s, %s+s} with s = %g",
				path, v, map[bool]string{true: "0, ", false: ""}[kind == packed.Ternary], scale)
		}
	}
	return c, scale, nil
}

// ExportLayers reads the trained variables of the recurrent layers built
// under scopePath (e.g. "/rnn") and returns them in deploy form
// (packed/model.go): deterministic weights (quant.Quantizer.Deploy) as signs
// for binary/ternary quantizers (float32 otherwise), and batch normalization
// folded, for every stored step s, into
//
//	ScaleX[s] = sx * gamma_x/sqrt(var_x[s]+eps)   ShiftX[s] = bias - mean_x[s]*gamma_x/sqrt(var_x[s]+eps)
//	ScaleH[s] = sh * gamma_h/sqrt(var_h[s]+eps)   ShiftH[s] = -mean_h[s]*gamma_h/sqrt(var_h[s]+eps)
//	ScaleC[s] = gamma_c/sqrt(var_c[s]+eps)        ShiftC[s] = beta_c - mean_c[s]*ScaleC[s]
//
// where sx, sh are the weight scales (W0 for binary/ternary, 1 for float),
// so that pre-activations equal the deploy-mode graph's; a layer with the
// learned h_0 has ScaleH[0] = ShiftH[0] = 0 (its batch-constant first
// recurrent product is normalized to exactly 0 in training; a single shared
// block is then stored twice, Steps = 2). Without
// normalization Steps = 1, ScaleX = sx, ShiftX = bias, ScaleH = sh, ShiftH = 0,
// ScaleC = 1, ShiftC = 0. A layer without learned h0/c0 (given initial state)
// exports zeros. The backend evaluates the quantizer.
func ExportLayers(b compute.Backend, store *model.Store, scopePath string) ([]packed.Layer, error) {
	cfg, err := ReadConfig(store, scopePath)
	if err != nil {
		return nil, err
	}
	q := quant.MustLookup(cfg.Quantizer).Deterministic()
	G, n := cfg.Cell.Gates(), cfg.Hidden
	W := G * n
	out := make([]packed.Layer, cfg.Layers)
	for k := range cfg.Layers {
		p := func(name string) string { return model.JoinPath(scopePath, fmt.Sprintf("layer_%d", k), name) }
		wx, err := variableValue(store, p(VarWx))
		if err != nil {
			return nil, err
		}
		dims := wx.Shape().Dimensions
		if len(dims) != 2 || dims[1] != W {
			return nil, fmt.Errorf("recurrent: export: %s has shape %v, want [d, %d]", p(VarWx), dims, W)
		}
		d := dims[0]
		w0x, w0h := quant.W0(d, W), quant.W0(n, W)
		qx, err := quantizeHost(b, store, p(VarWx), q, w0x)
		if err != nil {
			return nil, err
		}
		qh, err := quantizeHost(b, store, p(VarWh), q, w0h)
		if err != nil {
			return nil, err
		}
		if len(qh) != n*W {
			return nil, fmt.Errorf("recurrent: export: %s has %d values, want %d x %d", p(VarWh), len(qh), n, W)
		}
		l := packed.Layer{Cell: cfg.Cell, Weights: q.Kind, Input: d, Hidden: n}
		sx, sh := 1.0, 1.0
		if q.Kind == packed.Float32 {
			l.WxFloat, l.WhFloat = f32(qx), f32(qh)
		} else {
			if l.WxSign, sx, err = codes(qx, q.Kind, p(VarWx)); err != nil {
				return nil, err
			}
			if l.WhSign, sh, err = codes(qh, q.Kind, p(VarWh)); err != nil {
				return nil, err
			}
		}
		bias, _, err := hostValues(store, p(VarBias))
		if err != nil {
			return nil, err
		}
		lstm := cfg.Cell == LSTM
		if cfg.Normalization == None {
			l.Steps = 1
			l.ScaleX, l.ShiftX = f32(fill(W, sx)), f32(bias)
			l.ScaleH, l.ShiftH = f32(fill(W, sh)), make([]float32, W)
			if lstm {
				l.ScaleC, l.ShiftC = f32(fill(n, 1)), make([]float32, n)
			}
		} else {
			get := func(name string) []float64 {
				if err != nil {
					return nil
				}
				var v []float64
				v, _, err = hostValues(store, p(name))
				return v
			}
			gx, gh, mx, vx, mh, vh := get(VarGammaX), get(VarGammaH), get(VarMeanX), get(VarVarX), get(VarMeanH), get(VarVarH)
			var gc, bc, mc, vc []float64
			if lstm {
				gc, bc, mc, vc = get(VarGammaC), get(VarBetaC), get(VarMeanC), get(VarVarC)
			}
			if err != nil {
				return nil, err
			}
			S := len(mx) / W
			if S < 1 || len(mx) != S*W || len(vx) != S*W || len(mh) != S*W || len(vh) != S*W || (lstm && (len(mc) != S*n || len(vc) != S*n)) {
				return nil, fmt.Errorf("recurrent: export: layer %d: population statistics of inconsistent sizes", k)
			}
			l.Steps = S
			l.ScaleX, l.ShiftX = make([]float32, S*W), make([]float32, S*W)
			l.ScaleH, l.ShiftH = make([]float32, S*W), make([]float32, S*W)
			for s := range S {
				for j := range W {
					i := s*W + j
					ax := gx[j] / math.Sqrt(vx[i]+Epsilon)
					ah := gh[j] / math.Sqrt(vh[i]+Epsilon)
					l.ScaleX[i], l.ShiftX[i] = float32(sx*ax), float32(bias[j]-mx[i]*ax)
					l.ScaleH[i], l.ShiftH[i] = float32(sh*ah), float32(-mh[i]*ah)
				}
			}
			if lstm {
				l.ScaleC, l.ShiftC = make([]float32, S*n), make([]float32, S*n)
				for s := range S {
					for j := range n {
						i := s*n + j
						ac := gc[j] / math.Sqrt(vc[i]+Epsilon)
						l.ScaleC[i], l.ShiftC[i] = float32(ac), float32(bc[j]-mc[i]*ac)
					}
				}
			}
		}
		learnedH0 := store.GetVariable(p(VarH0)) != nil
		if learnedH0 && cfg.Normalization != None {
			zeroHStepZero(&l, W, n, lstm)
		}
		l.H0 = make([]float32, n)
		if learnedH0 {
			h0, _, err := hostValues(store, p(VarH0))
			if err != nil {
				return nil, err
			}
			l.H0 = f32(h0)
		}
		if lstm {
			l.C0 = make([]float32, n)
			if store.GetVariable(p(VarC0)) != nil {
				c0, _, err := hostValues(store, p(VarC0))
				if err != nil {
					return nil, err
				}
				l.C0 = f32(c0)
			}
		}
		out[k] = l
	}
	return out, nil
}

// zeroHStepZero sets step 0's h-side block (ScaleH, ShiftH) of a layer with
// the learned initial state to zero, as the deploy graph does (zeroStepZero
// in layer.go): BN makes the batch-constant h_0 . Q(Wh) exactly 0. A single
// shared block (Steps = 1) is first duplicated, so steps t >= 1 keep it.
func zeroHStepZero(l *packed.Layer, W, n int, lstm bool) {
	if l.Steps == 1 {
		dup := func(v []float32) []float32 { return append(append([]float32(nil), v...), v...) }
		l.Steps = 2
		l.ScaleX, l.ShiftX, l.ScaleH, l.ShiftH = dup(l.ScaleX), dup(l.ShiftX), dup(l.ScaleH), dup(l.ShiftH)
		if lstm {
			l.ScaleC, l.ShiftC = dup(l.ScaleC), dup(l.ShiftC)
		}
	}
	clear(l.ScaleH[:W])
	clear(l.ShiftH[:W])
}

func fill(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

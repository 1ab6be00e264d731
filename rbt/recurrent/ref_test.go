package recurrent

import (
	"math"
)

// This file is a plain float64 reference of METHOD.md's cell (and the GRU of
// packed/model.go), written independently of GoMLX, used by the tests.

// refNet holds one layer's parameters and inputs, row-major float64.
type refNet struct {
	cell       Cell
	norm       Normalization
	deploy     bool // population statistics instead of batch statistics
	B, T, d, n int
	tokens     []int     // B*T, or nil for dense input
	x          []float64 // B*T*d dense input
	qx, qh     []float64 // quantized weights used: d x G*n, n x G*n
	bias       []float64 // G*n
	gx, gh     []float64 // G*n
	gc, bc     []float64 // n (LSTM)
	h0, c0     []float64 // n (learned, broadcast over the batch)
	S          int       // population-statistics steps
	mx, vx     []float64 // S*G*n
	mh, vh     []float64 // S*G*n
	mc, vc     []float64 // S*n
}

func (p *refNet) G() int { return p.cell.Gates() }

// bnRows normalizes each column of v (rows = batch) with batch statistics, or
// with population statistics pm/pv (a row of width cols) when deploy.
func (p *refNet) bnRows(v []float64, rows, cols int, gamma, beta, pm, pv []float64, deploy bool) []float64 {
	out := make([]float64, len(v))
	for j := range cols {
		var mean, variance float64
		if deploy {
			mean, variance = pm[j], pv[j]
		} else {
			for b := range rows {
				mean += v[b*cols+j]
			}
			mean /= float64(rows)
			for b := range rows {
				dv := v[b*cols+j] - mean
				variance += dv * dv
			}
			variance /= float64(rows)
		}
		inv := 1 / math.Sqrt(variance+Epsilon)
		for b := range rows {
			y := gamma[j] * (v[b*cols+j] - mean) * inv
			if beta != nil {
				y += beta[j]
			}
			out[b*cols+j] = y
		}
	}
	return out
}

func sigm(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// forward returns the hidden states hs[t] (B*n each) and the last c.
func (p *refNet) forward() (hs [][]float64, cLast []float64) {
	B, T, d, n, G := p.B, p.T, p.d, p.n, p.G()
	W := G * n
	useBN := p.norm != None
	h := make([]float64, B*n)
	c := make([]float64, B*n)
	for b := range B {
		copy(h[b*n:], p.h0)
		if p.cell == LSTM {
			copy(c[b*n:], p.c0)
		}
	}
	for t := range T {
		s := min(t, p.S-1)
		// input product
		bx := make([]float64, B*W)
		for b := range B {
			for j := range W {
				var acc float64
				if p.tokens != nil {
					acc = p.qx[p.tokens[b*T+t]*W+j]
				} else {
					for k := range d {
						acc += p.x[(b*T+t)*d+k] * p.qx[k*W+j]
					}
				}
				bx[b*W+j] = acc
			}
		}
		ah := make([]float64, B*W)
		for b := range B {
			for j := range W {
				var acc float64
				for k := range n {
					acc += h[b*n+k] * p.qh[k*W+j]
				}
				ah[b*W+j] = acc
			}
		}
		if useBN {
			var pmx, pvx, pmh, pvh []float64
			if p.deploy {
				pmx, pvx = p.mx[s*W:(s+1)*W], p.vx[s*W:(s+1)*W]
				pmh, pvh = p.mh[s*W:(s+1)*W], p.vh[s*W:(s+1)*W]
			}
			bx = p.bnRows(bx, B, W, p.gx, nil, pmx, pvx, p.deploy)
			if p.deploy && t == 0 {
				// h_0 is the same for the whole batch: with batch statistics its
				// product normalizes to exactly 0, and deploy mode keeps that.
				ah = make([]float64, B*W)
			} else {
				ah = p.bnRows(ah, B, W, p.gh, nil, pmh, pvh, p.deploy)
			}
		}
		for i := range bx {
			bx[i] += p.bias[i%W]
		}
		hNew := make([]float64, B*n)
		if p.cell == LSTM {
			cNew := make([]float64, B*n)
			for b := range B {
				for j := range n {
					z := func(blk int) float64 { return ah[b*W+blk*n+j] + bx[b*W+blk*n+j] }
					g, f, i := math.Tanh(z(0)), sigm(z(1)), sigm(z(2))
					cNew[b*n+j] = f*c[b*n+j] + i*g
				}
			}
			cn := cNew
			if useBN {
				var pm, pv []float64
				if p.deploy {
					pm, pv = p.mc[s*n:(s+1)*n], p.vc[s*n:(s+1)*n]
				}
				cn = p.bnRows(cNew, B, n, p.gc, p.bc, pm, pv, p.deploy)
			}
			for b := range B {
				for j := range n {
					o := sigm(ah[b*W+3*n+j] + bx[b*W+3*n+j])
					hNew[b*n+j] = o * math.Tanh(cn[b*n+j])
				}
			}
			c = cNew
		} else {
			for b := range B {
				for j := range n {
					r := sigm(bx[b*W+j] + ah[b*W+j])
					z := sigm(bx[b*W+n+j] + ah[b*W+n+j])
					m := math.Tanh(bx[b*W+2*n+j] + r*ah[b*W+2*n+j])
					hNew[b*n+j] = (1-z)*m + z*h[b*n+j]
				}
			}
		}
		h = hNew
		hs = append(hs, h)
	}
	return hs, c
}

// loss is sum_t sum(hs[t] * R[b,t,:]) + sum(cLast * R3), R laid out [B, T, n].
func (p *refNet) loss(r, r3 []float64) float64 {
	hs, c := p.forward()
	var l float64
	for t, h := range hs {
		for b := range p.B {
			for j := range p.n {
				l += h[b*p.n+j] * r[(b*p.T+t)*p.n+j]
			}
		}
	}
	if p.cell == LSTM {
		for i, v := range c {
			l += v * r3[i]
		}
	}
	return l
}

// fdGrad is the finite-difference gradient of loss with respect to each
// element of param: central differences with steps h and h/2 combined by
// Richardson extrapolation (error O(h^4)). The small step matters: a batch
// column of identical values (var = 0) makes BN's gain 1/sqrt(eps) = 316, and
// the loss then curves on a scale of 1e-5.
func (p *refNet) fdGrad(param []float64, r, r3 []float64) []float64 {
	const h = 2e-7
	g := make([]float64, len(param))
	central := func(i int, h float64) float64 {
		old := param[i]
		param[i] = old + h
		lp := p.loss(r, r3)
		param[i] = old - h
		lm := p.loss(r, r3)
		param[i] = old
		return (lp - lm) / (2 * h)
	}
	for i := range param {
		d1, d2 := central(i, h), central(i, h/2)
		g[i] = (4*d2 - d1) / 3
	}
	return g
}

// Deterministic quantizers in float64 (reference for quant's graph functions).
func refQuant(name string, w []float64, w0 float64) []float64 {
	out := make([]float64, len(w))
	switch name {
	case "fp":
		copy(out, w)
	case "binary-det", "bc":
		s := w0
		if name == "bc" {
			s = 1
		}
		for i, v := range w {
			if v >= 0 {
				out[i] = s
			} else {
				out[i] = -s
			}
		}
	case "ternary-det", "tc-det":
		s := w0
		if name == "tc-det" {
			s = 1
		}
		for i, v := range w {
			switch {
			case v > w0/3:
				out[i] = s
			case v > -w0/3:
				out[i] = 0
			default:
				out[i] = -s
			}
		}
	case "twn":
		var mean float64
		for _, v := range w {
			mean += math.Abs(v)
		}
		delta := 0.7 * mean / float64(len(w))
		var sum, cnt float64
		for _, v := range w {
			if math.Abs(v) > delta {
				sum += math.Abs(v)
				cnt++
			}
		}
		alpha := sum / math.Max(cnt, 1)
		for i, v := range w {
			if math.Abs(v) > delta {
				out[i] = alpha * math.Copysign(1, v)
			}
		}
	case "k2", "k3", "k4":
		k := int(name[1] - '0')
		levels := float64(int(1)<<k - 1)
		var alpha float64
		for _, v := range w {
			alpha = math.Max(alpha, math.Abs(v))
		}
		for i, v := range w {
			x := math.Max(0, math.Min(1, v/alpha/2+0.5))
			out[i] = alpha * (2*math.Round(x*levels)/levels - 1)
		}
	default:
		panic("refQuant: no reference for " + name)
	}
	return out
}

// checkSample verifies that a stochastic quantizer's sample q of w is a valid
// outcome: values in the quantizer's set, and forced values where the
// probability is 0 or 1. It returns a description of the first violation.
func checkSample(name string, w, q []float64, w0 float64) string {
	const tol = 1e-6
	eq := func(a, b float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }
	for i, v := range w {
		switch name {
		case "binary":
			if !eq(q[i], w0) && !eq(q[i], -w0) {
				return "binary value not +-W0"
			}
			if (v >= w0 && !eq(q[i], w0)) || (v <= -w0 && !eq(q[i], -w0)) {
				return "binary value not forced for |W| >= W0"
			}
		case "ternary", "tc":
			s := w0
			if name == "tc" {
				s = 1
			}
			if !eq(q[i], 0) && !eq(q[i], s*math.Copysign(1, v)) {
				return "ternary value not 0 or sign(W)*scale"
			}
			if math.Abs(v) >= w0 && eq(q[i], 0) {
				return "ternary value zero where |W| >= W0"
			}
		}
	}
	return ""
}

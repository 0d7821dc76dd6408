package sampler

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// findModeGrad maximises log p(ψ | y) with L-BFGS on the exact gradient
// (logTargetGrad) and returns the mode and the inverse of the negative
// Hessian there, the Hessian by central differences of the gradient
// (2·dim gradient evaluations, against the 2·dim² target evaluations and
// thousands of Nelder–Mead steps of findMode). When L-BFGS does not reach
// a finite point it falls back to findMode. It is deterministic.
func findModeGrad(st *setup, k gradKernel) ([]float64, []float64, error) {
	ev := newEvaluator(st.spec, st.lay, st.fixed)
	d := st.lay.dim
	x0 := startPsi(st)
	fg := func(x, g []float64) float64 {
		v := ev.logTargetGrad(x, k, g)
		if math.IsInf(v, -1) || math.IsNaN(v) {
			return math.Inf(1)
		}
		for i := range g {
			g[i] = -g[i]
		}
		return -v
	}
	x, fx := lbfgs(fg, x0, 2000)
	if math.IsInf(fx, 0) || math.IsNaN(fx) {
		return findMode(st, k)
	}
	mode := slices.Clone(x)
	// Hessian of −log p by central differences of the gradient.
	const h = 1e-4
	hm := mat.NewSymDense(d, nil)
	gp, gm := make([]float64, d), make([]float64, d)
	xp := slices.Clone(mode)
	cols := make([][]float64, d)
	for j := range d {
		xp[j] = mode[j] + h
		ev.logTargetGrad(xp, k, gp)
		xp[j] = mode[j] - h
		ev.logTargetGrad(xp, k, gm)
		xp[j] = mode[j]
		cols[j] = make([]float64, d)
		for i := range d {
			cols[j][i] = -(gp[i] - gm[i]) / (2 * h)
		}
	}
	for i := range d {
		for j := 0; j <= i; j++ {
			hm.SetSym(i, j, 0.5*(cols[j][i]+cols[i][j]))
		}
	}
	return mode, invertSPD(hm), nil
}

// invertSPD returns the inverse of the symmetric positive definite h as a
// row-major d × d slice, or a diagonal 0.1² fallback when h is not
// positive definite or its inverse is not finite.
func invertSPD(hm *mat.SymDense) []float64 {
	d := hm.SymmetricDim()
	out := make([]float64, d*d)
	var ch mat.Cholesky
	if ch.Factorize(hm) {
		var inv mat.SymDense
		if err := ch.InverseTo(&inv); err == nil {
			finite := true
			for i := range d {
				for j := range d {
					v := inv.At(i, j)
					out[i*d+j] = v
					if math.IsNaN(v) || math.IsInf(v, 0) {
						finite = false
					}
				}
			}
			if finite {
				return out
			}
		}
	}
	clear(out)
	for i := range d {
		out[i*d+i] = 0.01
	}
	return out
}

// lbfgs minimises f (value and gradient in one call; +Inf outside the
// domain) from x0 by limited-memory BFGS (memory 10, Nocedal & Wright
// 2006, Algorithm 7.4) with a backtracking Armijo line search, stopping
// when the gradient's largest entry is below 1e-6, the value changes by
// less than 1e-11 (relative) over 20 iterations, or after maxIter
// iterations. It returns the best point and its value.
func lbfgs(f func(x, g []float64) float64, x0 []float64, maxIter int) ([]float64, float64) {
	const mem = 10
	d := len(x0)
	x := slices.Clone(x0)
	g := make([]float64, d)
	fx := f(x, g)
	if math.IsInf(fx, 0) || math.IsNaN(fx) {
		return x, fx
	}
	var s, y [][]float64
	var rho []float64
	dir := make([]float64, d)
	xn, gn := make([]float64, d), make([]float64, d)
	alpha := make([]float64, mem)
	fOld, stall := fx, 0
	for it := 0; it < maxIter; it++ {
		gmax := 0.0
		for _, v := range g {
			gmax = math.Max(gmax, math.Abs(v))
		}
		if gmax < 1e-6 {
			break
		}
		// Two-loop recursion: dir = −H g.
		copy(dir, g)
		for i := len(s) - 1; i >= 0; i-- {
			alpha[i] = rho[i] * dot(s[i], dir)
			for j := range dir {
				dir[j] -= alpha[i] * y[i][j]
			}
		}
		gamma := 1.0
		if n := len(s); n > 0 {
			gamma = dot(s[n-1], y[n-1]) / dot(y[n-1], y[n-1])
		} else {
			gamma = 1 / math.Max(1, math.Sqrt(dot(g, g)))
		}
		for j := range dir {
			dir[j] *= gamma
		}
		for i := range s {
			b := rho[i] * dot(y[i], dir)
			for j := range dir {
				dir[j] += s[i][j] * (alpha[i] - b)
			}
		}
		for j := range dir {
			dir[j] = -dir[j]
		}
		slope := dot(g, dir)
		if !(slope < 0) {
			// Not a descent direction: restart from steepest descent.
			s, y, rho = s[:0], y[:0], rho[:0]
			for j := range dir {
				dir[j] = -g[j]
			}
			slope = -dot(g, g)
		}
		step, fn := 1.0, math.Inf(1)
		for range 60 {
			for j := range xn {
				xn[j] = x[j] + step*dir[j]
			}
			fn = f(xn, gn)
			if fn <= fx+1e-4*step*slope {
				break
			}
			step /= 2
		}
		if !(fn <= fx+1e-4*step*slope) {
			break
		}
		si, yi := make([]float64, d), make([]float64, d)
		for j := range d {
			si[j] = xn[j] - x[j]
			yi[j] = gn[j] - g[j]
		}
		if sy := dot(si, yi); sy > 1e-12*math.Sqrt(dot(si, si)*dot(yi, yi)) {
			if len(s) == mem {
				s, y, rho = s[1:], y[1:], rho[1:]
			}
			s, y, rho = append(s, si), append(y, yi), append(rho, 1/sy)
		}
		copy(x, xn)
		copy(g, gn)
		fx = fn
		if math.Abs(fOld-fx) <= 1e-11*math.Max(1, math.Abs(fx)) {
			if stall++; stall >= 20 {
				break
			}
		} else {
			fOld, stall = fx, 0
		}
	}
	return x, fx
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

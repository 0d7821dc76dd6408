package model

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// boundedOpt is the result of a bounded minimisation.
type boundedOpt struct {
	x     []float64
	f     float64
	evals int
	conv  bool
}

// nelderMead minimises f over the box lower ≤ x (upper bounds are +Inf
// here) by a Nelder–Mead simplex whose trial points are projected on the
// box, as lme4's Nelder_Mead does. It stops when the simplex's function
// values agree to ftolRel (relative) and its vertices to xtol, or after
// maxEval evaluations.
func nelderMead(f func([]float64) float64, x0, lower []float64, step, ftolRel, xtol float64, maxEval int) boundedOpt {
	n := len(x0)
	proj := func(x []float64) {
		for i := range x {
			if x[i] < lower[i] {
				x[i] = lower[i]
			}
		}
	}
	evals := 0
	eval := func(x []float64) float64 {
		evals++
		v := f(x)
		if math.IsNaN(v) {
			return math.Inf(1)
		}
		return v
	}
	pts := make([][]float64, n+1)
	fv := make([]float64, n+1)
	pts[0] = slices.Clone(x0)
	proj(pts[0])
	fv[0] = eval(pts[0])
	for i := range n {
		p := slices.Clone(pts[0])
		h := step * math.Max(1, math.Abs(p[i]))
		p[i] += h
		pts[i+1] = p
		fv[i+1] = eval(p)
	}
	cent := make([]float64, n)
	xr := make([]float64, n)
	xe := make([]float64, n)
	xc := make([]float64, n)
	idx := make([]int, n+1)
	conv := false
	for evals < maxEval {
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int {
			switch {
			case fv[a] < fv[b]:
				return -1
			case fv[a] > fv[b]:
				return 1
			}
			return 0
		})
		best, worst, second := idx[0], idx[n], idx[n-1]
		// Convergence test.
		fspread := fv[worst] - fv[best]
		xspread := 0.0
		for _, i := range idx[1:] {
			for k := range n {
				xspread = math.Max(xspread, math.Abs(pts[i][k]-pts[best][k]))
			}
		}
		if fspread <= ftolRel*(math.Abs(fv[best])+1e-10) && xspread <= xtol {
			conv = true
			break
		}
		clear(cent)
		for _, i := range idx[:n] {
			for k := range n {
				cent[k] += pts[i][k] / float64(n)
			}
		}
		for k := range n {
			xr[k] = cent[k] + (cent[k] - pts[worst][k])
		}
		proj(xr)
		fr := eval(xr)
		switch {
		case fr < fv[best]:
			for k := range n {
				xe[k] = cent[k] + 2*(cent[k]-pts[worst][k])
			}
			proj(xe)
			fe := eval(xe)
			if fe < fr {
				copy(pts[worst], xe)
				fv[worst] = fe
			} else {
				copy(pts[worst], xr)
				fv[worst] = fr
			}
		case fr < fv[second]:
			copy(pts[worst], xr)
			fv[worst] = fr
		default:
			// Contraction, outside or inside.
			if fr < fv[worst] {
				for k := range n {
					xc[k] = cent[k] + 0.5*(xr[k]-cent[k])
				}
			} else {
				for k := range n {
					xc[k] = cent[k] + 0.5*(pts[worst][k]-cent[k])
				}
			}
			proj(xc)
			fc := eval(xc)
			if fc < math.Min(fr, fv[worst]) {
				copy(pts[worst], xc)
				fv[worst] = fc
				break
			}
			// Shrink towards the best vertex.
			for _, i := range idx[1:] {
				for k := range n {
					pts[i][k] = pts[best][k] + 0.5*(pts[i][k]-pts[best][k])
				}
				proj(pts[i])
				fv[i] = eval(pts[i])
			}
		}
	}
	bi := 0
	for i := range fv {
		if fv[i] < fv[bi] {
			bi = i
		}
	}
	return boundedOpt{x: pts[bi], f: fv[bi], evals: evals, conv: conv}
}

// quadTR minimises f over lower ≤ x by a derivative-free trust-region
// method in the spirit of Powell's UOBYQA/BOBYQA: a full quadratic model
// is fitted by least squares to the (n+1)(n+2)/2 evaluated points nearest
// the current best point, minimised over the intersection of the bounds
// and a box trust region, and the region's radius is adapted from the
// ratio of actual to predicted reduction. Evaluations are kept and
// reused; a fresh poised set is laid out around the best point when the
// stored points are too far away or degenerate. It stops when the radius
// falls below rhoEnd.
func quadTR(f func([]float64) float64, x0, lower []float64, rhoBeg, rhoEnd float64, maxEval int) boundedOpt {
	n := len(x0)
	npt := (n + 1) * (n + 2) / 2
	type pt struct {
		x []float64
		f float64
	}
	var hist []pt
	evals := 0
	eval := func(x []float64) float64 {
		x = slices.Clone(x)
		for i := range x {
			x[i] = math.Max(x[i], lower[i])
		}
		v := f(x)
		if math.IsNaN(v) {
			v = math.Inf(1)
		}
		evals++
		hist = append(hist, pt{x, v})
		return v
	}
	xb := slices.Clone(x0)
	for i := range xb {
		xb[i] = math.Max(xb[i], lower[i])
	}
	fb := eval(xb)
	delta := rhoBeg
	// layout evaluates a poised set around xb with radius delta.
	layout := func() {
		dir := make([]float64, n)
		for i := range n {
			dir[i] = delta
			if xb[i]-delta < lower[i] {
				dir[i] = delta // one-sided: use +δ and +2δ
			}
		}
		for i := range n {
			x := slices.Clone(xb)
			x[i] += dir[i]
			eval(x)
			x = slices.Clone(xb)
			if xb[i]-delta >= lower[i] {
				x[i] -= delta
			} else {
				x[i] += 2 * delta
			}
			eval(x)
		}
		for i := range n {
			for j := i + 1; j < n; j++ {
				x := slices.Clone(xb)
				x[i] += dir[i]
				x[j] += dir[j]
				eval(x)
			}
		}
	}
	nb := npt
	basis := func(s []float64, out []float64) {
		out[0] = 1
		k := 1
		for i := range n {
			out[k] = s[i]
			k++
		}
		for i := range n {
			for j := i; j < n; j++ {
				if i == j {
					out[k] = 0.5 * s[i] * s[i]
				} else {
					out[k] = s[i] * s[j]
				}
				k++
			}
		}
	}
	g := make([]float64, n)
	h := make([]float64, n*n)
	s := make([]float64, n)
	row := make([]float64, nb)
	fit := func() bool {
		// Nearest npt points (at least), within 4δ.
		idx := make([]int, len(hist))
		dist := make([]float64, len(hist))
		for i, p := range hist {
			idx[i] = i
			var dm float64
			for k := range n {
				dm = math.Max(dm, math.Abs(p.x[k]-xb[k]))
			}
			dist[i] = dm
		}
		slices.SortFunc(idx, func(a, b int) int {
			switch {
			case dist[a] < dist[b]:
				return -1
			case dist[a] > dist[b]:
				return 1
			}
			return 0
		})
		m := 0
		for m < len(idx) && (m < npt || dist[idx[m]] <= delta) && m < 3*npt {
			if dist[idx[m]] > 4*delta || math.IsInf(hist[idx[m]].f, 1) {
				break
			}
			m++
		}
		if m < npt {
			return false
		}
		A := mat.NewDense(m, nb, nil)
		bv := mat.NewVecDense(m, nil)
		for r := range m {
			p := hist[idx[r]]
			for k := range n {
				s[k] = (p.x[k] - xb[k]) / delta
			}
			basis(s, row)
			A.SetRow(r, row)
			bv.SetVec(r, p.f-fb)
		}
		var qr mat.QR
		qr.Factorize(A)
		var R mat.Dense
		qr.RTo(&R)
		dmax, dmin := 0.0, math.Inf(1)
		for k := range nb {
			v := math.Abs(R.At(k, k))
			dmax = math.Max(dmax, v)
			dmin = math.Min(dmin, v)
		}
		if dmin < 1e-8*dmax {
			return false
		}
		var c mat.VecDense
		if err := qr.SolveVecTo(&c, false, bv); err != nil {
			return false
		}
		k := 1
		for i := range n {
			g[i] = c.AtVec(k) / delta
			k++
		}
		for i := range n {
			for j := i; j < n; j++ {
				v := c.AtVec(k) / (delta * delta)
				h[i*n+j], h[j*n+i] = v, v
				k++
			}
		}
		return true
	}
	lo := make([]float64, n)
	hi := make([]float64, n)
	model := func(s []float64) float64 {
		var v float64
		for i := range n {
			v += g[i] * s[i]
			for j := range n {
				v += 0.5 * s[i] * h[i*n+j] * s[j]
			}
		}
		return v
	}
	conv := false
	for evals < maxEval {
		if delta < rhoEnd {
			conv = true
			break
		}
		if !fit() {
			layout()
			for _, p := range hist {
				if p.f < fb {
					xb, fb = p.x, p.f
				}
			}
			if !fit() {
				delta /= 2
				continue
			}
		}
		// Minimise the model over the box by coordinate descent.
		for i := range n {
			lo[i] = math.Max(-delta, lower[i]-xb[i])
			hi[i] = delta
			s[i] = 0
		}
		for sweep := 0; sweep < 200; sweep++ {
			moved := 0.0
			for i := range n {
				gi := g[i]
				for j := range n {
					if j != i {
						gi += h[i*n+j] * s[j]
					}
				}
				var ns float64
				if h[i*n+i] > 0 {
					ns = math.Min(hi[i], math.Max(lo[i], -gi/h[i*n+i]))
				} else {
					// Concave or flat in this coordinate: pick the better end.
					vl := gi*lo[i] + 0.5*h[i*n+i]*lo[i]*lo[i]
					vh := gi*hi[i] + 0.5*h[i*n+i]*hi[i]*hi[i]
					ns = lo[i]
					if vh < vl {
						ns = hi[i]
					}
				}
				moved = math.Max(moved, math.Abs(ns-s[i]))
				s[i] = ns
			}
			if moved < 1e-12*delta {
				break
			}
		}
		pred := -model(s)
		snorm := 0.0
		for i := range n {
			snorm = math.Max(snorm, math.Abs(s[i]))
		}
		if pred <= 1e-14*math.Max(1, math.Abs(fb)) || snorm < 1e-3*rhoEnd {
			delta /= 4
			continue
		}
		xt := slices.Clone(xb)
		for i := range n {
			xt[i] += s[i]
		}
		ft := eval(xt)
		rho := (fb - ft) / pred
		if ft < fb {
			xb, fb = hist[len(hist)-1].x, ft
		}
		switch {
		case rho > 0.7 && snorm > 0.9*delta:
			delta *= 2
		case rho < 0.1:
			delta = math.Max(snorm, delta/4) / 2
		case snorm < delta/2:
			delta = math.Max(snorm*2, delta/2)
		}
	}
	return boundedOpt{x: xb, f: fb, evals: evals, conv: conv}
}

package model

import (
	"math"
	"slices"
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

package sampler

import (
	"errors"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// findMode maximises the marginal log posterior of ψ (Nelder–Mead with
// restarts) and returns the mode and the inverse of the negative
// Hessian there (central differences). The chains' inits are dispersed
// around the mode and the Hessian seeds the warmup proposal. It is
// deterministic.
func findMode(st *setup, k Kernel) ([]float64, []float64, error) {
	ev := newEvaluator(st.spec, st.lay, st.fixed)
	d := st.lay.dim
	x0 := startPsi(st)
	f := func(x []float64) float64 {
		v := ev.logTarget(x, k)
		if math.IsInf(v, -1) || math.IsNaN(v) {
			return math.Inf(1)
		}
		return -v
	}
	if math.IsInf(f(x0), 1) {
		return nil, nil, errors.New("sampler: the marginal posterior is not finite at the starting values (check the priors and data)")
	}
	best, fb := x0, f(x0)
	step := 1.0
	for range 4 {
		x, fx := nelderMead(f, best, step, 400*d+400)
		if fx > fb-1e-9 && step < 0.2 {
			break
		}
		if fx < fb {
			best, fb = x, fx
		}
		step /= 2
	}
	cov := hessianCov(f, best)
	return best, cov, nil
}

// hessianCov returns (−∇² log p)⁻¹ = (∇² f)⁻¹ at x by central
// differences, or a diagonal 0.1² fallback when it is not positive
// definite.
func hessianCov(f func([]float64) float64, x []float64) []float64 {
	d := len(x)
	const h = 1e-3
	hm := mat.NewSymDense(d, nil)
	xp := slices.Clone(x)
	f0 := f(x)
	for i := range d {
		for j := 0; j <= i; j++ {
			var v float64
			if i == j {
				xp[i] = x[i] + h
				fp := f(xp)
				xp[i] = x[i] - h
				fm := f(xp)
				xp[i] = x[i]
				v = (fp - 2*f0 + fm) / (h * h)
			} else {
				eval := func(si, sj float64) float64 {
					xp[i], xp[j] = x[i]+si*h, x[j]+sj*h
					r := f(xp)
					xp[i], xp[j] = x[i], x[j]
					return r
				}
				v = (eval(1, 1) - eval(1, -1) - eval(-1, 1) + eval(-1, -1)) / (4 * h * h)
			}
			hm.SetSym(i, j, v)
		}
	}
	return invertSPD(hm)
}

// nelderMead minimises f from x0 with initial simplex step, returning
// the best point and value (Lagarias et al.'s standard coefficients).
func nelderMead(f func([]float64) float64, x0 []float64, step float64, maxEval int) ([]float64, float64) {
	d := len(x0)
	pts := make([][]float64, d+1)
	vals := make([]float64, d+1)
	for i := range pts {
		pts[i] = slices.Clone(x0)
		if i > 0 {
			pts[i][i-1] += step
		}
		vals[i] = f(pts[i])
	}
	evals := d + 1
	cen := make([]float64, d)
	xr := make([]float64, d)
	xe := make([]float64, d)
	xc := make([]float64, d)
	idx := make([]int, d+1)
	for evals < maxEval {
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int {
			switch {
			case vals[a] < vals[b]:
				return -1
			case vals[a] > vals[b]:
				return 1
			}
			return 0
		})
		lo, hi, nh := idx[0], idx[d], idx[d-1]
		if math.Abs(vals[hi]-vals[lo]) <= 1e-10*(math.Abs(vals[lo])+1e-10) {
			var spread float64
			for i := range d {
				spread = math.Max(spread, math.Abs(pts[hi][i]-pts[lo][i]))
			}
			if spread < 1e-7 {
				break
			}
		}
		clear(cen)
		for _, i := range idx[:d] {
			for j := range d {
				cen[j] += pts[i][j] / float64(d)
			}
		}
		for j := range d {
			xr[j] = cen[j] + (cen[j] - pts[hi][j])
		}
		fr := f(xr)
		evals++
		switch {
		case fr < vals[lo]:
			for j := range d {
				xe[j] = cen[j] + 2*(cen[j]-pts[hi][j])
			}
			fe := f(xe)
			evals++
			if fe < fr {
				copy(pts[hi], xe)
				vals[hi] = fe
			} else {
				copy(pts[hi], xr)
				vals[hi] = fr
			}
		case fr < vals[nh]:
			copy(pts[hi], xr)
			vals[hi] = fr
		default:
			outside := fr < vals[hi]
			for j := range d {
				if outside {
					xc[j] = cen[j] + 0.5*(xr[j]-cen[j])
				} else {
					xc[j] = cen[j] + 0.5*(pts[hi][j]-cen[j])
				}
			}
			fc := f(xc)
			evals++
			if (outside && fc <= fr) || (!outside && fc < vals[hi]) {
				copy(pts[hi], xc)
				vals[hi] = fc
			} else {
				for _, i := range idx[1:] {
					for j := range d {
						pts[i][j] = pts[lo][j] + 0.5*(pts[i][j]-pts[lo][j])
					}
					vals[i] = f(pts[i])
					evals++
				}
			}
		}
	}
	bi := 0
	for i := range vals {
		if vals[i] < vals[bi] {
			bi = i
		}
	}
	return slices.Clone(pts[bi]), vals[bi]
}

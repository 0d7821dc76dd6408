package model

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// bobyqa minimises f over the box lower ≤ x ≤ upper (bounds may be
// infinite) without derivatives, after Powell (2009), "The BOBYQA
// algorithm for bound constrained optimization without derivatives"
// (Cambridge report DAMTP 2009/NA06), the method lme4's default
// optimiser (nloptwrap: NLopt's LN_BOBYQA) and MixedModels.jl use.
//
// It keeps npt = 2n+1 interpolation points and a quadratic model Q that
// interpolates f at them; after each new point, Q is the quadratic that
// interpolates the new set and whose Hessian is nearest the old one in
// Frobenius norm (Powell's least-Frobenius-norm update). Here that
// update is computed by solving its KKT system directly (the system is
// (npt+n+1)², tiny for the θ of a mixed model) instead of by Powell's
// updating formulae for its inverse H; the model is kept explicitly
// (gradient and Hessian at the best point), so no shift of origin is
// needed. The trust-region step minimises Q over the ball and the box by
// truncated conjugate gradients with the bound-fixing rule of TRSBOX
// (without its extra iterations on the ball's boundary). The point to
// drop is the one of largest weighted denominator |σ| of the update, as
// in BOBYQA; geometry-improving steps (ALTMOV) maximise the modulus of a
// Lagrange function over lines through the best point and along its
// gradient. The radii ρ (lower bound on the trust region Δ) follow
// Powell's schedule from rhoBeg to rhoEnd. It stops when ρ = rhoEnd and
// no progress is possible at that resolution, or after maxEval
// evaluations.
func bobyqa(f func([]float64) float64, x0, lower, upper []float64, rhoBeg, rhoEnd float64, maxEval, npt int) boundedOpt {
	n := len(x0)
	npt = min(max(npt, 2*n+1), (n+1)*(n+2)/2)
	if upper == nil {
		upper = make([]float64, n)
		for i := range upper {
			upper[i] = math.Inf(1)
		}
	}
	// Keep rhoBeg at most half of each box width, as BOBYQA requires.
	for i := range n {
		if w := upper[i] - lower[i]; rhoBeg > w/2 {
			rhoBeg = w / 2
		}
	}
	rhoEnd = math.Min(rhoEnd, rhoBeg)
	evals := 0
	clip := func(x []float64) {
		for i := range x {
			x[i] = math.Min(math.Max(x[i], lower[i]), upper[i])
		}
	}
	eval := func(x []float64) float64 {
		clip(x)
		v := f(x)
		evals++
		if math.IsNaN(v) {
			v = math.Inf(1)
		}
		return v
	}
	// Initial points: base, base ± ρ e_i (one-sided at a bound), with base
	// moved onto a bound when it is closer than ρ to it, as Powell does.
	base := slices.Clone(x0)
	clip(base)
	for i := range n {
		switch {
		case base[i]-lower[i] <= rhoBeg/2:
			base[i] = lower[i]
		case base[i]-lower[i] < rhoBeg:
			base[i] = lower[i] + rhoBeg
		case upper[i]-base[i] <= rhoBeg/2:
			base[i] = upper[i]
		case upper[i]-base[i] < rhoBeg:
			base[i] = upper[i] - rhoBeg
		}
	}
	y := make([][]float64, npt)
	fv := make([]float64, npt)
	y[0] = base
	fv[0] = eval(base)
	for i := range n {
		a, b := rhoBeg, -rhoBeg
		switch {
		case base[i] == lower[i]:
			b = 2 * rhoBeg
		case base[i] == upper[i]:
			a, b = -rhoBeg, -2*rhoBeg
		}
		p := slices.Clone(base)
		p[i] += a
		y[2*i+1] = p
		fv[2*i+1] = eval(p)
		p = slices.Clone(base)
		p[i] += b
		y[2*i+2] = p
		fv[2*i+2] = eval(p)
	}
	// Further points (npt > 2n+1): base + the first offsets of two
	// coordinates, as Powell lays them out.
	for k, i := 2*n+1, 0; k < npt; i++ {
		for j := i + 1; j < n && k < npt; j++ {
			p := slices.Clone(y[2*i+1])
			p[j] = y[2*j+1][j]
			y[k] = p
			fv[k] = eval(p)
			k++
		}
	}
	kopt := 0
	for k := range npt {
		if fv[k] < fv[kopt] {
			kopt = k
		}
	}
	// Every initial value must be finite for the interpolation.
	for k := range npt {
		if math.IsInf(fv[k], 1) {
			return boundedOpt{x: slices.Clone(y[kopt]), f: fv[kopt], evals: evals}
		}
	}
	q := &quadModel{n: n, c: 0, g: make([]float64, n), h: make([]float64, n*n), xc: slices.Clone(y[kopt])}
	ws := newKKT(n, npt)
	if !ws.update(q, y, fv, y[kopt]) {
		return boundedOpt{x: slices.Clone(y[kopt]), f: fv[kopt], evals: evals}
	}
	rho, delta := rhoBeg, rhoBeg
	ntrits, nfsav := 0, evals
	var diffs [3]float64
	ratio := 1.0
	s := make([]float64, n)
	lo := make([]float64, n)
	hi := make([]float64, n)
	xnew := make([]float64, n)
	conv := false
	dnorm := 0.0
	dist2 := func(k int) float64 {
		var d float64
		for i := range n {
			t := y[k][i] - y[kopt][i]
			d += t * t
		}
		return d
	}
	// replace puts (x, fx) in place of point k and refits the model.
	replace := func(k int, x []float64, fx float64) bool {
		y[k] = slices.Clone(x)
		fv[k] = fx
		if fx < fv[kopt] {
			kopt = k
		}
		return ws.update(q, y, fv, y[kopt])
	}
	for evals < maxEval {
		// Trust-region step (Powell's label 60).
		xopt := y[kopt]
		for i := range n {
			lo[i] = lower[i] - xopt[i]
			hi[i] = upper[i] - xopt[i]
		}
		crvmin := trsbox(q.g, q.h, n, lo, hi, delta, s)
		snorm := math.Sqrt(dot(s, s))
		dnorm = math.Min(delta, snorm)
		geometry := false
		var distsq float64
		if snorm < rho/2 {
			ntrits = -1
			distsq = 100 * rho * rho
			errbig := math.Max(diffs[0], math.Max(diffs[1], diffs[2]))
			if evals <= nfsav+2 || (crvmin > 0 && errbig > 0.125*rho*rho*crvmin) {
				geometry = true
			}
		} else {
			ntrits++
			for i := range n {
				xnew[i] = xopt[i] + s[i]
			}
			vquad := q.at(xnew)
			fopt := fv[kopt]
			fnew := eval(xnew)
			diffs[2], diffs[1] = diffs[1], diffs[0]
			diffs[0] = math.Abs(fnew - fopt - vquad)
			if vquad < 0 {
				ratio = (fnew - fopt) / vquad
			} else {
				ratio = -1
			}
			switch {
			case ratio <= 0.1:
				delta = math.Min(delta/2, dnorm)
			case ratio <= 0.7:
				delta = math.Max(delta/2, dnorm)
			default:
				delta = math.Max(delta/2, 2*dnorm)
			}
			if delta <= 1.5*rho {
				delta = rho
			}
			if !math.IsInf(fnew, 1) {
				k := ws.chooseDrop(y, kopt, xnew, fnew < fopt, delta, rho)
				if k >= 0 && !replace(k, xnew, fnew) {
					break
				}
			}
			// Enough decrease: another trust-region step. The strict
			// fnew < fopt matters once 0.1·vquad is below the rounding of
			// fopt: then fopt + 0.1·vquad == fopt, and an unchanged value
			// would pass the test on every step, so ρ never fell to
			// rhoEnd and the search ran to maxEval (cbpp's stage two).
			if fnew < fopt && fnew <= fopt+0.1*vquad {
				continue
			}
			distsq = math.Max(4*delta*delta, 100*rho*rho)
			geometry = true
		}
		if geometry {
			// Label 650: replace the farthest point if it is far.
			knew, dmax := -1, distsq
			for k := range npt {
				if d := dist2(k); d > dmax {
					knew, dmax = k, d
				}
			}
			if knew >= 0 {
				adelt := math.Max(math.Min(0.1*math.Sqrt(dmax), delta), rho)
				ws.altmov(y, kopt, knew, adelt, lower, upper, xnew)
				fnew := eval(xnew)
				if math.IsInf(fnew, 1) {
					// Keep the far point; shrink instead.
					delta = math.Max(delta/2, rho)
				} else {
					diffs[2], diffs[1] = diffs[1], diffs[0]
					diffs[0] = math.Abs(fnew - q.at(xnew))
					if !replace(knew, xnew, fnew) {
						break
					}
				}
				ntrits = 0
				continue
			}
			if ntrits != -1 && (ratio > 0 || math.Max(delta, dnorm) > rho) {
				continue
			}
		}
		// Label 680: reduce ρ, or stop.
		if rho <= rhoEnd {
			conv = true
			break
		}
		delta = rho / 2
		r := rho / rhoEnd
		switch {
		case r <= 16:
			rho = rhoEnd
		case r <= 250:
			rho = math.Sqrt(r) * rhoEnd
		default:
			rho /= 10
		}
		delta = math.Max(delta, rho)
		ntrits, nfsav = 0, evals
	}
	return boundedOpt{x: slices.Clone(y[kopt]), f: fv[kopt], evals: evals, conv: conv}
}

// quadModel is Q(x) = c + gᵀ(x−xc) + ½ (x−xc)ᵀ h (x−xc).
type quadModel struct {
	n    int
	c    float64
	g, h []float64
	xc   []float64
}

// at returns Q(x) − c, the model's change from its centre.
func (q *quadModel) at(x []float64) float64 {
	n := q.n
	var v float64
	for i := range n {
		si := x[i] - q.xc[i]
		v += q.g[i] * si
		var hs float64
		for j := range n {
			hs += q.h[i*n+j] * (x[j] - q.xc[j])
		}
		v += 0.5 * si * hs
	}
	return v
}

// recentre moves the model's centre to x.
func (q *quadModel) recentre(x []float64) {
	n := q.n
	q.c += q.at(x)
	for i := range n {
		for j := range n {
			q.g[i] += q.h[i*n+j] * (x[j] - q.xc[j])
		}
	}
	copy(q.xc, x)
}

// kktWork holds the KKT system W = [A Xᵀ; X 0] of the least-Frobenius
// update for a point set centred at its best point and scaled by the
// largest distance: A_ij = ½ (s_iᵀ s_j)², X = [1 …; s_1 …].
type kktWork struct {
	n, npt int
	w      *mat.Dense
	winv   mat.Dense
	s      [][]float64 // scaled offsets of the points from the centre
	scale  float64
	ok     bool // winv is valid for s
}

func newKKT(n, npt int) *kktWork {
	k := &kktWork{n: n, npt: npt, w: mat.NewDense(npt+n+1, npt+n+1, nil)}
	k.s = make([][]float64, npt)
	for i := range k.s {
		k.s[i] = make([]float64, n)
	}
	return k
}

// build fills W for the points y centred at xc and inverts it.
func (k *kktWork) build(y [][]float64, xc []float64) bool {
	n, npt := k.n, k.npt
	var sc float64
	for j := range npt {
		var d float64
		for i := range n {
			t := y[j][i] - xc[i]
			d += t * t
		}
		sc = math.Max(sc, d)
	}
	sc = math.Sqrt(sc)
	if !(sc > 0) {
		return false
	}
	k.scale = sc
	for j := range npt {
		for i := range n {
			k.s[j][i] = (y[j][i] - xc[i]) / sc
		}
	}
	w := k.w
	w.Zero()
	for a := range npt {
		for b := range npt {
			d := dot(k.s[a], k.s[b])
			w.Set(a, b, 0.5*d*d)
		}
		w.Set(a, npt, 1)
		w.Set(npt, a, 1)
		for i := range n {
			w.Set(a, npt+1+i, k.s[a][i])
			w.Set(npt+1+i, a, k.s[a][i])
		}
	}
	k.ok = k.winv.Inverse(w) == nil
	return k.ok
}

// update refits q to interpolate fv at y with the least change of its
// Hessian in Frobenius norm, centred at xopt.
func (k *kktWork) update(q *quadModel, y [][]float64, fv []float64, xopt []float64) bool {
	q.recentre(xopt)
	if !k.build(y, xopt) {
		return false
	}
	n, npt := k.n, k.npt
	r := make([]float64, npt+n+1)
	for j := range npt {
		r[j] = fv[j] - (q.c + q.at(y[j]))
	}
	var z mat.VecDense
	z.MulVec(&k.winv, mat.NewVecDense(len(r), r))
	sc := k.scale
	q.c += z.AtVec(npt)
	for i := range n {
		q.g[i] += z.AtVec(npt+1+i) / sc
	}
	for j := range npt {
		l := z.AtVec(j) / (sc * sc)
		sj := k.s[j]
		for a := range n {
			for b := range n {
				q.h[a*n+b] += l * sj[a] * sj[b]
			}
		}
	}
	return true
}

// wvec fills w with the KKT right-hand side of the point x (scaled
// offset sx from the centre).
func (k *kktWork) wvec(sx []float64, w []float64) {
	for j := range k.npt {
		d := dot(k.s[j], sx)
		w[j] = 0.5 * d * d
	}
	w[k.npt] = 1
	copy(w[k.npt+1:], sx)
}

// chooseDrop returns the point to replace by x: the one with the largest
// |σ_k| = |α_k β + τ_k²| (Powell's denominator) weighted by its distance
// from the best point; the best point itself is kept unless x improves
// on it.
func (k *kktWork) chooseDrop(y [][]float64, kopt int, x []float64, better bool, delta, rho float64) int {
	n, npt := k.n, k.npt
	if !k.ok {
		return -1
	}
	xc := y[kopt]
	sx := make([]float64, n)
	for i := range n {
		sx[i] = (x[i] - xc[i]) / k.scale
	}
	w := make([]float64, npt+n+1)
	k.wvec(sx, w)
	var l mat.VecDense
	l.MulVec(&k.winv, mat.NewVecDense(len(w), w))
	ss := dot(sx, sx)
	beta := 0.5*ss*ss - mat.Dot(&l, mat.NewVecDense(len(w), w))
	dsq := math.Max(0.1*delta, rho)
	dsq *= dsq
	best, bv := -1, -1.0
	for j := range npt {
		if j == kopt && !better {
			continue
		}
		tau := l.AtVec(j)
		sigma := math.Abs(k.winv.At(j, j)*beta + tau*tau)
		// Distance from the best point after the update.
		ref := xc
		if better {
			ref = x
		}
		var d float64
		for i := range n {
			t := y[j][i] - ref[i]
			d += t * t
		}
		wgt := math.Max(1, d/dsq)
		if v := wgt * wgt * sigma; v > bv {
			best, bv = j, v
		}
	}
	return best
}

// altmov writes into x a point within adelt of the best point y[kopt]
// (and in the box) where the Lagrange function of point knew is large in
// modulus: the best over the lines through y[kopt] and each other point,
// and along the Lagrange function's gradient, as ALTMOV does.
func (k *kktWork) altmov(y [][]float64, kopt, knew int, adelt float64, lower, upper, x []float64) {
	n, npt := k.n, k.npt
	xc := y[kopt]
	sc := k.scale
	// Lagrange function knew in unscaled offsets s from xc:
	// ℓ(s) = c + gᵀs + ½ sᵀ H s.
	g := make([]float64, n)
	h := make([]float64, n*n)
	if k.ok {
		for i := range n {
			g[i] = k.winv.At(npt+1+i, knew) / sc
		}
		for j := range npt {
			l := k.winv.At(j, knew) / (sc * sc)
			for a := range n {
				for b := range n {
					h[a*n+b] += l * k.s[j][a] * k.s[j][b]
				}
			}
		}
	}
	ell := func(s []float64) float64 {
		var v float64
		for a := range n {
			v += g[a] * s[a]
			var hs float64
			for b := range n {
				hs += h[a*n+b] * s[b]
			}
			v += 0.5 * s[a] * hs
		}
		return v
	}
	// Step limits along u from xc inside the box: t in [tlo, thi].
	limits := func(u []float64) (float64, float64) {
		tlo, thi := -adelt, adelt
		for i := range n {
			switch {
			case u[i] > 0:
				thi = math.Min(thi, (upper[i]-xc[i])/u[i])
				tlo = math.Max(tlo, (lower[i]-xc[i])/u[i])
			case u[i] < 0:
				thi = math.Min(thi, (lower[i]-xc[i])/u[i])
				tlo = math.Max(tlo, (upper[i]-xc[i])/u[i])
			}
		}
		return tlo, thi
	}
	bestv := -1.0
	bests := make([]float64, n)
	cand := make([]float64, n)
	u := make([]float64, n)
	try := func(u []float64) {
		nu := math.Sqrt(dot(u, u))
		if !(nu > 0) {
			return
		}
		for i := range n {
			u[i] /= nu
		}
		tlo, thi := limits(u)
		// ℓ(t u) = t a + ½ t² b: check both ends and the stationary point.
		var a, b float64
		for i := range n {
			a += g[i] * u[i]
			var hu float64
			for j := range n {
				hu += h[i*n+j] * u[j]
			}
			b += u[i] * hu
		}
		ts := []float64{tlo, thi}
		if b != 0 {
			if t := -a / b; t > tlo && t < thi {
				ts = append(ts, t)
			}
		}
		for _, t := range ts {
			if t == 0 {
				continue
			}
			for i := range n {
				cand[i] = t * u[i]
			}
			if v := math.Abs(ell(cand)); v > bestv {
				bestv = v
				copy(bests, cand)
			}
		}
	}
	for j := range npt {
		if j == kopt {
			continue
		}
		for i := range n {
			u[i] = y[j][i] - xc[i]
		}
		try(u)
	}
	copy(u, g)
	try(u)
	if bestv < 0 {
		// Degenerate: step towards the dropped point's mirror.
		for i := range n {
			bests[i] = xc[i] - y[knew][i]
		}
		nb := math.Sqrt(dot(bests, bests))
		for i := range n {
			bests[i] *= adelt / nb
		}
	}
	for i := range n {
		x[i] = math.Min(math.Max(xc[i]+bests[i], lower[i]), upper[i])
	}
}

// trsbox approximately minimises gᵀs + ½ sᵀHs subject to ‖s‖ ≤ delta and
// lo ≤ s ≤ hi (lo ≤ 0 ≤ hi) by truncated conjugate gradients, fixing a
// variable at its bound when the path reaches it and restarting (as
// TRSBOX does). It writes s and returns the least curvature sᵀHs/‖s‖²
// met along the search directions, or 0 if the path reached the ball's
// boundary.
func trsbox(g, h []float64, n int, lo, hi []float64, delta float64, s []float64) float64 {
	clear(s)
	fixed := make([]bool, n)
	for i := range n {
		if (lo[i] >= 0 && g[i] >= 0) || (hi[i] <= 0 && g[i] <= 0) {
			fixed[i] = true
		}
	}
	r := make([]float64, n)
	d := make([]float64, n)
	hd := make([]float64, n)
	crvmin := math.Inf(1)
	residual := func() float64 {
		var rr float64
		for i := range n {
			r[i] = 0
			if fixed[i] {
				continue
			}
			v := g[i]
			for j := range n {
				v += h[i*n+j] * s[j]
			}
			r[i] = -v
			rr += v * v
		}
		return rr
	}
	g2 := dot(g, g)
	for restart := 0; restart <= n; restart++ {
		rr := residual()
		copy(d, r)
		for it := 0; it < n && rr > 1e-20*g2; it++ {
			var dhd, dd, sd, ss float64
			for i := range n {
				hd[i] = 0
				for j := range n {
					hd[i] += h[i*n+j] * d[j]
				}
			}
			dhd = dot(d, hd)
			dd = dot(d, d)
			sd = dot(s, d)
			ss = dot(s, s)
			if !(dd > 0) {
				break
			}
			// Steps to the ball and to the bounds.
			disc := sd*sd + dd*(delta*delta-ss)
			ttr := (-sd + math.Sqrt(math.Max(disc, 0))) / dd
			tb, ib := math.Inf(1), -1
			for i := range n {
				if fixed[i] || d[i] == 0 {
					continue
				}
				var t float64
				if d[i] > 0 {
					t = (hi[i] - s[i]) / d[i]
				} else {
					t = (lo[i] - s[i]) / d[i]
				}
				if t < tb {
					tb, ib = t, i
				}
			}
			tcg := math.Inf(1)
			if dhd > 0 {
				tcg = rr / dhd
				crvmin = math.Min(crvmin, dhd/dd)
			}
			t := math.Min(tcg, math.Min(ttr, tb))
			for i := range n {
				s[i] += t * d[i]
			}
			if t == tb && tb <= ttr && tb < tcg {
				if d[ib] > 0 {
					s[ib] = hi[ib]
				} else {
					s[ib] = lo[ib]
				}
				fixed[ib] = true
				break // restart CG on the free variables
			}
			if t == ttr {
				return 0
			}
			var rn float64
			for i := range n {
				if !fixed[i] {
					r[i] -= t * hd[i]
					rn += r[i] * r[i]
				}
			}
			beta := rn / rr
			rr = rn
			for i := range n {
				if fixed[i] {
					d[i] = 0
				} else {
					d[i] = r[i] + beta*d[i]
				}
			}
		}
		if rr <= 1e-20*g2 {
			break
		}
	}
	if math.IsInf(crvmin, 1) {
		crvmin = 0
	}
	return crvmin
}

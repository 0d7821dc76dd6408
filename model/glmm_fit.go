package model

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// GLMMOptions control FitGLMM.
type GLMMOptions struct {
	// NAGQ is glmer's nAGQ: 1 (the default when 0) is the Laplace
	// approximation; more than 1 is adaptive Gauss–Hermite quadrature
	// with that many nodes, for a model with a single scalar random
	// effect.
	NAGQ int
	// MaxEval bounds the deviance evaluations of each optimisation stage
	// (0: 10000).
	MaxEval int
}

// glmm is the state of a GLMM fit: the kernel, the data and the current
// conditional modes, reused (warm-started) between evaluations.
type glmm struct {
	d       *Design
	m       *MixedModel
	fam     Family
	n, p, q int
	y, ntr  []float64
	pw      []float64 // prior weights (Design.Weights; all 1 without)
	off     []float64 // the offset of each row (zero without one)
	shape   float64   // negative binomial shape
	nagq    int
	ghx     []float64 // Gauss–Hermite nodes and weights (weight e^{−x²})
	ghw     []float64

	u, beta []float64 // current modes
	b       [][]float64
	eta, xb []float64
	w, z    []float64
	// scratch
	un, bn, uc, bc, etac []float64
	started              bool
	lastTheta            []float64 // θ̂ of the last fit, the start of a refit
}

func newGLMM(d *Design, nagq int) (*glmm, error) {
	if d.Family == Gaussian {
		return nil, errors.New("glmm: the Gaussian family is fitted by Fit")
	}
	// The kernel is reweighted with the IRLS weights (times the prior
	// weights) and working responses below: build it from the design
	// without the weights and offset (Working would scale X by √w).
	kd := *d
	kd.Weights, kd.Offset = nil, nil
	m, err := NewMixedModel(&kd)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	g := &glmm{d: d, m: m, fam: d.Family, n: m.n, p: m.p, q: m.q, y: d.Y, shape: 1, nagq: nagq}
	g.pw = d.Weights
	if g.pw == nil {
		g.pw = make([]float64, g.n)
		for i := range g.pw {
			g.pw[i] = 1
		}
	}
	g.ntr = d.Trials
	if g.ntr == nil {
		g.ntr = make([]float64, g.n)
		for i := range g.ntr {
			g.ntr[i] = 1
		}
	}
	g.off = make([]float64, g.n)
	if d.Offset != nil {
		copy(g.off, d.Offset)
	}
	g.u, g.un, g.uc = make([]float64, g.q), make([]float64, g.q), make([]float64, g.q)
	g.beta, g.bn, g.bc = make([]float64, g.p), make([]float64, g.p), make([]float64, g.p)
	g.eta, g.etac, g.xb = make([]float64, g.n), make([]float64, g.n), make([]float64, g.n)
	g.w, g.z = make([]float64, g.n), make([]float64, g.n)
	g.b = make([][]float64, len(d.Terms))
	for i, t := range d.Terms {
		g.b[i] = make([]float64, t.K*len(t.Levels))
	}
	if nagq > 1 {
		if len(d.Terms) != 1 || d.Terms[0].K != 1 {
			return nil, fmt.Errorf("fit: nAGQ > 1 (adaptive Gauss–Hermite quadrature) needs a single scalar random-effect term, as in (1 | g); this model has %d terms", len(d.Terms))
		}
		g.ghx, g.ghw = gaussHermite(nagq)
	}
	return g, nil
}

// linpred sets eta = off + Xβ + ZΛu (and xb = Xβ) at the current θ.
func (g *glmm) linpred(u, beta, eta []float64) {
	d := g.d
	xr := d.X.RawMatrix()
	for i := range g.n {
		s := g.off[i]
		row := xr.Data[i*xr.Stride : i*xr.Stride+g.p]
		for j, v := range row {
			s += v * beta[j]
		}
		g.xb[i] = s - g.off[i]
		eta[i] = s
	}
	g.m.ToB(u, g.b)
	d.AddZb(g.b, eta)
}

// condDev returns −2 Σ log p(yᵢ | ηᵢ).
func (g *glmm) condDev(eta []float64) float64 {
	var s float64
	for i, e := range eta {
		s += g.pw[i] * g.fam.logDensity(g.y[i], g.ntr[i], e, g.shape)
	}
	return -2 * s
}

func sumSq(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

// pirls finds the conditional modes at θ by penalised iteratively
// reweighted least squares with step halving on the penalised deviance
// −2 log p(y | u, β) + ‖u‖², as lme4's PIRLS does: jointly over (u, β)
// when joint (glmer's nAGQ = 0 stage), over u with β = g.beta fixed
// otherwise. On return the kernel is factored at the weights of the mode.
// It returns the penalised deviance, or an error if the equations are
// singular.
func (g *glmm) pirls(theta []float64, joint bool) (float64, error) {
	m := g.m
	if !g.started {
		// glm's starting values: μ = (y + 0.5)/(n + 1) per trial for the
		// logistic families, y + 0.1 for counts, η = link(μ).
		for i := range g.n {
			switch {
			case g.fam.Logistic():
				pr := (g.y[i] + 0.5) / (g.ntr[i] + 1)
				g.eta[i] = math.Log(pr / (1 - pr))
			default:
				g.eta[i] = math.Log(g.y[i] + 0.1)
			}
		}
		clear(g.xb)
	} else {
		// Λθ for the linear predictor at the current modes.
		if err := m.SetTheta(theta); err != nil {
			return 0, err
		}
		g.linpred(g.u, g.beta, g.eta)
	}
	pdev := math.Inf(1)
	if g.started {
		pdev = g.condDev(g.eta) + sumSq(g.u)
	}
	for range 300 {
		for i := range g.n {
			w, r := g.fam.irls(g.y[i], g.ntr[i], g.eta[i], g.shape)
			g.w[i] = w * g.pw[i]
			zi := g.eta[i] - g.off[i] + r
			if !joint {
				zi -= g.xb[i]
			}
			g.z[i] = zi
		}
		if err := m.Reweight(g.w, g.z); err != nil {
			return 0, err
		}
		if err := m.SetTheta(theta); err != nil {
			return 0, err
		}
		if joint {
			m.Modes(g.un, g.bn)
		} else {
			m.ModesU(g.un)
			copy(g.bn, g.beta)
		}
		if math.IsInf(pdev, 1) {
			copy(g.u, g.un)
			copy(g.beta, g.bn)
			g.linpred(g.u, g.beta, g.eta)
			pdev = g.condDev(g.eta) + sumSq(g.u)
			g.started = true
			continue
		}
		// Step halving from the current modes towards the new ones.
		f := 1.0
		accepted := false
		var pc float64
		for range 20 {
			for i := range g.uc {
				g.uc[i] = g.u[i] + f*(g.un[i]-g.u[i])
			}
			for i := range g.bc {
				g.bc[i] = g.beta[i] + f*(g.bn[i]-g.beta[i])
			}
			g.linpred(g.uc, g.bc, g.etac)
			pc = g.condDev(g.etac) + sumSq(g.uc)
			// Near the mode the penalised deviance changes by the
			// square of the step, below its rounding error (about
			// 1e-16·pdev·n): steps that raise it by less than
			// 1e-10·(1+pdev) are Newton steps inside that noise and are
			// taken, so that the modes converge to about 1e-11 rather
			// than stall where the deviance can no longer tell.
			if pc <= pdev+1e-10*(1+math.Abs(pdev)) {
				accepted = true
				break
			}
			f /= 2
		}
		if !accepted {
			// No decrease at any step: the modes are as good as
			// floating point allows.
			g.linpred(g.u, g.beta, g.eta)
			break
		}
		var du float64
		for i := range g.uc {
			du = math.Max(du, math.Abs(g.uc[i]-g.u[i]))
		}
		for i := range g.bc {
			du = math.Max(du, math.Abs(g.bc[i]-g.beta[i]))
		}
		copy(g.u, g.uc)
		copy(g.beta, g.bc)
		copy(g.eta, g.etac)
		change := pdev - pc
		pdev = pc
		// Newton's method converges quadratically: iterate until the
		// modes no longer move (the finite-difference Hessian of the
		// deviance needs them to about 1e-10).
		_ = change
		if du < 1e-11 {
			break
		}
	}
	// Factor at the weights of the mode (the Laplace approximation's
	// Hessian).
	for i := range g.n {
		w, r := g.fam.irls(g.y[i], g.ntr[i], g.eta[i], g.shape)
		g.w[i] = w * g.pw[i]
		zi := g.eta[i] - g.off[i] + r
		if !joint {
			zi -= g.xb[i]
		}
		g.z[i] = zi
	}
	if err := m.Reweight(g.w, g.z); err != nil {
		return 0, err
	}
	if err := m.SetTheta(theta); err != nil {
		return 0, err
	}
	return pdev, nil
}

// laplace returns the Laplace approximation of −2 log-likelihood at the
// modes just found by pirls: −2 log p(y | û) + ‖û‖² + log det(ΛᵀZᵀWZΛ + I).
func (g *glmm) laplace(pdev float64) float64 {
	return pdev + g.m.LogDetZ()
}

// agq returns glmer's deviance by adaptive Gauss–Hermite quadrature for
// a single scalar random-effect term, at the modes just found by pirls:
// −2 Σⱼ log ∫ exp(−½ Σᵢ dᵢ(u)) φ(u) du over the levels j, with the nodes
// centred at ûⱼ and scaled by the conditional SD 1/L_jj. As in lme4, the
// integrand uses the unit deviances dᵢ rather than −2 log p(yᵢ | u): the
// value is −2 log-likelihood less the saturated model's −2 log-likelihood
// Σ −2 log p(yᵢ | μᵢ = yᵢ), so it is not comparable with the Laplace
// (nAGQ = 1) value, which keeps that constant.
func (g *glmm) agq() float64 {
	t := g.d.Terms[0]
	nl := len(t.Levels)
	ldiag := g.m.l[0][0].val // kernel order; a single term is never reordered
	theta := g.m.theta[0]
	// Per level, per node: the log-likelihood of the level's rows.
	ll := make([]float64, nl*len(g.ghx))
	for i := range g.n {
		l := int(t.Refs[i])
		s := 1 / ldiag[l]
		base := g.off[i] + g.xb[i]
		for k, x := range g.ghx {
			u := g.u[l] + math.Sqrt2*s*x
			mu := g.fam.LinkInv(base + theta*t.Z[i]*u)
			ll[l*len(g.ghx)+k] -= g.pw[i] * g.fam.unitDeviance(g.y[i], g.ntr[i], mu, g.shape) / 2
		}
	}
	var dev float64
	terms := make([]float64, len(g.ghx))
	for l := range nl {
		s := 1 / ldiag[l]
		mx := math.Inf(-1)
		for k, x := range g.ghx {
			u := g.u[l] + math.Sqrt2*s*x
			v := math.Log(g.ghw[k]) + x*x + ll[l*len(g.ghx)+k] - u*u/2
			terms[k] = v
			mx = math.Max(mx, v)
		}
		var sum float64
		for _, v := range terms {
			sum += math.Exp(v - mx)
		}
		dev += -2 * (mx + math.Log(sum) + math.Log(math.Sqrt2*s) - 0.5*math.Log(2*math.Pi))
	}
	return dev
}

// gaussHermite returns the nodes and weights of the k-point
// Gauss–Hermite rule for the weight e^{−x²} (Golub–Welsch: the
// eigenvalues of the Jacobi matrix, weights √π times the squared first
// components of its eigenvectors), nodes in increasing order.
func gaussHermite(k int) (x, w []float64) {
	a := mat.NewSymDense(k, nil)
	for i := 1; i < k; i++ {
		a.SetSym(i, i-1, math.Sqrt(float64(i)/2))
	}
	var es mat.EigenSym
	if !es.Factorize(a, true) {
		panic("model: Gauss–Hermite eigen-decomposition failed")
	}
	x = es.Values(nil)
	var v mat.Dense
	es.VectorsTo(&v)
	w = make([]float64, k)
	for i := range k {
		w[i] = math.Sqrt(math.Pi) * v.At(0, i) * v.At(0, i)
	}
	// Symmetrise (the rule is exactly symmetric).
	for i := range k / 2 {
		j := k - 1 - i
		xm := (x[j] - x[i]) / 2
		wm := (w[i] + w[j]) / 2
		x[i], x[j], w[i], w[j] = -xm, xm, wm, wm
	}
	if k%2 == 1 {
		x[k/2] = 0
	}
	return x, w
}

// devStage1 is glmer's first stage (nAGQ = 0): the Laplace deviance at
// the joint modes of (u, β), a function of θ alone.
func (g *glmm) devStage1(theta []float64) float64 {
	pdev, err := g.pirls(theta, true)
	if err != nil {
		return math.Inf(1)
	}
	return g.laplace(pdev)
}

// devStage2 is glmer's second stage: the Laplace (or AGQ) deviance at
// the modes of u for given θ and β.
func (g *glmm) devStage2(theta, beta []float64) float64 {
	copy(g.beta, beta)
	pdev, err := g.pirls(theta, false)
	if err != nil {
		return math.Inf(1)
	}
	if g.nagq > 1 {
		return g.agq()
	}
	return g.laplace(pdev)
}

// glmmFit is the optimum of FitGLMM's two stages.
type glmmFit struct {
	theta, beta []float64
	obj         float64
	evals       int
	conv        bool
	seRX        []float64
	hess        *mat.SymDense // of devStage2 over (θ, β), lme4's deriv12
}

// fit runs glmer's two stages: BOBYQA over θ with β in PIRLS, then over
// (θ, β) with β scaled by its stage-one standard errors, each followed by
// lme4's boundary check; with hessian, the finite-difference Hessian at
// the optimum for the standard errors.
func (g *glmm) fit(maxEval int, hessian bool) (*glmmFit, error) {
	m := g.m
	nth := m.nth
	lower := m.ThetaLower()
	x0 := make([]float64, nth)
	for i, lb := range lower {
		if lb == 0 {
			x0[i] = 1
		}
	}
	rhoBeg := 0.1
	if g.lastTheta != nil {
		// A refit (glmer.nb's search over the shape): start at the last
		// optimum with a smaller first trust region.
		copy(x0, g.lastTheta)
		rhoBeg = 0.02
	}
	f0 := g.devStage1(x0)
	if math.IsInf(f0, 1) {
		return nil, errors.New("fit: the mixed-model equations are singular at the starting θ (are the fixed-effects columns linearly dependent?)")
	}
	res := bobyqa(g.devStage1, x0, lower, nil, rhoBeg, 1e-6, maxEval, 0)
	evals := 1 + res.evals
	th1, f1 := res.x, res.f
	th1, f1, evals = g.boundary(func(th []float64) float64 { return g.devStage1(th) }, th1, f1, lower, nil, evals, maxEval)
	// Stage-one modes and standard errors of β (from R_X).
	g.devStage1(th1)
	beta1 := slices.Clone(g.beta)
	se1 := g.seRX()
	// Stage two over (θ, δ), β = β₁ + se₁ δ.
	nx := nth + g.p
	lo2 := make([]float64, nx)
	copy(lo2, lower)
	for i := nth; i < nx; i++ {
		lo2[i] = math.Inf(-1)
	}
	toBeta := func(x []float64) []float64 {
		b := make([]float64, g.p)
		for j := range b {
			b[j] = beta1[j] + se1[j]*x[nth+j]
		}
		return b
	}
	f2 := func(x []float64) float64 { return g.devStage2(x[:nth], toBeta(x)) }
	x2 := make([]float64, nx)
	copy(x2, th1)
	r2 := bobyqa(f2, x2, lo2, nil, 0.05, 1e-7, maxEval, 0)
	evals += r2.evals
	x, fx := r2.x, r2.f
	x, fx, evals = g.boundary(f2, x, fx, lo2, nil, evals, maxEval)
	out := &glmmFit{theta: slices.Clone(x[:nth]), beta: toBeta(x), obj: fx, evals: evals, conv: r2.conv}
	g.lastTheta = slices.Clone(out.theta)
	// The Hessian of the stage-two deviance over (θ, β), as lme4's
	// deriv12 computes it (central differences, δ = 1e-4), for vcov.
	if hessian {
		xt := slices.Concat(out.theta, out.beta)
		fb := func(v []float64) float64 { return g.devStage2(v[:nth], v[nth:]) }
		out.hess = deriv12(fb, xt, 1e-4)
	}
	// Leave the state at the optimum.
	out.obj = g.devStage2(out.theta, out.beta)
	out.seRX = g.seRX()
	return out, nil
}

// boundary is lme4's boundary check: a θ diagonal element below 1e-4 is
// moved to 1e-3 and, if that lowers the deviance, the search restarts
// there.
func (g *glmm) boundary(f func([]float64) float64, x []float64, fx float64, lower, upper []float64, evals, maxEval int) ([]float64, float64, int) {
	start := slices.Clone(x)
	nudged := false
	for i := range g.m.nth {
		if lower[i] == 0 && start[i] < singularTol {
			trial := slices.Clone(start)
			trial[i] = 1e-3
			evals++
			if v := f(trial); v < fx {
				start, nudged = trial, true
			}
		}
	}
	if nudged {
		r := bobyqa(f, start, lower, upper, 0.02, 1e-7, maxEval, 0)
		evals += r.evals
		if r.f < fx {
			return r.x, r.f, evals
		}
	}
	return x, fx, evals
}

// seRX returns the standard errors of β from the fixed-effects block of
// the current factor, sqrt(diag((L_X L_Xᵀ)⁻¹)) — glmer's
// vcov(use.hessian = FALSE). The kernel must hold a joint factorisation
// (β's block depends only on the weights, so any pirls leaves it right).
func (g *glmm) seRX() []float64 {
	p := g.p
	nt := len(g.m.terms)
	lx := g.m.l[nt][nt]
	se := make([]float64, p)
	col := make([]float64, p)
	inv := make([]float64, p*p)
	for c := range p {
		clear(col)
		col[c] = 1
		for i := c; i < p; i++ {
			s := col[i]
			for k := c; k < i; k++ {
				s -= lx.val[i*(p+1)+k] * col[k]
			}
			col[i] = s / lx.val[i*(p+1)+i]
		}
		for i := range p {
			inv[i*p+c] = col[i]
		}
	}
	for i := range p {
		var s float64
		for k := i; k < p; k++ {
			s += inv[k*p+i] * inv[k*p+i]
		}
		se[i] = math.Sqrt(s)
	}
	return se
}

// deriv12 is lme4's finite-difference Hessian: central differences with
// step delta on the diagonal and the four-point rule off it.
func deriv12(f func([]float64) float64, x []float64, delta float64) *mat.SymDense {
	n := len(x)
	fx := f(x)
	h := mat.NewSymDense(n, nil)
	at := func(i int, di float64, j int, dj float64) float64 {
		v := slices.Clone(x)
		v[i] += di
		if j >= 0 {
			v[j] += dj
		}
		return f(v)
	}
	for i := range n {
		fa := at(i, delta, -1, 0)
		fs := at(i, -delta, -1, 0)
		h.SetSym(i, i, (fa-2*fx+fs)/(delta*delta))
		for j := range i {
			faa := at(i, delta, j, delta)
			fas := at(i, delta, j, -delta)
			fsa := at(i, -delta, j, delta)
			fss := at(i, -delta, j, -delta)
			h.SetSym(i, j, (faa-fas-fsa+fss)/(4*delta*delta))
		}
	}
	return h
}

package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/mat"
)

// FitOptions control Fit.
type FitOptions struct {
	// REML selects the REML criterion instead of the ML deviance.
	REML bool
	// MaxEval bounds the number of objective evaluations (0: 10000).
	MaxEval int

	// rhoEnd, when positive, replaces fitRhoEnd (for measurements).
	rhoEnd float64
}

// fitRhoEnd is BOBYQA's final trust-region radius in θ (docs/ml.md: at
// 3e-5 the REML fit of nlme's BodyWeight, log(weight) ~ Time * Diet +
// (Time | Rat), stopped 2.3e-4 above lme4's optimum with θ off by 3e-3
// relative; 1e-5 reaches it for 4 % more evaluations over the formula
// references; 1e-4 moved θ by up to 8.7e-5 on sleepstudy, too close to
// the tests' tolerance for small θ).
const fitRhoEnd = 1e-5

// singularTol is lme4's isSingular tolerance.
const singularTol = 1e-4

// Fit fits the linear mixed model of d by maximum likelihood (or REML)
// as lme4 does: it minimises the profiled deviance (or REML criterion)
// over θ subject to the lower bounds of ThetaLower with BOBYQA (Powell's
// bound-constrained quadratic-model trust-region method, lme4's default
// optimiser), starting from the better of lme4's θ (1 on the diagonal of
// each Λ, 0 elsewhere) and a moment-based θ (see momentStart), and
// applies lme4's boundary check (a θ diagonal element at 0 is nudged off
// the bound and the search restarted if that lowers the objective).
func Fit(d *Design, opt FitOptions) (*FitResult, error) {
	m, err := NewMixedModel(d)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	if opt.REML && m.n <= m.p {
		return nil, fmt.Errorf("fit: REML needs more observations (%d) than fixed effects (%d)", m.n, m.p)
	}
	maxEval := opt.MaxEval
	if maxEval <= 0 {
		maxEval = 10000
	}
	lower := m.ThetaLower()
	// lme4's deviance with prior weights subtracts Σ log wᵢ (lmerResp's
	// ldW): the working rows' deviance is that of the weighted model
	// plus Σ log wᵢ.
	ldw := d.LogWeights()
	obj := func(th []float64) float64 {
		if m.SetTheta(th) != nil {
			return math.Inf(1)
		}
		return m.Objective(opt.REML) - ldw
	}
	x0 := make([]float64, m.nth)
	for i, lb := range lower {
		if lb == 0 {
			x0[i] = 1
		}
	}
	f0 := obj(x0)
	if math.IsInf(f0, 1) {
		return nil, errors.New("fit: the mixed-model equations are singular at the starting θ (are the fixed-effects columns linearly dependent?)")
	}
	evals := 1
	rhoBeg := 0.1
	if xm, ok := momentStart(m); ok && !slices.Equal(xm, x0) {
		evals++
		if fm := obj(xm); fm < f0 {
			x0 = xm
			rhoBeg = 0.02 // the moment start lands near the optimum: a smaller first trust region, as the boundary re-search uses
		}
	}
	rhoEnd := fitRhoEnd
	if opt.rhoEnd > 0 {
		rhoEnd = opt.rhoEnd
	}
	res := bobyqa(obj, x0, lower, nil, rhoBeg, rhoEnd, maxEval-evals, 0)
	evals += res.evals
	best, fbest := res.x, res.f
	conv := res.conv
	// lme4's boundary check: a diagonal element of Λ at its bound is
	// nudged off it; if that lowers the objective, search again from there.
	start := slices.Clone(best)
	nudged := false
	for i, lb := range lower {
		if lb == 0 && start[i] < singularTol && evals < maxEval {
			trial := slices.Clone(start)
			trial[i] = 1e-3
			evals++
			if f := obj(trial); f < fbest {
				start, nudged = trial, true
			}
		}
	}
	if nudged {
		r := bobyqa(obj, start, lower, nil, 0.02, rhoEnd, maxEval-evals, 0)
		evals += r.evals
		conv = r.conv
		if r.f < fbest {
			best, fbest = r.x, r.f
		}
	}
	// The kernel holds the last θ evaluated; refactor only if that is not
	// the best.
	if !m.ok || !slices.Equal(m.theta, best) {
		if err := m.SetTheta(best); err != nil {
			return nil, fmt.Errorf("fit: %w", err)
		}
	}
	r, err := newFitResult(m, d, opt.REML)
	if err != nil {
		return nil, err
	}
	r.Evals = evals
	r.Converged = conv
	return r, nil
}

// newFitResult summarises the kernel m of design d (m's working design
// when d has weights or an offset) at its current θ as lme4 does.
func newFitResult(m *MixedModel, d *Design, reml bool) (*FitResult, error) {
	n, p := m.n, m.p
	r := &FitResult{REML: reml, NObs: n, Theta: m.Theta()}
	if d.Formula != nil {
		r.Formula = d.Formula.Text
	}
	r.Objective = m.Objective(reml) - d.LogWeights()
	df := float64(n)
	if reml {
		df -= float64(p)
	}
	pw := m.PWRSS()
	r.Sigma = math.Sqrt(pw / df)
	r.LogLik = -r.Objective / 2
	npar := p + m.nth + 1
	r.DF = npar
	r.AIC = r.Objective + 2*float64(npar)
	r.BIC = r.Objective + float64(npar)*math.Log(float64(n))
	lower := m.ThetaLower()
	for i, lb := range lower {
		if lb == 0 && r.Theta[i] < singularTol {
			r.Singular = true
		}
	}
	u := make([]float64, m.q)
	beta := make([]float64, p)
	m.Modes(u, beta)
	r.Fixef = NamedValues{Names: slices.Clone(d.XNames), Values: beta}
	// vcov(β̂) = σ² L_X⁻ᵀ L_X⁻¹.
	lx := m.l[len(m.terms)][len(m.terms)]
	inv := make([]float64, p*p) // L_X⁻¹, lower triangular
	for c := range p {
		col := make([]float64, p)
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
	r.Vcov = make([][]float64, p)
	se := make([]float64, p)
	for i := range p {
		r.Vcov[i] = make([]float64, p)
		for j := range p {
			var s float64
			for k := max(i, j); k < p; k++ {
				s += inv[k*p+i] * inv[k*p+j]
			}
			r.Vcov[i][j] = r.Sigma * r.Sigma * s
		}
		se[i] = math.Sqrt(r.Vcov[i][i])
	}
	r.FixefSE = NamedValues{Names: slices.Clone(d.XNames), Values: se}
	// VarCorr in kernel order, group names made unique as R's
	// make.unique does.
	r.VarCorr = append(r.VarCorr, m.varCorrRows(r.Sigma*r.Sigma)...)
	r.VarCorr = append(r.VarCorr, VarCorrRow{Group: "Residual", Vcov: r.Sigma * r.Sigma, SDCor: r.Sigma})
	// Random effects b = Λu and fitted values.
	b := make([][]float64, len(d.Terms))
	for i, t := range d.Terms {
		b[i] = make([]float64, t.K*len(t.Levels))
	}
	m.ToB(u, b)
	r.Fitted = make([]float64, n)
	xr := d.X.RawMatrix()
	for i := range n {
		var s float64
		if d.Offset != nil {
			s = d.Offset[i]
		}
		for j := range p {
			s += xr.Data[i*xr.Stride+j] * beta[j]
		}
		r.Fitted[i] = s
	}
	d.AddZb(b, r.Fitted)
	r.weights = d.Weights
	r.Residuals = make([]float64, n)
	for i := range n {
		r.Residuals[i] = d.Y[i] - r.Fitted[i]
	}
	// ranef: terms merged by grouping factor, in kernel order.
	gidx := map[string]int{}
	for _, t := range m.terms {
		g := t.t.Group
		gi, ok := gidx[g]
		if !ok {
			gi = len(r.Ranef)
			gidx[g] = gi
			r.Ranef = append(r.Ranef, GroupEffects{Group: g, Levels: slices.Clone(t.t.Levels)})
		}
		ge := &r.Ranef[gi]
		if len(ge.Levels) != len(t.t.Levels) {
			return nil, fmt.Errorf("fit: terms for %q have different levels", g)
		}
		for e := range t.k {
			v := make([]float64, t.nl)
			for l := range t.nl {
				v[l] = b[t.design][l*t.k+e]
			}
			ge.Names = append(ge.Names, t.t.Names[e])
			ge.Values = append(ge.Values, v)
		}
	}
	r.Coef = coefOf(d.XNames, beta, r.Ranef)
	r.NGroups = make([]NamedInt, 0, len(r.Ranef))
	for _, ge := range r.Ranef {
		r.NGroups = append(r.NGroups, NamedInt{ge.Group, len(ge.Levels)})
	}
	return r, nil
}

// momentStart returns a starting θ from moments: for each term with one
// effect (K = 1), the variance of the per-level least-squares
// coefficients of the OLS residuals on the term's column, less their
// sampling variance, as a ratio to the residual variance left over;
// terms with K > 1 keep lme4's start (identity Λ). ok is false when the
// OLS fit fails.
func momentStart(m *MixedModel) ([]float64, bool) {
	d := m.d
	n, p := m.n, m.p
	nt := len(m.terms)
	// OLS from the [X y] cross products.
	xy := m.a[nt][nt].val
	var xtx mat.SymDense
	xtx.ReuseAsSym(p)
	xty := mat.NewVecDense(p, nil)
	for i := range p {
		for j := 0; j <= i; j++ {
			xtx.SetSym(i, j, xy[i*(p+1)+j])
		}
		xty.SetVec(i, xy[p*(p+1)+i])
	}
	var ch mat.Cholesky
	if !ch.Factorize(&xtx) {
		return nil, false
	}
	var beta mat.VecDense
	if err := ch.SolveVecTo(&beta, xty); err != nil {
		return nil, false
	}
	xr := d.X.RawMatrix()
	r := make([]float64, n)
	var rss float64
	for i := range n {
		v := d.Y[i]
		for j := range p {
			v -= xr.Data[i*xr.Stride+j] * beta.AtVec(j)
		}
		r[i] = v
		rss += v * v
	}
	vtot := rss / float64(max(n-p, 1))
	if !(vtot > 0) {
		return nil, false
	}
	// Per term: mean of squared per-level coefficients and of 1/Σz².
	type mom struct{ b2, inv float64 }
	moms := make([]mom, nt)
	for ti, t := range m.terms {
		if t.k != 1 {
			continue
		}
		zr := make([]float64, t.nl)
		zz := make([]float64, t.nl)
		for i := range n {
			l := t.t.Refs[i]
			z := t.t.Z[i]
			zr[l] += z * r[i]
			zz[l] += z * z
		}
		var b2, inv float64
		var cnt int
		for l := range t.nl {
			if zz[l] > 0 {
				b := zr[l] / zz[l]
				b2 += b * b
				inv += 1 / zz[l]
				cnt++
			}
		}
		if cnt > 0 {
			moms[ti] = mom{b2 / float64(cnt), inv / float64(cnt)}
		}
	}
	tau := make([]float64, nt)
	ve := vtot
	for range 3 {
		sum := 0.0
		for ti, t := range m.terms {
			if t.k == 1 {
				tau[ti] = math.Max(moms[ti].b2-ve*moms[ti].inv, 0)
				sum += tau[ti]
			}
		}
		ve = math.Max(vtot-sum, 0.05*vtot)
	}
	th := make([]float64, m.nth)
	for ti, t := range m.terms {
		if t.k != 1 {
			i := t.thoff
			for c := range t.k {
				for rr := c; rr < t.k; rr++ {
					if rr == c {
						th[i] = 1
					}
					i++
				}
			}
			continue
		}
		th[t.thoff] = math.Min(math.Max(math.Sqrt(tau[ti]/ve), 0.05), 10)
	}
	return th, true
}

// coefOf is lme4's coef(): per grouping factor and level, each fixed
// effect plus the level's random effect of the same name, then the random
// effects without a fixed counterpart.
func coefOf(xnames []string, beta []float64, ranef []GroupEffects) []GroupEffects {
	var coef []GroupEffects
	for _, ge := range ranef {
		c := GroupEffects{Group: ge.Group, Levels: ge.Levels}
		used := make([]bool, len(ge.Names))
		for j, fn := range xnames {
			v := make([]float64, len(ge.Levels))
			for l := range v {
				v[l] = beta[j]
			}
			for e, rn := range ge.Names {
				if rn == fn {
					used[e] = true
					for l := range v {
						v[l] += ge.Values[e][l]
					}
				}
			}
			c.Names = append(c.Names, fn)
			c.Values = append(c.Values, v)
		}
		for e, rn := range ge.Names {
			if !used[e] {
				c.Names = append(c.Names, rn)
				c.Values = append(c.Values, slices.Clone(ge.Values[e]))
			}
		}
		coef = append(coef, c)
	}
	return coef
}

// varCorrRows is lme4's VarCorr of the random-effect terms in kernel
// order at the current Λ, each covariance scaled by s2 (σ² for the
// Gaussian model, 1 for a GLMM): the variances (SDs) then the
// correlations per term, group names made unique as R's make.unique does.
func (m *MixedModel) varCorrRows(s2 float64) []VarCorrRow {
	var rows []VarCorrRow
	seen := map[string]int{}
	for _, t := range m.terms {
		g := t.t.Group
		name := g
		if c, ok := seen[g]; ok {
			name = g + "." + strconv.Itoa(c)
			seen[g] = c + 1
		} else {
			seen[g] = 1
		}
		k := t.k
		cov := make([]float64, k*k)
		for a := range k {
			for b := range k {
				var s float64
				for c := 0; c <= min(a, b); c++ {
					s += t.lambda[a*k+c] * t.lambda[b*k+c]
				}
				cov[a*k+b] = s2 * s
			}
		}
		for e := range k {
			rows = append(rows, VarCorrRow{Group: name, Var1: t.t.Names[e], Vcov: cov[e*k+e], SDCor: math.Sqrt(cov[e*k+e])})
		}
		for a := range k {
			for b := a + 1; b < k; b++ {
				corr := 0.0
				if den := math.Sqrt(cov[a*k+a] * cov[b*k+b]); den > 0 {
					corr = cov[a*k+b] / den
				}
				rows = append(rows, VarCorrRow{Group: name, Var1: t.t.Names[a], Var2: t.t.Names[b], Vcov: cov[a*k+b], SDCor: corr})
			}
		}
	}
	return rows
}

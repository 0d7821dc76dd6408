package model

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/gonum/mat"
)

// GLMMFitResult is a maximum-likelihood fit of a generalized linear mixed
// model with the quantities glmer reports. It marshals to JSON with the
// keys of testdata/glmm's reference files.
type GLMMFitResult struct {
	// Formula is the model formula as written.
	Formula string `json:"formula"`
	// Family and Link name the response distribution and link.
	Family string `json:"family"`
	Link   string `json:"link"`
	// NAGQ is the number of quadrature nodes (1: Laplace).
	NAGQ int `json:"nAGQ"`
	// NObs is the number of rows used.
	NObs int `json:"nobs"`
	// Objective is −2 log-likelihood at the optimum (the Laplace or AGQ
	// approximation), what glmer's summary prints as "deviance".
	Objective float64 `json:"objective"`
	// Deviance is lme4's deviance(fit): the sum of the conditional unit
	// deviances at the modes.
	Deviance float64 `json:"deviance"`
	// LogLik is −Objective/2.
	LogLik float64 `json:"logLik"`
	// AIC and BIC count p + length(θ) parameters (+1 for the negative
	// binomial's shape).
	AIC float64 `json:"AIC"`
	// BIC is the Bayesian information criterion.
	BIC float64 `json:"BIC"`
	// DFResid is nobs minus the number of parameters.
	DFResid int `json:"df_resid"`
	// Theta is θ̂ in lme4's layout.
	Theta []float64 `json:"theta"`
	// Singular is lme4's isSingular (tolerance 1e-4).
	Singular bool `json:"singular"`
	// Fixef is β̂ in the column order of X.
	Fixef NamedValues `json:"fixef"`
	// FixefSE are glmer's standard errors: from the finite-difference
	// Hessian of the deviance over (θ, β), as vcov(fit) does for nAGQ > 0.
	FixefSE NamedValues `json:"fixef_se"`
	// FixefSERX are the standard errors from R_X at the optimum,
	// vcov(fit, use.hessian = FALSE).
	FixefSERX NamedValues `json:"fixef_se_rx"`
	// ZValue and PValue are Fixef/FixefSE and 2Φ(−|z|).
	ZValue NamedValues `json:"z_value"`
	// PValue is Pr(>|z|).
	PValue NamedValues `json:"p_value"`
	// VarCorr lists the variance components as lme4's
	// as.data.frame(VarCorr()) does (no residual row).
	VarCorr []VarCorrRow `json:"varcorr"`
	// Ranef holds the conditional modes of b per grouping factor.
	Ranef GroupedEffects `json:"ranef"`
	// Coef holds fixed plus random coefficients per level, as coef().
	Coef GroupedEffects `json:"coef"`
	// Fitted holds the fitted means per trial (probabilities for the
	// logistic families, expected counts otherwise), as fitted().
	Fitted []float64 `json:"fitted"`
	// Shape is the negative binomial's shape (glmer.nb's theta).
	Shape *float64 `json:"nb_theta,omitempty"`

	// Vcov is the covariance matrix of β̂ behind FixefSE.
	Vcov [][]float64 `json:"-"`
	// NGroups gives the number of levels per grouping factor.
	NGroups []NamedInt `json:"-"`
	// Evals is the number of deviance evaluations.
	Evals int `json:"-"`
	// Converged is false if the optimiser hit its evaluation limit.
	Converged bool `json:"-"`
}

// FitGLMM fits the generalized linear mixed model of d (d.Family not
// Gaussian) by maximum likelihood as glmer does: the Laplace
// approximation (opt.NAGQ ≤ 1) or adaptive Gauss–Hermite quadrature,
// with the conditional modes found by penalised iteratively reweighted
// least squares on the blocked Cholesky kernel; first over θ with β in
// PIRLS (glmer's nAGQ = 0 stage), then over (θ, β). A negative binomial
// model is fitted as glmer.nb does: a Poisson fit, the shape's ML
// estimate given its fitted means, then the deviance minimised over the
// log shape, each value a full fit at that shape.
func FitGLMM(d *Design, opt GLMMOptions) (*GLMMFitResult, error) {
	nagq := max(opt.NAGQ, 1)
	maxEval := opt.MaxEval
	if maxEval <= 0 {
		maxEval = 10000
	}
	g, err := newGLMM(d, nagq)
	if err != nil {
		return nil, err
	}
	if d.Family != NegBinomial {
		f, err := g.fit(maxEval, true)
		if err != nil {
			return nil, err
		}
		return g.result(f)
	}
	// glmer.nb: Poisson start, theta.ml, then optimise over log shape.
	g.fam = Poisson
	if _, err := g.fit(maxEval, false); err != nil {
		return nil, err
	}
	mu := make([]float64, g.n)
	for i, e := range g.eta {
		mu[i] = math.Exp(e)
	}
	k0 := thetaML(g.y, mu, g.pw)
	g.fam = NegBinomial
	var ferr error
	devAt := func(lk float64) float64 {
		g.shape = math.Exp(lk)
		f, err := g.fit(maxEval, false)
		if err != nil {
			ferr = err
			return math.Inf(1)
		}
		return f.obj
	}
	// lme4's interval: log(θ₀) ± 3.
	l0 := math.Log(k0)
	lo, hi := l0-3, l0+3
	lk := brentMin(devAt, lo, hi, 1e-5)
	if ferr != nil {
		return nil, ferr
	}
	g.shape = math.Exp(lk)
	// The final fit at the chosen shape, with the Hessian (warm-started
	// from the modes of the last evaluation).
	f, err := g.fit(maxEval, true)
	if err != nil {
		return nil, err
	}
	r, err := g.result(f)
	if err != nil {
		return nil, err
	}
	sh := g.shape
	r.Shape = &sh
	r.AIC += 2
	r.BIC += math.Log(float64(g.n))
	r.DFResid--
	return r, nil
}

// thetaML is MASS's theta.ml: the ML estimate of the negative binomial
// shape given the means mu and the prior weights w, by Newton's method
// from the moment estimate.
func thetaML(y, mu, w []float64) float64 {
	var n, s float64
	for i := range y {
		r := y[i]/mu[i] - 1
		s += w[i] * r * r
		n += w[i]
	}
	t := n / s
	for range 50 {
		t0 := t
		var sc, inf float64
		for i := range y {
			sc += w[i] * (digamma(t+y[i]) - digamma(t) + math.Log(t) + 1 - math.Log(t+mu[i]) - (y[i]+t)/(mu[i]+t))
			inf += w[i] * (-trigamma(t+y[i]) + trigamma(t) - 1/t + 2/(mu[i]+t) - (y[i]+t)/((mu[i]+t)*(mu[i]+t)))
		}
		t = t0 + sc/inf
		if t <= 0 {
			t = t0 / 2
		}
		if math.Abs(t-t0) < 1e-10*t0 {
			break
		}
	}
	return t
}

// digamma is ψ(x) for x > 0 (recurrence to x ≥ 20, then the asymptotic
// series).
func digamma(x float64) float64 {
	var r float64
	for x < 20 {
		r -= 1 / x
		x++
	}
	f := 1 / (x * x)
	return r + math.Log(x) - 0.5/x - f*(1.0/12-f*(1.0/120-f*(1.0/252-f*(1.0/240-f/132))))
}

// trigamma is ψ'(x) for x > 0.
func trigamma(x float64) float64 {
	var r float64
	for x < 20 {
		r += 1 / (x * x)
		x++
	}
	f := 1 / (x * x)
	return r + 1/x + f/2 + f/x*(1.0/6-f*(1.0/30-f*(1.0/42-f/30)))
}

// brentMin minimises f on [a, b] by Brent's method (golden section with
// parabolic steps, as R's optimize), to tolerance tol in x.
func brentMin(f func(float64) float64, a, b, tol float64) float64 {
	const c = 0.3819660112501051
	x := a + c*(b-a)
	w, v := x, x
	fx := f(x)
	fw, fv := fx, fx
	var d, e float64
	for range 200 {
		xm := (a + b) / 2
		tol1 := 1.5e-8*math.Abs(x) + tol/3
		tol2 := 2 * tol1
		if math.Abs(x-xm) <= tol2-(b-a)/2 {
			break
		}
		golden := true
		if math.Abs(e) > tol1 {
			r := (x - w) * (fx - fv)
			q := (x - v) * (fx - fw)
			p := (x-v)*q - (x-w)*r
			q = 2 * (q - r)
			if q > 0 {
				p = -p
			}
			q = math.Abs(q)
			if math.Abs(p) < math.Abs(q*e/2) && p > q*(a-x) && p < q*(b-x) {
				e, d = d, p/q
				u := x + d
				if u-a < tol2 || b-u < tol2 {
					d = math.Copysign(tol1, xm-x)
				}
				golden = false
			}
		}
		if golden {
			if x < xm {
				e = b - x
			} else {
				e = a - x
			}
			d = c * e
		}
		u := x + d
		if math.Abs(d) < tol1 {
			u = x + math.Copysign(tol1, d)
		}
		fu := f(u)
		if fu <= fx {
			if u < x {
				b = x
			} else {
				a = x
			}
			v, fv, w, fw, x, fx = w, fw, x, fx, u, fu
		} else {
			if u < x {
				a = u
			} else {
				b = u
			}
			if fu <= fw || w == x {
				v, fv, w, fw = w, fw, u, fu
			} else if fu <= fv || v == x || v == w {
				v, fv = u, fu
			}
		}
	}
	return x
}

// unitDeviance is the family's deviance residual squared of one row at
// mean mu (per trial for the logistic families).
func (f Family) unitDeviance(y, n, mu, shape float64) float64 {
	xlogy := func(a, b float64) float64 {
		if a == 0 {
			return 0
		}
		return a * math.Log(a/b)
	}
	switch f {
	case Bernoulli, Binomial:
		return 2 * (xlogy(y, n*mu) + xlogy(n-y, n*(1-mu)))
	case Poisson:
		return 2 * (xlogy(y, mu) - (y - mu))
	case NegBinomial:
		return 2 * (xlogy(y, mu) - (y+shape)*math.Log((y+shape)/(mu+shape)))
	}
	return (y - mu) * (y - mu)
}

// result summarises the fit f, leaving g at its optimum.
func (g *glmm) result(f *glmmFit) (*GLMMFitResult, error) {
	d, m := g.d, g.m
	p := g.p
	r := &GLMMFitResult{Family: g.fam.String(), Link: g.fam.Link(), NAGQ: g.nagq, NObs: g.n,
		Theta: slices.Clone(f.theta), Evals: f.evals, Converged: f.conv}
	if d.Formula != nil {
		r.Formula = d.Formula.Text
	}
	r.Objective = f.obj
	r.LogLik = -f.obj / 2
	npar := p + m.nth
	r.AIC = f.obj + 2*float64(npar)
	r.BIC = f.obj + float64(npar)*math.Log(float64(g.n))
	r.DFResid = g.n - npar
	for i, lb := range m.ThetaLower() {
		if lb == 0 && f.theta[i] < singularTol {
			r.Singular = true
		}
	}
	names := slices.Clone(d.XNames)
	r.Fixef = NamedValues{Names: names, Values: slices.Clone(f.beta)}
	r.FixefSERX = NamedValues{Names: names, Values: f.seRX}
	// vcov: 2 H⁻¹ restricted to β (lme4's calc.vcov.hess).
	var hinv mat.Dense
	nth := m.nth
	se := make([]float64, p)
	r.Vcov = make([][]float64, p)
	if err := hinv.Inverse(f.hess); err == nil {
		for i := range p {
			r.Vcov[i] = make([]float64, p)
			for j := range p {
				r.Vcov[i][j] = 2 * hinv.At(nth+i, nth+j)
			}
			se[i] = math.Sqrt(r.Vcov[i][i])
		}
	} else {
		for i := range p {
			se[i] = math.NaN()
			r.Vcov[i] = make([]float64, p)
		}
	}
	r.FixefSE = NamedValues{Names: names, Values: se}
	z := make([]float64, p)
	pv := make([]float64, p)
	for i := range p {
		z[i] = f.beta[i] / se[i]
		pv[i] = math.Erfc(math.Abs(z[i]) / math.Sqrt2)
	}
	r.ZValue = NamedValues{Names: names, Values: z}
	r.PValue = NamedValues{Names: names, Values: pv}
	// Fitted means and lme4's deviance().
	r.Fitted = make([]float64, g.n)
	for i, e := range g.eta {
		mu := g.fam.LinkInv(e)
		r.Fitted[i] = mu
		r.Deviance += g.pw[i] * g.fam.unitDeviance(g.y[i], g.ntr[i], mu, g.shape)
	}
	// VarCorr (σ = 1), ranef and coef.
	r.VarCorr = append(r.VarCorr, m.varCorrRows(1)...)
	m.ToB(g.u, g.b)
	ranef, coef, err := groupEffects(m, g.b, f.beta)
	if err != nil {
		return nil, err
	}
	r.Ranef, r.Coef = ranef, coef
	for _, ge := range r.Ranef {
		r.NGroups = append(r.NGroups, NamedInt{ge.Group, len(ge.Levels)})
	}
	return r, nil
}

// groupEffects returns ranef (b merged by grouping factor, in kernel
// order) and coef (fixed plus random per level) as lme4 lays them out.
func groupEffects(m *MixedModel, b [][]float64, beta []float64) (GroupedEffects, GroupedEffects, error) {
	d := m.d
	var ranef, coef GroupedEffects
	gidx := map[string]int{}
	for _, t := range m.terms {
		g := t.t.Group
		gi, ok := gidx[g]
		if !ok {
			gi = len(ranef)
			gidx[g] = gi
			ranef = append(ranef, GroupEffects{Group: g, Levels: slices.Clone(t.t.Levels)})
		}
		ge := &ranef[gi]
		if len(ge.Levels) != len(t.t.Levels) {
			return nil, nil, fmt.Errorf("fit: terms for %q have different levels", g)
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
	coef = coefOf(d.XNames, beta, ranef)
	return ranef, coef, nil
}

// WriteSummary prints the fit laid out like glmer's summary().
func (r *GLMMFitResult) WriteSummary(w io.Writer) error {
	var b strings.Builder
	how := "Laplace Approximation"
	if r.NAGQ > 1 {
		how = fmt.Sprintf("Adaptive Gauss-Hermite Quadrature, nAGQ = %d", r.NAGQ)
	}
	fmt.Fprintf(&b, "Generalized linear mixed model fit by maximum likelihood (%s)\n", how)
	fam := r.Family
	if r.Shape != nil {
		fam = fmt.Sprintf("Negative Binomial(%.4g)", *r.Shape)
	}
	fmt.Fprintf(&b, " Family: %s  ( %s )\n", fam, r.Link)
	fmt.Fprintf(&b, "Formula: %s\n\n", r.Formula)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "AIC\tBIC\tlogLik\tdeviance\tdf.resid\t")
	fmt.Fprintf(tw, "%.1f\t%.1f\t%.1f\t%.1f\t%d\t\n", r.AIC, r.BIC, r.LogLik, r.Objective, r.DFResid)
	tw.Flush()
	b.WriteString("\nRandom effects:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	hasCorr := slices.ContainsFunc(r.VarCorr, func(v VarCorrRow) bool { return v.Var2 != "" })
	if hasCorr {
		fmt.Fprintln(tw, " Groups\tName\tVariance\tStd.Dev.\tCorr")
	} else {
		fmt.Fprintln(tw, " Groups\tName\tVariance\tStd.Dev.")
	}
	for i, v := range r.VarCorr {
		if v.Var2 != "" {
			continue
		}
		g := v.Group
		if i > 0 && r.VarCorr[i-1].Group == v.Group {
			g = ""
		}
		var corr []string
		for _, c := range r.VarCorr {
			if c.Group == v.Group && c.Var2 == v.Var1 {
				corr = append(corr, fmt.Sprintf("%5.2f", c.SDCor))
			}
		}
		if hasCorr {
			fmt.Fprintf(tw, " %s\t%s\t%.4g\t%.4g\t%s\n", g, v.Var1, v.Vcov, v.SDCor, strings.Join(corr, " "))
		} else {
			fmt.Fprintf(tw, " %s\t%s\t%.4g\t%.4g\n", g, v.Var1, v.Vcov, v.SDCor)
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "Number of obs: %d", r.NObs)
	if len(r.NGroups) > 0 {
		b.WriteString(", groups: ")
		for i, g := range r.NGroups {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s, %d", g.Name, g.N)
		}
	}
	b.WriteString("\n\nFixed effects:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tEstimate\tStd. Error\tz value\tPr(>|z|)\t")
	for i, n := range r.Fixef.Names {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.3f\t%s\t\n", n, r.Fixef.Values[i], r.FixefSE.Values[i], r.ZValue.Values[i], formatP(r.PValue.Values[i]))
	}
	tw.Flush()
	if r.Singular {
		b.WriteString("boundary (singular) fit: see help('isSingular')\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatP writes a p-value as R's format.pval does with 3 digits, "< 2e-16"
// below machine precision.
func formatP(p float64) string {
	if p < 2e-16 {
		return "< 2e-16"
	}
	return strconv.FormatFloat(p, 'g', 3, 64)
}

package loo

import (
	"fmt"
	"math"

	"github.com/lmmbayes/lmmbayes/model"
)

const log2Pi = 1.8378770664093453 // log(2π)

// Fitted writes the expected response of every training row of d for one
// draw into dst (length d.N): oᵢ + xᵢβ + Σₖ zᵢₖbₖ (brms's posterior_epred;
// oᵢ the row's offset, 0 without one) when withRE is true, oᵢ + xᵢβ alone
// (re_formula = NA) otherwise. With withRE the
// draw must hold the effects of every level (pd.B).
func Fitted(d *model.Design, pd *model.ParamDraw, withRE bool, dst []float64) error {
	if len(pd.Beta) != len(d.XNames) {
		return fmt.Errorf("draw has %d fixed effects, the model %d", len(pd.Beta), len(d.XNames))
	}
	n := d.N
	raw := d.X.RawMatrix()
	for i := range dst[:n] {
		row := raw.Data[i*raw.Stride : i*raw.Stride+raw.Cols]
		var s float64
		if d.Offset != nil {
			s = d.Offset[i]
		}
		for j, bj := range pd.Beta {
			s += row[j] * bj
		}
		dst[i] = s
	}
	if !withRE {
		return nil
	}
	return addRandom(d, pd, dst)
}

// FittedBoth writes Fitted without (fixed) and with (full) the random
// effects in one pass over the design.
func FittedBoth(d *model.Design, pd *model.ParamDraw, fixed, full []float64) error {
	if err := Fitted(d, pd, false, fixed); err != nil {
		return err
	}
	copy(full[:d.N], fixed[:d.N])
	return addRandom(d, pd, full)
}

// addRandom adds Σₖ zᵢₖbₖ to dst.
func addRandom(d *model.Design, pd *model.ParamDraw, dst []float64) error {
	n := d.N
	for t, term := range d.Terms {
		k := term.K
		if t >= len(pd.B) || len(pd.B[t]) != len(term.Levels)*k {
			return fmt.Errorf("the draws hold no effects of %q (run with [output] random_effects = true)", term.Group)
		}
		bt := pd.B[t]
		for i := range n {
			ref := int(term.Refs[i]) * k
			s := 0.0
			for e := range k {
				s += term.Z[e*n+i] * bt[ref+e]
			}
			dst[i] += s
		}
	}
	return nil
}

// GaussianLogLik writes the pointwise log-likelihood of every training row
// for one draw into dst: log N(yᵢ; μᵢ, σ²/wᵢ) with μ = Fitted(d, pd, true)
// and wᵢ the row's prior weight (1 without weights: lmer's weights, the
// residual variance σ²/wᵢ), conditional on the draw's random effects as
// brms and rstanarm compute log_lik. mu (length d.N) is scratch space.
func GaussianLogLik(d *model.Design, pd *model.ParamDraw, mu, dst []float64) error {
	if err := Fitted(d, pd, true, mu); err != nil {
		return err
	}
	s := pd.Sigma
	c := -0.5*log2Pi - math.Log(s)
	for i, y := range d.Y {
		z := (y - mu[i]) / s
		if d.Weights != nil {
			w := d.Weights[i]
			dst[i] = c + 0.5*math.Log(w) - 0.5*w*z*z
			continue
		}
		dst[i] = c - 0.5*z*z
	}
	return nil
}

// BayesR2 returns the Bayesian R² of one draw (Gelman, Goodrich, Gabry &
// Vehtari 2019) as brms's .bayes_R2 computes it: var(ŷ)/(var(ŷ) + var(e)),
// ŷ the draw's expected responses, e = y − ŷ, both sample variances.
func BayesR2(y, yhat []float64) float64 {
	n := float64(len(y))
	var mp, me float64
	for i, v := range yhat {
		mp += v
		me += y[i] - v
	}
	mp /= n
	me /= n
	var vp, ve float64
	for i, v := range yhat {
		a := v - mp
		b := y[i] - v - me
		vp += a * a
		ve += b * b
	}
	vp /= n - 1
	ve /= n - 1
	return vp / (vp + ve)
}

// GroupLogLik computes, for every level of one grouping factor, the log
// marginal likelihood of that level's rows with the level's own random
// effects integrated out (the effects of every term of that factor), the
// other factors' effects held at the draw's values:
//
//	y_g ~ N(X_g β + Σ_{other terms} Z b, Z_g Σ Z_gᵀ + σ² I),
//
// Σ block-diagonal over the factor's terms. It is the pointwise
// log-likelihood of leave-one-group-out cross-validation.
//
// With prior weights and offsets it works on the √w-scaled rows of
// y − offset (model.Design.Working), whose density is the weighted
// model's times Π √wᵢ⁻¹: ½ Σ log wᵢ over the level's rows is added back.
type GroupLogLik struct {
	// d is the working design; logW[j] is ½ Σ log wᵢ over level j's rows.
	logW   []float64
	d      *model.Design
	group  string
	terms  []int // terms of the factor, in design order
	levels []string
	rows   [][]int // rows of each level
	k      int     // total effects of the factor
	// scratch
	mu, w, m, l, r, a []float64
}

// NewGroupLogLik prepares GroupLogLik for the grouping factor named group
// (as the formula writes it: "Subject", "a:b").
func NewGroupLogLik(d *model.Design, group string) (*GroupLogLik, error) {
	weights := d.Weights
	d = d.Working()
	g := &GroupLogLik{d: d, group: group}
	var names []string
	for t, term := range d.Terms {
		if term.Group != group {
			continue
		}
		if len(g.terms) > 0 {
			first := d.Terms[g.terms[0]]
			if len(first.Levels) != len(term.Levels) {
				return nil, fmt.Errorf("terms of %q have different levels", group)
			}
			for i := range term.Refs {
				if term.Refs[i] != first.Refs[i] {
					return nil, fmt.Errorf("terms of %q have different levels", group)
				}
			}
		}
		g.terms = append(g.terms, t)
		g.k += term.K
	}
	if len(g.terms) == 0 {
		seen := map[string]bool{}
		for _, term := range d.Terms {
			if !seen[term.Group] {
				seen[term.Group] = true
				names = append(names, term.Group)
			}
		}
		return nil, fmt.Errorf("no random-effect term is grouped by %q (the model's grouping factors: %v)", group, names)
	}
	first := d.Terms[g.terms[0]]
	g.levels = first.Levels
	g.rows = make([][]int, len(first.Levels))
	for i, ref := range first.Refs {
		g.rows[ref] = append(g.rows[ref], i)
	}
	if weights != nil {
		g.logW = make([]float64, len(first.Levels))
		for i, ref := range first.Refs {
			g.logW[ref] += 0.5 * math.Log(weights[i])
		}
	}
	g.mu = make([]float64, d.N)
	g.m = make([]float64, g.k*g.k)
	g.l = make([]float64, g.k*g.k)
	g.a = make([]float64, g.k)
	return g, nil
}

// Levels returns the factor's levels, the columns of LogLik's output.
func (g *GroupLogLik) Levels() []string { return g.levels }

// Group returns the grouping factor's name.
func (g *GroupLogLik) Group() string { return g.group }

// LogLik writes each level's log marginal likelihood for one draw into dst
// (length len(Levels())). The draw needs β, σ, the covariance of every term
// (pd.Cov) and the effects of the other factors' terms.
//
// With Σ = LLᵀ (L lower, a zero column for a zero variance) and W = Z_g L,
// V = σ²I + WWᵀ, so by the matrix determinant lemma and Woodbury's identity
// log|V| = n log σ² + log|I + WᵀW/σ²| and rᵀV⁻¹r = (rᵀr − cᵀ(σ²I + WᵀW)⁻¹c)/σ²,
// c = Wᵀr: O(n_g K²) per level.
func (g *GroupLogLik) LogLik(pd *model.ParamDraw, dst []float64) error {
	d := g.d
	n := d.N
	// μ = Xβ + the other factors' effects.
	if err := Fitted(d, &model.ParamDraw{Beta: pd.Beta}, false, g.mu); err != nil {
		return err
	}
	for t, term := range d.Terms {
		if term.Group == g.group {
			continue
		}
		k := term.K
		if t >= len(pd.B) || len(pd.B[t]) != len(term.Levels)*k {
			return fmt.Errorf("the draws hold no effects of %q (run with [output] random_effects = true)", term.Group)
		}
		bt := pd.B[t]
		for i := range n {
			ref := int(term.Refs[i]) * k
			for e := range k {
				g.mu[i] += term.Z[e*n+i] * bt[ref+e]
			}
		}
	}
	// L = blockdiag(chol(Σₜ)).
	K := g.k
	L := g.l
	for i := range L {
		L[i] = 0
	}
	off := 0
	for _, t := range g.terms {
		k := d.Terms[t].K
		if t >= len(pd.Cov) || len(pd.Cov[t]) != k*k {
			return fmt.Errorf("the draw has no covariance of %q", g.group)
		}
		cl := make([]float64, k*k)
		if err := model.CholeskyPSD(pd.Cov[t], k, cl); err != nil {
			return fmt.Errorf("covariance of %q: %w", g.group, err)
		}
		for a := range k {
			for b := 0; b <= a; b++ {
				L[(off+a)*K+off+b] = cl[a*k+b]
			}
		}
		off += k
	}
	s2 := pd.Sigma * pd.Sigma
	for j, rows := range g.rows {
		nj := len(rows)
		// W = Z L (nj × K), r = y − μ.
		if cap(g.w) < nj*K {
			g.w = make([]float64, nj*K)
		}
		if cap(g.r) < nj {
			g.r = make([]float64, nj)
		}
		W, r := g.w[:nj*K], g.r[:nj]
		z := make([]float64, K)
		var rr float64
		for ii, i := range rows {
			off := 0
			for _, t := range g.terms {
				term := d.Terms[t]
				for e := range term.K {
					z[off+e] = term.Z[e*n+i]
				}
				off += term.K
			}
			for b := range K {
				s := 0.0
				for a := b; a < K; a++ {
					s += z[a] * L[a*K+b]
				}
				W[ii*K+b] = s
			}
			r[ii] = d.Y[i] - g.mu[i]
			rr += r[ii] * r[ii]
		}
		// M = σ²I + WᵀW, c = Wᵀr.
		M, c := g.m, g.a
		for a := range K {
			c[a] = 0
			for b := range K {
				M[a*K+b] = 0
			}
		}
		for ii := range nj {
			wi := W[ii*K : ii*K+K]
			for a := range K {
				c[a] += wi[a] * r[ii]
				for b := 0; b <= a; b++ {
					M[a*K+b] += wi[a] * wi[b]
				}
			}
		}
		for a := range K {
			M[a*K+a] += s2
		}
		// Cholesky of M (lower, in place), log|M|.
		var logdetM float64
		for a := range K {
			for b := 0; b <= a; b++ {
				s := M[a*K+b]
				for f := range b {
					s -= M[a*K+f] * M[b*K+f]
				}
				if a == b {
					if !(s > 0) {
						return fmt.Errorf("marginal covariance of level %q of %q not positive definite", g.levels[j], g.group)
					}
					M[a*K+a] = math.Sqrt(s)
					logdetM += math.Log(s)
				} else {
					M[a*K+b] = s / M[b*K+b]
				}
			}
		}
		// cᵀM⁻¹c = ‖R⁻¹c‖², R the lower factor.
		var q float64
		for a := range K {
			s := c[a]
			for f := range a {
				s -= M[a*K+f] * c[f]
			}
			c[a] = s / M[a*K+a]
			q += c[a] * c[a]
		}
		// log|V| = (nj − K) log σ² + log|M|.
		logdet := float64(nj-K)*math.Log(s2) + logdetM
		quad := (rr - q) / s2
		dst[j] = -0.5*float64(nj)*log2Pi - 0.5*logdet - 0.5*quad
		if g.logW != nil {
			dst[j] += g.logW[j]
		}
	}
	return nil
}

// GLMMLogLik writes the pointwise log-likelihood of every training row of
// a non-Gaussian design d for one draw into dst, conditional on the
// draw's effects (as brms's log_lik): log p(yᵢ | ηᵢ) with η = Fitted(d,
// pd, true) the linear predictor, by model.Family.LogDensity (dbinom with
// the row's trials, dpois, dnbinom with pd.Shape). eta is scratch of
// length d.N.
func GLMMLogLik(d *model.Design, pd *model.ParamDraw, eta, dst []float64) error {
	f, err := GLMMLogLikFunc(d)
	if err != nil {
		return err
	}
	return f(pd, eta, dst)
}

// GLMMLogLikFunc returns GLMMLogLik for design d, for many draws (with
// prior weights each row's log density times its weight, as glmer's and
// brms's weighted likelihoods): the
// terms of each row's log density that involve neither η nor the shape
// (the binomial coefficient, log y!) are computed once, here.
func GLMMLogLikFunc(d *model.Design) (func(pd *model.ParamDraw, eta, dst []float64) error, error) {
	if d.Family == model.Gaussian {
		return nil, fmt.Errorf("GLMMLogLik: gaussian design")
	}
	ntr := make([]float64, len(d.Y))
	cst := make([]float64, len(d.Y))
	for i, y := range d.Y {
		ntr[i] = 1
		if d.Trials != nil {
			ntr[i] = d.Trials[i]
		}
		cst[i] = d.Family.LogDensityConst(y, ntr[i])
	}
	return func(pd *model.ParamDraw, eta, dst []float64) error {
		if err := Fitted(d, pd, true, eta); err != nil {
			return err
		}
		for i, y := range d.Y {
			dst[i] = d.Family.LogDensityKernel(y, ntr[i], eta[i], pd.Shape) + cst[i]
			if d.Weights != nil {
				dst[i] *= d.Weights[i]
			}
		}
		return nil
	}, nil
}

// ToResponse turns linear predictors of the training rows of d into
// expected responses in place, as brms's posterior_epred: the inverse link
// times the row's trials for a binomial (expected successes), the
// probability for a Bernoulli, exp(η) for the count families; the
// Gaussian's are left as they are.
func ToResponse(d *model.Design, eta []float64) {
	if d.Family == model.Gaussian {
		return
	}
	for i := range eta[:d.N] {
		v := d.Family.LinkInv(eta[i])
		if d.Trials != nil {
			v *= d.Trials[i]
		}
		eta[i] = v
	}
}

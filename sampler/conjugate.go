package sampler

import (
	"math"
	"math/rand/v2"

	"github.com/lmmbayes/lmmbayes/priors"
	"gonum.org/v1/gonum/mat"
)

// hsGroup is the latent state of the horseshoe coefficients that share
// one global scale: βⱼ | λⱼ, τ, σ ~ N(0, σ²τ²λⱼ²).
type hsGroup struct {
	prior priors.Horseshoe
	cols  []int // columns of X
	state *priors.HorseshoeState
	bsub  []float64
}

// newHSGroups builds the horseshoe groups of classifyFixed's output, each
// started at λⱼ² = νⱼ = 1, τ² = A², ξ = A² (a deterministic state inside
// the support; the chain's warmup moves it).
func newHSGroups(fixed []fixedPrior) []*hsGroup {
	var gs []*hsGroup
	for j, f := range fixed {
		if f.kind != fixedHorseshoe {
			continue
		}
		for len(gs) <= f.hs {
			gs = append(gs, nil)
		}
		if gs[f.hs] == nil {
			gs[f.hs] = &hsGroup{prior: f.prior.(priors.Horseshoe)}
		}
		gs[f.hs].cols = append(gs[f.hs].cols, j)
	}
	for _, g := range gs {
		p := len(g.cols)
		a2 := g.prior.Scale * g.prior.Scale
		g.state = &priors.HorseshoeState{Lambda2: make([]float64, p), Nu: make([]float64, p), Tau2: a2, Xi: a2}
		for i := range p {
			g.state.Lambda2[i], g.state.Nu[i] = 1, 1
		}
		g.bsub = make([]float64, p)
	}
	return gs
}

// updateHorseshoe draws every horseshoe group's latent state given β and
// σ² (priors.Horseshoe.Update: λⱼ², νⱼ, τ², ξ in turn from their
// inverse-gamma full conditionals) and sets the prior variances τ²λⱼ².
func (ev *evaluator) updateHorseshoe(beta []float64, sigma2 float64, rng *rand.Rand) {
	for _, g := range ev.hs {
		for i, j := range g.cols {
			g.bsub[i] = beta[j]
		}
		g.prior.Update(g.state, g.bsub, sigma2, rng)
		for i, j := range g.cols {
			v := g.state.Tau2 * g.state.Lambda2[i]
			// Guard the kernel against a precision that over- or
			// underflows (a draw at the edge of the support).
			ev.lvar[j] = math.Min(math.Max(v, 1e-300), 1e300)
		}
	}
}

// hsLogDensity is the horseshoe part of lp__: Σⱼ log N(βⱼ; 0, σ²τ²λⱼ²) +
// log C⁺(λⱼ; 0, 1), and log C⁺(τ; 0, A) per group.
func (ev *evaluator) hsLogDensity(sigma2 float64, beta []float64) float64 {
	var lp float64
	for _, g := range ev.hs {
		st := g.state
		for i, j := range g.cols {
			v := sigma2 * st.Tau2 * st.Lambda2[i]
			lp += -0.5*(log2pi+math.Log(v)) - 0.5*beta[j]*beta[j]/v
			lp += math.Log(2/math.Pi) - math.Log1p(st.Lambda2[i])
		}
		a := g.prior.Scale
		lp += math.Log(2/(math.Pi*a)) - math.Log1p(st.Tau2/(a*a))
	}
	return lp
}

// hsSigmaTerms returns what the horseshoe coefficients add to the
// inverse-gamma full conditional of σ²: shape p/2, rate Σ βⱼ²/(2τ²λⱼ²).
func (ev *evaluator) hsSigmaTerms(beta []float64) (shape, rate float64) {
	for _, g := range ev.hs {
		for i, j := range g.cols {
			g.bsub[i] = beta[j]
		}
		a, r := g.state.SigmaTerms(g.bsub)
		shape += a
		rate += r
	}
	return shape, rate
}

// hsSigmaLog is the σ-dependent part of log p(β_hs | σ, latents):
// −Σⱼ [log σ + βⱼ²/(2σ²τ²λⱼ²)], for the plain Gibbs target of ψ.
func (ev *evaluator) hsSigmaLog(logSigma float64, beta []float64) float64 {
	shape, rate := ev.hsSigmaTerms(beta)
	return -2*shape*logSigma - rate*math.Exp(-2*logSigma)
}

// updateInvWishart draws the Σ of every inverse-Wishart term from its
// full conditional given b, Σₖ | b ~ IW(ν + J, S + Σⱼ bⱼbⱼᵀ) (its ν
// shifted by nuShift, a deliberate error for the tests); it reports
// whether any Σ changed.
func (ev *evaluator) updateInvWishart(b [][]float64, nuShift float64, rng *rand.Rand) bool {
	changed := false
	for ti, t := range ev.lay.terms {
		if !t.iw {
			continue
		}
		k := t.k
		sc := mat.NewSymDense(k, nil)
		bt := b[ti]
		for lev := range t.nlev {
			bl := bt[lev*k : (lev+1)*k]
			for r := range k {
				for c := 0; c <= r; c++ {
					sc.SetSym(r, c, sc.At(r, c)+bl[r]*bl[c])
				}
			}
		}
		post := ev.spec.Cov[ti].Posterior(sc, t.nlev)
		post.Nu += nuShift
		sig := post.RandCov(k, rng)
		if sig == nil {
			continue
		}
		buf := make([]float64, k*k)
		for r := range k {
			for c := range k {
				buf[r*k+c] = sig.At(r, c)
			}
		}
		if ev.setIWSigma(ti, buf) {
			changed = true
		}
	}
	return changed
}

// updateInvGamma draws, for σ and for each SD of an uncorrelated term
// (not inverse-Wishart) whose prior is priors.InvGamma, the variance from
// its conjugate full conditional given (β, b) and the other parameters:
//
//	σ² | · ~ IG(a + n/2 + p_hs/2, b + RSS/2 + Σ_hs βⱼ²/(2τ²λⱼ²)),
//	τₖₑ² | · ~ IG(a + Jₖ/2, b + Σⱼ bₖⱼₑ²/2),
//
// writing log σ and log τ into psi. It reports whether any changed.
func (ev *evaluator) updateInvGamma(psi, beta []float64, b [][]float64, rng *rand.Rand) bool {
	changed := false
	if g, ok := ev.spec.Sigma.(priors.InvGamma); ok {
		rss := ev.rss(beta, b)
		sh, rt := ev.hsSigmaTerms(beta)
		v := priors.RandInvGamma(g.Shape+float64(ev.lay.n)/2+sh, g.Scale+rss/2+rt, rng)
		if v > 0 && !math.IsInf(v, 1) {
			psi[0] = 0.5 * math.Log(v)
			changed = true
		}
	}
	for ti, t := range ev.lay.terms {
		if t.iw || t.corr {
			continue
		}
		for e := range t.k {
			g, ok := ev.spec.SD[ti][e].(priors.InvGamma)
			if !ok {
				continue
			}
			var ss float64
			bt := b[ti]
			for lev := range t.nlev {
				x := bt[lev*t.k+e]
				ss += x * x
			}
			post := g.Posterior(ss, t.nlev)
			v := priors.RandInvGamma(post.Shape, post.Scale, rng)
			if v > 0 && !math.IsInf(v, 1) {
				psi[t.sdOff+e] = 0.5 * math.Log(v)
				changed = true
			}
		}
	}
	return changed
}

// plainTarget is log p(ψ | β, b, y) up to a constant, the target of the
// plain (uncollapsed, centred) Gibbs step on ψ: the prior of ψ with its
// Jacobians, log p(y | β, b, σ) from the fixed residual sum of squares
// rss, log p(b | Σ) and the σ-dependent horseshoe terms. It leaves the
// factors of ψ in ev (not the kernel).
func (ev *evaluator) plainTarget(psi []float64, rss float64, beta []float64, b [][]float64) float64 {
	lp := ev.fill(psi)
	if math.IsInf(lp, -1) {
		return lp
	}
	lp += ev.logLikRE(math.Exp(psi[0]), rss, b)
	if len(ev.hs) > 0 {
		lp += ev.hsSigmaLog(psi[0], beta)
	}
	if math.IsNaN(lp) {
		return math.Inf(-1)
	}
	return lp
}

package sampler

import (
	"fmt"
	"math"
	"slices"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
	"gonum.org/v1/gonum/mat"
)

// termLayout locates one random-effect term (Design.Terms order) in ψ,
// θ and the output columns.
type termLayout struct {
	k      int
	corr   bool
	iw     bool // Σₖ has an inverse-Wishart prior: not in ψ
	nlev   int
	sdOff  int // offset of log τ in ψ (1 + index among all SDs); −1 when iw
	corOff int // offset of the CPC coordinates in ψ
	ncor   int
	thOff  int // offset of the term's θ (kernel order)
	outCor int // index of the term's first correlation among all cors
}

// layout is the parameter layout of a model.
type layout struct {
	n, p, q, nth int
	nsd, ncor    int // SDs and correlations in ψ
	outSD        int // SD columns of the output (all terms)
	outCor       int // correlation columns of the output (all terms)
	dim          int // len ψ = 1 + nsd + ncor
	terms        []termLayout
}

// newLayout lays out ψ, θ and the output; iw[i] (may be nil) marks the
// terms whose Σ has an inverse-Wishart prior and is left out of ψ.
func newLayout(d *model.Design, k Kernel, iw []*priors.InvWishart) (*layout, error) {
	l := &layout{n: k.N(), p: k.P(), q: k.Q(), nth: k.ThetaLen()}
	l.terms = make([]termLayout, len(d.Terms))
	for i, t := range d.Terms {
		tl := termLayout{k: t.K, corr: t.Correlated && t.K > 1, nlev: len(t.Levels), sdOff: -1}
		tl.iw = i < len(iw) && iw[i] != nil
		if !tl.iw {
			tl.sdOff = 1 + l.nsd
			l.nsd += t.K
		}
		l.outSD += t.K
		l.terms[i] = tl
	}
	for i := range l.terms {
		tl := &l.terms[i]
		tl.corOff = 1 + l.nsd + l.ncor
		tl.outCor = l.outCor
		nc := 0
		if tl.corr {
			nc = tl.k * (tl.k - 1) / 2
		}
		l.outCor += nc
		if !tl.iw {
			tl.ncor = nc
			l.ncor += nc
		}
	}
	l.dim = 1 + l.nsd + l.ncor
	off := 0
	for _, di := range k.TermOrder() {
		if di < 0 || di >= len(l.terms) {
			return nil, fmt.Errorf("sampler: kernel term order names term %d of %d", di, len(l.terms))
		}
		l.terms[di].thOff = off
		kk := l.terms[di].k
		off += kk * (kk + 1) / 2
	}
	if off != l.nth {
		return nil, fmt.Errorf("sampler: kernel θ has %d elements, the terms need %d", l.nth, off)
	}
	return l, nil
}

// fixedKind says how the prior of one fixed effect enters the sampler.
type fixedKind uint8

const (
	fixedFlat fixedKind = iota
	fixedNormal
	fixedMixture // a normal scale mixture with latent variance
	// fixedHorseshoe is a horseshoe: βⱼ ~ N(0, σ²·lvar[j]), lvar = τ²λⱼ²
	// from the group's latent state.
	fixedHorseshoe
)

// fixedPrior is the sampler's view of the prior of one fixed effect.
type fixedPrior struct {
	kind  fixedKind
	mu    float64
	v     float64 // prior variance (normal) or initial latent variance
	prior priors.Univariate
	mix   mixingPrior
	hs    int // horseshoe group index (fixedHorseshoe)
}

// evaluator computes the marginal log posterior of ψ and the pieces of
// the joint density. Each chain owns one; it allocates nothing after
// construction.
type evaluator struct {
	lay   *layout
	spec  *Spec
	y     []float64
	x     []float64 // X row-major, n × p
	fixed []fixedPrior
	lvar  []float64 // current prior variance of each β (latent for mixtures)
	ngau  int       // number of non-flat fixed effects
	c     [][]float64
	lom   [][]float64
	theta []float64
	prec  []float64
	pmean []float64
	resid []float64
	sigP  fastScale
	sdP   [][]fastScale
	hs    []*hsGroup
	// iwSig holds each inverse-Wishart term's current Σ (K × K
	// row-major), nil for the others; c is its Cholesky factor.
	iwSig [][]float64
	// gw is logTargetGrad's scratch (nil until first use).
	gw *gradWork
}

func newEvaluator(spec *Spec, lay *layout, fixed []fixedPrior) *evaluator {
	ev := &evaluator{lay: lay, spec: spec, y: spec.Design.Y, fixed: fixed}
	n, p := lay.n, lay.p
	ev.x = make([]float64, n*p)
	for i := range n {
		for j := range p {
			ev.x[i*p+j] = spec.Design.X.At(i, j)
		}
	}
	ev.lvar = make([]float64, p)
	for j, f := range fixed {
		ev.lvar[j] = f.v
		if f.kind != fixedFlat {
			ev.ngau++
		}
	}
	ev.c = make([][]float64, len(lay.terms))
	ev.lom = make([][]float64, len(lay.terms))
	for i, t := range lay.terms {
		ev.c[i] = make([]float64, t.k*t.k)
		ev.lom[i] = make([]float64, t.k*t.k)
	}
	ev.theta = make([]float64, lay.nth)
	ev.prec = make([]float64, p)
	ev.pmean = make([]float64, p)
	for j, f := range fixed {
		ev.pmean[j] = f.mu
	}
	ev.resid = make([]float64, n)
	ev.sigP = newFastScale(spec.Sigma)
	ev.sdP = make([][]fastScale, len(spec.SD))
	for i, ps := range spec.SD {
		if lay.terms[i].iw {
			continue
		}
		for _, p := range ps {
			ev.sdP[i] = append(ev.sdP[i], newFastScale(p))
		}
	}
	ev.hs = newHSGroups(fixed)
	for _, g := range ev.hs {
		for i, j := range g.cols {
			ev.lvar[j] = g.state.Tau2 * g.state.Lambda2[i]
		}
	}
	ev.iwSig = make([][]float64, len(lay.terms))
	for i, t := range lay.terms {
		if !t.iw {
			continue
		}
		// Start at the prior mode S/(ν+K+1).
		w := spec.Cov[i]
		sm := w.ScaleMatrix(t.k)
		sig := make([]float64, t.k*t.k)
		for r := range t.k {
			for c := range t.k {
				sig[r*t.k+c] = sm.At(r, c) / (w.Nu + float64(t.k) + 1)
			}
		}
		ev.setIWSigma(i, sig)
	}
	return ev
}

// setIWSigma sets the Σ of inverse-Wishart term ti (copied) and its
// Cholesky factor; it reports false (and changes nothing) when sig is
// not positive definite.
func (ev *evaluator) setIWSigma(ti int, sig []float64) bool {
	k := ev.lay.terms[ti].k
	if !cholesky(sig, k, ev.lom[ti]) {
		return false
	}
	if ev.iwSig[ti] == nil {
		ev.iwSig[ti] = make([]float64, k*k)
	}
	copy(ev.iwSig[ti], sig)
	copy(ev.c[ti], ev.lom[ti])
	return true
}

// fill computes, from ψ, each term's factor C = diag(τ) L_Ω (Σ = CCᵀ),
// θ, and returns the log prior density of ψ including the Jacobians of
// the log and corr-Cholesky transforms. It returns −Inf when ψ is out of
// range (an overflow).
func (ev *evaluator) fill(psi []float64) float64 {
	sigma := math.Exp(psi[0])
	lp := ev.sigP.logDensitySD(sigma) + psi[0]
	for ti, t := range ev.lay.terms {
		k := t.k
		if t.iw {
			// Σ is fixed during the ψ step (conditioned on).
			c := ev.c[ti]
			i := t.thOff
			for col := range k {
				for r := col; r < k; r++ {
					ev.theta[i] = c[r*k+col] / sigma
					i++
				}
			}
			continue
		}
		lom := ev.lom[ti]
		if t.corr {
			lp += corrCholesky(psi[t.corOff:t.corOff+t.ncor], k, lom)
			lp += lkjCholeskyLogDensity(lom, k, ev.spec.CorEta[ti])
		} else {
			clear(lom)
			for e := range k {
				lom[e*k+e] = 1
			}
		}
		c := ev.c[ti]
		for e := range k {
			tau := math.Exp(psi[t.sdOff+e])
			lp += ev.sdP[ti][e].logDensitySD(tau) + psi[t.sdOff+e]
			for f := 0; f <= e; f++ {
				c[e*k+f] = tau * lom[e*k+f]
			}
		}
		i := t.thOff
		for col := range k {
			for r := col; r < k; r++ {
				ev.theta[i] = c[r*k+col] / sigma
				i++
			}
		}
	}
	if math.IsNaN(lp) || math.IsInf(sigma, 0) || sigma == 0 {
		return math.Inf(-1)
	}
	return lp
}

// logTarget returns log p(ψ | y) up to a constant, with (β, b)
// integrated out, leaving kernel k factored at ψ:
//
//	−2 log p(y | ψ) = (n − p_flat) log(2πσ²) + log det(ΛᵀZᵀZΛ+I) + log|R_X|²
//	                  − Σ_{j not flat} log(σ²/v_j) + r²/σ².
func (ev *evaluator) logTarget(psi []float64, k Kernel) float64 {
	lp := ev.fill(psi)
	if math.IsInf(lp, -1) {
		return lp
	}
	s2 := math.Exp(2 * psi[0])
	var logDetP float64
	if ev.ngau > 0 {
		for j, f := range ev.fixed {
			if f.kind == fixedFlat {
				ev.prec[j] = 0
				continue
			}
			if f.kind == fixedHorseshoe {
				// Prior variance σ²τ²λ²: the σ²-relative precision
				// does not depend on σ.
				ev.prec[j] = 1 / ev.lvar[j]
			} else {
				ev.prec[j] = s2 / ev.lvar[j]
			}
			logDetP += math.Log(ev.prec[j])
		}
		k.SetFixedPrecision(ev.prec, ev.pmean)
	}
	if err := k.SetTheta(ev.theta); err != nil {
		return math.Inf(-1)
	}
	nf := float64(ev.lay.n - (ev.lay.p - ev.ngau))
	m2 := nf*math.Log(2*math.Pi*s2) + k.LogDetZ() + k.LogDetX() - logDetP + k.PWRSS()/s2
	if math.IsNaN(m2) {
		return math.Inf(-1)
	}
	return lp - 0.5*m2
}

// logJoint returns lp__: log p(y | β, b, σ) + log p(b | Σ) + Σ log p(βⱼ) +
// log p(ψ) (with the Jacobians) + the inverse-Wishart densities of the Σ
// not in ψ, at ψ (fill must have been called with it and its result is
// psiPrior) and the drawn β and b. A horseshoe coefficient contributes
// its Gaussian density given the latent state and the half-Cauchy
// densities of its λⱼ and of τ (its marginal density has no closed form).
func (ev *evaluator) logJoint(psiPrior float64, sigma float64, beta []float64, b [][]float64) float64 {
	lp := psiPrior + ev.logLikRE(sigma, ev.rss(beta, b), b)
	for j, f := range ev.fixed {
		if f.kind == fixedHorseshoe {
			continue
		}
		lp += f.prior.LogDensity(beta[j])
	}
	lp += ev.hsLogDensity(sigma*sigma, beta)
	for ti, t := range ev.lay.terms {
		if t.iw {
			lp += ev.spec.Cov[ti].LogDensity(mat.NewSymDense(t.k, slices.Clone(ev.iwSig[ti])))
		}
	}
	return lp
}

// rss returns ‖y − Xβ − Σ Zₖbₖ‖².
func (ev *evaluator) rss(beta []float64, b [][]float64) float64 {
	d := ev.spec.Design
	n, p := ev.lay.n, ev.lay.p
	r := ev.resid
	for i := range n {
		s := ev.y[i]
		xi := ev.x[i*p : (i+1)*p]
		for j, xv := range xi {
			s -= xv * beta[j]
		}
		r[i] = s
	}
	for ti, t := range d.Terms {
		k := t.K
		bt := b[ti]
		for e := range k {
			z := t.Z[e*n : (e+1)*n]
			for i, lev := range t.Refs {
				r[i] -= z[i] * bt[int(lev)*k+e]
			}
		}
	}
	var rss float64
	for _, v := range r {
		rss += v * v
	}
	return rss
}

const log2pi = 1.8378770664093453

// logLikRE returns log p(y | β, b, σ) + log p(b | Σ) from the residual
// sum of squares rss and the terms' current factors C (ev.c).
func (ev *evaluator) logLikRE(sigma, rss float64, b [][]float64) float64 {
	n := ev.lay.n
	lp := -0.5*float64(n)*(log2pi+2*math.Log(sigma)) - 0.5*rss/(sigma*sigma)
	for ti, t := range ev.lay.terms {
		k := t.k
		c := ev.c[ti]
		var logdiag float64
		for e := range k {
			logdiag += math.Log(c[e*k+e])
		}
		bt := b[ti]
		var q float64
		for lev := range t.nlev {
			bl := bt[lev*k : (lev+1)*k]
			q += mahalanobisLower(c, k, bl)
		}
		lp += -0.5*q - float64(t.nlev)*(logdiag+0.5*float64(k)*log2pi)
	}
	return lp
}

// mahalanobisLower returns ‖C⁻¹v‖² for the k × k row-major lower
// triangular C, without allocating (k ≤ 8 uses a stack buffer).
func mahalanobisLower(c []float64, k int, v []float64) float64 {
	var buf [8]float64
	var w []float64
	if k <= len(buf) {
		w = buf[:k]
	} else {
		w = make([]float64, k)
	}
	var q float64
	for e := range k {
		s := v[e]
		for f := range e {
			s -= c[e*k+f] * w[f]
		}
		w[e] = s / c[e*k+e]
		q += w[e] * w[e]
	}
	return q
}

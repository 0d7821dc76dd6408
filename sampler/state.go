package sampler

import (
	"fmt"
	"math"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// termLayout locates one random-effect term (Design.Terms order) in ψ,
// θ and the output columns.
type termLayout struct {
	k      int
	corr   bool
	nlev   int
	sdOff  int // offset of log τ in ψ (1 + index among all SDs)
	corOff int // offset of the CPC coordinates in ψ
	ncor   int
	thOff  int // offset of the term's θ (kernel order)
	outCor int // index of the term's first correlation among all cors
}

// layout is the parameter layout of a model.
type layout struct {
	n, p, q, nth int
	nsd, ncor    int
	dim          int // len ψ = 1 + nsd + ncor
	terms        []termLayout
}

func newLayout(d *model.Design, k Kernel) (*layout, error) {
	l := &layout{n: k.N(), p: k.P(), q: k.Q(), nth: k.ThetaLen()}
	l.terms = make([]termLayout, len(d.Terms))
	for i, t := range d.Terms {
		tl := termLayout{k: t.K, corr: t.Correlated && t.K > 1, nlev: len(t.Levels), sdOff: 1 + l.nsd}
		l.nsd += t.K
		l.terms[i] = tl
	}
	for i := range l.terms {
		tl := &l.terms[i]
		tl.corOff = 1 + l.nsd + l.ncor
		tl.outCor = l.ncor
		if tl.corr {
			tl.ncor = tl.k * (tl.k - 1) / 2
		}
		l.ncor += tl.ncor
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
)

// fixedPrior is the sampler's view of the prior of one fixed effect.
type fixedPrior struct {
	kind  fixedKind
	mu    float64
	v     float64 // prior variance (normal) or initial latent variance
	prior priors.Univariate
	mix   mixingPrior
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
		for _, p := range ps {
			ev.sdP[i] = append(ev.sdP[i], newFastScale(p))
		}
	}
	return ev
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
			ev.prec[j] = s2 / ev.lvar[j]
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
// log p(ψ) (with the Jacobians), at ψ (fill must have been called with
// it) and the drawn β and b.
func (ev *evaluator) logJoint(psiPrior float64, sigma float64, beta []float64, b [][]float64) float64 {
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
	const log2pi = 1.8378770664093453
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
	for j, f := range ev.fixed {
		lp += f.prior.LogDensity(beta[j])
	}
	return lp + psiPrior
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

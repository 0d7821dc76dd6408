package sampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
	"gonum.org/v1/gonum/mat"
)

// countChain is one chain of the Poisson sampler. Its state is ψ (the log
// SDs, kernel term order) and the whitened coordinates ε of (u, β):
// x = (u, β) = x̂(ψ) + L(ψ)⁻ᵀε, with x̂(ψ) the conditional mode of (u, β)
// given ψ and L(ψ)L(ψ)ᵀ the Fisher information there (the Laplace
// approximation of p(u, β | ψ, y)).
type countChain struct {
	d          *model.Design
	cur, prp   *model.MixedModel // cur: factored at x̂(ψ); prp: scratch
	n, p, q    int
	order      []int
	terms      []logitTerm // ψ and θ layout per kernel term
	th         []float64
	sdPrior    []priors.ScalePrior
	prec, mean []float64
	y          []float64
	off        []float64 // each row's offset (Design.Offset; nil without one)
	nb         bool      // negative binomial: ψ's last coordinate is log shape
	shapeA     float64   // gamma(a, b) prior on the shape
	shapeB     float64
	lgy1       float64 // Σ lgamma(y + 1)
	// state, and x derived from it
	psi, eps []float64
	u, beta  []float64
	b        [][]float64
	eta      []float64
	// the conditional mode given ψ, the weights there and log det H(ψ)
	mu, mbeta, mw []float64
	mld           float64
	// proposals and scratch
	up, bp, epsp, etap, mwp []float64
	bb                      [][]float64
	psiScale, rho           float64
	// psiChol is the lower Cholesky factor of ψ's covariance over the
	// middle half of warmup (nil before: isotropic proposals); psiSum and
	// psiCross accumulate it.
	psiChol          []float64
	psiSum, psiCross []float64
	psiN             int
	// tauSD holds, per coordinate of ψ, the SD of τ = e^ψ over the middle
	// half of warmup for the SD coordinates (0 for the others; nil before
	// it is set); tauScale multiplies it. Half of the ψ moves after that
	// are random walks in τ itself (psiStep).
	tauSD         []float64
	tauSum, tauSq []float64
	tauScale      float64
	acc, modeFail int
	rng           *rand.Rand
	// noReverse plants a bug for the Geweke test: the Jacobian
	// exp(−½ log det H) is left out of the ψ move.
	noReverse bool
}

// RunCount samples the posterior of a Poisson mixed model (Design.Family
// Poisson; one effect per random-effect term; normal or flat priors on
// the fixed effects) by Metropolis–Hastings in Laplace-whitened
// coordinates (docs/sampler.md): each iteration moves ψ = log τ by a
// random walk with ε fixed (the conditional mode and factor recomputed at
// ψ' by PIRLS on the blocked kernel), then ε given ψ by preconditioned
// Crank–Nicolson moves. Both are exact Metropolis–Hastings moves on
// (ψ, ε) whose target is the posterior times the Jacobian of x(ψ, ε), so
// the draws of (ψ, x) follow the posterior.
func RunCount(ctx context.Context, spec *GLMMSpec, opt GLMMOptions) (*GLMMResult, error) {
	if err := checkCountSpec(spec); err != nil {
		return nil, err
	}
	return runGLMMChains(ctx, spec.Design, opt, func(ci, nc int) ([]float64, float64, error) {
		c, err := newCountChain(spec, opt, opt.chainID(ci))
		if err != nil {
			return nil, 0, err
		}
		out := make([]float64, 0, min(opt.Draws, 4096)*nc)
		for it := range opt.Warmup + opt.Draws {
			if it%64 == 0 && ctx.Err() != nil {
				return out, float64(c.acc) / float64(max(len(out)/nc, 1)), ctx.Err()
			}
			if err := c.step(it, opt.Warmup); err != nil {
				return nil, 0, err
			}
			if it >= opt.Warmup {
				out = slices.Grow(out, nc)[:len(out)+nc]
				c.record(out[len(out)-nc:], opt.RandomEffects)
			}
		}
		return out, float64(c.acc) / float64(opt.Draws), nil
	})
}

func checkCountSpec(s *GLMMSpec) error {
	d := s.Design
	if d == nil || d.X == nil {
		return errors.New("sampler: no design")
	}
	if d.Family != model.Poisson && d.Family != model.NegBinomial {
		return fmt.Errorf("sampler: RunCount needs family poisson or negbinomial, not %s", d.Family)
	}
	if d.Family == model.NegBinomial && !(s.ShapeA > 0 && s.ShapeB > 0) {
		return fmt.Errorf("sampler: the negative binomial needs a gamma(a, b) prior on its shape (a, b > 0), got (%g, %g)", s.ShapeA, s.ShapeB)
	}
	if len(s.Fixed) != len(d.XNames) || len(s.SD) != len(d.Terms) {
		return fmt.Errorf("sampler: %d fixed-effect and %d SD priors for %d columns and %d terms", len(s.Fixed), len(s.SD), len(d.XNames), len(d.Terms))
	}
	for j, f := range s.Fixed {
		switch f.(type) {
		case priors.Normal, priors.Flat:
		default:
			return fmt.Errorf("sampler: prior %v on %s: normal or flat priors on fixed effects only so far", f, d.XNames[j])
		}
	}
	for i, t := range d.Terms {
		if s.SD[i] == nil {
			return fmt.Errorf("sampler: term (… | %s): no SD prior", t.Group)
		}
	}
	return nil
}

func newCountChain(s *GLMMSpec, opt GLMMOptions, id int) (*countChain, error) {
	d := s.Design
	c := &countChain{d: d, y: d.Y, off: d.Offset, rng: rand.New(rand.NewPCG(opt.Seed, uint64(id))), nb: d.Family == model.NegBinomial, shapeA: s.ShapeA, shapeB: s.ShapeB}
	var err error
	kd := kernelDesign(d)
	if c.cur, err = model.NewMixedModel(kd); err != nil {
		return nil, err
	}
	if c.prp, err = model.NewMixedModel(kd); err != nil {
		return nil, err
	}
	c.n, c.p, c.q = c.cur.N(), c.cur.P(), c.cur.Q()
	c.order = c.cur.TermOrder()
	c.sdPrior = make([]priors.ScalePrior, len(c.order))
	for k, di := range c.order {
		c.sdPrior[k] = s.SD[di]
	}
	c.prec, c.mean = make([]float64, c.p), make([]float64, c.p)
	for j, f := range s.Fixed {
		if nf, ok := f.(priors.Normal); ok {
			c.prec[j] = 1 / (nf.Sigma * nf.Sigma)
			c.mean[j] = nf.Mu
		}
	}
	c.cur.SetFixedPrecision(c.prec, c.mean)
	c.prp.SetFixedPrecision(c.prec, c.mean)
	c.u, c.up, c.mu = make([]float64, c.q), make([]float64, c.q), make([]float64, c.q)
	c.beta, c.bp, c.mbeta = make([]float64, c.p), make([]float64, c.p), make([]float64, c.p)
	c.eps, c.epsp = make([]float64, c.q+c.p), make([]float64, c.q+c.p)
	c.eta, c.etap = make([]float64, c.n), make([]float64, c.n)
	c.mw, c.mwp = make([]float64, c.n), make([]float64, c.n)
	c.b, c.bb = make([][]float64, len(d.Terms)), make([][]float64, len(d.Terms))
	for i, t := range d.Terms {
		c.b[i] = make([]float64, t.K*len(t.Levels))
		c.bb[i] = make([]float64, t.K*len(t.Levels))
	}
	c.rho = 0.5
	var np, nth int
	c.terms, np, nth = glmmLayout(d, c.order, s.CorEta)
	c.th = make([]float64, nth)
	npsi := np
	if c.nb {
		npsi++
	}
	c.psiScale = 2.38 / math.Sqrt(float64(npsi))
	c.psi = make([]float64, npsi)
	for _, lt := range c.terms {
		for e := range lt.k {
			c.psi[lt.sdOff+e] = math.Log(0.5) + 0.5*c.rng.NormFloat64()
		}
		for e := range lt.ncor {
			c.psi[lt.corOff+e] = 0.2 * c.rng.NormFloat64()
		}
	}
	if c.nb {
		c.psi[np] = math.Log(2) + 0.5*c.rng.NormFloat64()
	}
	// Start at the conditional mode given the initial ψ (from β₀ = log of
	// the mean count, less the log mean exposure with an offset,
	// everything else 0), with ε = 0.
	var ym float64
	for _, v := range c.y {
		ym += v
	}
	ym /= float64(c.n)
	lb0 := math.Log(ym + 0.1)
	if c.off != nil {
		// With an offset: the log of the mean count over the mean
		// exposure e^off.
		var ex float64
		for _, o := range c.off {
			ex += math.Exp(o)
		}
		lb0 -= math.Log(ex / float64(c.n))
	}
	b0 := make([]float64, c.p)
	for j, n := range d.XNames {
		if n == "(Intercept)" {
			b0[j] = lb0
		}
	}
	if c.mld, err = c.condMode(c.cur, c.psi, make([]float64, c.q), b0, c.mu, c.mbeta, c.mw); err != nil {
		return nil, err
	}
	c.cur.Draw(c.eps, 1, c.u, c.beta)
	c.linpred(c.psi, c.u, c.beta, c.b, c.eta)
	return c, nil
}

// linpred sets eta = off + Xβ + ZΛu (off the offset, 0 without one) and
// b = Λu for Λ(ψ) (ψ and u in kernel order; b in Design order). It does not touch any kernel.
func (c *countChain) linpred(psi, u, beta []float64, b [][]float64, eta []float64) {
	fillLambda(c.terms, c.sdPrior, psi, c.th)
	d := c.d
	offsetXBeta(d, c.off, beta, eta)
	off := 0
	for _, lt := range c.terms {
		t := d.Terms[lt.di]
		k := lt.k
		bt := b[lt.di]
		for l := range len(t.Levels) {
			for r := range k {
				var v float64
				for col := 0; col <= r; col++ {
					v += lt.cm[r*k+col] * u[off+l*k+col]
				}
				bt[l*k+r] = v
			}
		}
		off += k * len(t.Levels)
		if k == 1 {
			for i, l := range t.Refs {
				eta[i] += t.Z[i] * bt[l]
			}
			continue
		}
		for i, l := range t.Refs {
			for e := range k {
				eta[i] += t.Z[e*c.n+i] * bt[int(l)*k+e]
			}
		}
	}
}

// logLik is log p(y | η) (without Σ lgamma(y + 1)); psi carries the
// negative binomial's log shape.
func (c *countChain) logLik(psi, eta []float64) float64 {
	if c.nb {
		k := math.Exp(psi[len(psi)-1])
		lk, _ := math.Lgamma(k)
		var s float64
		for i, e := range eta {
			y := c.y[i]
			ly, _ := math.Lgamma(y + k)
			lkm := math.Log(k + math.Exp(e))
			s += ly - lk + k*(math.Log(k)-lkm) + y*(e-lkm)
		}
		return s
	}
	var s float64
	for i, e := range eta {
		s += c.y[i]*e - math.Exp(e)
	}
	return s
}

// logPost is log p(y | η) + log N(u; 0, I) + log p(β) (up to constants).
func (c *countChain) logPost(psi, eta, u, beta []float64) float64 {
	s := c.logLik(psi, eta) - sumSq(u)/2
	for j, v := range beta {
		d := v - c.mean[j]
		s -= c.prec[j] * d * d / 2
	}
	return s
}

func sumSq(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

// irls sets the IWLS (Fisher-scoring) weights and working response at
// eta: w = μ (Poisson) or μ/(1 + μ/k) (negative binomial, shape k), z = η −
// off + (y − μ)/μ (the kernel models η less the offset).
func (c *countChain) irls(psi, eta, w, z []float64) {
	inv := 0.0
	if c.nb {
		inv = math.Exp(-psi[len(psi)-1])
	}
	for i, e := range eta {
		mu := math.Exp(e)
		w[i] = mu / (1 + mu*inv)
		z[i] = e + (c.y[i]-mu)/mu
		if c.off != nil {
			z[i] -= c.off[i]
		}
	}
}

// step runs one iteration: a random-walk move of ψ with the whitened
// coordinates ε held fixed, then pcnMoves preconditioned Crank–Nicolson
// moves of ε given ψ.
func (c *countChain) step(it, warmup int) error {
	if err := c.psiStep(it, warmup); err != nil {
		return err
	}
	for range pcnMoves {
		c.pcnStep(it, warmup)
	}
	return nil
}

// pcnMoves is the number of ε moves per iteration (each costs one
// back-substitution and one pass over the data, no factorisation).
const pcnMoves = 3

// record writes the chain's state in GLMMResult.Columns order.
func (c *countChain) record(row []float64, re bool) {
	var shape *float64
	if c.nb {
		v := math.Exp(c.psi[len(c.psi)-1])
		shape = &v
	}
	recordState(row, c.d, c.terms, c.psi, c.beta, c.b, shape, re)
}

// condMode finds the mode of p(u, β | ψ, y) in kernel k by Newton's
// method (IWLS with step halving on the log posterior), starting from
// (u0, β0); on return k is factored at the weights of the mode, (um, bm)
// hold the mode and w the weights there. It returns log det of the
// precision at the mode.
func (c *countChain) condMode(k *model.MixedModel, psi, u0, b0, um, bm, w []float64) (float64, error) {
	th := make([]float64, len(c.th))
	fillLambda(c.terms, c.sdPrior, psi, th)
	copy(um, u0)
	copy(bm, b0)
	eta := make([]float64, c.n)
	etan := make([]float64, c.n)
	z := make([]float64, c.n)
	un, bn := make([]float64, c.q), make([]float64, c.p)
	bb := make([][]float64, len(c.b))
	for i := range bb {
		bb[i] = make([]float64, len(c.b[i]))
	}
	c.linpred(psi, um, bm, bb, eta)
	lp := c.logPost(psi, eta, um, bm)
	for range 200 {
		c.irls(psi, eta, w, z)
		if err := k.Reweight(w, z); err != nil {
			return 0, err
		}
		if err := k.SetTheta(th); err != nil {
			return 0, err
		}
		k.Modes(un, bn)
		f := 1.0
		var lpn float64
		ok := false
		var du float64
		for range 40 {
			du = 0
			for i := range un {
				v := um[i] + f*(un[i]-um[i])
				du = math.Max(du, math.Abs(v-um[i]))
				un[i] = v
			}
			for i := range bn {
				v := bm[i] + f*(bn[i]-bm[i])
				du = math.Max(du, math.Abs(v-bm[i]))
				bn[i] = v
			}
			c.linpred(psi, un, bn, bb, etan)
			lpn = c.logPost(psi, etan, un, bn)
			if lpn >= lp-1e-10*(1+math.Abs(lp)) {
				ok = true
				break
			}
			f /= 2
		}
		if !ok {
			break
		}
		copy(um, un)
		copy(bm, bn)
		copy(eta, etan)
		lp = lpn
		if du < 1e-10 {
			break
		}
	}
	// Factor at the mode's weights.
	c.irls(psi, eta, w, z)
	if err := k.Reweight(w, z); err != nil {
		return 0, err
	}
	if err := k.SetTheta(th); err != nil {
		return 0, err
	}
	return k.LogDetZ() + k.LogDetX(), nil
}

// psiStep moves ψ by a random walk with ε fixed: x' = x̂(ψ') + L(ψ')⁻ᵀε,
// x̂(ψ') the conditional mode given ψ' and L(ψ') the Cholesky factor of
// the Fisher information there. In the coordinates (ψ, ε) the target is
// π(ψ, x(ψ, ε))·|∂x/∂ε| = π(ψ, x)·exp(−½ log det H(ψ)); the random walk
// is symmetric, so that ratio is the acceptance ratio.
func (c *countChain) psiStep(it, warmup int) error {
	prop := make([]float64, len(c.psi))
	tauMove := c.tauSD != nil && c.rng.Float64() < 0.5
	hastings := 0.0
	if tauMove {
		// A random walk on the SDs themselves, τ′ = τ + s·σ_τ·ξ (the other
		// coordinates kept): near τ = 0, where a walk in log τ takes long
		// excursions, it steps in and out in one move. In ψ = log τ its
		// proposal density is N(e^ψ′; e^ψ, s²σ²)e^ψ′, so the Hastings
		// ratio is Π e^ψ / e^ψ′; a τ′ ≤ 0 is rejected.
		copy(prop, c.psi)
		ok := true
		for k, sd := range c.tauSD {
			if sd == 0 {
				continue
			}
			t := math.Exp(c.psi[k]) + c.tauScale*sd*c.rng.NormFloat64()
			if t <= 0 {
				ok = false
				continue
			}
			prop[k] = math.Log(t)
			hastings += c.psi[k] - prop[k]
		}
		if !ok {
			if it < warmup {
				c.tauScale *= math.Exp(-0.3 / math.Pow(float64(it+10), 0.6))
			}
			return nil
		}
	} else {
		// ψ + s·ξ, or once warmup has estimated ψ's covariance, ψ + s·Cξ
		// with C its Cholesky factor (the ridges between SDs, such as
		// those of nested factors, are then walked along rather than
		// across). prop holds ξ until it is overwritten from the last
		// coordinate up (row r of Cξ uses ξ₀ … ξ_r only).
		for k := range prop {
			prop[k] = c.rng.NormFloat64()
		}
		np := len(prop)
		for r := np - 1; r >= 0; r-- {
			v := prop[r]
			if c.psiChol != nil {
				v = 0
				for col := 0; col <= r; col++ {
					v += c.psiChol[r*np+col] * prop[col]
				}
			}
			prop[r] = c.psi[r] + c.psiScale*v
		}
	}
	// Start the mode search at the current mode's b (u scaled by τ/τ'),
	// so that η starts where it was.
	um, bm := make([]float64, c.q), make([]float64, c.p)
	u0 := make([]float64, c.q)
	copy(u0, c.mu)
	off := 0
	for _, lt := range c.terms {
		nl := len(c.b[lt.di]) / lt.k
		if lt.k == 1 {
			r := math.Exp(c.psi[lt.sdOff] - prop[lt.sdOff])
			for l := range nl {
				u0[off+l] = c.mu[off+l] * r
			}
		}
		off += lt.k * nl
	}
	acc := false
	ld, err := c.condMode(c.prp, prop, u0, c.mbeta, um, bm, c.mwp)
	if err != nil {
		// The equations are numerically singular at ψ' (an extreme SD,
		// where the target is negligible): reject.
		c.modeFail++
	} else {
		c.prp.Draw(c.eps, 1, c.up, c.bp)
		c.linpred(prop, c.up, c.bp, c.bb, c.etap)
		lr := c.logPost(prop, c.etap, c.up, c.bp) + c.psiPrior(prop) - 0.5*ld -
			(c.logPost(c.psi, c.eta, c.u, c.beta) + c.psiPrior(c.psi) - 0.5*c.mld) + hastings
		if c.noReverse {
			lr += 0.5 * (ld - c.mld) // planted bug: the Jacobian left out
		}
		if math.Log(c.rng.Float64()) < lr {
			acc = true
			c.cur, c.prp = c.prp, c.cur
			c.psi = prop
			c.u, c.up = c.up, c.u
			c.beta, c.bp = c.bp, c.beta
			c.eta, c.etap = c.etap, c.eta
			c.b, c.bb = c.bb, c.b
			c.mu, c.mbeta = um, bm
			c.mw, c.mwp = c.mwp, c.mw
			c.mld = ld
			if it >= warmup {
				c.acc++
			}
		}
	}
	if it < warmup {
		a := 0.0
		if acc {
			a = 1
		}
		if tauMove {
			c.tauScale *= math.Exp((a - 0.3) / math.Pow(float64(it+10), 0.6))
		} else {
			c.psiScale *= math.Exp((a - 0.3) / math.Pow(float64(it+10), 0.6))
		}
		c.adaptCov(it, warmup)
	}
	return nil
}

// adaptCov accumulates ψ over the middle half of warmup and, at 3/4 of
// it, sets psiChol to the Cholesky factor of their covariance (shrunk
// slightly towards its diagonal, and not when that fails) and restarts
// the scale at 2.38/√d (the optimum for a Gaussian target with that
// covariance), which the rest of warmup adapts slowly.
// After warmup the proposal is fixed, so the chain is a plain
// Metropolis–Hastings chain.
func (c *countChain) adaptCov(it, warmup int) {
	np := len(c.psi)
	lo, hi := warmup/4, 3*warmup/4
	if it < lo || it >= hi {
		return
	}
	if c.psiSum == nil {
		c.psiSum, c.psiCross = make([]float64, np), make([]float64, np*np)
		c.tauSum, c.tauSq = make([]float64, np), make([]float64, np)
	}
	for i, v := range c.psi {
		c.psiSum[i] += v
		for j := range np {
			c.psiCross[i*np+j] += v * c.psi[j]
		}
		c.tauSum[i] += math.Exp(v)
		c.tauSq[i] += math.Exp(2 * v)
	}
	c.psiN++
	if it != hi-1 || c.psiN < 20 {
		return
	}
	n := float64(c.psiN)
	c.tauSD = make([]float64, np)
	nsd := 0
	for _, lt := range c.terms {
		for e := range lt.k {
			k := lt.sdOff + e
			m := c.tauSum[k] / n
			c.tauSD[k] = math.Sqrt(math.Max(c.tauSq[k]/n-m*m, 0))
			nsd++
		}
	}
	c.tauScale = 2.38 / math.Sqrt(float64(max(nsd, 1)))
	cov := mat.NewSymDense(np, nil)
	for i := range np {
		for j := i; j < np; j++ {
			v := c.psiCross[i*np+j]/n - c.psiSum[i]*c.psiSum[j]/(n*n)
			if i != j {
				v *= 0.9
			}
			cov.SetSym(i, j, v)
		}
	}
	for i := range np {
		cov.SetSym(i, i, cov.At(i, i)+1e-8)
	}
	var ch mat.Cholesky
	if !ch.Factorize(cov) {
		return
	}
	var l mat.TriDense
	ch.LTo(&l)
	c.psiChol = make([]float64, np*np)
	for i := range np {
		for j := 0; j <= i; j++ {
			c.psiChol[i*np+j] = l.At(i, j)
		}
	}
	c.psiScale = 2.38 / math.Sqrt(float64(np))
}

// psiPrior is Σ log p(τₖ) + ψₖ (the prior of the SDs and the Jacobian of
// ψ = log τ).
func (c *countChain) psiPrior(psi []float64) float64 {
	s := fillLambda(c.terms, c.sdPrior, psi, c.th)
	if c.nb {
		// gamma(a, b) on the shape k = e^v, plus the Jacobian v.
		v := psi[len(psi)-1]
		la, _ := math.Lgamma(c.shapeA)
		s += c.shapeA*math.Log(c.shapeB) - la + c.shapeA*v - c.shapeB*math.Exp(v)
	}
	return s
}

// pcnStep is a preconditioned Crank–Nicolson move of ε given ψ:
// ε' = √(1−ρ²)ε + ρξ, ξ ~ N(0, I), reversible with respect to N(0, I),
// so the acceptance ratio is π(ψ, x')e^{‖ε'‖²/2} / π(ψ, x)e^{‖ε‖²/2}
// (exactly 1 if the conditional posterior were the Gaussian at the mode).
// ρ adapts in warmup towards acceptance 0.4.
func (c *countChain) pcnStep(it, warmup int) {
	a := math.Sqrt(1 - c.rho*c.rho)
	for i := range c.epsp {
		c.epsp[i] = a*c.eps[i] + c.rho*c.rng.NormFloat64()
	}
	c.cur.Draw(c.epsp, 1, c.up, c.bp)
	c.linpred(c.psi, c.up, c.bp, c.bb, c.etap)
	lr := c.logPost(c.psi, c.etap, c.up, c.bp) + 0.5*sumSq(c.epsp) - c.logPost(c.psi, c.eta, c.u, c.beta) - 0.5*sumSq(c.eps)
	acc := math.Log(c.rng.Float64()) < lr
	if acc {
		c.eps, c.epsp = c.epsp, c.eps
		c.u, c.up = c.up, c.u
		c.beta, c.bp = c.bp, c.beta
		c.eta, c.etap = c.etap, c.eta
		c.b, c.bb = c.bb, c.b
	}
	if it < warmup {
		v := 0.0
		if acc {
			v = 1
		}
		c.rho = math.Min(1, c.rho*math.Exp((v-0.4)/math.Pow(float64(it+10), 0.6)))
	}
}

// setEps sets ε = L(ψ)ᵀ(x − x̂(ψ)) from the current x, with the current
// kernel (factored at the mode given ψ).
func (c *countChain) setEps() {
	um, bm := make([]float64, c.q), make([]float64, c.p)
	c.cur.Modes(um, bm)
	for i := range um {
		um[i] = c.u[i] - um[i]
	}
	for i := range bm {
		bm[i] = c.beta[i] - bm[i]
	}
	c.cur.MulLT(um, bm, c.eps[:c.q], c.eps[c.q:])
}

// setY replaces the response (the Geweke test's successive-conditional
// simulator) and recomputes the cached conditional mode.
func (c *countChain) setY(y []float64) error {
	copy(c.y, y)
	var err error
	if c.mld, err = c.condMode(c.cur, c.psi, c.u, c.beta, c.mu, c.mbeta, c.mw); err != nil {
		return err
	}
	c.setEps()
	return nil
}

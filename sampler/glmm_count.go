package sampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// countChain is one chain of the Poisson sampler: Metropolis–Hastings on
// (β, u) jointly with Gamerman's (1997) iteratively-weighted-least-squares
// proposal, and Metropolis steps on the log SDs in both the non-centred
// (u fixed) and centred (b = τu fixed) parameterisations.
type countChain struct {
	d          *model.Design
	fam        model.Family
	cur, prp   *model.MixedModel
	n, p, q    int
	order      []int
	sdPrior    []priors.ScalePrior
	prec, mean []float64
	y          []float64
	// state
	u, beta []float64
	psi     []float64 // log SD per kernel term
	b       [][]float64
	eta     []float64
	// current kernel's proposal quantities (at the current state)
	ldCur float64
	// scratch
	up, bp, eps, etap, w, z, wp, zp, th []float64
	um, bm, du, dbeta, ev               []float64
	bb, bv                              [][]float64
	h                                   float64 // proposal scale
	rng                                 *rand.Rand
	scaleNC, scaleC                     []float64
	acc                                 int
	// planted bug for the Geweke test: the reverse proposal density is
	// left out of the acceptance ratio.
	noReverse bool
}

// RunCount samples the posterior of a Poisson mixed model (Design.Family
// Poisson; one effect per random-effect term; normal or flat priors on
// the fixed effects) by Metropolis–Hastings within Gibbs:
//
//   - (β, u) | τ, y: Gamerman's (1997) proposal, the Gaussian of one
//     IWLS step from the current state, N(m(x), Q(x)⁻¹) with Q = [X ZΛ]ᵀW[X ZΛ]
//   - the prior precisions, drawn by the blocked kernel
//     (Reweight, Draw); accepted with the exact Metropolis–Hastings ratio
//     including the reverse proposal density (a second factorisation at
//     the proposal, which becomes the current one on acceptance);
//   - log τₖ | u, β, y (non-centred: η moves) and log τₖ | b (centred:
//     only p(b | τ) p(τ) moves, u = b/τ follows), random walks with scales
//     adapted in warmup.
//
// Each step leaves the posterior invariant, so the cycle does.
func RunCount(ctx context.Context, spec *GLMMSpec, opt GLMMOptions) (*GLMMResult, error) {
	if err := checkCountSpec(spec); err != nil {
		return nil, err
	}
	if opt.Chains < 1 || opt.Draws < 1 || opt.Warmup < 0 {
		return nil, fmt.Errorf("sampler: need chains ≥ 1, draws ≥ 1, warmup ≥ 0; got %d, %d, %d", opt.Chains, opt.Draws, opt.Warmup)
	}
	res := &GLMMResult{Columns: glmmColumns(spec.Design, opt.RandomEffects), Draws: make([][]float64, opt.Chains),
		NDraws: opt.Draws, Accept: make([]float64, opt.Chains)}
	errs := make([]error, opt.Chains)
	var wg sync.WaitGroup
	for ci := range opt.Chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := newCountChain(spec, opt, ci+1)
			if err != nil {
				errs[ci] = err
				return
			}
			nc := len(res.Columns)
			out := make([]float64, opt.Draws*nc)
			for it := range opt.Warmup + opt.Draws {
				if it%64 == 0 && ctx.Err() != nil {
					errs[ci] = ctx.Err()
					return
				}
				if it == opt.Warmup {
					c.acc = 0
				}
				if err := c.step(it, opt.Warmup); err != nil {
					errs[ci] = err
					return
				}
				if it >= opt.Warmup {
					c.record(out[(it-opt.Warmup)*nc:], opt.RandomEffects)
				}
			}
			res.Draws[ci] = out
			res.Accept[ci] = float64(c.acc) / float64(opt.Draws)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

func checkCountSpec(s *GLMMSpec) error {
	d := s.Design
	if d == nil || d.X == nil {
		return errors.New("sampler: no design")
	}
	if d.Family != model.Poisson {
		return fmt.Errorf("sampler: RunCount needs family poisson, not %s", d.Family)
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
		if t.K != 1 || s.SD[i] == nil {
			return fmt.Errorf("sampler: term (… | %s): one effect and an SD prior needed", t.Group)
		}
	}
	return nil
}

func newCountChain(s *GLMMSpec, opt GLMMOptions, id int) (*countChain, error) {
	d := s.Design
	c := &countChain{d: d, fam: d.Family, y: d.Y, rng: rand.New(rand.NewPCG(opt.Seed, uint64(id)))}
	var err error
	if c.cur, err = model.NewMixedModel(d); err != nil {
		return nil, err
	}
	if c.prp, err = model.NewMixedModel(d); err != nil {
		return nil, err
	}
	c.n, c.p, c.q = c.cur.N(), c.cur.P(), c.cur.Q()
	c.order = c.cur.TermOrder()
	nt := len(c.order)
	c.sdPrior = make([]priors.ScalePrior, nt)
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
	c.u, c.up = make([]float64, c.q), make([]float64, c.q)
	c.beta, c.bp = make([]float64, c.p), make([]float64, c.p)
	c.eps = make([]float64, c.q+c.p)
	c.um, c.du, c.bm, c.dbeta, c.ev = make([]float64, c.q), make([]float64, c.q), make([]float64, c.p), make([]float64, c.p), make([]float64, c.n)
	c.h = 0.5
	c.eta, c.etap = make([]float64, c.n), make([]float64, c.n)
	c.w, c.z, c.wp, c.zp = make([]float64, c.n), make([]float64, c.n), make([]float64, c.n), make([]float64, c.n)
	c.th = make([]float64, nt)
	c.psi = make([]float64, nt)
	c.scaleNC, c.scaleC = make([]float64, nt), make([]float64, nt)
	for k := range c.psi {
		c.psi[k] = math.Log(0.5) + 0.5*c.rng.NormFloat64()
		c.scaleNC[k], c.scaleC[k] = 0.5, 0.5
	}
	c.b, c.bb, c.bv = make([][]float64, len(d.Terms)), make([][]float64, len(d.Terms)), make([][]float64, len(d.Terms))
	for i, t := range d.Terms {
		c.b[i] = make([]float64, len(t.Levels))
		c.bb[i] = make([]float64, len(t.Levels))
		c.bv[i] = make([]float64, len(t.Levels))
	}
	// Start β at the log of the mean count in the intercept direction.
	var ym float64
	for _, v := range c.y {
		ym += v
	}
	ym /= float64(c.n)
	for j, n := range d.XNames {
		if n == "(Intercept)" {
			c.beta[j] = math.Log(ym + 0.1)
		}
	}
	if err := c.cur.SetTheta(thetaOf(c.psi, c.th)); err != nil {
		return nil, err
	}
	c.linpred(c.cur, c.u, c.beta, c.b, c.eta)
	if err := c.refresh(); err != nil {
		return nil, err
	}
	// Start at the conditional mode of (β, u) given the initial τ
	// (Newton's method by IWLS with step halving on the log posterior):
	// far from it the IWLS proposal is poor (one step from a flat start
	// overshoots where counts are large) and would rarely be accepted.
	lp := c.logPost(c.eta, c.u, c.beta)
	for range 100 {
		c.cur.Modes(c.up, c.bp)
		f := 1.0
		var lpn float64
		for range 30 {
			for i := range c.up {
				c.up[i] = c.u[i] + f*(c.up[i]-c.u[i])
			}
			for i := range c.bp {
				c.bp[i] = c.beta[i] + f*(c.bp[i]-c.beta[i])
			}
			c.linpred(c.cur, c.up, c.bp, c.bb, c.etap)
			if lpn = c.logPost(c.etap, c.up, c.bp); lpn >= lp {
				break
			}
			f /= 2
		}
		if lpn < lp {
			break
		}
		c.u, c.up = c.up, c.u
		c.beta, c.bp = c.bp, c.beta
		c.eta, c.etap = c.etap, c.eta
		c.b, c.bb = c.bb, c.b
		done := lpn-lp < 1e-8
		lp = lpn
		if err := c.refresh(); err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	return c, nil
}

// linpred sets eta = Xβ + ZΛu (b = Λu) with k's current Λ.
func (c *countChain) linpred(k *model.MixedModel, u, beta []float64, b [][]float64, eta []float64) {
	d := c.d
	xr := d.X.RawMatrix()
	for i := range c.n {
		var s float64
		for j := range c.p {
			s += xr.Data[i*xr.Stride+j] * beta[j]
		}
		eta[i] = s
	}
	k.ToB(u, b)
	for ti, t := range d.Terms {
		for i, l := range t.Refs {
			eta[i] += t.Z[i] * b[ti][l]
		}
	}
}

// logLik is log p(y | η) (Poisson, constants dropped).
func (c *countChain) logLik(eta []float64) float64 {
	var s float64
	for i, e := range eta {
		s += c.y[i]*e - math.Exp(e)
	}
	return s
}

// logPost is log p(y | η) + log N(u; 0, I) + log p(β) (up to constants).
func (c *countChain) logPost(eta, u, beta []float64) float64 {
	s := c.logLik(eta) - sumSq(u)/2
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

// irls sets the IWLS weights and working response at eta.
func irlsPoisson(y, eta, w, z []float64) {
	for i, e := range eta {
		mu := math.Exp(e)
		w[i] = mu
		z[i] = e + (y[i]-mu)/mu
	}
}

// quadForm returns vᵀQv for v = (du, dbeta), Q = [X ZΛ]ᵀW[X ZΛ] + I +
// diag(prec) with k's Λ and the weights w.
func (c *countChain) quadForm(k *model.MixedModel, w, du, dbeta []float64) float64 {
	c.linpred(k, du, dbeta, c.bv, c.ev)
	var s float64
	for i, e := range c.ev {
		s += w[i] * e * e
	}
	s += sumSq(du)
	for j, v := range dbeta {
		s += c.prec[j] * v * v
	}
	return s
}

// quad returns (x − m)ᵀQ(x − m) for the kernel k reweighted with (w, z),
// whose minimum PWRSS is at its mode m: PWRSS(x) − PWRSS(m), PWRSS(x) =
// Σ wᵢ(zᵢ − ηᵢ(x))² + ‖u‖² + Σ precⱼ(βⱼ − meanⱼ)².
func (c *countChain) quad(k *model.MixedModel, w, z, eta, u, beta []float64) float64 {
	var s float64
	for i := range eta {
		r := z[i] - eta[i]
		s += w[i] * r * r
	}
	s += sumSq(u)
	for j, v := range beta {
		d := v - c.mean[j]
		s += c.prec[j] * d * d
	}
	return s - k.PWRSS()
}

// refresh re-forms the current kernel at the current state (after θ
// moved).
func (c *countChain) refresh() error {
	irlsPoisson(c.y, c.eta, c.w, c.z)
	if err := c.cur.Reweight(c.w, c.z); err != nil {
		return err
	}
	if err := c.cur.SetTheta(thetaOf(c.psi, c.th)); err != nil {
		return err
	}
	c.ldCur = c.cur.LogDetZ() + c.cur.LogDetX()
	return nil
}

// step runs one iteration.
func (c *countChain) step(it, warmup int) error {
	// (β, u): the IWLS (Fisher-scoring) proposal from the current kernel,
	// N(x + (h/2)(m(x) − x), h Q(x)⁻¹): Gamerman's proposal N(m(x), Q(x)⁻¹)
	// is h = 2 with the covariance halved; h adapts in warmup (see
	// docs/sampler.md for why h = 2 fails).
	h := c.h
	c.cur.Modes(c.um, c.bm)
	for i := range c.eps {
		c.eps[i] = c.rng.NormFloat64()
	}
	c.cur.Draw(c.eps, math.Sqrt(h), c.up, c.bp)
	for i := range c.up {
		c.up[i] -= (1 - h/2) * (c.um[i] - c.u[i])
	}
	for i := range c.bp {
		c.bp[i] -= (1 - h/2) * (c.bm[i] - c.beta[i])
	}
	logQfwd := 0.5*c.ldCur - 0.5*sumSq(c.eps)
	if err := c.prp.SetTheta(thetaOf(c.psi, c.th)); err != nil {
		return err
	}
	c.linpred(c.prp, c.up, c.bp, c.bb, c.etap)
	irlsPoisson(c.y, c.etap, c.wp, c.zp)
	if err := c.prp.Reweight(c.wp, c.zp); err != nil {
		return err
	}
	if err := c.prp.SetTheta(c.th); err != nil {
		return err
	}
	ldPrp := c.prp.LogDetZ() + c.prp.LogDetX()
	// Reverse: x − μ(x'), μ(x') = x' + (h/2)(m(x') − x').
	c.prp.Modes(c.um, c.bm)
	for i := range c.du {
		c.du[i] = c.u[i] - c.up[i] - h/2*(c.um[i]-c.up[i])
	}
	for i := range c.dbeta {
		c.dbeta[i] = c.beta[i] - c.bp[i] - h/2*(c.bm[i]-c.bp[i])
	}
	logQrev := 0.5*ldPrp - c.quadForm(c.prp, c.wp, c.du, c.dbeta)/(2*h)
	if c.noReverse {
		logQrev = logQfwd
	}
	lr := c.logPost(c.etap, c.up, c.bp) - c.logPost(c.eta, c.u, c.beta) + logQrev - logQfwd
	accX := math.Log(c.rng.Float64()) < lr
	if accX {
		c.cur, c.prp = c.prp, c.cur
		c.u, c.up = c.up, c.u
		c.beta, c.bp = c.bp, c.beta
		c.eta, c.etap = c.etap, c.eta
		c.b, c.bb = c.bb, c.b
		c.w, c.wp = c.wp, c.w
		c.z, c.zp = c.zp, c.z
		c.ldCur = ldPrp
		if it >= warmup {
			c.acc++
		}
	}
	if it < warmup {
		a := 0.0
		if accX {
			a = 1
		}
		c.h = math.Min(2, c.h*math.Exp((a-0.574)/math.Pow(float64(it+10), 0.6)))
	}
	// log τ, non-centred (u fixed) then centred (b fixed), per term.
	d := c.d
	for k, di := range c.order {
		t := d.Terms[di]
		// Non-centred: η changes by Z(τ' − τ)u.
		old := c.psi[k]
		prop := old + c.scaleNC[k]*c.rng.NormFloat64()
		r := math.Exp(prop) / math.Exp(old)
		for i, l := range t.Refs {
			c.etap[i] = c.eta[i] + t.Z[i]*c.b[di][l]*(r-1)
		}
		lp := c.logLik(c.etap) + c.sdPrior[k].LogDensitySD(math.Exp(prop)) + prop
		lc := c.logLik(c.eta) + c.sdPrior[k].LogDensitySD(math.Exp(old)) + old
		accNC := math.Log(c.rng.Float64()) < lp-lc
		if accNC {
			c.psi[k] = prop
			copy(c.eta, c.etap)
			for l := range c.b[di] {
				c.b[di][l] *= r
			}
		}
		// Centred: b fixed, u = b/τ; target Σ log N(b; 0, τ²) + prior.
		old = c.psi[k]
		prop = old + c.scaleC[k]*c.rng.NormFloat64()
		bs := sumSq(c.b[di])
		nl := float64(len(c.b[di]))
		lcen := func(ps float64) float64 {
			return -nl*ps - bs/(2*math.Exp(2*ps)) + c.sdPrior[k].LogDensitySD(math.Exp(ps)) + ps
		}
		accC := math.Log(c.rng.Float64()) < lcen(prop)-lcen(old)
		if accC {
			c.psi[k] = prop
		}
		if it < warmup {
			adapt := func(s *float64, acc bool) {
				a := 0.0
				if acc {
					a = 1
				}
				*s *= math.Exp((a - 0.44) / math.Pow(float64(it+10), 0.6))
			}
			adapt(&c.scaleNC[k], accNC)
			adapt(&c.scaleC[k], accC)
		}
	}
	// u = b/τ in kernel order (the kernel's u of term k at its offset).
	c.syncU()
	return c.refresh()
}

// syncU sets u = Λ⁻¹b from b and ψ (u in kernel order, levels in Design
// order within each term).
func (c *countChain) syncU() {
	off := 0
	for k, di := range c.order {
		tau := math.Exp(c.psi[k])
		for l, v := range c.b[di] {
			c.u[off+l] = v / tau
		}
		off += len(c.b[di])
	}
}

// record writes the chain's state in GLMMResult.Columns order.
func (c *countChain) record(row []float64, re bool) {
	i := copy(row, c.beta)
	for k, di := range c.order {
		row[i+di] = math.Exp(c.psi[k])
	}
	i += len(c.order)
	if re {
		for _, bt := range c.b {
			i += copy(row[i:], bt)
		}
	}
}

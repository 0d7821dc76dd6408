package sampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// GLMMSpec is a generalized linear mixed model (bernoulli, binomial,
// poisson or negative binomial) with its priors, for RunLogistic and
// RunLaplace.
type GLMMSpec struct {
	// Design is the model's design; Design.Family must be Bernoulli or
	// Binomial (RunLogistic), or any of those and Poisson or NegBinomial
	// (RunLaplace). Design.Offset, when set, is added to the linear
	// predictor: η = offset + Xβ + Zb. Design.Weights, when set (RunLaplace
	// only), multiply each row's log-likelihood.
	Design *model.Design
	// Fixed holds the prior of each column of X: priors.Normal,
	// priors.Flat, or a normal scale mixture (priors.StudentT,
	// priors.Cauchy, priors.Laplace).
	Fixed []priors.Univariate
	// SD holds, per Design.Terms entry, the prior of each of its SDs
	// (all effects of a term share it).
	SD []priors.ScalePrior
	// CorEta holds, per Design.Terms entry, the LKJ shape η of a
	// correlated term's correlation matrix (nil or 0: 1, brms's
	// default). RunLogistic only.
	CorEta []float64
	// ShapeA and ShapeB are the gamma(a, b) prior (shape a, rate b) on a
	// negative binomial's shape, as brms's default gamma(0.01, 0.01).
	ShapeA, ShapeB float64
}

// GLMMOptions control RunLogistic and RunLaplace.
type GLMMOptions struct {
	// Chains, Warmup and Draws are as in Options (no thinning).
	Chains, Warmup, Draws int
	// Seed seeds every chain's PCG stream: the chain with id k uses
	// (Seed, k), so a chain's draws do not depend on how many chains run
	// beside it.
	Seed uint64
	// FirstChain is the id of the first chain (0 means 1); chain c has id
	// FirstChain + c, as in Options.
	FirstChain int
	// RandomEffects keeps the r_ columns.
	RandomEffects bool

	// kappaShift, when nonzero, is added to κ = y − n/2: a deliberately
	// wrong augmentation for the Geweke test to catch.
	kappaShift float64
	// ncDrift, when nonzero, shifts the non-centred ψ move's proposal by
	// ncDrift random-walk SDs (an asymmetric proposal accepted as if it
	// were symmetric): a planted bug for the Geweke test to catch.
	ncDrift float64
	// cNoDet, when true, leaves the log-determinant out of cMove's
	// log p(b | ψ): a planted bug for the Geweke test to catch.
	cNoDet bool
}

// GLMMResult holds the draws of RunLogistic or RunLaplace.
type GLMMResult struct {
	// Columns names the columns: b_ (fixed effects), sd_<group>__<name>,
	// then r_<group>[<level>,<name>] with RandomEffects.
	Columns []string
	// Draws holds, per chain, Draws rows of len(Columns) values.
	Draws [][]float64
	// NDraws is the number of draws per chain.
	NDraws int
	// Accept is each chain's post-warmup acceptance rate of the SD step.
	Accept []float64
}

// psiMoves is the number of Metropolis moves of ψ per iteration. On cbpp
// (4 × 5000 draws) three moves raised the min bulk-ESS from 2394 to 3579
// but doubled the wall time on the shared machine; the warmup adapts the
// scale to the acceptance of a single move, so one is used.
const psiMoves = 1

// ncMoves is the number of non-centred Metropolis moves of ψ per
// iteration (logitChain.ncMove).
// On VerbAgg (4 × 1000 after 1000) one move per iteration raised the min
// bulk-ESS from 313 to 447 for 19 % more CPU time, three gave 511 for 38 %
// more; cbpp: 573 → 742 for 4 % more.
const ncMoves = 1

// logitChain is one chain of the Pólya-Gamma Gibbs sampler.
type logitChain struct {
	spec     *GLMMSpec
	d        *model.Design
	cur, prp *model.MixedModel
	n, p, q  int
	nt       int
	ntr      []int
	kappa    []float64
	omega, z []float64
	eta      []float64
	b        [][]float64
	psi      []float64 // per kernel term: log SDs, then corr-Cholesky coordinates
	terms    []logitTerm
	th       []float64 // θ
	u, beta  []float64
	zstd     []float64
	lt       float64
	rng      *rand.Rand
	scale    float64
	// psiSD scales the random walk per coordinate: the SDs of ψ over
	// the second half of warmup (1 before).
	psiSD   []float64
	sdPrior []priors.ScalePrior // per kernel term
	order   []int
	// The non-centred ψ move (ncMove): its random-walk scale, whether
	// its last proposal was accepted, the u offset of each kernel term,
	// and scratch for the proposal's θ, b and linear predictor.
	ncScale float64
	ncAcc   float64
	ncDrift float64
	// The centred ψ move (cMove): per term its random-walk scale (on ψ
	// itself, adapted through the whole warmup) and whether its last
	// proposal was accepted; the planted bug cNoDet.
	cScale  []float64
	cAcc    []float64
	cNoDet  bool
	cProp   []float64
	uoff    []int
	thp     []float64
	bp      [][]float64
	etaFix  []float64
	etaProp []float64
	// off is each row's offset (Design.Offset, nil without one): η =
	// off + Xβ + Zb, and the working response the kernel sees is
	// κ/ω − off.
	off []float64
	// fixed classifies β's priors; a scale mixture's coefficient j is
	// N(μ, lvar[j]) given its latent variance, drawn each iteration
	// (mixing reports whether there is any); prec and mean are the
	// kernels' Gaussian prior of β.
	fixed      []fixedPrior
	lvar       []float64
	mixing     bool
	prec, mean []float64
}

// logitTerm is where a kernel term's parameters sit in ψ and θ.
type logitTerm struct {
	di           int // Design.Terms index
	k            int
	corr         bool
	sdOff        int // log SDs at psi[sdOff : sdOff+k]
	corOff, ncor int // corr-Cholesky coordinates (corr only)
	thOff        int
	eta          float64   // LKJ shape
	lom, cm      []float64 // scratch: chol(Ω) and diag(τ)·chol(Ω), k × k
}

// checkGLMMSpec validates the spec.
func checkGLMMSpec(s *GLMMSpec) error {
	d := s.Design
	if d == nil || d.X == nil {
		return errors.New("sampler: no design")
	}
	if !d.Family.Logistic() {
		return fmt.Errorf("sampler: RunLogistic needs family bernoulli or binomial, not %s", d.Family)
	}
	if d.Weights != nil {
		return errors.New("sampler: the Pólya-Gamma sampler takes no prior weights (RunLaplace does)")
	}
	if len(s.Fixed) != len(d.XNames) {
		return fmt.Errorf("sampler: %d fixed-effect priors for %d columns", len(s.Fixed), len(d.XNames))
	}
	if _, err := glmmFixed(s); err != nil {
		return err
	}
	if len(s.SD) != len(d.Terms) {
		return fmt.Errorf("sampler: %d SD priors for %d terms", len(s.SD), len(d.Terms))
	}
	for i, t := range d.Terms {
		if s.SD[i] == nil {
			return fmt.Errorf("sampler: no SD prior for (… | %s)", t.Group)
		}
		if i < len(s.CorEta) && s.CorEta[i] < 0 {
			return fmt.Errorf("sampler: term (… | %s): LKJ shape must be positive, got %g", t.Group, s.CorEta[i])
		}
	}
	return nil
}

func newLogitChain(s *GLMMSpec, opt GLMMOptions, id int) (*logitChain, error) {
	d := s.Design
	c := &logitChain{spec: s, d: d, rng: rand.New(rand.NewPCG(opt.Seed, uint64(id)))}
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
	c.nt = len(c.order)
	c.sdPrior = make([]priors.ScalePrior, c.nt)
	for k, di := range c.order {
		c.sdPrior[k] = s.SD[di]
	}
	if c.fixed, err = glmmFixed(s); err != nil {
		return nil, err
	}
	c.lvar = make([]float64, c.p)
	for j, f := range c.fixed {
		c.lvar[j] = f.v
		c.mixing = c.mixing || f.kind == fixedMixture
	}
	c.prec, c.mean = make([]float64, c.p), make([]float64, c.p)
	glmmPrecision(c.fixed, c.lvar, c.prec, c.mean)
	c.cur.SetFixedPrecision(c.prec, c.mean)
	c.prp.SetFixedPrecision(c.prec, c.mean)
	c.ntr = make([]int, c.n)
	c.kappa = make([]float64, c.n)
	for i := range c.n {
		nt := 1.0
		if d.Trials != nil {
			nt = d.Trials[i]
		}
		c.ntr[i] = int(nt)
		c.kappa[i] = d.Y[i] - nt/2 + opt.kappaShift
	}
	c.off = d.Offset
	c.omega, c.z, c.eta = make([]float64, c.n), make([]float64, c.n), make([]float64, c.n)
	c.b = make([][]float64, len(d.Terms))
	for i, t := range d.Terms {
		c.b[i] = make([]float64, t.K*len(t.Levels))
	}
	var np, nth int
	c.terms, np, nth = glmmLayout(d, c.order, s.CorEta)
	c.th = make([]float64, nth)
	c.u, c.beta = make([]float64, c.q), make([]float64, c.p)
	c.zstd = make([]float64, c.q+c.p)
	c.psi = make([]float64, np)
	for _, lt := range c.terms {
		for e := range lt.k {
			c.psi[lt.sdOff+e] = math.Log(0.5) + 0.5*c.rng.NormFloat64()
		}
		for e := range lt.ncor {
			c.psi[lt.corOff+e] = 0.2 * c.rng.NormFloat64()
		}
	}
	c.scale = 2.38 / math.Sqrt(float64(np))
	c.ncScale, c.ncDrift = c.scale, opt.ncDrift
	c.cScale, c.cAcc, c.cNoDet = make([]float64, c.nt), make([]float64, c.nt), opt.cNoDet
	for ti, lt := range c.terms {
		c.cScale[ti] = 2.38 / math.Sqrt(float64(lt.k+lt.ncor)) / 2
	}
	c.cProp = make([]float64, np)
	c.thp = make([]float64, nth)
	c.bp = make([][]float64, len(d.Terms))
	for i := range d.Terms {
		c.bp[i] = make([]float64, len(c.b[i]))
	}
	c.etaFix, c.etaProp = make([]float64, c.n), make([]float64, c.n)
	c.uoff = make([]int, c.nt)
	off := 0
	for k, di := range c.order {
		c.uoff[k] = off
		off += d.Terms[di].K * len(d.Terms[di].Levels)
	}
	c.psiSD = make([]float64, np)
	for k := range c.psiSD {
		c.psiSD[k] = 1
	}
	return c, nil
}

// glmmFixed classifies a GLMM spec's fixed-effect priors: flat, normal,
// and the normal scale mixtures student_t, cauchy and laplace (a
// horseshoe is refused).
func glmmFixed(s *GLMMSpec) ([]fixedPrior, error) {
	fs, err := classifyFixed(s.Fixed, s.Design.XNames)
	if err != nil {
		return nil, err
	}
	for j, f := range fs {
		if f.kind == fixedHorseshoe {
			return nil, fmt.Errorf("sampler: prior %v on %s: the GLMM samplers take flat, normal, student_t, cauchy or laplace priors on fixed effects", f.prior, s.Design.XNames[j])
		}
	}
	return fs, nil
}

// glmmPrecision sets prec and mean, the Gaussian prior of β the kernels
// use: flat 0; normal its own; a scale mixture N(μ, v) with v its latent
// variance lvar[j].
func glmmPrecision(fixed []fixedPrior, lvar, prec, mean []float64) {
	for j, f := range fixed {
		switch f.kind {
		case fixedNormal:
			prec[j], mean[j] = 1/f.v, f.mu
		case fixedMixture:
			prec[j], mean[j] = 1/lvar[j], f.mu
		default:
			prec[j], mean[j] = 0, 0
		}
	}
}

// glmmLayout places each kernel term's parameters in ψ (log SDs, then
// corr-Cholesky coordinates for a correlated term) and θ; it returns the
// terms in kernel order and the lengths of ψ and θ.
func glmmLayout(d *model.Design, order []int, corEta []float64) ([]logitTerm, int, int) {
	var terms []logitTerm
	np, thOff := 0, 0
	for _, di := range order {
		t := d.Terms[di]
		lt := logitTerm{di: di, k: t.K, corr: t.K > 1 && t.Correlated, sdOff: np, thOff: thOff, eta: 1,
			lom: make([]float64, t.K*t.K), cm: make([]float64, t.K*t.K)}
		np += t.K
		if lt.corr {
			lt.corOff, lt.ncor = np, t.K*(t.K-1)/2
			np += lt.ncor
		}
		if di < len(corEta) && corEta[di] > 0 {
			lt.eta = corEta[di]
		}
		thOff += t.K * (t.K + 1) / 2
		terms = append(terms, lt)
	}
	return terms, np, thOff
}

// fillTheta sets c.th from ψ and returns the log prior of ψ (fillLambda).
func (c *logitChain) fillTheta(psi []float64) float64 {
	return fillLambda(c.terms, c.sdPrior, psi, c.th)
}

// fillLambda sets th from ψ (Λ = diag(τ)·chol(Ω) per term, σ = 1, θ the
// column-wise lower triangle; each term's cm holds its Λ) and returns
// the log prior of ψ: the SD priors, LKJ and the Jacobians (ψ for log τ,
// corrCholesky's for Ω).
func fillLambda(terms []logitTerm, sdPrior []priors.ScalePrior, psi, th []float64) float64 {
	var lp float64
	for ti, lt := range terms {
		lp += fillTerm(lt, sdPrior[ti], psi, th)
	}
	return lp
}

// setLambda is fillLambda without the log prior: th and each term's cm
// (Λ) from ψ only.
func setLambda(terms []logitTerm, psi, th []float64) {
	for _, lt := range terms {
		setTerm(lt, psi, th)
	}
}

// setTerm sets one term's lom (chol(Ω)), cm (Λ = diag(τ)·chol(Ω)) and θ
// entries from ψ and returns the log Jacobian of its corr-Cholesky
// coordinates (0 for an uncorrelated term).
func setTerm(lt logitTerm, psi, th []float64) float64 {
	var lj float64
	k := lt.k
	if lt.corr {
		lj = corrCholesky(psi[lt.corOff:lt.corOff+lt.ncor], k, lt.lom)
	} else {
		clear(lt.lom)
		for e := range k {
			lt.lom[e*k+e] = 1
		}
	}
	for e := range k {
		tau := math.Exp(psi[lt.sdOff+e])
		for f := 0; f <= e; f++ {
			lt.cm[e*k+f] = tau * lt.lom[e*k+f]
		}
	}
	i := lt.thOff
	for col := range k {
		for r := col; r < k; r++ {
			th[i] = lt.cm[r*k+col]
			i++
		}
	}
	return lj
}

// fillTerm is fillLambda for one term: its θ entries, its cm, and its part
// of the log prior of ψ.
func fillTerm(lt logitTerm, sdPrior priors.ScalePrior, psi, th []float64) float64 {
	lp := setTerm(lt, psi, th)
	if lt.corr {
		lp += lkjCholeskyLogDensity(lt.lom, lt.k, lt.eta)
	}
	for e := range lt.k {
		v := psi[lt.sdOff+e]
		lp += sdPrior.LogDensitySD(math.Exp(v)) + v
	}
	return lp
}

// logPriorB is the package function, or with the planted bug cNoDet
// without its log-determinant.
func (c *logitChain) logPriorB(lt logitTerm, b []float64) float64 {
	v := logPriorB(lt, b)
	if c.cNoDet {
		for e := range lt.k {
			v += float64(len(b)/lt.k) * math.Log(lt.cm[e*lt.k+e])
		}
	}
	return v
}

// logPriorB is log p(b | Λ) for one term's effects b (level-major, k per
// level), b_l ~ N(0, ΛΛᵀ) with Λ = lt.cm lower triangular, up to a
// constant: −J Σₑ log Λₑₑ − ½ Σ_l ‖Λ⁻¹b_l‖².
func logPriorB(lt logitTerm, b []float64) float64 {
	k := lt.k
	nl := len(b) / k
	var logdet float64
	for e := range k {
		logdet += math.Log(lt.cm[e*k+e])
	}
	var ss float64
	var w [8]float64
	x := w[:0]
	if k > len(w) {
		x = make([]float64, 0, k)
	}
	x = x[:k]
	for l := range nl {
		bl := b[l*k : (l+1)*k]
		for r := range k {
			s := bl[r]
			for col := range r {
				s -= lt.cm[r*k+col] * x[col]
			}
			x[r] = s / lt.cm[r*k+r]
			ss += x[r] * x[r]
		}
	}
	return -float64(nl)*logdet - ss/2
}

// logTarget factors k at ψ (k already reweighted) and returns
// log p(z | ψ, ω) + log p(τ) + log|J| up to a constant: the Gaussian
// marginal likelihood of the working response with (β, u) integrated
// out, −½(log det(ΛᵀZᵀΩZΛ + I) + log|R_X|² + r²), as docs/sampler.md's
// marginal identity with σ = 1.
func (c *logitChain) logTarget(k *model.MixedModel, psi []float64) float64 {
	lp := c.fillTheta(psi)
	if math.IsNaN(lp) || math.IsInf(lp, 0) {
		return math.Inf(-1)
	}
	if err := k.SetTheta(c.th); err != nil {
		return math.Inf(-1)
	}
	return lp - 0.5*(k.LogDetZ()+k.LogDetX()+k.PWRSS())
}

// step runs one iteration: ω | η; ψ | ω, y by Metropolis on the collapsed
// target; (β, u) | ψ, ω exactly; it returns whether the ψ move was
// accepted.
func (c *logitChain) step() bool {
	d := c.d
	if c.mixing {
		// The scale mixtures' latent variances given β (Gibbs), then
		// the kernels' prior of β given them.
		drawLatent(c.fixed, c.beta, c.lvar, c.rng)
		glmmPrecision(c.fixed, c.lvar, c.prec, c.mean)
		c.cur.SetFixedPrecision(c.prec, c.mean)
		c.prp.SetFixedPrecision(c.prec, c.mean)
	}
	// η = off + Xβ + Zb at the current state.
	offsetXBeta(d, c.off, c.beta, c.eta)
	d.AddZb(c.b, c.eta)
	// ω ~ PG(n, η); working response κ/ω − off with weights ω (given ω,
	// κ/ω ~ N(η, 1/ω), so κ/ω − off ~ N(Xβ + Zb, 1/ω)).
	for i := range c.n {
		w := RandPG(c.ntr[i], c.eta[i], c.rng)
		c.omega[i] = w
		c.z[i] = c.kappa[i] / w
		if c.off != nil {
			c.z[i] -= c.off[i]
		}
	}
	if err := c.cur.Reweight(c.omega, c.z); err != nil {
		panic(err)
	}
	if err := c.prp.CopyWeights(c.cur); err != nil {
		panic(err)
	}
	c.lt = c.logTarget(c.cur, c.psi)
	// Random-walk Metropolis on ψ, psiMoves times (each one
	// factorisation; cheap next to the ω draws).
	acc := false
	for range psiMoves {
		prop := make([]float64, len(c.psi))
		for k := range prop {
			prop[k] = c.psi[k] + c.scale*c.psiSD[k]*c.rng.NormFloat64()
		}
		lp := c.logTarget(c.prp, prop)
		a := math.Log(c.rng.Float64()) < lp-c.lt
		if a {
			c.psi, c.lt = prop, lp
			c.cur, c.prp = c.prp, c.cur
		}
		acc = acc || a
	}
	// (u, β) ~ N(mode, (LLᵀ)⁻¹) on the accepted kernel.
	for i := range c.zstd {
		c.zstd[i] = c.rng.NormFloat64()
	}
	c.cur.Draw(c.zstd, 1, c.u, c.beta)
	c.cur.ToB(c.u, c.b)
	c.ncAcc = c.ncMove()
	c.cMove()
	return acc
}

// cMove is a Metropolis move of each term's part of ψ in the centred
// parameterisation: with b fixed, ψ′ = ψ + random walk (scale
// cScale[term]) on that term's coordinates, accepted with
// p(b | ψ′)p(ψ′) / p(b | ψ)p(ψ). It needs no pass over the rows. Where
// each level has many rows (VerbAgg's 24 items, 316 rows each) b is well
// determined by the data and the centred move is the efficient one,
// where the non-centred ncMove is slow; completing the interweaving of
// Yu & Meng (2011) with both. cAcc[term] records whether its proposal
// was accepted (for the warmup's adaptation). The whitened u of ncMove is
// not kept in step (the next (u, β) draw replaces it).
func (c *logitChain) cMove() {
	prop := c.cProp
	for ti, lt := range c.terms {
		b := c.b[lt.di]
		lp0 := fillTerm(lt, c.sdPrior[ti], c.psi, c.thp) + c.logPriorB(lt, b)
		copy(prop, c.psi)
		lo, hi := lt.sdOff, lt.sdOff+lt.k
		for k := lo; k < hi; k++ {
			prop[k] = c.psi[k] + c.cScale[ti]*c.rng.NormFloat64()
		}
		if lt.corr {
			for k := lt.corOff; k < lt.corOff+lt.ncor; k++ {
				prop[k] = c.psi[k] + c.cScale[ti]*c.rng.NormFloat64()
			}
		}
		lp1 := fillTerm(lt, c.sdPrior[ti], prop, c.thp)
		u := c.rng.Float64()
		c.cAcc[ti] = 0
		if math.IsNaN(lp1) || math.IsInf(lp1, 0) {
			continue
		}
		lp1 += c.logPriorB(lt, b)
		if math.Log(u) < lp1-lp0 {
			copy(c.psi, prop)
			c.cAcc[ti] = 1
		}
	}
}

// ncMove is a Metropolis move of ψ in the non-centred parameterisation
// on the model itself (no ω): with β and the whitened effects u fixed,
// ψ′ = ψ + random walk (scale ncScale·psiSD), b′ = Λ(ψ′)u, accepted with
// p(y | Xβ + Zb′)p(ψ′) / p(y | Xβ + Zb)p(ψ) (u's prior N(0, I) does not
// involve ψ). The collapsed move above conditions on ω, which holds the
// SDs near their value (ω and τ are strongly dependent given the data);
// this one does not, so alternating the two (an interweaving of the
// centred and non-centred parameterisations, Yu & Meng 2011) moves the
// SDs of weakly identified effects further per iteration. It makes
// ncMoves such moves (each costs two passes over the rows, no
// factorisation) and returns the fraction accepted; the state (ψ, b) is
// updated.
func (c *logitChain) ncMove() float64 {
	offsetXBeta(c.d, c.off, c.beta, c.etaFix)
	cur := c.etaLogLik(c.b, c.eta)
	lp0 := c.fillTheta(c.psi)
	prop := make([]float64, len(c.psi))
	nacc := 0
	for range ncMoves {
		for k := range prop {
			prop[k] = c.psi[k] + c.ncScale*c.psiSD[k]*(c.rng.NormFloat64()+c.ncDrift)
		}
		lp1 := fillLambda(c.terms, c.sdPrior, prop, c.thp)
		if math.IsNaN(lp1) || math.IsInf(lp1, 0) {
			c.rng.Float64()
			continue
		}
		// b′ = Λ(ψ′)u per level (lt.cm holds Λ′ of each kernel term).
		for k, lt := range c.terms {
			kk := lt.k
			bt := c.bp[lt.di]
			u := c.u[c.uoff[k] : c.uoff[k]+len(bt)]
			for lev := range len(bt) / kk {
				ul := u[lev*kk : (lev+1)*kk]
				for r := range kk {
					var s float64
					for col := 0; col <= r; col++ {
						s += lt.cm[r*kk+col] * ul[col]
					}
					bt[lev*kk+r] = s
				}
			}
		}
		next := c.etaLogLik(c.bp, c.etaProp)
		if !(math.Log(c.rng.Float64()) < next+lp1-cur-lp0) {
			continue
		}
		copy(c.psi, prop)
		for i := range c.b {
			copy(c.b[i], c.bp[i])
		}
		cur, lp0 = next, lp1
		nacc++
	}
	return float64(nacc) / float64(ncMoves)
}

// etaLogLik sets eta = etaFix + Zb (etaFix = off + Xβ) and returns the binomial
// log-likelihood Σ yᵢηᵢ − nᵢ log(1 + e^ηᵢ) (without the binomial
// coefficients, which do not involve η), written with κᵢ = yᵢ − nᵢ/2 as
// Σ κᵢηᵢ − nᵢ(log(1 + e^ηᵢ) − ηᵢ/2): the sampler's y is its κ.
func (c *logitChain) etaLogLik(b [][]float64, eta []float64) float64 {
	copy(eta, c.etaFix)
	c.d.AddZb(b, eta)
	var ll float64
	for i, e := range eta {
		// log(1 + e^η) without overflow.
		var sp float64
		if e > 0 {
			sp = e + math.Log1p(math.Exp(-e))
		} else {
			sp = math.Log1p(math.Exp(e))
		}
		ll += c.kappa[i]*e - float64(c.ntr[i])*(sp-e/2)
	}
	return ll
}

// record writes the chain's state in GLMMResult.Columns order.
func (c *logitChain) record(row []float64, re bool) {
	recordState(row, c.d, c.terms, c.psi, c.beta, c.b, nil, re)
}

// recordState writes β, the SDs and correlations (Design term order),
// the shape (when not nil) and, with re, the random effects effect-major
// per term, in glmmColumns's order.
func recordState(row []float64, d *model.Design, terms []logitTerm, psi, beta []float64, b [][]float64, shape *float64, re bool) {
	i := copy(row, beta)
	byDesign := make([]*logitTerm, len(d.Terms))
	for ti := range terms {
		byDesign[terms[ti].di] = &terms[ti]
	}
	for _, lt := range byDesign {
		for e := range lt.k {
			row[i] = math.Exp(psi[lt.sdOff+e])
			i++
		}
	}
	for _, lt := range byDesign {
		if !lt.corr {
			continue
		}
		// Correlations of Ω = LLᵀ, pairs (e, f), e < f, row by row.
		k := lt.k
		corrCholesky(psi[lt.corOff:lt.corOff+lt.ncor], k, lt.lom)
		for e := range k {
			for f := e + 1; f < k; f++ {
				var v float64
				for l := 0; l <= e; l++ {
					v += lt.lom[e*k+l] * lt.lom[f*k+l]
				}
				row[i] = v
				i++
			}
		}
	}
	if shape != nil {
		row[i] = *shape
		i++
	}
	if re {
		for ti, t := range d.Terms {
			// Effect-major, as brms orders r_ columns.
			for e := range t.K {
				for l := range t.Levels {
					row[i] = b[ti][l*t.K+e]
					i++
				}
			}
		}
	}
}

// glmmColumns names the columns brms's way.
func glmmColumns(d *model.Design, re bool) []string {
	var cols []string
	for _, n := range d.XNames {
		if n == "(Intercept)" {
			n = "Intercept"
		}
		cols = append(cols, "b_"+n)
	}
	name := func(n string) string {
		if n == "(Intercept)" {
			return "Intercept"
		}
		return n
	}
	for _, t := range d.Terms {
		for _, n := range t.Names {
			cols = append(cols, "sd_"+t.Group+"__"+name(n))
		}
	}
	for _, t := range d.Terms {
		if t.K > 1 && t.Correlated {
			for e := range t.K {
				for f := e + 1; f < t.K; f++ {
					cols = append(cols, "cor_"+t.Group+"__"+name(t.Names[e])+"__"+name(t.Names[f]))
				}
			}
		}
	}
	if d.Family == model.NegBinomial {
		cols = append(cols, "shape")
	}
	if re {
		for _, t := range d.Terms {
			for _, n := range t.Names {
				for _, l := range t.Levels {
					cols = append(cols, "r_"+t.Group+"["+l+","+name(n)+"]")
				}
			}
		}
	}
	return cols
}

// RunLogistic samples the posterior of a logistic mixed model by
// Pólya-Gamma augmentation (Polson, Scott & Windle 2013): given ω the
// model is a weighted Gaussian mixed model with working response κ/ω
// (κ = y − n/2) and variances 1/ω, so the SDs are updated by Metropolis
// on their marginal posterior given ω with (β, u) integrated out, and
// (β, u) are then drawn jointly from the mixed-model equations, as for
// the Gaussian model (docs/sampler.md). Chains run in parallel; each
// chain's draws depend only on (Seed, chain).
func RunLogistic(ctx context.Context, spec *GLMMSpec, opt GLMMOptions) (*GLMMResult, error) {
	if err := checkGLMMSpec(spec); err != nil {
		return nil, err
	}
	return runGLMMChains(ctx, spec.Design, opt, func(ci, nc int) ([]float64, float64, error) {
		c, err := newLogitChain(spec, opt, opt.chainID(ci))
		if err != nil {
			return nil, 0, err
		}
		out := make([]float64, 0, min(opt.Draws, 4096)*nc)
		var nacc, nw int
		sum, sum2 := make([]float64, len(c.psi)), make([]float64, len(c.psi))
		for it := range opt.Warmup + opt.Draws {
			if it%64 == 0 && ctx.Err() != nil {
				return out, float64(nacc) / float64(max(len(out)/nc, 1)), ctx.Err()
			}
			acc := c.step()
			if it < opt.Warmup {
				// Robbins–Monro on the log scale towards acceptance 0.35,
				// and per-coordinate SDs of ψ from the second half of
				// warmup, set at its end (the scale then restarts).
				a := 0.0
				if acc {
					a = 1
				}
				gain := math.Pow(float64(it%max(opt.Warmup/2, 1)+10), 0.6)
				c.scale *= math.Exp((a - 0.35) / gain)
				c.ncScale *= math.Exp((c.ncAcc - 0.35) / gain)
				for ti, a := range c.cAcc {
					c.cScale[ti] *= math.Exp((a - 0.35) / math.Pow(float64(it+10), 0.6))
				}
				if it >= opt.Warmup/2 {
					for k, v := range c.psi {
						sum[k] += v
						sum2[k] += v * v
					}
					nw++
				}
				if it == opt.Warmup-1 && nw >= 20 {
					for k := range c.psiSD {
						m := sum[k] / float64(nw)
						c.psiSD[k] = math.Max(math.Sqrt(math.Max(sum2[k]/float64(nw)-m*m, 0)), 1e-3)
					}
					c.scale = 2.38 / math.Sqrt(float64(len(c.psi)))
					c.ncScale, c.ncDrift = c.scale, opt.ncDrift
				}
				continue
			}
			if acc {
				nacc++
			}
			out = slices.Grow(out, nc)[:len(out)+nc]
			c.record(out[len(out)-nc:], opt.RandomEffects)
		}
		return out, float64(nacc) / float64(opt.Draws), nil
	})
}

// chainID is the id of chain ci (0-based) of the run.
func (o GLMMOptions) chainID(ci int) int { return max(o.FirstChain, 1) + ci }

// runGLMMChains checks opt, runs opt.Chains chains in parallel and
// gathers their draws: chain(ci, nc) runs chain ci (0-based) and returns
// its draws (nc columns a row), its acceptance rate and an error (on
// cancellation the draws so far with ctx.Err()).
func runGLMMChains(ctx context.Context, d *model.Design, opt GLMMOptions, chain func(ci, nc int) ([]float64, float64, error)) (*GLMMResult, error) {
	if opt.Chains < 1 || opt.Draws < 1 || opt.Warmup < 0 {
		return nil, fmt.Errorf("sampler: need chains ≥ 1, draws ≥ 1, warmup ≥ 0; got %d, %d, %d", opt.Chains, opt.Draws, opt.Warmup)
	}
	res := &GLMMResult{Columns: glmmColumns(d, opt.RandomEffects), Draws: make([][]float64, opt.Chains),
		NDraws: opt.Draws, Accept: make([]float64, opt.Chains)}
	errs := make([]error, opt.Chains)
	var wg sync.WaitGroup
	for ci := range opt.Chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.Draws[ci], res.Accept[ci], errs[ci] = chain(ci, len(res.Columns))
		}()
	}
	wg.Wait()
	return finishGLMM(ctx, res, errs)
}

// finishGLMM returns the result of the chains: the first error that is
// not the context's; on cancellation the draws every chain made, cut to
// the same number, with ctx.Err() (the caller may keep them).
func finishGLMM(ctx context.Context, res *GLMMResult, errs []error) (*GLMMResult, error) {
	cancelled := false
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			cancelled = true
		default:
			return nil, err
		}
	}
	if !cancelled {
		return res, nil
	}
	nc := len(res.Columns)
	n := res.NDraws
	for _, d := range res.Draws {
		n = min(n, len(d)/nc)
	}
	for ci := range res.Draws {
		res.Draws[ci] = res.Draws[ci][:n*nc]
	}
	res.NDraws = n
	return res, ctx.Err()
}

// offsetXBeta sets dst = off + Xβ for the rows of d (Xβ when off is
// nil): the fixed part of the samplers' linear predictor.
func offsetXBeta(d *model.Design, off, beta, dst []float64) {
	xr := d.X.RawMatrix()
	for i := range dst {
		var s float64
		if off != nil {
			s = off[i]
		}
		for j, b := range beta {
			s += xr.Data[i*xr.Stride+j] * b
		}
		dst[i] = s
	}
}

// kernelDesign is d without its offset and prior weights, for the
// chains' kernels: the samplers reweight them with working responses
// that already have the offset taken out and with IRLS weights that
// already carry the prior weights, and a chain's kernels must share one
// design (CopyWeights); NewMixedModel would otherwise give each its own
// copy with the offset subtracted from y and X scaled by √w
// (Design.Working).
func kernelDesign(d *model.Design) *model.Design {
	if d.Offset == nil && d.Weights == nil {
		return d
	}
	k := *d
	k.Offset, k.Weights = nil, nil
	return &k
}

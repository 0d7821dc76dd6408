package sampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
	"gonum.org/v1/gonum/mat"
)

// ChainResult is the output of one chain.
type ChainResult struct {
	// ID is the chain id (1-based by default).
	ID int
	// Draws holds the saved draws row-major: NDraws rows of
	// len(Names.Columns) values.
	Draws []float64
	// NDraws is the number of saved draws.
	NDraws int
	// Wall is the chain's wall time.
	Wall time.Duration
	// AcceptWarmup is the Metropolis acceptance rate of ψ during warmup.
	AcceptWarmup float64
	// AcceptRW and AcceptIndep are the post-warmup acceptance rates of
	// the random-walk and independence proposals; NaN when unused.
	AcceptRW, AcceptIndep float64
	// Accept is the overall post-warmup acceptance rate of ψ.
	Accept float64
	// Init is the chain's initial ψ.
	Init []float64
	// NUTS holds the No-U-Turn sampler's statistics when method "nuts"
	// ran (nil otherwise); Accept and AcceptWarmup are then its mean
	// acceptance statistic.
	NUTS *NUTSStats
}

// NUTSStats are one chain's No-U-Turn statistics, as Stan reports them.
type NUTSStats struct {
	// StepSize is the adapted leapfrog step size.
	StepSize float64
	// Divergent counts post-warmup transitions that diverged (energy
	// error above 1000); DivergentWarmup those during warmup.
	Divergent, DivergentWarmup int
	// MaxTreeDepth counts post-warmup transitions that stopped at
	// MaxDepth doublings instead of a U-turn.
	MaxTreeDepth, MaxDepth int
	// MeanLeapfrog is the mean number of leapfrog steps (gradient
	// evaluations) per post-warmup transition, MeanLeapfrogWarmup per
	// warmup transition.
	MeanLeapfrog, MeanLeapfrogWarmup float64
}

// Result is the output of Run.
type Result struct {
	// Names lists the columns of the draws.
	Names *Names
	// Chains holds one result per chain, in chain order.
	Chains []*ChainResult
	// Mode is the mode of the marginal posterior of ψ that the inits are
	// dispersed around, and ModeCov the inverse of the negative Hessian
	// there (the initial proposal covariance).
	Mode, ModeCov []float64
	// PsiNames names the coordinates of ψ.
	PsiNames []string
	// Interrupted is true when the run was cancelled: the chains hold
	// only the draws saved before, cut to the same length.
	Interrupted bool
	// Method is the algorithm that ran: "collapsed" or "crossed".
	Method string
	// MethodReason says why Method was chosen (the user's choice, or the
	// "auto" rule's figures).
	MethodReason string
}

// Column returns the draws of column j, one slice per chain.
func (r *Result) Column(j int) [][]float64 {
	nc := len(r.Names.Columns)
	out := make([][]float64, len(r.Chains))
	for c, ch := range r.Chains {
		v := make([]float64, ch.NDraws)
		for i := range v {
			v[i] = ch.Draws[i*nc+j]
		}
		out[c] = v
	}
	return out
}

// setup is what every chain shares.
type setup struct {
	spec  *Spec
	lay   *layout
	fixed []fixedPrior
	names *Names
	newK  func(d *model.Design) (Kernel, error)
	// lpWeights is ½ Σ log wᵢ: the weighted model's log density less the
	// working (√w-scaled) model's, added to lp__.
	lpWeights float64
}

func defaultKernel(d *model.Design) (Kernel, error) { return model.NewMixedModel(d) }

// checkSpec validates the spec against the design.
func checkSpec(s *Spec) error {
	d := s.Design
	if d == nil || d.X == nil {
		return errors.New("sampler: no design")
	}
	_, p := d.X.Dims()
	if len(s.Fixed) != p {
		return fmt.Errorf("sampler: %d fixed-effect priors for %d columns", len(s.Fixed), p)
	}
	if s.Sigma == nil {
		return errors.New("sampler: no prior on sigma")
	}
	if len(s.SD) != len(d.Terms) || len(s.CorEta) != len(d.Terms) {
		return fmt.Errorf("sampler: priors given for %d/%d terms, the design has %d", len(s.SD), len(s.CorEta), len(d.Terms))
	}
	if len(s.Cov) > len(d.Terms) {
		return fmt.Errorf("sampler: %d covariance priors for %d terms", len(s.Cov), len(d.Terms))
	}
	for i, t := range d.Terms {
		if i < len(s.Cov) && s.Cov[i] != nil {
			if err := s.Cov[i].CheckDim(t.K); err != nil {
				return fmt.Errorf("sampler: term (… | %s): %w", t.Group, err)
			}
			var ch mat.Cholesky
			if !ch.Factorize(s.Cov[i].ScaleMatrix(t.K)) {
				return fmt.Errorf("sampler: term (… | %s): inv_wishart scale matrix is not positive definite", t.Group)
			}
			continue
		}
		if len(s.SD[i]) != t.K {
			return fmt.Errorf("sampler: term (… | %s): %d SD priors for %d effects", t.Group, len(s.SD[i]), t.K)
		}
		for e, sp := range s.SD[i] {
			if sp == nil {
				return fmt.Errorf("sampler: term (… | %s): no prior on the SD of %s", t.Group, t.Names[e])
			}
		}
		if t.K > 1 && t.Correlated && !(s.CorEta[i] > 0) {
			return fmt.Errorf("sampler: term (… | %s): LKJ shape must be positive, got %g", t.Group, s.CorEta[i])
		}
	}
	for j, f := range s.Fixed {
		if f == nil {
			return fmt.Errorf("sampler: no prior on %s", d.XNames[j])
		}
	}
	return nil
}

// Run samples the posterior of spec. Chains run in parallel; each chain's
// output depends only on (opt.Seed, chain id). Cancelling ctx stops every
// chain at its next iteration; Run then returns ctx's error together with
// a Result holding the draws every chain had saved, cut to the shortest
// chain, with Interrupted set (nil if a chain had not started).
func Run(ctx context.Context, spec *Spec, opt Options) (*Result, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	if opt.Chains < 1 || opt.Draws < 1 || opt.Warmup < 0 {
		return nil, fmt.Errorf("sampler: need chains ≥ 1, draws ≥ 1, warmup ≥ 0; got %d, %d, %d", opt.Chains, opt.Draws, opt.Warmup)
	}
	if opt.Thin < 1 {
		opt.Thin = 1
	}
	switch opt.Method {
	case "", "auto", "collapsed", "crossed", "nuts":
	default:
		return nil, fmt.Errorf("sampler: unknown method %q (want auto, collapsed, nuts or crossed)", opt.Method)
	}
	if opt.FirstChain == 0 {
		opt.FirstChain = 1
	}
	if opt.IndependenceWeight == 0 {
		opt.IndependenceWeight = 0.95
	}
	if opt.plainGibbs {
		// The conditional target moves with (β, b): no independence
		// proposal.
		opt.IndependenceWeight = -1
	}
	st, k0, err := newSetup(spec, opt)
	if err != nil {
		return nil, err
	}
	method, reason := chooseMethod(st, opt)
	var mode, cov []float64
	// The mode search uses the exact gradient (L-BFGS) when the kernel
	// has one and it is affordable, Nelder–Mead otherwise.
	gk, hasGrad := k0.(gradKernel)
	ratio, sel := gradCost(st)
	cheapGrad := hasGrad && ratio <= nutsMaxGradCost && sel <= nutsMaxGradFlops
	findModeOnce := func() error {
		if mode != nil {
			return nil
		}
		var err error
		if hasGrad && (cheapGrad || method == "nuts") {
			mode, cov, err = findModeGrad(st, gk)
		} else {
			mode, cov, err = findMode(st, k0)
		}
		return err
	}
	if (opt.Method == "" || opt.Method == "auto") && cheapGrad {
		if err := findModeOnce(); err != nil {
			return nil, err
		}
		method, reason = autoPilot(st, opt, method, ratio, mode, cov)
	}
	if method == "nuts" && !hasGrad {
		return nil, errors.New("sampler: method nuts needs a kernel with InvDiagSums and ModeSums")
	}
	var cd *crossedData
	var makeChain func(id int) (mcmc, error)
	if method == "crossed" {
		cd = newCrossedData(st, opt)
		psi0 := startPsi(st)
		makeChain = func(id int) (mcmc, error) { return newCrossedChain(st, cd, opt, id, psi0), nil }
	} else {
		if err := findModeOnce(); err != nil {
			return nil, err
		}
		makeChain = func(id int) (mcmc, error) { return newChain(st, opt, id, mode, cov, method == "nuts") }
	}
	res := &Result{Names: st.names, Mode: mode, ModeCov: cov, PsiNames: psiNames(st), Method: method, MethodReason: reason}
	res.Chains = make([]*ChainResult, opt.Chains)
	par := opt.Parallel
	if par < 1 || par > opt.Chains {
		par = opt.Chains
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	errs := make([]error, opt.Chains)
	// A chain that fails (a sink that cannot write) stops the others.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for c := range opt.Chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ch, err := runChain(cctx, st, opt, opt.FirstChain+c, method, makeChain)
			res.Chains[c] = ch
			if err != nil && !errors.Is(err, context.Canceled) {
				errs[c] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	if err := ctx.Err(); err != nil {
		// Interrupted: return what every chain finished, cut to the
		// shortest chain so that the chains stay comparable.
		n := opt.Draws
		for _, ch := range res.Chains {
			if ch == nil {
				return nil, err
			}
			n = min(n, ch.NDraws)
		}
		nc := len(res.Names.Columns)
		for _, ch := range res.Chains {
			ch.NDraws = n
			if ch.Draws != nil {
				ch.Draws = ch.Draws[:n*nc]
			}
		}
		res.Interrupted = true
		return res, err
	}
	return res, nil
}

// newSetup builds what every chain shares and the kernel the mode
// search uses (the spec must have passed checkSpec).
func newSetup(spec *Spec, opt Options) (*setup, Kernel, error) {
	newK := spec.NewKernel
	if newK == nil {
		newK = defaultKernel
	}
	lpWeights := spec.Design.LogWeights() / 2
	if spec.Design.Weighted() {
		// Prior weights and offsets: every method samples the model of the
		// √w-scaled rows, y − offset (model.Design.Working), which is the
		// weighted model exactly.
		s := *spec
		s.Design = spec.Design.Working()
		spec = &s
	}
	k0, err := newK(spec.Design)
	if err != nil {
		return nil, nil, fmt.Errorf("sampler: %w", err)
	}
	lay, err := newLayout(spec.Design, k0, spec.Cov)
	if err != nil {
		return nil, nil, err
	}
	fixed, err := classifyFixed(spec.Fixed, spec.Design.XNames)
	if err != nil {
		return nil, nil, err
	}
	st := &setup{spec: spec, lay: lay, fixed: fixed, names: columnNames(spec.Design, opt.RandomEffects), newK: newK, lpWeights: lpWeights}
	return st, k0, nil
}

// psiNames names the coordinates of ψ.
func psiNames(st *setup) []string {
	out := make([]string, st.lay.dim)
	out[0] = "log(sigma)"
	n := st.names
	sd := 0
	for _, t := range st.lay.terms {
		for e := range t.k {
			if !t.iw {
				out[t.sdOff+e] = "log(" + n.SD[sd] + ")"
			}
			sd++
		}
		for c := range t.ncor {
			out[t.corOff+c] = "atanh_cpc(" + n.Cor[t.outCor+c] + ")"
		}
	}
	return out
}

// warmLaplaceWeight is the probability that a warmup iteration proposes
// ψ from the Laplace approximation at the mode (a multivariate t, scale
// indepScale) instead of the adaptive random walk: chains started far
// out reach the bulk in a few iterations, so that even short warmups
// adapt on the posterior. Measured over 20 seeds × 4 chains × 1000
// draws (docs/sampler.md): with 0, 0.3, 0.6, 0.8 and 0.95, sleepstudy
// after 200 warmup iterations had R-hat > 1.01 in 20, 1, 0, 0, 0 seeds
// (mean min bulk-ESS 180, 850, 1190, 1317, 1344), and politeness with a
// random slope after 500 in 20, –, 4, 1, – seeds (ESS 251, –, 808, 919).
const warmLaplaceWeight = 0.8

// chain is the state of one chain.
type chain struct {
	st        *setup
	opt       Options
	id        int
	rng       *rand.Rand
	cur, prop Kernel
	ev        *evaluator
	psi, psiP []float64
	lp        float64
	pr        *proposal
	z, u      []float64
	beta      []float64
	b         [][]float64
	hasLatent bool
	// post-step work: horseshoe, inverse-Wishart, conjugate inverse-gamma
	hasHS, hasIW, hasIG bool
	init                []float64
	// hmc, when set, replaces the Metropolis step on ψ by a NUTS
	// transition on the same collapsed target (method "nuts");
	// hmcStale marks that a Gibbs step changed the target since the
	// sample's log density and gradient were computed.
	hmc      *nuts
	hmcStale bool
	// sgn maps NUTS's coordinates (signed SDs) to ψ; nil for log SDs.
	sgn     *signedSD
	accSum  float64
	accSumW float64

	accW, nW, accRW, nRW, accI, nI int
}

// newChain starts chain id: its PCG stream, two kernels and an initial ψ
// drawn around mode.
func newChain(st *setup, opt Options, id int, mode, cov []float64, useNUTS bool) (*chain, error) {
	lay := st.lay
	d := lay.dim
	ch := &chain{st: st, opt: opt, id: id, rng: rand.New(rand.NewPCG(opt.Seed, uint64(id)))}
	var err error
	if ch.cur, err = st.newK(st.spec.Design); err != nil {
		return nil, fmt.Errorf("sampler: chain %d: %w", id, err)
	}
	if ch.prop, err = st.newK(st.spec.Design); err != nil {
		return nil, fmt.Errorf("sampler: chain %d: %w", id, err)
	}
	ch.ev = newEvaluator(st.spec, lay, st.fixed)
	ch.psi = make([]float64, d)
	ch.psiP = make([]float64, d)
	ch.lp = math.Inf(-1)
	// Inits are dispersed around the mode by N(0, 0.5²) on the log/atanh
	// scale, far enough apart for R-hat to see a failure to mix. (Two
	// Laplace SDs, capped at 0.5, was tried for concentrated posteriors:
	// on small hard ones such as politeness with a random slope it mixed
	// no better, and large models go to the crossed method, which starts
	// its own way.)
	for try := 0; try < 100 && math.IsInf(ch.lp, -1); try++ {
		for i := range d {
			ch.psi[i] = mode[i] + 0.5*ch.rng.NormFloat64()
		}
		ch.lp = ch.ev.logTarget(ch.psi, ch.cur)
	}
	if math.IsInf(ch.lp, -1) {
		return nil, fmt.Errorf("sampler: chain %d: no finite initial value found near the mode", id)
	}
	ch.init = append([]float64(nil), ch.psi...)
	ch.pr = newProposal(d, cov, opt.Warmup, opt.IndependenceWeight)
	if !opt.plainGibbs && opt.IndependenceWeight > 0 {
		pr := ch.pr
		pr.lapMean = append([]float64(nil), mode...)
		pr.lapChol = make([]float64, d*d)
		if pr.lapOK = cholesky(cov, d, pr.lapChol); pr.lapOK {
			for i := range pr.lapChol {
				pr.lapChol[i] *= indepScale
			}
		}
	}
	if opt.Warmup == 0 && !opt.plainGibbs {
		// No warmup: the Laplace approximation at the mode is the
		// independence proposal.
		copy(ch.pr.indMean, mode)
		ch.pr.indOK = cholesky(cov, d, ch.pr.indChol) && opt.IndependenceWeight > 0
	}
	if opt.rwScales != nil {
		ch.pr.fixedScales = opt.rwScales
		clear(ch.pr.chol)
		for i := range d {
			ch.pr.chol[i*d+i] = 1
		}
	}
	ch.z = make([]float64, lay.q+lay.p)
	ch.u = make([]float64, lay.q)
	ch.beta = make([]float64, lay.p)
	ch.b = make([][]float64, len(lay.terms))
	for i, t := range lay.terms {
		ch.b[i] = make([]float64, t.k*t.nlev)
	}
	for _, f := range st.fixed {
		if f.kind == fixedMixture {
			ch.hasLatent = true
		}
	}
	ch.hasHS = len(ch.ev.hs) > 0
	for _, t := range lay.terms {
		if t.iw {
			ch.hasIW = true
		}
	}
	ch.hasIG = st.spec.ConjugateInvGamma
	if useNUTS {
		// ch.prop is read at each call: setY replaces the kernels.
		f := func(q, g []float64) float64 { return ch.ev.logTargetGrad(q, ch.prop.(gradKernel), g) }
		q0, cov0 := ch.psi, cov
		if !opt.nutsLogSD {
			ch.sgn = newSignedSD(lay)
			f = ch.sgn.wrap(f)
			q0 = make([]float64, d)
			ch.sgn.fromPsi(ch.psi, q0)
			cov0 = ch.sgn.metric(cov, mode)
		}
		ch.hmc = newNUTS(d, f, q0, cov0, opt.Warmup, ch.rng)
		if opt.nutsKineticScale != 0 {
			ch.hmc.kscale = opt.nutsKineticScale
		}
	}
	if opt.plainGibbs {
		// Plain Gibbs conditions on (β, b): start with a draw of them.
		ch.drawEffects()
	}
	return ch, nil
}

// drawEffects draws (β, b) | ψ, y from the current kernel (factored at ψ).
func (ch *chain) drawEffects() {
	for i := range ch.z {
		ch.z[i] = ch.rng.NormFloat64()
	}
	sigma := math.Exp(ch.psi[0])
	if ch.opt.drawScale != 0 {
		sigma *= ch.opt.drawScale
	}
	ch.cur.Draw(ch.z, sigma, ch.u, ch.beta)
	ch.cur.ToB(ch.u, ch.b)
}

// step runs iteration it (0-based; warm during warmup):
//
//  1. ψ by Metropolis–Hastings on p(ψ | y, Σ_IW, latents) with (β, b)
//     integrated out (or, with plainGibbs, on p(ψ | β, b, y));
//  2. (β, b) | ψ, y exactly;
//  3. the Gibbs steps given (β, b): scale-mixture and horseshoe latents,
//     inverse-Wishart Σ, conjugate inverse-gamma variances; then the
//     current kernel is refactored if anything it depends on changed.
func (ch *chain) step(it int, warm bool) {
	if ch.hmc != nil {
		ch.stepNUTS(it, warm)
	} else {
		ch.stepMetropolis(it, warm)
	}
	ch.stepEffects()
}

// stepNUTS is step 1 by one NUTS transition on p(ψ | y, Σ_IW, latents);
// the current kernel is then factored at the new ψ for step 2.
func (ch *chain) stepNUTS(it int, warm bool) {
	h := ch.hmc
	if ch.opt.rwScales != nil {
		// A mixture of fixed kernels (the Geweke test): the step size is
		// drawn at each iteration, nothing adapts.
		h.eps = ch.opt.rwScales[ch.rng.IntN(len(ch.opt.rwScales))]
	}
	if ch.hmcStale {
		h.zs.lp = h.f(h.zs.q, h.zs.g)
		ch.hmcStale = false
	}
	acc := h.step(it, ch.opt.Warmup)
	if ch.sgn != nil {
		ch.sgn.toPsi(h.zs.q, ch.psi)
	} else {
		copy(ch.psi, h.zs.q)
	}
	ch.lp = ch.ev.logTarget(ch.psi, ch.cur)
	if warm {
		ch.nW++
		ch.accSumW += acc
	} else {
		ch.nRW++
		ch.accSum += acc
	}
}

// stepMetropolis is step 1 by Metropolis–Hastings.
func (ch *chain) stepMetropolis(it int, warm bool) {
	ev, pr, rng := ch.ev, ch.pr, ch.rng
	useInd := !warm && pr.indOK && rng.Float64() < pr.indWeight
	useLap := warm && pr.lapOK && rng.Float64() < warmLaplaceWeight
	var logQ float64
	switch {
	case useInd:
		pr.indep(ch.psiP, rng)
		logQ = pr.indepLogDensity(ch.psi) - pr.indepLogDensity(ch.psiP)
	case useLap:
		pr.lap(ch.psiP, rng)
		logQ = pr.lapLogDensity(ch.psi) - pr.lapLogDensity(ch.psiP)
	default:
		pr.rw(ch.psi, ch.psiP, rng)
	}
	var lpP, lpC float64
	var rss float64
	if ch.opt.plainGibbs {
		rss = ev.rss(ch.beta, ch.b)
		lpC = ev.plainTarget(ch.psi, rss, ch.beta, ch.b)
		lpP = ev.plainTarget(ch.psiP, rss, ch.beta, ch.b)
	} else {
		lpC = ch.lp
		lpP = ev.logTarget(ch.psiP, ch.prop)
	}
	logA := lpP - lpC + logQ
	alpha := 0.0
	if !math.IsNaN(logA) {
		alpha = math.Min(1, math.Exp(logA))
	}
	acc := rng.Float64() < alpha
	if acc {
		ch.psi, ch.psiP = ch.psiP, ch.psi
		if !ch.opt.plainGibbs {
			ch.cur, ch.prop = ch.prop, ch.cur
			ch.lp = lpP
		}
	}
	if ch.opt.plainGibbs {
		// Factor the kernel at the (new) ψ for the draw of (β, b).
		ch.lp = ev.logTarget(ch.psi, ch.cur)
	}
	switch {
	case warm:
		ch.nW++
		if acc {
			ch.accW++
		}
		if pr.fixedScales == nil {
			pr.adapt(it, ch.opt.Warmup, alpha, ch.psi, !useLap)
			if it == ch.opt.Warmup-1 {
				pr.finishWarmup()
			}
		}
	case useInd:
		ch.nI++
		if acc {
			ch.accI++
		}
	default:
		ch.nRW++
		if acc {
			ch.accRW++
		}
	}
}

// stepEffects runs steps 2 and 3.
func (ch *chain) stepEffects() {
	ev, rng := ch.ev, ch.rng
	// Step 2: (β, b) | ψ, y, exactly.
	ch.drawEffects()
	// Step 3: Gibbs steps given (β, b).
	changed := false
	if ch.hasLatent && ev.updateLatent(ch.beta, rng) {
		changed = true
	}
	if ch.hasHS {
		ev.updateHorseshoe(ch.beta, math.Exp(2*ch.psi[0]), rng)
		changed = true
	}
	if ch.hasIW && ev.updateInvWishart(ch.b, ch.opt.iwNuShift, rng) {
		changed = true
	}
	if ch.hasIG && ev.updateInvGamma(ch.psi, ch.beta, ch.b, rng) {
		changed = true
	}
	if changed && !ch.opt.plainGibbs {
		ch.lp = ev.logTarget(ch.psi, ch.cur)
		ch.hmcStale = true
	}
}

// record writes the current state into row (len(names.Columns)).
func (ch *chain) record(row []float64) {
	ev := ch.ev
	psiPrior := ev.fill(ch.psi)
	row[0] = ev.logJoint(psiPrior, math.Exp(ch.psi[0]), ch.beta, ch.b) + ch.st.lpWeights
	writeRow(row[1:], ev, ch.psi, ch.beta, ch.b, ch.st.names)
}

// setY replaces the response (the Geweke test's hook): the kernels are
// rebuilt from a copy of the design with y, and the current ψ's target
// is recomputed.
func (ch *chain) setY(y []float64) error {
	d := *ch.st.spec.Design
	d.Y = y
	var err error
	if ch.cur, err = ch.st.newK(&d); err != nil {
		return err
	}
	if ch.prop, err = ch.st.newK(&d); err != nil {
		return err
	}
	ch.ev.y = y
	ch.lp = ch.ev.logTarget(ch.psi, ch.cur)
	ch.hmcStale = true
	return nil
}

// mcmc is one chain of either method.
type mcmc interface {
	// step runs iteration it (0-based; warm during warmup).
	step(it int, warm bool)
	// record writes the current state into a row of the draws (or,
	// when row is shorter, its head: every column before the r_ ones).
	record(row []float64)
	// effects returns the current random effects, per term, level-major.
	effects() [][]float64
	// initial returns the chain's initial ψ.
	initial() []float64
	// rates fills the acceptance rates of out.
	rates(out *ChainResult)
}

func (ch *chain) initial() []float64 { return ch.init }

func (ch *chain) effects() [][]float64 { return ch.b }

func (ch *chain) rates(out *ChainResult) {
	if h := ch.hmc; h != nil {
		out.AcceptWarmup = fratio(ch.accSumW, ch.nW)
		out.Accept = fratio(ch.accSum, ch.nRW)
		out.AcceptRW, out.AcceptIndep = math.NaN(), math.NaN()
		out.NUTS = &NUTSStats{StepSize: h.eps, Divergent: h.divPost, DivergentWarmup: h.divWarm, MaxTreeDepth: h.maxDepthPost, MaxDepth: nutsMaxDepth, MeanLeapfrog: fratio(float64(h.leapPost), h.nPost), MeanLeapfrogWarmup: fratio(float64(h.leapWarm), h.nWarm)}
		return
	}
	out.AcceptWarmup = ratio(ch.accW, ch.nW)
	out.AcceptRW = ratio(ch.accRW, ch.nRW)
	out.AcceptIndep = ratio(ch.accI, ch.nI)
	out.Accept = ratio(ch.accRW+ch.accI, ch.nRW+ch.nI)
}

// runChain runs one chain, made by mk(id).
func runChain(ctx context.Context, st *setup, opt Options, id int, method string, mk func(id int) (mcmc, error)) (*ChainResult, error) {
	start := time.Now()
	ch, err := mk(id)
	if err != nil {
		return nil, err
	}
	init := append([]float64(nil), ch.initial()...)
	names := st.names
	nc := len(names.Columns)
	out := &ChainResult{ID: id, NDraws: opt.Draws, Init: init}
	var sink DrawSink
	var row Row
	var head []float64
	if opt.Sink != nil {
		// Streaming: one head buffer; the r_ values are read from the
		// chain's state by the sink.
		if sink, err = opt.Sink(ChainInfo{ID: id, Method: method, Names: names}); err != nil {
			return nil, fmt.Errorf("sampler: chain %d: %w", id, err)
		}
		nHead := nc - len(names.RE)
		head = make([]float64, nHead)
		row = draws.NewRow(head, ch.effects(), names.RE, termKs(st))
	} else {
		// The draws grow as they are made (amortised doubling), so
		// memory follows the draws actually saved, not the number
		// asked for.
		out.Draws = make([]float64, 0, min(opt.Draws, 1024)*nc)
	}
	total := opt.Warmup + opt.Draws*opt.Thin
	saved := 0
	lastLog := start
	var stopped error
	for it := range total {
		if ctx.Err() != nil {
			// Keep the draws finished so far: the caller may still
			// write and summarise them.
			stopped = ctx.Err()
			out.NDraws = saved
			if sink == nil {
				out.Draws = out.Draws[:saved*nc]
			}
			break
		}
		warm := it < opt.Warmup
		ch.step(it, warm)
		if !warm && (it-opt.Warmup+1)%opt.Thin == 0 {
			if sink != nil {
				ch.record(head)
				if err := sink.WriteDraw(row); err != nil {
					return nil, fmt.Errorf("chain %d, draw %d: %w", id, saved+1, err)
				}
			} else {
				out.Draws = slices.Grow(out.Draws, nc)[:(saved+1)*nc]
				ch.record(out.Draws[saved*nc : (saved+1)*nc])
			}
			saved++
		}
		if opt.Logger != nil && it&255 == 255 {
			if now := time.Now(); now.Sub(lastLog) > 200*time.Millisecond || it+1 == total {
				lastLog = now
				opt.Logger.Progress(id, it+1, total, now.Sub(start))
			}
		}
	}
	if opt.Logger != nil && stopped == nil {
		opt.Logger.Progress(id, total, total, time.Since(start))
	}
	ch.rates(out)
	out.Wall = time.Since(start)
	return out, stopped
}

func fratio(a float64, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return a / float64(n)
}

func ratio(a, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(a) / float64(n)
}

// writeRow writes b, sd, cor, sigma and r into row (ev.fill(psi) must
// have been called). The SDs and correlations of an inverse-Wishart term
// are derived from its Σ: τₑ = √Σₑₑ, ρₑf = Σₑf/(τₑτf).
func writeRow(row []float64, ev *evaluator, psi, beta []float64, b [][]float64, names *Names) {
	lay := ev.lay
	i := copy(row, beta)
	for ti, t := range lay.terms {
		for e := range t.k {
			if t.iw {
				row[i] = math.Sqrt(ev.iwSig[ti][e*t.k+e])
			} else {
				row[i] = math.Exp(psi[t.sdOff+e])
			}
			i++
		}
	}
	for ti, t := range lay.terms {
		if !t.corr {
			continue
		}
		k := t.k
		if t.iw {
			sig := ev.iwSig[ti]
			for r := 1; r < k; r++ {
				for c := range r {
					row[i] = sig[r*k+c] / math.Sqrt(sig[r*k+r]*sig[c*k+c])
					i++
				}
			}
			continue
		}
		l := ev.lom[ti]
		for r := 1; r < k; r++ {
			for c := range r {
				var s float64
				for m := 0; m <= c; m++ {
					s += l[r*k+m] * l[c*k+m]
				}
				row[i] = s
				i++
			}
		}
	}
	row[i] = math.Exp(psi[0])
	i++
	if i == len(row) {
		// The head only: a DrawSink reads the r_ values from b.
		return
	}
	for _, re := range names.RE {
		k := lay.terms[re.Term].k
		row[i] = b[re.Term][re.LevelIndex*k+re.EffectIndex]
		i++
	}
}

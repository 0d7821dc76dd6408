package sampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lmmbayes/lmmbayes/model"
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
	for i, t := range d.Terms {
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
// chain at its next iteration and Run returns ctx's error.
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
	if opt.FirstChain == 0 {
		opt.FirstChain = 1
	}
	if opt.IndependenceWeight == 0 {
		opt.IndependenceWeight = 0.95
	}
	newK := spec.NewKernel
	if newK == nil {
		newK = defaultKernel
	}
	k0, err := newK(spec.Design)
	if err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	lay, err := newLayout(spec.Design, k0)
	if err != nil {
		return nil, err
	}
	fixed, err := classifyFixed(spec.Fixed, spec.Design.XNames)
	if err != nil {
		return nil, err
	}
	st := &setup{spec: spec, lay: lay, fixed: fixed, names: columnNames(spec.Design, opt.RandomEffects), newK: newK}
	mode, cov, err := findMode(st, k0)
	if err != nil {
		return nil, err
	}
	res := &Result{Names: st.names, Mode: mode, ModeCov: cov, PsiNames: psiNames(st)}
	res.Chains = make([]*ChainResult, opt.Chains)
	par := opt.Parallel
	if par < 1 || par > opt.Chains {
		par = opt.Chains
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	errs := make([]error, opt.Chains)
	for c := range opt.Chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res.Chains[c], errs[c] = runChain(ctx, st, opt, opt.FirstChain+c, mode, cov)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	return res, nil
}

// psiNames names the coordinates of ψ.
func psiNames(st *setup) []string {
	out := make([]string, st.lay.dim)
	out[0] = "log(sigma)"
	n := st.names
	for i, s := range n.SD {
		out[1+i] = "log(" + s + ")"
	}
	for i, c := range n.Cor {
		out[1+len(n.SD)+i] = "atanh_cpc(" + c + ")"
	}
	return out
}

// runChain runs one chain.
func runChain(ctx context.Context, st *setup, opt Options, id int, mode, cov []float64) (*ChainResult, error) {
	start := time.Now()
	lay := st.lay
	d := lay.dim
	rng := rand.New(rand.NewPCG(opt.Seed, uint64(id)))
	cur, err := st.newK(st.spec.Design)
	if err != nil {
		return nil, fmt.Errorf("sampler: chain %d: %w", id, err)
	}
	prop, err := st.newK(st.spec.Design)
	if err != nil {
		return nil, fmt.Errorf("sampler: chain %d: %w", id, err)
	}
	ev := newEvaluator(st.spec, lay, st.fixed)
	psi := make([]float64, d)
	psiP := make([]float64, d)
	lp := math.Inf(-1)
	for try := 0; try < 100 && math.IsInf(lp, -1); try++ {
		for i := range d {
			psi[i] = mode[i] + 0.5*rng.NormFloat64()
		}
		lp = ev.logTarget(psi, cur)
	}
	if math.IsInf(lp, -1) {
		return nil, fmt.Errorf("sampler: chain %d: no finite initial value found near the mode", id)
	}
	init := append([]float64(nil), psi...)
	pr := newProposal(d, cov, opt.Warmup, opt.IndependenceWeight)
	if opt.Warmup == 0 {
		// No warmup: the Laplace approximation at the mode is the
		// independence proposal.
		copy(pr.indMean, mode)
		pr.indOK = cholesky(cov, d, pr.indChol) && opt.IndependenceWeight > 0
	}
	names := st.names
	nc := len(names.Columns)
	out := &ChainResult{ID: id, NDraws: opt.Draws, Draws: make([]float64, opt.Draws*nc), Init: init}
	z := make([]float64, lay.q+lay.p)
	u := make([]float64, lay.q)
	beta := make([]float64, lay.p)
	b := make([][]float64, len(lay.terms))
	for i, t := range lay.terms {
		b[i] = make([]float64, t.k*t.nlev)
	}
	hasLatent := false
	for _, f := range st.fixed {
		if f.kind == fixedMixture {
			hasLatent = true
		}
	}
	total := opt.Warmup + opt.Draws*opt.Thin
	var accW, nW, accRW, nRW, accI, nI int
	saved := 0
	lastLog := start
	for it := range total {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		warm := it < opt.Warmup
		// Step 1: ψ | y by Metropolis–Hastings, (β, b) integrated out.
		useInd := !warm && pr.indOK && rng.Float64() < pr.indWeight
		var logQ float64
		if useInd {
			pr.indep(psiP, rng)
			logQ = pr.indepLogDensity(psi) - pr.indepLogDensity(psiP)
		} else {
			pr.rw(psi, psiP, rng)
		}
		lpP := ev.logTarget(psiP, prop)
		logA := lpP - lp + logQ
		alpha := 0.0
		if !math.IsNaN(logA) {
			alpha = math.Min(1, math.Exp(logA))
		}
		acc := rng.Float64() < alpha
		if acc {
			psi, psiP = psiP, psi
			cur, prop = prop, cur
			lp = lpP
		}
		switch {
		case warm:
			nW++
			if acc {
				accW++
			}
			pr.adapt(it, opt.Warmup, alpha, psi)
			if it == opt.Warmup-1 {
				pr.finishWarmup()
			}
		case useInd:
			nI++
			if acc {
				accI++
			}
		default:
			nRW++
			if acc {
				accRW++
			}
		}
		// Step 2: (β, b) | ψ, y, exactly.
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		sigma := math.Exp(psi[0])
		if opt.drawScale != 0 {
			cur.Draw(z, sigma*opt.drawScale, u, beta)
		} else {
			cur.Draw(z, sigma, u, beta)
		}
		cur.ToB(u, b)
		// Step 3: latent variances of scale-mixture priors | β.
		if hasLatent && ev.updateLatent(beta, rng) {
			lp = ev.logTarget(psi, cur)
		}
		if !warm && (it-opt.Warmup+1)%opt.Thin == 0 {
			row := out.Draws[saved*nc : (saved+1)*nc]
			psiPrior := ev.fill(psi)
			row[0] = ev.logJoint(psiPrior, sigma, beta, b)
			writeRow(row[1:], ev, psi, beta, b, names)
			saved++
		}
		if opt.Logger != nil && it&255 == 255 {
			if now := time.Now(); now.Sub(lastLog) > 200*time.Millisecond || it+1 == total {
				lastLog = now
				opt.Logger.Progress(id, it+1, total, now.Sub(start))
			}
		}
	}
	if opt.Logger != nil {
		opt.Logger.Progress(id, total, total, time.Since(start))
	}
	out.AcceptWarmup = ratio(accW, nW)
	out.AcceptRW = ratio(accRW, nRW)
	out.AcceptIndep = ratio(accI, nI)
	out.Accept = ratio(accRW+accI, nRW+nI)
	out.Wall = time.Since(start)
	return out, nil
}

func ratio(a, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(a) / float64(n)
}

// writeRow writes b, sd, cor, sigma and r into row (ev.fill(psi) must
// have been called).
func writeRow(row []float64, ev *evaluator, psi, beta []float64, b [][]float64, names *Names) {
	lay := ev.lay
	i := copy(row, beta)
	for _, t := range lay.terms {
		for e := range t.k {
			row[i] = math.Exp(psi[t.sdOff+e])
			i++
		}
	}
	for ti, t := range lay.terms {
		if !t.corr {
			continue
		}
		k := t.k
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
	for _, re := range names.RE {
		k := lay.terms[re.Term].k
		row[i] = b[re.Term][re.LevelIndex*k+re.EffectIndex]
		i++
	}
}

package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Geweke (2004) joint-distribution tests. The "successive-conditional"
// simulator alternates one full sampler iteration given y with a fresh
// y ~ p(y | β, b, σ); its stationary distribution is the joint p(θ, y),
// so the θ marginals must equal the prior. They are compared with
// "marginal-conditional" draws from the prior: for each parameter and
// p ∈ gwProbs, the fraction of successive-conditional draws below the
// prior's p-quantile (estimated from gwPrior independent draws) must be
// p, within standard errors from gwChains independent chains
// (Bonferroni over all tests of a case, α = gwAlpha).

var gwProbs = []float64{0.1, 0.25, 0.5, 0.75, 0.9}

const (
	gwPrior  = 100000
	gwChains = 10
	gwAlpha  = 0.01
)

// gwDesign builds a 20-row design with 4 groups of 5 from an in-memory
// CSV: y, x1, x2, x3, g (y is replaced by the simulator).
func gwDesign(t testing.TB, formula string) *model.Design {
	t.Helper()
	var b strings.Builder
	b.WriteString("y,x1,x2,x3,g\n")
	for i := range 20 {
		fmt.Fprintf(&b, "%d,%g,%g,%g,g%d\n", i, float64(i%5)/2-1, float64((i*7)%11)/5-1, float64((i*3)%7)/3-1, i/5)
	}
	return designFromCSV(t, "geweke.csv", b.String(), formula, "g")
}

// gwPriorDraw draws (β, b-independent) parameters from the spec's prior
// in the sampler's column order b, sd, cor, sigma (K ≤ 2 per term).
func gwPriorDraw(spec *Spec, fixed []fixedPrior, rng *rand.Rand, out []float64) {
	d := spec.Design
	p := len(d.XNames)
	sigma := spec.Sigma.RandSD(rng)
	hsTau := map[int]float64{}
	for j, f := range fixed {
		if f.kind == fixedHorseshoe {
			tau, ok := hsTau[f.hs]
			if !ok {
				tau = priors.Cauchy{Sigma: f.prior.(priors.Horseshoe).Scale}.RandSD(rng)
				hsTau[f.hs] = tau
			}
			lam := priors.Cauchy{Sigma: 1}.RandSD(rng)
			out[j] = sigma * tau * lam * rng.NormFloat64()
			continue
		}
		out[j] = spec.Fixed[j].Rand(rng)
	}
	i := p
	var cors []float64
	for ti, t := range d.Terms {
		if ti < len(spec.Cov) && spec.Cov[ti] != nil {
			s := spec.Cov[ti].RandCov(t.K, rng)
			for e := range t.K {
				out[i] = math.Sqrt(s.At(e, e))
				i++
			}
			if t.K == 2 && t.Correlated {
				cors = append(cors, s.At(1, 0)/math.Sqrt(s.At(0, 0)*s.At(1, 1)))
			}
			continue
		}
		for e := range t.K {
			out[i] = spec.SD[ti][e].RandSD(rng)
			i++
		}
		if t.K == 2 && t.Correlated {
			cors = append(cors, priors.LKJ{Eta: spec.CorEta[ti]}.Rand(rng))
		}
	}
	i += copy(out[i:], cors)
	out[i] = sigma
}

// gwSimulateY writes y ~ N(Xβ + Zb, σ²I) for the chain's current state.
func gwSimulateY(ev *evaluator, psi, beta []float64, b [][]float64, rng *rand.Rand, y []float64) {
	ev.rss(beta, b) // ev.resid = y − Xβ − Zb
	sigma := math.Exp(psi[0])
	for i := range y {
		y[i] = ev.y[i] - ev.resid[i] + sigma*rng.NormFloat64()
	}
}

// gwChain runs one successive-conditional chain of iters iterations
// after iters/10 of burn-in and returns the draws of the b, sd, cor and
// sigma columns (one slice per column).
func gwChain(spec *Spec, opt Options, iters int, seed uint64) ([][]float64, error) {
	// Start from an arbitrary y (the chain forgets it during burn-in).
	d0 := *spec.Design
	d0.Y = slices.Clone(spec.Design.Y)
	rng0 := rand.New(rand.NewPCG(seed, 999))
	for i := range d0.Y {
		d0.Y[i] = 3 * rng0.NormFloat64()
	}
	sp := *spec
	sp.Design = &d0
	opt.Seed = seed
	st, _, err := newSetup(&sp, opt)
	if err != nil {
		return nil, err
	}
	dim := st.lay.dim
	cov := make([]float64, dim*dim)
	for i := range dim {
		cov[i*dim+i] = 1
	}
	var mc mcmc
	var next func(y []float64) error
	if opt.Method == "crossed" {
		cc := newCrossedChain(st, newCrossedData(st, opt), opt, 1, make([]float64, dim))
		mc = cc
		next = func(y []float64) error {
			gwSimulateY(cc.ev, cc.psi, cc.beta, cc.b, cc.rng, y)
			cc.setY(y)
			return nil
		}
	} else {
		ch, err := newChain(st, opt, 1, make([]float64, dim), cov, opt.Method == "nuts")
		if err != nil {
			return nil, err
		}
		mc = ch
		next = func(y []float64) error {
			gwSimulateY(ch.ev, ch.psi, ch.beta, ch.b, ch.rng, y)
			return ch.setY(y)
		}
	}
	ch := mc
	np := len(st.names.B) + len(st.names.SD) + len(st.names.Cor) + 1
	row := make([]float64, len(st.names.Columns))
	burn := iters / 10
	sc := make([][]float64, np)
	for it := range burn + iters {
		ch.step(it, false)
		y := make([]float64, st.lay.n)
		if err := next(y); err != nil {
			return nil, err
		}
		if it >= burn {
			ch.record(row)
			for j := range np {
				sc[j] = append(sc[j], row[1+j])
			}
		}
	}
	return sc, nil
}

// gewekeRun returns, per (parameter, probability), the two-sided p-value
// of the successive-conditional fraction below the prior quantile, and
// labels. It runs gwChains independent chains of iters/gwChains
// iterations each (in parallel) and takes the standard error from the
// spread of the chains' fractions (a t test with gwChains − 1 degrees of
// freedom), which, unlike a within-chain estimate, stays honest when the
// simulator is slow to leave a region.
func gewekeRun(t *testing.T, spec *Spec, opt Options, iters int, seed uint64) ([]float64, []string) {
	t.Helper()
	if err := checkSpec(spec); err != nil {
		t.Fatal(err)
	}
	opt.rwScales = []float64{0.05, 0.2, 0.6, 1.5}
	st, _, err := newSetup(spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	np := len(st.names.B) + len(st.names.SD) + len(st.names.Cor) + 1
	labels := st.names.Columns[1 : 1+np]
	chains := make([][][]float64, gwChains)
	errs := make([]error, gwChains)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for c := range gwChains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			chains[c], errs[c] = gwChain(spec, opt, iters/gwChains, seed*100+uint64(c))
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
	}
	// Marginal-conditional draws.
	mc := make([][]float64, np)
	for j := range mc {
		mc[j] = make([]float64, gwPrior)
	}
	draw := make([]float64, np)
	rng := rand.New(rand.NewPCG(seed, 1000))
	for i := range gwPrior {
		gwPriorDraw(spec, st.fixed, rng, draw)
		for j := range np {
			mc[j][i] = draw[j]
		}
	}
	tdist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: gwChains - 1}
	var pv []float64
	var names []string
	for j := range np {
		slices.Sort(mc[j])
		for _, p := range gwProbs {
			q := mc[j][int(p*gwPrior)]
			fr := make([]float64, gwChains)
			for c := range gwChains {
				for _, v := range chains[c][j] {
					if v <= q {
						fr[c]++
					}
				}
				fr[c] /= float64(len(chains[c][j]))
			}
			m, sd := stat.MeanStdDev(fr, nil)
			se := sd / math.Sqrt(gwChains)
			z := (m - p) / math.Sqrt(se*se+p*(1-p)/gwPrior)
			pval := 2 * tdist.CDF(-math.Abs(z))
			pv = append(pv, pval)
			names = append(names, fmt.Sprintf("%s q%.2f", labels[j], p))
			t.Logf("%-28s prior q=%-10.4g SC frac %.4f ± %.4f (want %.2f), p %.3g", labels[j], q, m, se, p, pval)
		}
	}
	return pv, names
}

// gwCase is one Geweke configuration.
type gwCase struct {
	name    string
	formula string
	fixed   func(p int) []priors.Univariate
	sigma   priors.ScalePrior
	sd      priors.ScalePrior
	eta     float64
	cov     *priors.InvWishart
	conjIG  bool
	plain   bool
	method  string // "" (collapsed Metropolis) or "nuts"
}

func (c gwCase) spec(t testing.TB) *Spec {
	d := gwDesign(t, c.formula)
	s := &Spec{Design: d, Sigma: c.sigma, Fixed: c.fixed(len(d.XNames)), ConjugateInvGamma: c.conjIG}
	for _, tm := range d.Terms {
		if c.cov != nil {
			s.SD = append(s.SD, nil)
			s.Cov = append(s.Cov, c.cov)
		} else {
			var sd []priors.ScalePrior
			for range tm.K {
				sd = append(sd, c.sd)
			}
			s.SD = append(s.SD, sd)
		}
		s.CorEta = append(s.CorEta, c.eta)
	}
	return s
}

func gwAll(u priors.Univariate) func(int) []priors.Univariate {
	return func(p int) []priors.Univariate {
		out := make([]priors.Univariate, p)
		for j := range out {
			out[j] = u
		}
		return out
	}
}

// gwCases covers every prior family the sampler uses: on β normal,
// student_t, cauchy, laplace, horseshoe; on σ and the SDs half-normal,
// half-t, half-cauchy, exponential, inv_gamma (Metropolis and
// conjugate); lkj; inv_wishart; and the plain Gibbs variant.
func gwCases() []gwCase {
	hs := func(p int) []priors.Univariate {
		out := []priors.Univariate{priors.Normal{Mu: 0, Sigma: 2}}
		for range p - 1 {
			out = append(out, priors.Horseshoe{Scale: 0.5})
		}
		return out
	}
	return []gwCase{
		{name: "normal_halfnormal_halft_lkj", formula: "y ~ x1 + (x1 | g)", fixed: gwAll(priors.Normal{Mu: 0.5, Sigma: 2}),
			sigma: priors.Normal{Mu: 0, Sigma: 1}, sd: priors.StudentT{Nu: 3, Mu: 0, Sigma: 1}, eta: 2},
		{name: "studentt_halfcauchy_exponential", formula: "y ~ x1 + (x1 | g)", fixed: gwAll(priors.StudentT{Nu: 4, Mu: 0, Sigma: 1}),
			sigma: priors.Cauchy{Mu: 0, Sigma: 1}, sd: priors.Exponential{Rate: 1}, eta: 1},
		{name: "cauchy_exponential_halfcauchy", formula: "y ~ x1 + (1 | g)", fixed: gwAll(priors.Cauchy{Mu: 0, Sigma: 1}),
			sigma: priors.Exponential{Rate: 1}, sd: priors.Cauchy{Mu: 0, Sigma: 1}, eta: 1},
		{name: "laplace_invgamma_metropolis", formula: "y ~ x1 + (1 | g)", fixed: gwAll(priors.Laplace{Mu: 0, Scale: 1}),
			sigma: priors.InvGamma{Shape: 3, Scale: 2}, sd: priors.InvGamma{Shape: 3, Scale: 2}, eta: 1},
		{name: "horseshoe_invgamma_conjugate", formula: "y ~ x1 + x2 + x3 + (1 | g)", fixed: hs,
			sigma: priors.InvGamma{Shape: 3, Scale: 2}, sd: priors.InvGamma{Shape: 3, Scale: 2}, eta: 1, conjIG: true},
		{name: "invwishart", formula: "y ~ x1 + (x1 | g)", fixed: gwAll(priors.Normal{Mu: 0, Sigma: 2}),
			sigma: priors.Normal{Mu: 0, Sigma: 1}, cov: &priors.InvWishart{Nu: 4, Scalar: 1}},
		{name: "plain_gibbs", formula: "y ~ x1 + (x1 | g)", fixed: gwAll(priors.Normal{Mu: 0, Sigma: 2}),
			sigma: priors.Normal{Mu: 0, Sigma: 1}, sd: priors.Normal{Mu: 0, Sigma: 1}, eta: 2, plain: true},
		// NUTS on the collapsed target, with its step size drawn from
		// rwScales at each iteration (a mixture of fixed kernels).
		{name: "nuts_normal_halft_lkj", formula: "y ~ x1 + (x1 | g)", fixed: gwAll(priors.Normal{Mu: 0.5, Sigma: 2}),
			sigma: priors.Normal{Mu: 0, Sigma: 1}, sd: priors.StudentT{Nu: 3, Mu: 0, Sigma: 1}, eta: 2, method: "nuts"},
		{name: "nuts_studentt_halfcauchy_exponential", formula: "y ~ x1 + (x1 | g)", fixed: gwAll(priors.StudentT{Nu: 4, Mu: 0, Sigma: 1}),
			sigma: priors.Cauchy{Mu: 0, Sigma: 1}, sd: priors.Exponential{Rate: 1}, eta: 1, method: "nuts"},
		{name: "nuts_horseshoe_invgamma", formula: "y ~ x1 + x2 + x3 + (1 | g)", fixed: hs,
			sigma: priors.InvGamma{Shape: 3, Scale: 2}, sd: priors.InvGamma{Shape: 3, Scale: 2}, eta: 1, method: "nuts"},
		{name: "nuts_invwishart", formula: "y ~ x1 + (x1 | g)", fixed: gwAll(priors.Normal{Mu: 0, Sigma: 2}),
			sigma: priors.Normal{Mu: 0, Sigma: 1}, cov: &priors.InvWishart{Nu: 4, Scalar: 1}, method: "nuts"},
	}
}

// gewekeCheck runs case c for iters iterations and fails on any
// Bonferroni-significant quantile test.
func gewekeCheck(t *testing.T, c gwCase, iters int, seed uint64) {
	pv, names := gewekeRun(t, c.spec(t), Options{plainGibbs: c.plain, Method: c.method}, iters, seed)
	for i, p := range pv {
		if p < gwAlpha/float64(len(pv)) {
			t.Errorf("%s: successive-conditional marginal differs from the prior (p = %.2g)", names[i], p)
		}
	}
}

func gwCaseNamed(name string) gwCase {
	for _, x := range gwCases() {
		if x.name == name {
			return x
		}
	}
	panic("no Geweke case " + name)
}

// TestGewekeShort runs the inverse-Wishart and the normal/half-t/LKJ
// cases briefly (every case runs long under -tags long).
func TestGewekeShort(t *testing.T) {
	for i, name := range []string{"invwishart", "normal_halfnormal_halft_lkj", "nuts_normal_halft_lkj", "nuts_horseshoe_invgamma"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			gewekeCheck(t, gwCaseNamed(name), 30000, uint64(11+i))
		})
	}
}

// TestGewekeCatchesWrongIW runs the inverse-Wishart case with the full
// conditional's degrees of freedom ν + J − 1 instead of ν + J: the test
// must fail.
func TestGewekeCatchesWrongIW(t *testing.T) {
	pv, _ := gewekeRun(t, gwCaseNamed("invwishart").spec(t), Options{iwNuShift: -1}, 30000, 7)
	t.Logf("min p = %.2g", slices.Min(pv))
	if slices.Min(pv) >= gwAlpha/float64(len(pv)) {
		t.Errorf("the Geweke test did not catch the inverse-Wishart conditional with ν+J−1 (min p = %.2g)", slices.Min(pv))
	}
}

// TestGewekeCatchesNUTSBug runs the NUTS case with the kinetic energy
// scaled by 0.5 in the trajectory's weights and acceptance statistic
// (momentum still drawn from N(0, Σ⁻¹)): the test must fail.
func TestGewekeCatchesNUTSBug(t *testing.T) {
	pv, _ := gewekeRun(t, gwCaseNamed("nuts_normal_halft_lkj").spec(t), Options{Method: "nuts", nutsKineticScale: 0.5}, 30000, 9)
	t.Logf("min p = %.2g", slices.Min(pv))
	if slices.Min(pv) >= gwAlpha/float64(len(pv)) {
		t.Errorf("the Geweke test did not catch the NUTS energy bug (min p = %.2g)", slices.Min(pv))
	}
}

package sampler

import (
	"math"
	"math/rand/v2"
)

// NUTS tuning, as Stan's defaults (Hoffman & Gelman 2014; Betancourt
// 2017 for the multinomial sampling and the extra U-turn checks across
// subtrees, Stan 2.26+).
const (
	nutsMaxDepth = 10
	// nutsDelta is the target mean acceptance statistic of the dual
	// averaging, Stan's default (on the maximal 2 × 2 family member,
	// 0.85 and 0.7 gave no better ESS per CPU-second: 2.2 and 2.8
	// against 2.4, one run each under load, none divergent after warmup).
	nutsDelta    = 0.8
	nutsMaxDelta = 1000 // energy error that counts as a divergence
	// nutsMetricPrior is the weight, in draws per dimension of ψ, of the
	// current metric in each warmup window's new one: Σ ← (w·S +
	// κΣ)/(w + κ), κ = nutsMetricPrior·d, S the covariance of the w draws
	// of the window (Stan's dense_e shrinks S towards 10⁻³·I instead). On
	// the maximal 2 × 2 family member (d = 21), Stan's rule made the metric
	// of the first windows (25 and 50 draws) poor enough to need 28–64
	// leapfrog steps per iteration there (mean over warmup 19–21, against
	// 14.7 after it); with κ = d the warmup mean is 15–16 and the steps
	// after warmup are unchanged (bench/prof, seeds 1 and 2; κ = d/2 gave
	// 15.6, κ = 2d 14.7–15.0 with a lower ESS).
	nutsMetricPrior = 1.0
	daGamma         = 0.05
	daT0            = 10
	daKappa         = 0.75
)

// hstate is a point of the Hamiltonian system: position ψ, momentum p,
// the log target and its gradient at ψ.
type hstate struct {
	q, p, g []float64
	lp      float64
}

func newHState(d int) hstate {
	return hstate{q: make([]float64, d), p: make([]float64, d), g: make([]float64, d)}
}

func (s *hstate) copyFrom(o *hstate) {
	copy(s.q, o.q)
	copy(s.p, o.p)
	copy(s.g, o.g)
	s.lp = o.lp
}

// nuts is the No-U-Turn sampler of one chain on the collapsed target
// p(ψ | y) with a dense metric: kinetic energy ½ pᵀΣp with Σ the
// (adapted) posterior covariance of ψ, momentum p ~ N(0, Σ⁻¹).
type nuts struct {
	d     int
	f     func(q, g []float64) float64 // log target and gradient
	rng   *rand.Rand
	eps   float64
	sigma []float64 // Σ (the inverse metric), d × d
	chol  []float64 // its lower Cholesky factor
	z     hstate    // the integrator's state
	zs    hstate    // the selected sample
	zp    []hstate  // top-level proposals by tree depth
	zfin  []hstate  // build's final-subtree proposals by depth
	pool  [][]float64
	tmp   []float64
	nLeap int
	div   bool
	depth int
	// dual averaging
	mu, sbar, xbar float64
	counter        int
	// metric adaptation
	windowEnds []int
	nextWin    int
	wn         int
	wmean, wm2 []float64
	initStart  int
	// kscale multiplies the kinetic energy (1; the tests' planted bug).
	kscale float64
	// counts
	divWarm, divPost, maxDepthPost, leapPost, nPost int
	leapWarm, nWarm                                 int
}

// newNUTS returns a sampler for a d-dimensional target f started at q0,
// with the initial inverse metric cov0 (the Laplace covariance at the
// mode), adapting over warmup iterations.
func newNUTS(d int, f func(q, g []float64) float64, q0, cov0 []float64, warmup int, rng *rand.Rand) *nuts {
	n := &nuts{d: d, f: f, rng: rng, eps: 1, kscale: 1}
	n.sigma = make([]float64, d*d)
	n.chol = make([]float64, d*d)
	n.setMetric(cov0)
	n.z, n.zs = newHState(d), newHState(d)
	n.zp = make([]hstate, nutsMaxDepth+2)
	n.zfin = make([]hstate, nutsMaxDepth+2)
	for i := range n.zp {
		n.zp[i] = newHState(d)
		n.zfin[i] = newHState(d)
	}
	n.tmp = make([]float64, d)
	n.wmean, n.wm2 = make([]float64, d), make([]float64, d*d)
	n.windowEnds = windowSchedule(warmup)
	if len(n.windowEnds) > 0 {
		n.initStart = n.windowEnds[0] - firstWindowSize(warmup)
	}
	copy(n.z.q, q0)
	n.z.lp = f(n.z.q, n.z.g)
	n.zs.copyFrom(&n.z)
	n.initStepSize()
	return n
}

// setMetric sets Σ = cov (or a diagonal fallback when cov is not positive
// definite).
func (n *nuts) setMetric(cov []float64) {
	d := n.d
	copy(n.sigma, cov)
	if !cholesky(n.sigma, d, n.chol) {
		clear(n.sigma)
		for i := range d {
			v := cov[i*d+i]
			if !(v > 0) || math.IsInf(v, 0) {
				v = 1
			}
			n.sigma[i*d+i] = v
		}
		cholesky(n.sigma, d, n.chol)
	}
}

// sampleMomentum draws p ~ N(0, Σ⁻¹): p = L⁻ᵀw, w standard normal.
func (n *nuts) sampleMomentum(p []float64) {
	d := n.d
	for i := range d {
		p[i] = n.rng.NormFloat64()
	}
	for i := d - 1; i >= 0; i-- {
		s := p[i]
		for j := i + 1; j < d; j++ {
			s -= n.chol[j*d+i] * p[j]
		}
		p[i] = s / n.chol[i*d+i]
	}
}

// velocity writes Σp into out.
func (n *nuts) velocity(p, out []float64) {
	d := n.d
	for i := range d {
		var s float64
		row := n.sigma[i*d : (i+1)*d]
		for j, v := range row {
			s += v * p[j]
		}
		out[i] = s
	}
}

// hamiltonian is −log p(ψ) + ½ pᵀΣp.
func (n *nuts) hamiltonian(s *hstate) float64 {
	n.velocity(s.p, n.tmp)
	var k float64
	for i, v := range s.p {
		k += v * n.tmp[i]
	}
	return -s.lp + 0.5*n.kscale*k
}

// leapfrog advances z by one step of size eps.
func (n *nuts) leapfrog(eps float64) {
	z := &n.z
	for i := range z.p {
		z.p[i] += 0.5 * eps * z.g[i]
	}
	n.velocity(z.p, n.tmp)
	for i := range z.q {
		z.q[i] += eps * n.tmp[i]
	}
	z.lp = n.f(z.q, z.g)
	if math.IsInf(z.lp, -1) || math.IsNaN(z.lp) {
		z.lp = math.Inf(-1)
		return
	}
	for i := range z.p {
		z.p[i] += 0.5 * eps * z.g[i]
	}
}

// initStepSize is Stan's heuristic: double or halve eps until one
// leapfrog step's acceptance crosses 0.8.
func (n *nuts) initStepSize() {
	start := newHState(n.d)
	start.copyFrom(&n.zs)
	direction := 0
	for range 60 {
		n.z.copyFrom(&start)
		n.sampleMomentum(n.z.p)
		h0 := n.hamiltonian(&n.z)
		n.leapfrog(n.eps)
		h := n.hamiltonian(&n.z)
		if math.IsNaN(h) {
			h = math.Inf(1)
		}
		dh := h0 - h
		if direction == 0 {
			if dh > math.Log(0.8) {
				direction = 1
			} else {
				direction = -1
			}
		}
		if direction == 1 && !(dh > math.Log(0.8)) || direction == -1 && !(dh < math.Log(0.8)) {
			break
		}
		if direction == 1 {
			n.eps *= 2
		} else {
			n.eps /= 2
		}
		if n.eps > 1e7 || n.eps < 1e-12 {
			n.eps = math.Min(math.Max(n.eps, 1e-12), 1e7)
			break
		}
	}
	n.z.copyFrom(&start)
	n.mu = math.Log(10 * n.eps)
	n.sbar, n.xbar, n.counter = 0, 0, 0
}

// buf returns a zeroed scratch vector from the pool.
func (n *nuts) buf() []float64 {
	if len(n.pool) == 0 {
		return make([]float64, n.d)
	}
	b := n.pool[len(n.pool)-1]
	n.pool = n.pool[:len(n.pool)-1]
	clear(b)
	return b
}

func (n *nuts) put(bs ...[]float64) { n.pool = append(n.pool, bs...) }

// transition runs one NUTS transition from the current sample (zs) and
// leaves the new sample in zs. It returns the acceptance statistic.
func (n *nuts) transition() float64 {
	d := n.d
	n.z.copyFrom(&n.zs)
	n.sampleMomentum(n.z.p)
	n.zs.copyFrom(&n.z)
	h0 := n.hamiltonian(&n.z)
	zf, zb := newHStateFrom(&n.z), newHStateFrom(&n.z)
	pFwdFwd, pFwdBck := cloneVec(n.z.p), cloneVec(n.z.p)
	pBckFwd, pBckBck := cloneVec(n.z.p), cloneVec(n.z.p)
	ps := n.buf()
	n.velocity(n.z.p, ps)
	psFwdFwd, psFwdBck := cloneVec(ps), cloneVec(ps)
	psBckFwd, psBckBck := cloneVec(ps), cloneVec(ps)
	rho := cloneVec(n.z.p)
	logSumW := 0.0
	n.nLeap = 0
	sumMetro := 0.0
	n.depth = 0
	n.div = false
	rhoF, rhoB := make([]float64, d), make([]float64, d)
	ext := make([]float64, d)
	for n.depth < nutsMaxDepth {
		clear(rhoF)
		clear(rhoB)
		logSumWSub := math.Inf(-1)
		var valid bool
		prop := &n.zp[n.depth]
		if n.rng.Float64() > 0.5 {
			n.z.copyFrom(&zf)
			copy(rhoB, rho)
			copy(pBckFwd, pFwdBck)
			copy(psBckFwd, psFwdBck)
			valid = n.build(n.depth, prop, psFwdBck, psFwdFwd, rhoF, pFwdBck, pFwdFwd, h0, 1, &logSumWSub, &sumMetro)
			zf.copyFrom(&n.z)
		} else {
			n.z.copyFrom(&zb)
			copy(rhoF, rho)
			copy(pFwdBck, pBckFwd)
			copy(psFwdBck, psBckFwd)
			valid = n.build(n.depth, prop, psBckFwd, psBckBck, rhoB, pBckFwd, pBckBck, h0, -1, &logSumWSub, &sumMetro)
			zb.copyFrom(&n.z)
		}
		if !valid {
			break
		}
		n.depth++
		if logSumWSub > logSumW {
			n.zs.copyFrom(prop)
		} else if n.rng.Float64() < math.Exp(logSumWSub-logSumW) {
			n.zs.copyFrom(prop)
		}
		logSumW = logSumExp(logSumW, logSumWSub)
		for i := range rho {
			rho[i] = rhoB[i] + rhoF[i]
		}
		persist := criterion(psBckBck, psFwdFwd, rho)
		for i := range ext {
			ext[i] = rhoB[i] + pFwdBck[i]
		}
		persist = persist && criterion(psBckBck, psFwdBck, ext)
		for i := range ext {
			ext[i] = rhoF[i] + pBckFwd[i]
		}
		persist = persist && criterion(psBckFwd, psFwdFwd, ext)
		if !persist {
			break
		}
	}
	n.put(ps)
	if n.nLeap == 0 {
		return 0
	}
	return sumMetro / float64(n.nLeap)
}

func newHStateFrom(o *hstate) hstate {
	s := newHState(len(o.q))
	s.copyFrom(o)
	return s
}

func cloneVec(v []float64) []float64 { return append([]float64(nil), v...) }

// criterion is the generalised no-U-turn condition p♯₋·ρ > 0 and p♯₊·ρ > 0.
func criterion(psMinus, psPlus, rho []float64) bool {
	var a, b float64
	for i, r := range rho {
		a += psPlus[i] * r
		b += psMinus[i] * r
	}
	return a > 0 && b > 0
}

func logSumExp(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a > b {
		return a + math.Log1p(math.Exp(b-a))
	}
	return b + math.Log1p(math.Exp(a-b))
}

// build is Stan's base_nuts::build_tree: it extends the trajectory from
// n.z by 2^depth leapfrog steps in direction sign, sampling a proposal
// into prop multinomially, and reports whether the subtree is valid (no
// divergence, no U-turn inside it).
func (n *nuts) build(depth int, prop *hstate, psBeg, psEnd, rho, pBeg, pEnd []float64, h0 float64, sign float64, logSumW, sumMetro *float64) bool {
	if depth == 0 {
		n.leapfrog(sign * n.eps)
		n.nLeap++
		h := n.hamiltonian(&n.z)
		if math.IsNaN(h) || math.IsInf(n.z.lp, -1) {
			h = math.Inf(1)
		}
		if h-h0 > nutsMaxDelta {
			n.div = true
		}
		*logSumW = logSumExp(*logSumW, h0-h)
		if h0-h > 0 {
			*sumMetro++
		} else {
			*sumMetro += math.Exp(h0 - h)
		}
		prop.copyFrom(&n.z)
		n.velocity(n.z.p, psBeg)
		copy(psEnd, psBeg)
		for i, v := range n.z.p {
			rho[i] += v
		}
		copy(pBeg, n.z.p)
		copy(pEnd, pBeg)
		return !n.div
	}
	// The initial subtree.
	logSumWInit := math.Inf(-1)
	pInitEnd, psInitEnd, rhoInit := n.buf(), n.buf(), n.buf()
	defer n.put(pInitEnd, psInitEnd, rhoInit)
	if !n.build(depth-1, prop, psBeg, psInitEnd, rhoInit, pBeg, pInitEnd, h0, sign, &logSumWInit, sumMetro) {
		return false
	}
	// The final subtree.
	// The final subtree's proposal: one state per depth, since the
	// recursion below uses only smaller depths.
	final := &n.zfin[depth]
	logSumWFinal := math.Inf(-1)
	pFinalBeg, psFinalBeg, rhoFinal := n.buf(), n.buf(), n.buf()
	defer n.put(pFinalBeg, psFinalBeg, rhoFinal)
	if !n.build(depth-1, final, psFinalBeg, psEnd, rhoFinal, pFinalBeg, pEnd, h0, sign, &logSumWFinal, sumMetro) {
		return false
	}
	logSumWSub := logSumExp(logSumWInit, logSumWFinal)
	*logSumW = logSumExp(*logSumW, logSumWSub)
	if logSumWFinal > logSumWSub {
		prop.copyFrom(final)
	} else if n.rng.Float64() < math.Exp(logSumWFinal-logSumWSub) {
		prop.copyFrom(final)
	}
	rhoSub := n.buf()
	defer n.put(rhoSub)
	for i := range rhoSub {
		rhoSub[i] = rhoInit[i] + rhoFinal[i]
		rho[i] += rhoSub[i]
	}
	persist := criterion(psBeg, psEnd, rhoSub)
	ext := n.buf()
	defer n.put(ext)
	for i := range ext {
		ext[i] = rhoInit[i] + pFinalBeg[i]
	}
	persist = persist && criterion(psBeg, psFinalBeg, ext)
	for i := range ext {
		ext[i] = rhoFinal[i] + pInitEnd[i]
	}
	persist = persist && criterion(psInitEnd, psEnd, ext)
	return persist
}

// step runs one transition; during warmup (it < warmup) it adapts the
// step size and, at the window ends, the metric. It returns the
// acceptance statistic.
func (n *nuts) step(it, warmup int) float64 {
	acc := n.transition()
	if it < warmup {
		n.nWarm++
		n.leapWarm += n.nLeap
		if n.div {
			n.divWarm++
		}
		n.learnStepSize(acc)
		n.adaptMetric(it)
		if it == warmup-1 {
			n.eps = math.Exp(n.xbar)
		}
		return acc
	}
	n.nPost++
	n.leapPost += n.nLeap
	if n.div {
		n.divPost++
	}
	if n.depth >= nutsMaxDepth {
		n.maxDepthPost++
	}
	return acc
}

// learnStepSize is Stan's dual averaging of log eps towards nutsDelta.
func (n *nuts) learnStepSize(acc float64) {
	n.counter++
	acc = math.Min(1, acc)
	c := float64(n.counter)
	eta := 1 / (c + daT0)
	n.sbar = (1-eta)*n.sbar + eta*(nutsDelta-acc)
	x := n.mu - n.sbar*math.Sqrt(c)/daGamma
	xeta := math.Pow(c, -daKappa)
	n.xbar = (1-xeta)*n.xbar + xeta*x
	n.eps = math.Exp(x)
}

// adaptMetric adds the current sample to the window and, at a window's
// end, sets the metric to the window's covariance shrunk towards the
// current metric (nutsMetricPrior), then restarts the step size.
func (n *nuts) adaptMetric(it int) {
	if it < n.initStart || n.nextWin >= len(n.windowEnds) {
		return
	}
	welford(&n.wn, n.wmean, n.wm2, n.zs.q, n.tmp)
	if it+1 != n.windowEnds[n.nextWin] {
		return
	}
	n.nextWin++
	if n.wn > 2 {
		d := n.d
		w := float64(n.wn)
		k := nutsMetricPrior * float64(d)
		cov := make([]float64, d*d)
		for i := range cov {
			cov[i] = (w/(w+k))*n.wm2[i]/(w-1) + (k/(w+k))*n.sigma[i]
		}
		n.setMetric(cov)
		n.initStepSize()
	}
	n.wn = 0
	clear(n.wmean)
	clear(n.wm2)
}

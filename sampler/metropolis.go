package sampler

import (
	"math"
	"math/rand/v2"
)

// targetAccept is the acceptance rate the random-walk scale is tuned to
// during warmup (Roberts, Gelman & Gilks 1997: 0.234 as d → ∞, about 0.3
// for the few dimensions of ψ).
const targetAccept = 0.3

// indepNu is the degrees of freedom of the independence proposal.
const indepNu = 5

// indepScale multiplies the Cholesky factor of the warmup covariance to
// give the independence proposal's scale matrix (measured on sleepstudy:
// 1.2 gave the highest minimum ESS among 0.7, 0.85, 1, 1.2; see
// docs/sampler.md).
const indepScale = 1.2

// proposal is the Metropolis proposal on ψ: during warmup an adaptive
// random walk ψ' = ψ + e^s·L z (LLᵀ the windowed empirical covariance,
// s tuned by Robbins–Monro towards targetAccept); after warmup it is
// fixed, a mixture of that random walk and an independence multivariate
// t(ν = indepNu) centred at the mean of the second half of warmup with
// its covariance as the scale matrix.
type proposal struct {
	d        int
	chol     []float64 // d × d lower, row-major
	logScale float64
	// windowed adaptation (Stan-like schedule)
	windowEnds []int
	nextWin    int
	wn         int
	wmean, wm2 []float64
	rmT        int // iterations since the last window end
	// second-half-of-warmup statistics for the independence proposal
	hn         int
	hmean, hm2 []float64
	indMean    []float64
	indChol    []float64
	indOK      bool
	indWeight  float64
	// the Laplace approximation at the mode, proposed from during warmup
	lapMean, lapChol []float64
	lapOK            bool
	indScale         float64
	z, tmp           []float64
	cov              []float64
	scratchChol      []float64
	// fixedScales, when set, makes the random walk fixed: its scale is
	// drawn from fixedScales at each proposal and nothing adapts.
	fixedScales []float64
}

func newProposal(d int, cov0 []float64, warmup int, indWeight float64) *proposal {
	p := &proposal{d: d, logScale: math.Log(2.38 / math.Sqrt(float64(d))), indWeight: indWeight, indScale: indepScale}
	p.chol = make([]float64, d*d)
	p.cov = make([]float64, d*d)
	copy(p.cov, cov0)
	if !cholesky(p.cov, d, p.chol) {
		clear(p.chol)
		for i := range d {
			p.chol[i*d+i] = 0.1
		}
	}
	p.wmean, p.wm2 = make([]float64, d), make([]float64, d*d)
	p.hmean, p.hm2 = make([]float64, d), make([]float64, d*d)
	p.indMean, p.indChol = make([]float64, d), make([]float64, d*d)
	p.z, p.tmp = make([]float64, d), make([]float64, d)
	p.windowEnds = windowSchedule(warmup)
	return p
}

// windowSchedule returns the iterations (exclusive ends) at which the
// covariance is re-estimated: Stan's schedule of an initial buffer of 75
// iterations, windows of 25, 50, 100, … and a terminal buffer of 50
// (scaled to 15% / 10% when warmup < 150), the last window stretched to
// the terminal buffer.
func windowSchedule(w int) []int {
	if w < 20 {
		return nil
	}
	init, term, base := 75, 50, 25
	if w < 150 {
		init, term = w*15/100, w/10
		base = w - init - term
	}
	var ends []int
	start, size := init, base
	for {
		end := start + size
		nextEnd := end + 2*size
		if nextEnd > w-term {
			end = w - term
			ends = append(ends, end)
			break
		}
		ends = append(ends, end)
		start, size = end, 2*size
	}
	return ends
}

// rw writes a random-walk proposal from psi into out.
func (p *proposal) rw(psi, out []float64, rng *rand.Rand) {
	d := p.d
	for i := range d {
		p.z[i] = rng.NormFloat64()
	}
	s := math.Exp(p.logScale)
	if p.fixedScales != nil {
		s = p.fixedScales[rng.IntN(len(p.fixedScales))]
	}
	addCholTimes(out, psi, p.chol, p.z, s)
}

// indep writes an independence proposal into out.
func (p *proposal) indep(out []float64, rng *rand.Rand) {
	p.tDraw(p.indMean, p.indChol, out, rng)
}

// indepLogDensity is the log density of the independence proposal at x,
// up to a constant.
func (p *proposal) indepLogDensity(x []float64) float64 {
	return p.tLogDensity(p.indMean, p.indChol, x)
}

// lap writes a proposal from the Laplace approximation at the mode (the
// warmup's independence proposal) into out.
func (p *proposal) lap(out []float64, rng *rand.Rand) {
	p.tDraw(p.lapMean, p.lapChol, out, rng)
}

// lapLogDensity is the log density of the Laplace proposal at x, up to a
// constant.
func (p *proposal) lapLogDensity(x []float64) float64 {
	return p.tLogDensity(p.lapMean, p.lapChol, x)
}

// tDraw writes a multivariate t(indepNu) draw with location mean and
// scale factor chol into out.
func (p *proposal) tDraw(mean, chol, out []float64, rng *rand.Rand) {
	d := p.d
	for i := range d {
		p.z[i] = rng.NormFloat64()
	}
	var w float64
	for range indepNu {
		n := rng.NormFloat64()
		w += n * n
	}
	addCholTimes(out, mean, chol, p.z, math.Sqrt(indepNu/w))
}

// addCholTimes sets out = centre + f·Cz, C lower triangular (d × d,
// row-major, d = len(out)). out may be z itself: row i of Cz uses z₀ … zᵢ
// only, and the rows are written from the last up.
func addCholTimes(out, centre, chol, z []float64, f float64) {
	d := len(out)
	for i := d - 1; i >= 0; i-- {
		v := 0.0
		for j := 0; j <= i; j++ {
			v += chol[i*d+j] * z[j]
		}
		out[i] = centre[i] + f*v
	}
}

// cholMahalanobis is ‖C⁻¹(x − mean)‖², C lower triangular (d × d,
// row-major, d = len(x)); tmp (length d) holds C⁻¹(x − mean) on return.
func cholMahalanobis(x, mean, chol, tmp []float64) float64 {
	d := len(x)
	var q float64
	for i := range d {
		s := x[i] - mean[i]
		for j := range i {
			s -= chol[i*d+j] * tmp[j]
		}
		tmp[i] = s / chol[i*d+i]
		q += tmp[i] * tmp[i]
	}
	return q
}

// tLogDensity is the log density at x of the t of tDraw, up to a
// constant.
func (p *proposal) tLogDensity(mean, chol, x []float64) float64 {
	q := cholMahalanobis(x, mean, chol, p.tmp)
	return -0.5 * float64(indepNu+p.d) * math.Log1p(q/indepNu)
}

// adapt updates the proposal after warmup iteration it (0-based) with
// the acceptance probability alpha and the current state psi.
func (p *proposal) adapt(it, warmup int, alpha float64, psi []float64, rwStep bool) {
	if rwStep {
		p.rmT++
		p.logScale += (alpha - targetAccept) / math.Pow(float64(p.rmT)+10, 0.6)
	}
	init := 0
	if len(p.windowEnds) > 0 {
		init = p.windowEnds[0] - firstWindowSize(warmup)
	}
	if it >= init && p.nextWin < len(p.windowEnds) {
		welford(&p.wn, p.wmean, p.wm2, psi, p.tmp)
		if it+1 == p.windowEnds[p.nextWin] {
			p.nextWin++
			if p.wn > p.d+1 {
				n := float64(p.wn)
				for i := range p.cov {
					p.cov[i] = (n / (n + 5)) * p.wm2[i] / (n - 1)
				}
				for i := range p.d {
					p.cov[i*p.d+i] += 1e-3 * 5 / (n + 5)
				}
				if cholesky(p.cov, p.d, p.tmpChol()) {
					copy(p.chol, p.scratchChol)
					p.logScale = math.Log(2.38 / math.Sqrt(float64(p.d)))
					p.rmT = 0
				}
			}
			p.wn = 0
			clear(p.wmean)
			clear(p.wm2)
		}
	}
	if it >= warmup/2 {
		welford(&p.hn, p.hmean, p.hm2, psi, p.tmp)
	}
}

// finishWarmup fixes the proposal: it builds the independence proposal
// from the second half of warmup.
func (p *proposal) finishWarmup() {
	p.indOK = false
	if p.hn <= 2*p.d+2 || p.indWeight <= 0 {
		return
	}
	n := float64(p.hn)
	for i := range p.cov {
		p.cov[i] = p.hm2[i] / (n - 1)
	}
	copy(p.indMean, p.hmean)
	if cholesky(p.cov, p.d, p.indChol) {
		for i := range p.indChol {
			p.indChol[i] *= p.indScale
		}
		p.indOK = true
	}
}

func (p *proposal) tmpChol() []float64 {
	if p.scratchChol == nil {
		p.scratchChol = make([]float64, p.d*p.d)
	}
	return p.scratchChol
}

// firstWindowSize is the size of the first adaptation window.
func firstWindowSize(w int) int {
	if w < 150 {
		return w - w*15/100 - w/10
	}
	return 25
}

// welford adds x to the running mean and scatter matrix
// (m2 += (x − mean_old)(x − mean_new)ᵀ); tmp is scratch of len(x).
func welford(n *int, mean, m2, x, tmp []float64) {
	*n++
	d := len(mean)
	k := float64(*n)
	for i := range d {
		tmp[i] = x[i] - mean[i]
		mean[i] += tmp[i] / k
	}
	for i := range d {
		for j := range d {
			m2[i*d+j] += tmp[i] * (x[j] - mean[j])
		}
	}
}

// cholesky writes the lower Cholesky factor of the d × d row-major
// symmetric a into l; it returns false if a is not positive definite.
func cholesky(a []float64, d int, l []float64) bool {
	clear(l[:d*d])
	for j := range d {
		s := a[j*d+j]
		for k := range j {
			s -= l[j*d+k] * l[j*d+k]
		}
		if !(s > 0) || math.IsInf(s, 0) {
			return false
		}
		l[j*d+j] = math.Sqrt(s)
		for i := j + 1; i < d; i++ {
			t := a[i*d+j]
			for k := range j {
				t -= l[i*d+k] * l[j*d+k]
			}
			l[i*d+j] = t / l[j*d+j]
		}
	}
	return true
}

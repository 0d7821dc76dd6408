package diagnostics

import (
	"math"
)

// essWork is the reusable state of the ESS computation for split chains
// of one length.
type essWork struct {
	acov *acovWork
	g    []float64 // mean autocovariance
	rho  []float64 // autocorrelation estimates
	cent []float64 // centred chains, m × n, for direct lag sums
}

// directLags is how many lags of the mean autocovariance are summed
// directly (O(m·n) each) before the whole sequence is computed by FFT.
// Geyer's sequence stops at the first negative pair, after a handful of
// lags for a well-mixing chain, so most variables never need the FFT.
const directLags = 48

func newESSWork(n int) *essWork {
	return &essWork{acov: newAcovWork(n), g: make([]float64, n), rho: make([]float64, n)}
}

// essWorkFor returns w if it fits chains of n draws, else a new one.
func essWorkFor(w *essWork, n int) *essWork {
	if w != nil && w.acov.n == n {
		return w
	}
	return newESSWork(n)
}

// ess is posterior's .ess on x, already split: the effective sample size
// m·n/τ̂ with τ̂ from Geyer's initial positive and monotone sequences of
// the combined autocorrelations ρ̂_t = 1 − (W − mean_c γ_{c,t})/var⁺.
// NaN when n < 3, any draw is non-finite, or x is constant.
func (w *essWork) ess(x [][]float64) float64 {
	if !allFinite(x) {
		return math.NaN()
	}
	return w.essFinite(x)
}

// essFinite is ess for draws known to be finite.
func (w *essWork) essFinite(x [][]float64) float64 {
	m, n, ok := shape(x)
	if !ok || n < 3 || isConstant(x) {
		return math.NaN()
	}
	w = essWorkFor(w, n)
	g := w.lazyAcov(x)
	fn := float64(n)
	meanVar := g(0) * fn / (fn - 1)
	varPlus := meanVar * (fn - 1) / fn
	if m > 1 {
		varPlus += Variance(w.means())
	}
	rho := w.rho
	for i := range rho {
		rho[i] = 0
	}
	// Geyer's initial positive sequence. rho[t] is posterior's
	// rho_hat_t[t + 1].
	t := 0
	rhoEven := 1.0
	rho[0] = rhoEven
	rhoOdd := 1 - (meanVar-g(1))/varPlus
	rho[1] = rhoOdd
	for t < n-5 && !math.IsNaN(rhoEven+rhoOdd) && rhoEven+rhoOdd > 0 {
		t += 2
		rhoEven = 1 - (meanVar-g(t))/varPlus
		rhoOdd = 1 - (meanVar-g(t+1))/varPlus
		if rhoEven+rhoOdd >= 0 {
			rho[t] = rhoEven
			rho[t+1] = rhoOdd
		}
	}
	maxT := t
	if rhoEven > 0 { // used in the improved estimate
		rho[maxT] = rhoEven
	}
	// Geyer's initial monotone sequence.
	for t = 0; t <= maxT-4; {
		t += 2
		if rho[t]+rho[t+1] > rho[t-2]+rho[t-1] {
			rho[t] = (rho[t-2] + rho[t-1]) / 2
			rho[t+1] = rho[t]
		}
	}
	// τ̂ = −1 + 2 Σ_{t<maxT} ρ̂_t + ρ̂_maxT. With maxT = 0, R's 1:0 picks
	// ρ̂_0 alone, so the sum is ρ̂_0.
	var sum float64
	if maxT == 0 {
		sum = rho[0]
	}
	for i := 0; i < maxT; i++ {
		sum += rho[i]
	}
	tau := -1 + 2*sum + rho[maxT]
	total := float64(m * n)
	// Cap ESS at S·log10(S) against unstable estimates.
	tau = math.Max(tau, 1/math.Log10(total))
	return total / tau
}

// lazyAcov returns a function giving the mean over chains of the biased
// autocovariance of x at lag t, the values meanAcov computes: the first
// directLags lags by direct sums over the centred chains, every further
// lag from one FFT of the whole sequence, computed when first asked for.
func (w *essWork) lazyAcov(x [][]float64) func(t int) float64 {
	m, n := len(x), len(x[0])
	if cap(w.cent) < m*n {
		w.cent = make([]float64, m*n)
	}
	cent := w.cent[:m*n]
	w.acov.means = w.acov.means[:0]
	for c, ch := range x {
		mu := Mean(ch)
		w.acov.means = append(w.acov.means, mu)
		for i, v := range ch {
			cent[c*n+i] = v - mu
		}
	}
	have := 0
	fft := false
	scale := 1 / (float64(n) * float64(m))
	return func(t int) float64 {
		if fft || t >= directLags {
			if !fft {
				w.acov.meanAcov(w.g, x)
				fft = true
			}
			return w.g[t]
		}
		for ; have <= t; have++ {
			var sum float64
			for c := range m {
				a := cent[c*n : (c+1)*n]
				b := a[have:]
				for i, v := range b {
					sum += a[i] * v
				}
			}
			w.g[have] = sum * scale
		}
		return w.g[t]
	}
}

// means returns the chain means of the last lazyAcov or meanAcov call.
func (w *essWork) means() []float64 { return w.acov.means }

// rhatSplit is posterior's .rhat on x, already split:
// √((B/W + n − 1)/n) with B = n·var(chain means), W = mean(chain var).
// NaN for fewer than two chains, non-finite or constant x.
func rhatSplit(x [][]float64) float64 {
	m, n, ok := shape(x)
	if !ok || m < 2 || n < 2 || shouldReturnNA(x) {
		return math.NaN()
	}
	means := make([]float64, m)
	var w float64
	for i, c := range x {
		means[i] = Mean(c)
		w += Variance(c)
	}
	w /= float64(m)
	fn := float64(n)
	b := fn * Variance(means)
	return math.Sqrt((b/w + fn - 1) / fn)
}

// ESSBasic is the split-chain effective sample size of the draws
// themselves (posterior's ess_basic with split = TRUE).
func ESSBasic(x [][]float64) float64 {
	return (*essWork)(nil).ess(SplitChains(x))
}

// ESSMean is the effective sample size for the mean, equal to ESSBasic.
func ESSMean(x [][]float64) float64 { return ESSBasic(x) }

// ESSBulk is the effective sample size of the rank-normalised split
// chains (posterior's ess_bulk).
func ESSBulk(x [][]float64) float64 {
	if _, _, ok := shape(x); !ok {
		return math.NaN()
	}
	return (*essWork)(nil).ess(ZScale(SplitChains(x)))
}

// indicator returns 1 where x ≤ q, else 0.
func indicator(x [][]float64, q float64) [][]float64 {
	out := make([][]float64, len(x))
	for i, c := range x {
		out[i] = make([]float64, len(c))
		for j, v := range c {
			if v <= q {
				out[i][j] = 1
			}
		}
	}
	return out
}

// ESSQuantile is the effective sample size for the p-quantile: the
// split-chain ESS of the indicator I(x ≤ q̂_p) (posterior's ess_quantile;
// p = 1 is replaced by (S − ½)/S as there).
func ESSQuantile(x [][]float64, p float64) float64 {
	if _, _, ok := shape(x); !ok || shouldReturnNA(x) || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	flat := flatten(x)
	if p == 1 {
		s := float64(len(flat))
		p = (s - 0.5) / s
	}
	q := Quantile(flat, p)
	return (*essWork)(nil).ess(SplitChains(indicator(x, q)))
}

// ESSTail is the minimum of the ESS of the 5% and 95% quantiles
// (posterior's ess_tail).
func ESSTail(x [][]float64) float64 {
	return nanMin(ESSQuantile(x, 0.05), ESSQuantile(x, 0.95))
}

// ESSSD is the effective sample size for the standard deviation: the
// split-chain ESS of |x − mean(x)|, as the posterior release that made
// testdata/diagnostics computes ess_sd.
func ESSSD(x [][]float64) float64 {
	if _, _, ok := shape(x); !ok {
		return math.NaN()
	}
	mu := Mean(flatten(x))
	dev := make([][]float64, len(x))
	for i, c := range x {
		dev[i] = make([]float64, len(c))
		for j, v := range c {
			dev[i][j] = math.Abs(v - mu)
		}
	}
	return ESSBasic(dev)
}

// nanMin is R's min: NaN if either argument is NaN.
func nanMin(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return math.Min(a, b)
}

// nanMax is R's max: NaN if either argument is NaN.
func nanMax(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return math.Max(a, b)
}

package loo

import (
	"math"

	"github.com/lmmbayes/lmmbayes/diagnostics"

	"gonum.org/v1/gonum/dsp/fourier"
)

// essWork computes loo's ess_rfun for chains of one length.
type essWork struct {
	n      int
	fft    *fourier.FFT
	pad    []float64
	coef   []complex128
	power  []complex128
	seq    []float64
	acov   []float64 // mean over chains of the autocovariances
	rho    []float64
	means  []float64
	cent   []float64 // centred chains, chain-major
	direct int       // lags summed directly before switching to the FFT
	factor float64   // loo's autocovariance scaling, see newESSWork
}

// newESSWork prepares FFTs for chains of n draws. loo's autocovariance pads
// the centred chain to 2M, M = fft_next_good_size(n), and divides the
// inverse transform (2M·Σ yᵢy_{i+t}) by 2n², so it returns (M/n)·γ_t with γ_t
// the biased autocovariance. The factor M/n does not cancel in ess_rfun
// (the between-chain variance is not scaled by it), so it is reproduced.
// The transform itself uses a power of two ≥ 2n (any length ≥ 2n − 1 gives
// the linear autocovariance).
func newESSWork(n int) *essWork {
	size := 2
	for size < 2*n {
		size *= 2
	}
	return &essWork{
		n:      n,
		fft:    fourier.NewFFT(size),
		pad:    make([]float64, size),
		coef:   make([]complex128, size/2+1),
		power:  make([]complex128, size/2+1),
		seq:    make([]float64, size),
		acov:   make([]float64, n),
		rho:    make([]float64, n),
		factor: float64(diagnostics.FFTGoodSize(n)) / float64(n),
		direct: directLags,
	}
}

// ess returns loo's ess_rfun of the chains x (each of w.n draws): Geyer's
// initial positive and monotone sequence estimators on the chains as they
// are (not split), with loo's autocovariance scaling.
func (w *essWork) ess(x [][]float64) float64 {
	n := w.n
	chains := len(x)
	// Centred chains, kept for the lags computed directly.
	if cap(w.cent) < chains*n {
		w.cent = make([]float64, chains*n)
	}
	cent := w.cent[:chains*n]
	w.means = w.means[:0]
	for c, ch := range x {
		var mu float64
		for _, v := range ch {
			mu += v
		}
		mu /= float64(n)
		w.means = append(w.means, mu)
		for i, v := range ch {
			cent[c*n+i] = v - mu
		}
	}
	// The autocovariances of the first lags are summed directly (Geyer's
	// sequence usually stops within a few lags); past directLags all lags
	// come from one FFT. Both equal loo's FFT autocovariance to rounding.
	have := 0
	fft := false
	acov := w.acov
	scale := w.factor / (float64(n) * float64(chains))
	at := func(t int) float64 {
		if fft || t < have {
			return acov[t]
		}
		if t >= w.direct {
			w.fftAcov(cent, chains)
			fft = true
			return acov[t]
		}
		for ; have <= t; have++ {
			var s float64
			for c := range chains {
				y := cent[c*n : (c+1)*n]
				for i := 0; i+have < n; i++ {
					s += y[i] * y[i+have]
				}
			}
			acov[have] = s * scale
		}
		return acov[t]
	}
	nf := float64(n)
	meanVar := at(0) * nf / (nf - 1)
	varPlus := meanVar * (nf - 1) / nf
	if chains > 1 {
		varPlus += variance(w.means)
	}
	rho := w.rho
	for i := range rho {
		rho[i] = 0
	}
	t := 0
	rhoEven := 1.0
	rho[0] = rhoEven
	rhoOdd := 1 - (meanVar-at(1))/varPlus
	rho[1] = rhoOdd
	for t < n-5 && !math.IsNaN(rhoEven+rhoOdd) && rhoEven+rhoOdd > 0 {
		t += 2
		rhoEven = 1 - (meanVar-at(t))/varPlus
		rhoOdd = 1 - (meanVar-at(t+1))/varPlus
		if rhoEven+rhoOdd >= 0 {
			rho[t] = rhoEven
			rho[t+1] = rhoOdd
		}
	}
	maxT := t
	if rhoEven > 0 {
		rho[maxT] = rhoEven
	}
	t = 0
	for t <= maxT-4 {
		t += 2
		if rho[t]+rho[t+1] > rho[t-2]+rho[t-1] {
			rho[t] = (rho[t-2] + rho[t-1]) / 2
			rho[t+1] = rho[t]
		}
	}
	S := float64(chains * n)
	// R's sum(rho_hat_t[1:max_t]): for max_t = 0, 1:0 selects rho[1] alone.
	var sum float64
	if maxT == 0 {
		sum = rho[0]
	} else {
		for i := 0; i < maxT; i++ {
			sum += rho[i]
		}
	}
	tau := -1 + 2*sum + rho[maxT]
	tau = math.Max(tau, 1/math.Log10(S))
	return S / tau
}

// directLags is the number of autocovariance lags summed directly before
// ess switches to the FFT.
const directLags = 24

// fftAcov writes the scaled mean autocovariance of every lag into w.acov
// from the centred chains (chains × w.n, chain-major).
func (w *essWork) fftAcov(cent []float64, chains int) {
	n := w.n
	for i := range w.power {
		w.power[i] = 0
	}
	for c := range chains {
		copy(w.pad, cent[c*n:(c+1)*n])
		for i := n; i < len(w.pad); i++ {
			w.pad[i] = 0
		}
		w.fft.Coefficients(w.coef, w.pad)
		for i, z := range w.coef {
			re, im := real(z), imag(z)
			w.power[i] += complex(re*re+im*im, 0)
		}
	}
	w.fft.Sequence(w.seq, w.power)
	// Sequence(Coefficients(·)) multiplies by the transform length.
	scale := w.factor / (float64(len(w.pad)) * float64(n) * float64(chains))
	for t := 0; t < n; t++ {
		w.acov[t] = w.seq[t] * scale
	}
}

// variance is the sample variance with denominator n − 1 (R's var).
func variance(x []float64) float64 {
	n := float64(len(x))
	var m float64
	for _, v := range x {
		m += v
	}
	m /= n
	var s float64
	for _, v := range x {
		d := v - m
		s += d * d
	}
	return s / (n - 1)
}

// RelativeEff returns loo's relative_eff of one observation: the effective
// sample size of its likelihood draws exp(log_lik) over the chains (loo's
// ess_rfun, Geyer's estimators on unsplit chains) divided by the number of
// draws. Every chain must have the same length ≥ 2; the result is NaN for a
// constant likelihood.
func RelativeEff(chains [][]float64) float64 {
	w := newESSWork(len(chains[0]))
	return w.ess(chains) / float64(len(chains)*len(chains[0]))
}

package diagnostics

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// fftSize returns the transform length used for chains of n draws: the
// smallest power of two ≥ 2n. Any length ≥ 2n − 1 makes the circular
// autocovariance of the zero-padded chain equal the linear one, so this
// gives the same numbers as posterior's 2·fft_next_good_size(n), faster.
func fftSize(n int) int {
	size := 2
	for size < 2*n {
		size *= 2
	}
	return size
}

// FFTGoodSize returns the smallest n' ≥ n whose only prime factors are 2,
// 3 and 5 (posterior's and loo's fft_next_good_size, R's nextn); 2 for
// n ≤ 2.
func FFTGoodSize(n int) int {
	if n <= 2 {
		return 2
	}
	for ; ; n++ {
		m := n
		for m%2 == 0 {
			m /= 2
		}
		for m%3 == 0 {
			m /= 3
		}
		for m%5 == 0 {
			m /= 5
		}
		if m <= 1 {
			return n
		}
	}
}

// acovWork holds the FFT plan and buffers for autocovariances of chains
// of one length. It is not safe for concurrent use.
type acovWork struct {
	n     int // chain length
	fft   *fourier.FFT
	pad   []float64    // zero-padded centred chain, length 2·M
	coef  []complex128 // its Fourier coefficients
	power []complex128 // summed power spectrum over chains
	seq   []float64    // inverse transform
	means []float64    // chain means of the last meanAcov call
}

// newAcovWork returns buffers for chains of n draws, zero-padded to
// fftSize(n) so the circular autocovariance equals the linear one.
func newAcovWork(n int) *acovWork {
	size := fftSize(n)
	return &acovWork{
		n:     n,
		fft:   fourier.NewFFT(size),
		pad:   make([]float64, size),
		coef:  make([]complex128, size/2+1),
		power: make([]complex128, size/2+1),
		seq:   make([]float64, size),
	}
}

// meanAcov writes into dst[0:n] the mean over chains of each chain's
// biased autocovariance, γ_t = (1/n) Σ_{i<n−t} (x_i − x̄)(x_{i+t} − x̄),
// the estimate Geyer (1992) recommends and posterior's autocovariance
// computes. Every chain must have w.n draws. dst is returned.
func (w *acovWork) meanAcov(dst []float64, x [][]float64) []float64 {
	n := w.n
	for i := range w.power {
		w.power[i] = 0
	}
	w.means = w.means[:0]
	for _, c := range x {
		mu := Mean(c)
		w.means = append(w.means, mu)
		for i, v := range c {
			w.pad[i] = v - mu
		}
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
	scale := 1 / (float64(len(w.pad)) * float64(n) * float64(len(x)))
	for t := 0; t < n; t++ {
		dst[t] = w.seq[t] * scale
	}
	return dst
}

// Autocovariance returns the biased autocovariance of one chain at every
// lag 0 … n−1, computed by FFT: γ_t = (1/n) Σ_{i<n−t} (x_i − x̄)(x_{i+t} − x̄).
// A constant chain gives all zeros; empty or non-finite input gives NaN.
func Autocovariance(x []float64) []float64 {
	n := len(x)
	out := make([]float64, n)
	if n == 0 {
		return out
	}
	if !allFinite([][]float64{x}) {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	if isConstant([][]float64{x}) {
		return out
	}
	return newAcovWork(n).meanAcov(out, [][]float64{x})
}

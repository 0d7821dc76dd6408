package diagnostics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLazyAcovEqualsFFT checks the direct lag sums against the FFT
// autocovariance at every lag, on chains with strong autocorrelation.
func TestLazyAcovEqualsFFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	x := make([][]float64, 4)
	for c := range x {
		x[c] = make([]float64, 999)
		v := 0.0
		for i := range x[c] {
			v = 0.9*v + rng.NormFloat64()
			x[c][i] = v + float64(c)
		}
	}
	w := newESSWork(999)
	lazy := w.lazyAcov(x)
	ref := newAcovWork(999).meanAcov(make([]float64, 999), x)
	for lag := 0; lag < 200; lag++ {
		if got := lazy(lag); math.Abs(got-ref[lag]) > 1e-12*ref[0] {
			t.Fatalf("lag %d: lazy %v, FFT %v", lag, got, ref[lag])
		}
	}
}

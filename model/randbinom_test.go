package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestRandBinomial compares randBinomial's frequencies with the binomial
// pmf (χ² over the support, 200 000 draws) for small and large n·p and p
// on both sides of 1/2.
func TestRandBinomial(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ n, p float64 }{{1, 0.3}, {15, 0.1}, {34, 0.9}, {10, 0.5}, {60, 0.2}, {200, 0.3}, {5, 1e-9}} {
		const m = 200000
		cnt := make([]float64, int(c.n)+1)
		for range m {
			k := randBinomial(c.n, c.p, rng)
			if k < 0 || k > c.n || k != math.Trunc(k) {
				t.Fatalf("n %g p %g: draw %g", c.n, c.p, k)
			}
			cnt[int(k)]++
		}
		d := distuv.Binomial{N: c.n, P: c.p}
		var x2 float64
		df := -1
		var restE, restO float64
		for k, o := range cnt {
			e := m * d.Prob(float64(k))
			if e < 5 {
				restE += e
				restO += o
				continue
			}
			x2 += (o - e) * (o - e) / e
			df++
		}
		if restE > 0 {
			x2 += (restO - restE) * (restO - restE) / math.Max(restE, 1e-300)
			df++
		}
		if df < 1 {
			continue
		}
		p := 1 - distuv.ChiSquared{K: float64(df)}.CDF(x2)
		t.Logf("n %g p %g: χ² %.1f on %d df, p %.3f", c.n, c.p, x2, df, p)
		if p < 0.001 {
			t.Errorf("n %g p %g: frequencies off the pmf (χ² %.1f on %d df, p %.2g)", c.n, c.p, x2, df, p)
		}
	}
}

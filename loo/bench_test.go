package loo

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkLOOColumn times one observation of 4 chains × 1000 draws (the
// per-column cost of loo on InstEval's 73,421 columns).
func BenchmarkLOOColumn(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	ll := make([]float64, 4000)
	for i := range ll {
		ll[i] = -1 - 0.5*rng.NormFloat64()*rng.NormFloat64()
	}
	c, _ := NewComputer(4, 1000)
	b.ResetTimer()
	for range b.N {
		if _, err := c.LOO(ll, 0); err != nil {
			b.Fatal(err)
		}
	}
}

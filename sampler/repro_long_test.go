//go:build long

package sampler

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestReproducibleReordered repeats TestReproducible on a crossed design
// whose second term (300 items, crossed with 600 subjects) the kernel
// reorders by minimum degree and factors with the parallel dense
// Cholesky: the collapsed method's draws must be bit-identical under
// GOMAXPROCS 1 and 2.
func TestReproducibleReordered(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var b strings.Builder
	b.WriteString("subject,item,x,y\n")
	item := make([]float64, 300)
	for i := range item {
		item[i] = 0.8 * rng.NormFloat64()
	}
	for s := range 600 {
		u := rng.NormFloat64()
		for range 12 {
			it := rng.IntN(300)
			x := rng.NormFloat64()
			fmt.Fprintf(&b, "s%d,i%d,%.6f,%.6f\n", s, it, x, 2+0.5*x+u+item[it]+rng.NormFloat64())
		}
	}
	d := designFromCSV(t, "reordered.csv", b.String(), "y ~ x + (1 | subject) + (1 | item)", "subject", "item")
	spec := refSpec(d)
	opt := Options{Chains: 2, Warmup: 30, Draws: 30, Seed: 4, RandomEffects: true, Method: "collapsed"}
	checkProcsIdentical(t, spec, opt)
}

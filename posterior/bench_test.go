package posterior

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
)

// benchPost returns a crossed design of n rows (y ~ x + (1 + x | s) +
// (1 | i)) and s fake posterior draws of it, all columns kept.
func benchPost(b testing.TB, n, s int) (*model.Design, *draws.Draws) {
	return benchPostFamily(b, n, s, model.Gaussian)
}

// benchPostFamily is benchPost for family fam: for the count families
// y = ⌊exp(1.2 z)⌋, z standard normal (long-tailed counts), and the fake
// fixed and random effects are scaled by 0.3.
func benchPostFamily(b testing.TB, n, s int, fam model.Family) (*model.Design, *draws.Draws) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	sb.WriteString("y,x,s,i\n")
	for r := range n {
		y := rng.NormFloat64()
		if fam.Count() {
			y = math.Floor(math.Exp(1.2 * y))
		}
		fmt.Fprintf(&sb, "%g,%g,s%d,i%d\n", y, rng.NormFloat64(), r%(n/250+18), rng.IntN(200))
	}
	fr, err := model.ReadFrame(strings.NewReader(sb.String()), "bench.csv", model.FrameOptions{})
	if err != nil {
		b.Fatal(err)
	}
	fo, _ := model.ParseFormula("y ~ x + (1 + x | s) + (1 | i)")
	d, err := model.Build(fo, fr, model.BuildOptions{Family: fam})
	if err != nil {
		b.Fatal(err)
	}
	names := draws.ColumnNames(d, true)
	post := draws.New(names, true, "bench")
	nc := len(names.Columns)
	for range 4 {
		vals := make([]float64, s/4*nc)
		for k := range s / 4 {
			row := vals[k*nc : (k+1)*nc]
			for j, c := range names.Columns {
				switch {
				case strings.HasPrefix(c, "sd_"), c == "sigma":
					row[j] = 1 + 0.1*rng.Float64()
				case strings.HasPrefix(c, "cor_"):
					row[j] = 0.1
				case fam.Count() && c != "shape":
					row[j] = 0.3 * rng.NormFloat64()
				default:
					row[j] = rng.NormFloat64()
				}
			}
		}
		post.AddChain(s/4, vals)
	}
	return d, post
}

// BenchmarkWritePPC times ppc.csv and ppc_stats.csv of 50,000 rows from
// 2000 draws (run with -cpuprofile to see where the time goes).
func BenchmarkWritePPC(b *testing.B) {
	d, post := benchPost(b, 50000, 2000)
	dir := b.TempDir()
	b.ResetTimer()
	for range b.N {
		if err := WritePPC(dir, d, post, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCoef times coef.csv's summaries of the same draws.
func BenchmarkCoef(b *testing.B) {
	d, post := benchPost(b, 50000, 2000)
	dir := b.TempDir()
	b.ResetTimer()
	for range b.N {
		if _, err := WriteCoef(dir, d, post); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWritePPCSmall times ppc.csv of 180 rows from 4000 draws (the
// size of sleepstudy).
func BenchmarkWritePPCSmall(b *testing.B) {
	d, post := benchPost(b, 180, 4000)
	dir := b.TempDir()
	b.ResetTimer()
	for range b.N {
		if err := WritePPC(dir, d, post, 1); err != nil {
			b.Fatal(err)
		}
	}
}

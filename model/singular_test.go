package model

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestFitBoundary builds data whose group means are identical by
// construction (every group holds the same residuals, permuted), so the
// ML and REML estimates of the between-group SD are exactly 0: the fit
// must converge to the boundary and be reported singular.
func TestFitBoundary(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const groups, per = 12, 8
	base := make([]float64, per)
	for j := range base {
		base[j] = 10 + 3*rng.NormFloat64()
	}
	n := groups * per
	y := make([]float64, 0, n)
	refs := make([]int32, 0, n)
	levels := make([]string, groups)
	for g := range groups {
		levels[g] = strconv.Itoa(g + 1)
		perm := rng.Perm(per)
		for _, j := range perm {
			y = append(y, base[j])
			refs = append(refs, int32(g))
		}
	}
	x := mat.NewDense(n, 1, nil)
	z := make([]float64, n)
	for i := range n {
		x.Set(i, 0, 1)
		z[i] = 1
	}
	d := &Design{N: n, Y: y, X: x, XNames: []string{"(Intercept)"},
		Terms: []*ReTerm{{Group: "g", Levels: levels, Refs: refs, Names: []string{"(Intercept)"}, K: 1, Z: z, Correlated: true}}}
	for _, reml := range []bool{false, true} {
		fit, err := Fit(d, FitOptions{REML: reml})
		if err != nil {
			t.Fatal(err)
		}
		if fit.Theta[0] >= singularTol || !fit.Singular {
			t.Errorf("reml=%v: θ = %g, singular = %v; want θ at the 0 bound and singular", reml, fit.Theta[0], fit.Singular)
		}
		// At θ = 0 the fit is ordinary least squares: σ̂² = RSS/n (ML) or
		// RSS/(n−1) (REML), β̂ = mean(y).
		var mean, rss float64
		for _, v := range y {
			mean += v / float64(n)
		}
		for _, v := range y {
			rss += (v - mean) * (v - mean)
		}
		df := float64(n)
		if reml {
			df--
		}
		if s := fit.Sigma * fit.Sigma; !relClose(s, rss/df, 1e-6) {
			t.Errorf("reml=%v: σ̂² = %g, OLS %g", reml, s, rss/df)
		}
		if !relClose(fit.Fixef.Values[0], mean, 1e-9) {
			t.Errorf("reml=%v: β̂ = %g, mean %g", reml, fit.Fixef.Values[0], mean)
		}
		var buf bytes.Buffer
		if err := fit.WriteSummary(&buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "boundary (singular) fit") {
			t.Errorf("summary does not report the singular fit:\n%s", buf.String())
		}
	}
}

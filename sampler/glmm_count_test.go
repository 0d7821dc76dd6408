package sampler

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// countGewekeChain is the successive-conditional simulator of RunLaplace:
// one iteration given y, then y ~ Poisson(exp(η)) (negative binomial,
// binomial with the design's trials).
func countGewekeChain(spec *GLMMSpec, opt GLMMOptions, iters, id int, noReverse bool) [][]float64 {
	d := *spec.Design
	d.Y = append([]float64(nil), d.Y...)
	sp := *spec
	sp.Design = &d
	c, err := newCountChain(&sp, opt, id)
	if err != nil {
		panic(err)
	}
	c.noReverse, c.noInd = noReverse, true
	np := len(glmmColumns(&d, false))
	out := make([][]float64, np)
	row := make([]float64, np)
	burn := iters / 10
	for it := range burn + iters {
		if err := c.step(it, burn); err != nil {
			panic(err)
		}
		ynew := make([]float64, len(d.Y))
		for i, e := range c.eta {
			if c.logit {
				p := 1 / (1 + math.Exp(-e))
				for range int(c.ntr[i]) {
					if c.rng.Float64() < p {
						ynew[i]++
					}
				}
				continue
			}
			mu := math.Exp(e)
			if c.nb {
				// NB2 as a gamma–Poisson mixture: λ ~ Gamma(k, rate k/μ).
				k := math.Exp(c.psi[len(c.psi)-1])
				mu = gammaDraw(k, c) * mu / k
			}
			ynew[i] = poissonDraw(mu, c)
		}
		if err := c.setY(ynew); err != nil {
			panic(err)
		}
		if it >= burn {
			c.record(row, false)
			for j := range np {
				out[j] = append(out[j], row[j])
			}
		}
	}
	return out
}

// gammaDraw draws Gamma(a, 1) (Marsaglia & Tsang 2000; a < 1 by
// boosting).
func gammaDraw(a float64, c *countChain) float64 {
	if a < 1 {
		return gammaDraw(a+1, c) * math.Pow(c.rng.Float64(), 1/a)
	}
	d := a - 1.0/3
	cc := 1 / math.Sqrt(9*d)
	for {
		x := c.rng.NormFloat64()
		v := 1 + cc*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := c.rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// poissonDraw draws Poisson(mu) by inversion (mu is small here).
func poissonDraw(mu float64, c *countChain) float64 {
	if mu > 500 {
		mu = 500
	}
	u := c.rng.Float64()
	p := math.Exp(-mu)
	k, s := 0.0, p
	for u > s && k < 5000 {
		k++
		p *= mu / k
		s += p
	}
	return k
}

// TestCountGeweke is the joint-distribution test of RunCount (Poisson and
// negative binomial, y ~ x + (1 | g), β ~ N(0, 1), τ ~ half-N(0, 1), shape ~
// gamma(2, 1)), as TestLogisticGeweke;
// leaving the Jacobian exp(−½ log det H) out of the ψ move (a planted
// bug) must be caught.
func TestCountGeweke(t *testing.T) {
	iters := 20000
	if testing.Short() {
		iters = 5000
	}
	for _, fam := range []model.Family{model.Poisson, model.NegBinomial, model.Bernoulli, model.Binomial} {
		for _, bug := range []bool{false, true} {
			p, what := gewekeGLMM(t, fam, func(spec *GLMMSpec, n, id int) [][]float64 {
				return countGewekeChain(spec, GLMMOptions{Seed: 5}, n, id, bug)
			}, iters)
			t.Logf("%s, planted bug %v: worst adjusted p %.3g (%s)", fam, bug, p, what)
			if !bug && p < gwAlpha {
				t.Errorf("%s: Geweke test fails: adjusted p %.3g at %s", fam, p, what)
			}
			if bug && p >= gwAlpha {
				t.Errorf("%s: the planted bug is not caught: adjusted p %.3g", fam, p)
			}
		}
	}
}

// TestRunCountShort runs RunCount on grouseticks (Poisson, HEIGHT
// scaled; 2 chains × 500 draws) and checks reproducibility and that the
// posterior means sit within 4 posterior SDs of the ML fit of the same
// model (FitGLMM, itself checked against glmer); the comparison with a
// long brms run is in the long tests.
func TestRunCountShort(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "glmm", "grouseticks.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := model.ReadFrame(strings.NewReader(string(raw)), "grouseticks.csv", model.FrameOptions{Factors: []string{"YEAR", "BROOD", "LOCATION"}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := model.ParseFormula("TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)")
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.Build(f, fr, model.BuildOptions{Family: model.Poisson})
	if err != nil {
		t.Fatal(err)
	}
	ml, err := model.FitGLMM(d, model.GLMMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := &GLMMSpec{Design: d}
	for range d.XNames {
		spec.Fixed = append(spec.Fixed, priors.Normal{Mu: 0, Sigma: 10})
	}
	for range d.Terms {
		spec.SD = append(spec.SD, priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5})
	}
	opt := GLMMOptions{Chains: 2, Warmup: 500, Draws: 500, Seed: 9}
	r, err := RunCount(context.Background(), spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := RunCount(context.Background(), spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	for c := range r.Draws {
		for i, v := range r.Draws[c] {
			if v != r2.Draws[c][i] {
				t.Fatalf("not reproducible: chain %d value %d", c, i)
			}
		}
	}
	want := map[string]float64{}
	for j, n := range ml.Fixef.Names {
		if n == "(Intercept)" {
			n = "Intercept"
		}
		want["b_"+n] = ml.Fixef.Values[j]
	}
	for _, v := range ml.VarCorr {
		want["sd_"+v.Group+"__Intercept"] = v.SDCor
	}
	nc := len(r.Columns)
	for j, name := range r.Columns {
		x := make([][]float64, len(r.Draws))
		var all []float64
		for c := range r.Draws {
			for i := range r.NDraws {
				x[c] = append(x[c], r.Draws[c][i*nc+j])
			}
			all = append(all, x[c]...)
		}
		m, sd := diagnostics.Mean(all), diagnostics.SD(all)
		if w, ok := want[name]; ok && math.Abs(m-w) > 4*sd {
			t.Errorf("%s: posterior mean %.4f (sd %.4f), ML %.4f", name, m, sd, w)
		}
		t.Logf("%s: mean %.4f sd %.4f (ML %.4f) bulk-ESS %.0f", name, m, sd, want[name], diagnostics.ESSBulk(x))
	}
	t.Logf("acceptance of the ψ move %v", r.Accept)
}

// TestCountGewekeSlope is TestCountGeweke (Poisson) for a correlated
// random slope, y ~ x + (1 + x | g) with LKJ(2), and its planted bug.
func TestCountGewekeSlope(t *testing.T) {
	iters := 40000
	if testing.Short() {
		iters = 10000
	}
	for _, bug := range []bool{false, true} {
		d := glmmGwDesignFormula(t, model.Poisson, "y ~ x + (1 + x | g)")
		p, what := gewekeGLMMDesign(t, d, func(spec *GLMMSpec, n, id int) [][]float64 {
			return countGewekeChain(spec, GLMMOptions{Seed: 29}, n, id, bug)
		}, iters)
		t.Logf("planted bug %v: worst adjusted p %.3g (%s)", bug, p, what)
		if !bug && p < gwAlpha {
			t.Errorf("Geweke test fails: adjusted p %.3g at %s", p, what)
		}
		if bug && p >= gwAlpha {
			t.Errorf("the planted bug is not caught: adjusted p %.3g", p)
		}
	}
}

// TestLog1pUnit checks log1pUnit against math.Log1p on a grid of [0, 1]
// and softplus against max(x, 0) + log1p(e^−|x|) on [−40, 40]: absolute
// errors within a few ulps of the result.
func TestLog1pUnit(t *testing.T) {
	var worst float64
	for i := 0; i <= 1000000; i++ {
		x := float64(i) / 1e6
		worst = math.Max(worst, math.Abs(log1pUnit(x)-math.Log1p(x)))
	}
	if worst > 2.5e-16 {
		t.Errorf("log1pUnit: largest absolute error %g", worst)
	}
	worst = 0
	for i := -400000; i <= 400000; i++ {
		x := float64(i) / 1e4
		want := math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
		worst = math.Max(worst, math.Abs(softplus(x)-want)/math.Max(1, math.Abs(want)))
	}
	if worst > 4e-16 {
		t.Errorf("softplus: largest error %g (relative above 1, absolute below)", worst)
	}
}

// TestLaplaceWeightsAsDuplicates checks RunLaplace's prior weights by the
// identity TestFitGLMMWeightsAsDuplicates uses: cbpp with integer
// weights w = 1 + (row mod 3) has the posterior of cbpp with each row
// repeated w times. Every b_ and sd_ posterior mean and sd of the two
// runs (4 chains × 2000 draws each) must agree within 4 combined MCSEs.
func TestLaplaceWeightsAsDuplicates(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "glmm", "cbpp.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var wt, dup strings.Builder
	wt.WriteString(lines[0] + ",w\n")
	dup.WriteString(lines[0] + "\n")
	for i, l := range lines[1:] {
		w := 1 + i%3
		fmt.Fprintf(&wt, "%s,%d\n", l, w)
		for range w {
			dup.WriteString(l + "\n")
		}
	}
	build := func(text, weights string) *model.Design {
		fr, err := model.ReadFrame(strings.NewReader(text), "cbpp.csv", model.FrameOptions{Factors: []string{"herd", "period"}})
		if err != nil {
			t.Fatal(err)
		}
		f, err := model.ParseFormula("cbind(incidence, size - incidence) ~ period + (1 | herd)")
		if err != nil {
			t.Fatal(err)
		}
		d, err := model.Build(f, fr, model.BuildOptions{Family: model.Binomial, Weights: weights})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	opt := GLMMOptions{Chains: 4, Warmup: 1000, Draws: 2000, Seed: 3}
	var res [2]*GLMMResult
	for k, d := range []*model.Design{build(wt.String(), "w"), build(dup.String(), "")} {
		spec := &GLMMSpec{Design: d, SD: []priors.ScalePrior{priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5}}}
		for range d.XNames {
			spec.Fixed = append(spec.Fixed, priors.Normal{Mu: 0, Sigma: 10})
		}
		if res[k], err = RunLaplace(context.Background(), spec, opt); err != nil {
			t.Fatal(err)
		}
	}
	nc := len(res[0].Columns)
	for j, name := range res[0].Columns {
		var x [2][][]float64
		var all [2][]float64
		for k, r := range res {
			x[k] = make([][]float64, len(r.Draws))
			for c := range r.Draws {
				for i := range r.NDraws {
					x[k][c] = append(x[k][c], r.Draws[c][i*nc+j])
				}
				all[k] = append(all[k], x[k][c]...)
			}
		}
		dm := math.Abs(diagnostics.Mean(all[0]) - diagnostics.Mean(all[1]))
		sm := math.Hypot(diagnostics.MCSEMean(x[0]), diagnostics.MCSEMean(x[1]))
		ds := math.Abs(diagnostics.SD(all[0]) - diagnostics.SD(all[1]))
		ss := math.Hypot(diagnostics.MCSESD(x[0]), diagnostics.MCSESD(x[1]))
		t.Logf("%s: mean %.4f vs %.4f (%.2f MCSE), sd %.4f vs %.4f (%.2f MCSE)", name, diagnostics.Mean(all[0]), diagnostics.Mean(all[1]), dm/sm, diagnostics.SD(all[0]), diagnostics.SD(all[1]), ds/ss)
		if dm > 4*sm || ds > 4*ss {
			t.Errorf("%s: weighted and repeated-row posteriors differ: mean %.2f, sd %.2f combined MCSEs", name, dm/sm, ds/ss)
		}
	}
}

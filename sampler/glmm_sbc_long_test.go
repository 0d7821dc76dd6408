//go:build long

package sampler

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
	"gonum.org/v1/gonum/stat/distuv"
)

// glmmSBCSims is the number of simulated data sets per family.
const glmmSBCSims = 500

// glmmSBC runs simulation-based calibration (as sbc_long_test.go) of the
// GLMM samplers on glmmGwDesign's y ~ x + (1 | g) (40 rows, 8 groups):
// β ~ N(0, 1), τ ~ half-N(0, 1), shape ~ gamma(2, 1); 1 chain, 300 warmup,
// 99 draws kept of 396 (thinned by 4). It returns the χ² p-value of each
// parameter's rank histogram (20 bins).
func glmmSBC(t *testing.T, fam model.Family, opt GLMMOptions, noReverse bool, seed uint64, pg bool) []float64 {
	base := glmmGwDesign(t, fam)
	rng := rand.New(rand.NewPCG(seed, 0))
	p := len(base.XNames)
	np := p + 1
	if fam == model.NegBinomial {
		np++
	}
	hist := make([][]int, np)
	for i := range hist {
		hist[i] = make([]int, sbcBins)
	}
	var names []string
	for s := range glmmSBCSims {
		// Truth from the prior, y from the model.
		truth := make([]float64, np)
		for j := range p {
			truth[j] = rng.NormFloat64()
		}
		tau := math.Abs(rng.NormFloat64())
		truth[p] = tau
		shape := 0.0
		if fam == model.NegBinomial {
			shape = distuv.Gamma{Alpha: 2, Beta: 1, Src: nil}.Quantile(rng.Float64())
			truth[p+1] = shape
		}
		t0 := base.Terms[0]
		b := make([]float64, len(t0.Levels))
		for l := range b {
			b[l] = tau * rng.NormFloat64()
		}
		d := *base
		d.Y = make([]float64, d.N)
		for i := range d.N {
			eta := t0.Z[i] * b[t0.Refs[i]]
			for j := range p {
				eta += d.X.At(i, j) * truth[j]
			}
			switch fam {
			case model.Bernoulli, model.Binomial:
				pr := 1 / (1 + math.Exp(-eta))
				nt := 1
				if d.Trials != nil {
					nt = int(d.Trials[i])
				}
				for range nt {
					if rng.Float64() < pr {
						d.Y[i]++
					}
				}
			default:
				mu := math.Exp(eta)
				if fam == model.NegBinomial {
					mu *= distuv.Gamma{Alpha: shape, Beta: 1}.Quantile(rng.Float64()) / shape
				}
				d.Y[i] = poissonInv(mu, rng.Float64())
			}
		}
		spec := &GLMMSpec{Design: &d, SD: []priors.ScalePrior{priors.Normal{Mu: 0, Sigma: 1}}, ShapeA: 2, ShapeB: 1}
		for range p {
			spec.Fixed = append(spec.Fixed, priors.Normal{Mu: 0, Sigma: 1})
		}
		o := opt
		o.Chains, o.Warmup, o.Draws, o.Seed = 1, sbcWarm, sbcL*sbcThin, seed*1000+uint64(s)
		var res *GLMMResult
		var err error
		if pg {
			res, err = RunLogistic(context.Background(), spec, o)
		} else {
			res, err = runCountBug(spec, o, noReverse)
		}
		if err != nil {
			t.Fatalf("simulation %d: %v", s, err)
		}
		nc := len(res.Columns)
		names = res.Columns[:np]
		for j := range np {
			rank := 0
			for i := range sbcL {
				if res.Draws[0][(i*sbcThin+sbcThin-1)*nc+j] < truth[j] {
					rank++
				}
			}
			hist[j][rank*sbcBins/(sbcL+1)]++
		}
	}
	pv := make([]float64, np)
	exp := float64(glmmSBCSims) / sbcBins
	for j := range np {
		var x2 float64
		for _, c := range hist[j] {
			x2 += (float64(c) - exp) * (float64(c) - exp) / exp
		}
		pv[j] = 1 - distuv.ChiSquared{K: sbcBins - 1}.CDF(x2)
		t.Logf("%s %s: ranks %v, χ² %.1f, p %.4f", fam, names[j], hist[j], x2, pv[j])
	}
	return pv
}

// runCountBug is RunCount for one chain, with the planted bug of the
// Geweke test optionally switched on.
func runCountBug(spec *GLMMSpec, opt GLMMOptions, noReverse bool) (*GLMMResult, error) {
	c, err := newCountChain(spec, opt, 1)
	if err != nil {
		return nil, err
	}
	c.noReverse = noReverse
	res := &GLMMResult{Columns: glmmColumns(spec.Design, false), NDraws: opt.Draws}
	nc := len(res.Columns)
	out := make([]float64, opt.Draws*nc)
	for it := range opt.Warmup + opt.Draws {
		if err := c.step(it, opt.Warmup); err != nil {
			return nil, err
		}
		if it >= opt.Warmup {
			c.record(out[(it-opt.Warmup)*nc:], false)
		}
	}
	res.Draws = [][]float64{out}
	return res, nil
}

// TestGLMMSBC checks the rank histograms of β, the SD and the shape for
// each family and method (pg: RunLogistic; mh: RunLaplace; Bonferroni
// over a family's parameters, α = 0.01), and that a planted bug (κ + 0.1
// for the Pólya-Gamma sampler, the Jacobian left out of RunLaplace's ψ
// move) fails.
func TestGLMMSBC(t *testing.T) {
	type run struct {
		fam model.Family
		pg  bool
	}
	for _, r := range []run{{model.Bernoulli, true}, {model.Binomial, true}, {model.Bernoulli, false}, {model.Binomial, false}, {model.Poisson, false}, {model.NegBinomial, false}} {
		fam := r.fam
		name := fam.String() + "_mh"
		if r.pg {
			name = fam.String() + "_pg"
		}
		t.Run(name, func(t *testing.T) {
			pv := glmmSBC(t, fam, GLMMOptions{}, false, 41, r.pg)
			for j, p := range pv {
				if p < sbcAlpha/float64(len(pv)) {
					t.Errorf("parameter %d: rank histogram not uniform (p = %.2g)", j, p)
				}
			}
			bug := GLMMOptions{}
			if r.pg {
				bug.kappaShift = 0.1
			}
			pb := glmmSBC(t, fam, bug, !r.pg, 43, r.pg)
			caught := false
			for _, p := range pb {
				if p < sbcAlpha/float64(len(pb)) {
					caught = true
				}
			}
			if !caught {
				t.Error("SBC did not catch the planted bug")
			}
		})
	}
}

// poissonInv is the Poisson(mu) quantile of u by inversion (mu is at most
// a few hundred here).
func poissonInv(mu, u float64) float64 {
	p := math.Exp(-mu)
	k, c := 0.0, p
	for u > c && k < 1e5 {
		k++
		p *= mu / k
		c += p
	}
	return k
}

// TestLogisticSBCSlope is SBC for a correlated random slope,
// cbind-style binomial (3 trials) y ~ x + (1 + x | g) on glmmGwDesign's
// rows: β ~ N(0, 1), both SDs ~ half-N(0, 1), ρ ~ LKJ(2) (ρ = 2B − 1,
// B ~ Beta(2, 2)); 500 data sets; and κ + 0.1 must be caught.
func TestLogisticSBCSlope(t *testing.T) {
	sbcSlope(t, model.Binomial)
}

// TestCountSBCSlope is TestLogisticSBCSlope for the Poisson sampler (the
// planted bug: the Jacobian left out of the ψ move).
func TestCountSBCSlope(t *testing.T) {
	sbcSlope(t, model.Poisson)
}

// sbcSlope runs the correlated-slope SBC for a binomial (3 trials) or
// Poisson response, then with the family's planted bug.
func sbcSlope(t *testing.T, fam model.Family) {
	// The count sampler's SDs mix more slowly (bulk-ESS of a few per 100
	// draws with a correlated slope): thinned by 4 its 99 draws are
	// autocorrelated enough to make the rank histogram of sd_g__x lumpy
	// (p = 0.0011 with 1 chain × 396 draws); thinned by 16 (1584 draws)
	// every histogram is uniform (smallest p 0.24).
	thin := sbcThin
	if fam == model.Poisson {
		thin = 16
	}
	for _, shift := range []float64{0, 0.1} {
		base := glmmGwDesignFormula(t, fam, "y ~ x + (1 + x | g)")
		rng := rand.New(rand.NewPCG(51, 0))
		const np = 5
		hist := make([][]int, np)
		for i := range hist {
			hist[i] = make([]int, sbcBins)
		}
		tm := base.Terms[0]
		for s := range glmmSBCSims {
			truth := make([]float64, np)
			truth[0], truth[1] = rng.NormFloat64(), rng.NormFloat64()
			t1, t2 := math.Abs(rng.NormFloat64()), math.Abs(rng.NormFloat64())
			rho := 2*distuv.Beta{Alpha: 2, Beta: 2}.Quantile(rng.Float64()) - 1
			truth[2], truth[3], truth[4] = t1, t2, rho
			b := make([]float64, 2*len(tm.Levels))
			for l := range tm.Levels {
				z1, z2 := rng.NormFloat64(), rng.NormFloat64()
				b[2*l] = t1 * z1
				b[2*l+1] = t2 * (rho*z1 + math.Sqrt(1-rho*rho)*z2)
			}
			d := *base
			d.Y = make([]float64, d.N)
			for i := range d.N {
				eta := d.X.At(i, 0)*truth[0] + d.X.At(i, 1)*truth[1]
				l := int(tm.Refs[i])
				eta += tm.Z[i]*b[2*l] + tm.Z[d.N+i]*b[2*l+1]
				if fam == model.Poisson {
					d.Y[i] = poissonInv(math.Exp(eta), rng.Float64())
					continue
				}
				pr := 1 / (1 + math.Exp(-eta))
				for range int(d.Trials[i]) {
					if rng.Float64() < pr {
						d.Y[i]++
					}
				}
			}
			spec := &GLMMSpec{Design: &d, SD: []priors.ScalePrior{priors.Normal{Mu: 0, Sigma: 1}}, CorEta: []float64{2}}
			for range 2 {
				spec.Fixed = append(spec.Fixed, priors.Normal{Mu: 0, Sigma: 1})
			}
			o := GLMMOptions{Chains: 1, Warmup: sbcWarm, Draws: sbcL * thin, Seed: 5100 + uint64(s), kappaShift: shift}
			var res *GLMMResult
			var err error
			if fam == model.Poisson {
				o.kappaShift = 0
				res, err = runCountBug(spec, o, shift != 0)
			} else {
				res, err = RunLogistic(context.Background(), spec, o)
			}
			if err != nil {
				t.Fatalf("simulation %d: %v", s, err)
			}
			nc := len(res.Columns)
			for j := range np {
				rank := 0
				for i := range sbcL {
					if res.Draws[0][(i*thin+thin-1)*nc+j] < truth[j] {
						rank++
					}
				}
				hist[j][rank*sbcBins/(sbcL+1)]++
			}
		}
		caught := false
		exp := float64(glmmSBCSims) / sbcBins
		for j := range np {
			var x2 float64
			for _, c := range hist[j] {
				x2 += (float64(c) - exp) * (float64(c) - exp) / exp
			}
			p := 1 - distuv.ChiSquared{K: sbcBins - 1}.CDF(x2)
			t.Logf("κ shift %g, column %d: ranks %v, χ² %.1f, p %.4f", shift, j, hist[j], x2, p)
			if p < sbcAlpha/np {
				if shift == 0 {
					t.Errorf("column %d: rank histogram not uniform (p = %.2g)", j, p)
				}
				caught = true
			}
		}
		if shift != 0 && !caught {
			t.Error("SBC did not catch the planted bug")
		}
	}
}

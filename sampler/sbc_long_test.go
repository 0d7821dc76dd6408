//go:build long

package sampler

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
	"gonum.org/v1/gonum/stat/distuv"
)

// Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari &
// Gelman 2018): draw θ̃ from the prior, y from the model given θ̃, run
// the sampler on y and record the rank of θ̃ among L thinned posterior
// draws. For a correct sampler every rank is uniform on 0..L.

const (
	sbcSims  = 1000
	sbcL     = 99 // posterior draws per simulation (ranks 0..99)
	sbcThin  = 4
	sbcWarm  = 300
	sbcBins  = 20
	sbcAlpha = 0.01
)

// sbcDesign builds a design from an in-memory CSV.
func sbcDesign(t *testing.T, csvText, formula string, factors ...string) *model.Design {
	t.Helper()
	return designFromCSV(t, "sbc.csv", csvText, formula, factors...)
}

// sbcSpec is the proper prior the simulations draw from.
func sbcSpec(d *model.Design) *Spec {
	s := &Spec{Design: d, Sigma: priors.Normal{Mu: 0, Sigma: 1}}
	for range d.XNames {
		s.Fixed = append(s.Fixed, priors.Normal{Mu: 0, Sigma: 2})
	}
	for _, t := range d.Terms {
		var sd []priors.ScalePrior
		for range t.K {
			sd = append(sd, priors.Normal{Mu: 0, Sigma: 1})
		}
		s.SD = append(s.SD, sd)
		s.CorEta = append(s.CorEta, 2)
	}
	return s
}

// simulate draws parameters from the spec's prior (K ≤ 2 per term) and
// y given them; it returns the drawn values in the sampler's column
// order b, sd, cor, sigma.
func simulate(spec *Spec, rng *rand.Rand) ([]float64, []float64) {
	d := spec.Design
	n, p := d.X.Dims()
	var truth []float64
	beta := make([]float64, p)
	for j := range p {
		beta[j] = spec.Fixed[j].Rand(rng)
	}
	truth = append(truth, beta...)
	y := make([]float64, n)
	for i := range n {
		for j := range p {
			y[i] += d.X.At(i, j) * beta[j]
		}
	}
	var sds, cors []float64
	for ti, t := range d.Terms {
		tau := make([]float64, t.K)
		r := 0.0
		if ti < len(spec.Cov) && spec.Cov[ti] != nil {
			s := spec.Cov[ti].RandCov(t.K, rng)
			for e := range t.K {
				tau[e] = math.Sqrt(s.At(e, e))
			}
			if t.K == 2 {
				r = s.At(1, 0) / (tau[0] * tau[1])
			}
		} else {
			for e := range t.K {
				tau[e] = spec.SD[ti][e].RandSD(rng)
			}
			if t.K == 2 && t.Correlated {
				r = priors.LKJ{Eta: spec.CorEta[ti]}.Rand(rng)
			}
		}
		sds = append(sds, tau...)
		if t.K == 2 && t.Correlated {
			cors = append(cors, r)
		}
		for lev := range t.Levels {
			z1, z2 := rng.NormFloat64(), rng.NormFloat64()
			b := []float64{tau[0] * z1}
			if t.K == 2 {
				b = append(b, tau[1]*(r*z1+math.Sqrt(1-r*r)*z2))
			}
			for i, l := range t.Refs {
				if int(l) != lev {
					continue
				}
				for e := range t.K {
					y[i] += t.Z[e*n+i] * b[e]
				}
			}
		}
	}
	sigma := spec.Sigma.RandSD(rng)
	for i := range y {
		y[i] += sigma * rng.NormFloat64()
	}
	truth = append(truth, sds...)
	truth = append(truth, cors...)
	truth = append(truth, sigma)
	return truth, y
}

// sbcRun returns, per parameter, the χ² p-value of its rank histogram,
// and the parameter names.
func sbcRun(t *testing.T, d *model.Design, drawScale float64, seed uint64) ([]float64, []string) {
	return sbcRunSpec(t, sbcSpec(d), drawScale, seed, sbcSims)
}

// sbcRunSpec is sbcRun for a given spec and number of simulations.
func sbcRunSpec(t *testing.T, base *Spec, drawScale float64, seed uint64, sims int) ([]float64, []string) {
	return sbcRunOpt(t, base, Options{drawScale: drawScale}, seed, sims)
}

// sbcRunOpt is sbcRunSpec with the method fields (Method, crossedSmall,
// drawScale, nutsKineticScale) taken from tmpl.
func sbcRunOpt(t *testing.T, base *Spec, tmpl Options, seed uint64, sims int) ([]float64, []string) {
	d := base.Design
	rng := rand.New(rand.NewPCG(seed, 0))
	np := len(d.XNames) + 1
	for _, tm := range d.Terms {
		np += tm.K
		if tm.K == 2 && tm.Correlated {
			np++
		}
	}
	hist := make([][]int, np)
	for i := range hist {
		hist[i] = make([]int, sbcBins)
	}
	var names []string
	for s := range sims {
		truth, y := simulate(base, rng)
		dd := *d
		dd.Y = y
		spec := *base
		spec.Design = &dd
		opt := Options{Chains: 1, Warmup: sbcWarm, Draws: sbcL, Thin: sbcThin, Seed: seed*1000 + uint64(s)}
		opt.drawScale, opt.Method, opt.crossedSmall, opt.nutsKineticScale = tmpl.drawScale, tmpl.Method, tmpl.crossedSmall, tmpl.nutsKineticScale
		res, err := Run(context.Background(), &spec, opt)
		if err != nil {
			t.Fatalf("simulation %d: %v", s, err)
		}
		nc := len(res.Names.Columns)
		names = res.Names.Columns[1 : 1+np]
		for j := range np {
			rank := 0
			for i := range sbcL {
				if res.Chains[0].Draws[i*nc+1+j] < truth[j] {
					rank++
				}
			}
			hist[j][rank*sbcBins/(sbcL+1)]++
		}
	}
	pv := make([]float64, np)
	exp := float64(sims) / sbcBins
	for j := range np {
		var x2 float64
		for _, c := range hist[j] {
			x2 += (float64(c) - exp) * (float64(c) - exp) / exp
		}
		pv[j] = 1 - distuv.ChiSquared{K: sbcBins - 1}.CDF(x2)
		t.Logf("%s: ranks %v, χ² %.1f, p %.4f", names[j], hist[j], x2, pv[j])
	}
	return pv, names
}

func sbcDesigns(t *testing.T) map[string]*model.Design {
	var slope, crossed strings.Builder
	slope.WriteString("y,x,g\n")
	for g := range 8 {
		for k := range 5 {
			fmt.Fprintf(&slope, "%d,%g,g%d\n", g*5+k, float64(k)/2-1, g)
		}
	}
	crossed.WriteString("y,x,a,b\n")
	for a := range 6 {
		for b := range 5 {
			fmt.Fprintf(&crossed, "%d,%g,a%d,b%d\n", a*5+b, float64((a+b)%3)-1, a, b)
		}
	}
	return map[string]*model.Design{
		"slope":   sbcDesign(t, slope.String(), "y ~ x + (x | g)", "g"),
		"crossed": sbcDesign(t, crossed.String(), "y ~ x + (1 | a) + (1 | b)", "a", "b"),
	}
}

// TestSBC checks calibration of every b, sd, cor and sigma in both
// models (Bonferroni over the parameters of a model, α = 0.01).
func TestSBC(t *testing.T) {
	for name, d := range sbcDesigns(t) {
		t.Run(name, func(t *testing.T) {
			pv, names := sbcRun(t, d, 0, 17)
			for j, p := range pv {
				if p < sbcAlpha/float64(len(pv)) {
					t.Errorf("%s: rank histogram not uniform (p = %.2g)", names[j], p)
				}
			}
		})
	}
}

// TestSBCCatchesBug runs the same check with the (β, b) draw's σ scaled
// by 1.5: it must fail for at least one parameter.
func TestSBCCatchesBug(t *testing.T) {
	d := sbcDesigns(t)["slope"]
	pv, _ := sbcRun(t, d, 1.5, 23)
	caught := false
	for _, p := range pv {
		if p < sbcAlpha/float64(len(pv)) {
			caught = true
		}
	}
	if !caught {
		t.Error("SBC did not catch a (β, b) draw with σ scaled by 1.5")
	}
}

// TestSBCInvWishart checks calibration of the inverse-Wishart path:
// y ~ x + (x | g) with Σ ~ IW(4, I), 500 simulations.
func TestSBCInvWishart(t *testing.T) {
	spec := sbcSpec(sbcDesigns(t)["slope"])
	spec.Cov = []*priors.InvWishart{{Nu: 4, Scalar: 1}}
	pv, names := sbcRunSpec(t, spec, 0, 29, 500)
	for j, p := range pv {
		if p < sbcAlpha/float64(len(pv)) {
			t.Errorf("%s: rank histogram not uniform (p = %.2g)", names[j], p)
		}
	}
}

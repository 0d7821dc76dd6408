package sampler

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// TestGLMMOffsetShift is an exact identity of the offset for both GLMM
// samplers: with a flat prior on the intercept, a constant offset c on
// every row changes the posterior only by moving the intercept by −c
// (the likelihood depends on β₀ + c alone). So with the offset, the
// posterior mean of b_Intercept + c, and of every other b_ and sd_ (and
// the shape), must equal that of the run without one within 4 combined
// MCSEs. Binomial (cbpp, the Pólya-Gamma sampler), Poisson and negative
// binomial (grouseticks with (1 | LOCATION), the Laplace-whitened
// Metropolis–Hastings sampler); c = 1.5 is over 7 posterior SDs of the
// intercept in each, so a sampler that ignored the offset fails.
func TestGLMMOffsetShift(t *testing.T) {
	const c = 1.5
	cases := []struct {
		name string
		d    *model.Design
		fam  model.Family
	}{
		{"binomial", glmmCbpp(t), model.Binomial},
		{"poisson", glmmDesignFile(t, "grouseticks.csv", "TICKS ~ YEAR + scale(HEIGHT) + (1 | LOCATION)", model.Poisson, "YEAR", "BROOD", "LOCATION"), model.Poisson},
		{"negbinomial", glmmDesignFile(t, "grouseticks.csv", "TICKS ~ YEAR + scale(HEIGHT) + (1 | LOCATION)", model.NegBinomial, "YEAR", "BROOD", "LOCATION"), model.NegBinomial},
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			d := k.d
			shifted := *d
			shifted.Offset = make([]float64, d.N)
			for i := range shifted.Offset {
				shifted.Offset[i] = c
			}
			run := RunLogistic
			if k.fam.Count() {
				run = RunCount
			}
			opt := GLMMOptions{Chains: 2, Warmup: 300, Draws: 600, Seed: 4}
			if k.fam == model.NegBinomial {
				opt.Warmup, opt.Draws = 250, 400
			}
			res := make([]*GLMMResult, 2)
			for i, dd := range []*model.Design{d, &shifted} {
				spec := &GLMMSpec{Design: dd, ShapeA: 0.01, ShapeB: 0.01}
				for range dd.XNames {
					spec.Fixed = append(spec.Fixed, priors.Flat{})
				}
				for range dd.Terms {
					spec.SD = append(spec.SD, priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5})
				}
				r, err := run(context.Background(), spec, opt)
				if err != nil {
					t.Fatal(err)
				}
				res[i] = r
			}
			for j, name := range res[0].Columns {
				if !strings.HasPrefix(name, "b_") && !strings.HasPrefix(name, "sd_") && name != "shape" {
					continue
				}
				x0, x1 := chainsOf(res[0], j), chainsOf(res[1], j)
				m0, m1 := meanAll(x0), meanAll(x1)
				if name == "b_Intercept" {
					m1 += c
				}
				se := math.Hypot(diagnostics.MCSEMean(x0), diagnostics.MCSEMean(x1))
				if d := math.Abs(m1 - m0); d > 4*se {
					t.Errorf("%s: mean %.5g with the offset %g (intercept + %g), %.5g without: |diff| %.3g > 4 MCSE %.3g", name, m1, c, c, m0, d, 4*se)
				} else {
					t.Logf("%s: mean %.5g with the offset, %.5g without: %.2f MCSE", name, m1, m0, d/se)
				}
			}
		})
	}
}

// chainsOf returns column j of r per chain.
func chainsOf(r *GLMMResult, j int) [][]float64 {
	nc := len(r.Columns)
	x := make([][]float64, len(r.Draws))
	for ci, ch := range r.Draws {
		for i := range r.NDraws {
			x[ci] = append(x[ci], ch[i*nc+j])
		}
	}
	return x
}

// meanAll is the mean over every chain's draws.
func meanAll(x [][]float64) float64 {
	var s float64
	var n int
	for _, c := range x {
		for _, v := range c {
			s += v
			n++
		}
	}
	return s / float64(n)
}

// glmmDesignFile builds a design from testdata/glmm.
func glmmDesignFile(t *testing.T, file, formula string, fam model.Family, factors ...string) *model.Design {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "glmm", file))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := model.ReadFrame(strings.NewReader(string(raw)), file, model.FrameOptions{Factors: factors})
	if err != nil {
		t.Fatal(err)
	}
	f, err := model.ParseFormula(formula)
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.Build(f, fr, model.BuildOptions{Family: fam})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

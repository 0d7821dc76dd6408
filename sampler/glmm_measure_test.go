//go:build measure

package sampler

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// TestMeasureGLMMCbpp prints the bulk-ESS of every parameter, and the
// minimum per second of sampling, of RunLaplace (and with MEASURE_PG set
// RunLogistic too) on cbpp, or on the model MEASURE_MODEL names:
// verbagg, grouseticks, nb (grouseticks, negative binomial), insurance,
// or sim1, sim3, sim8 (simulated y ~ x + (1 | g), 10 rows per group,
// bernoulli or binomial with 3 or 8 trials; SIM_GROUPS groups, default
// 60). Priors as configs/cbpp.toml's; 4 chains × (1000 + 1000);
// MEASURE_SEEDS sets the number of seeds (go test -tags measure -run
// MeasureGLMMCbpp -v ./sampler). docs/sampler.md quotes its results.
func TestMeasureGLMMCbpp(t *testing.T) {
	d := glmmCbpp(t)
	switch os.Getenv("MEASURE_MODEL") {
	case "verbagg":
		d = glmmDesignFile(t, "verbagg.csv", "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", model.Bernoulli, "id", "item")
	case "grouseticks":
		d = glmmDesignFile(t, "grouseticks.csv", "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)", model.Poisson, "YEAR", "BROOD", "LOCATION")
	case "nb":
		d = glmmDesignFile(t, "grouseticks.csv", "TICKS ~ YEAR + scale(HEIGHT) + (1 | LOCATION)", model.NegBinomial, "YEAR", "BROOD", "LOCATION")
	case "sim1", "sim3", "sim8":
		nt := 3
		if os.Getenv("MEASURE_MODEL") == "sim1" {
			nt = 1
		}
		if os.Getenv("MEASURE_MODEL") == "sim8" {
			nt = 8
		}
		var b strings.Builder
		b.WriteString("y,x,g\n")
		rng := rand.New(rand.NewPCG(1, 2))
		ng := 60
		if v, err := strconv.Atoi(os.Getenv("SIM_GROUPS")); err == nil {
			ng = v
		}
		re := make([]float64, ng)
		for i := range re {
			re[i] = 0.8 * rng.NormFloat64()
		}
		for i := range 10 * ng {
			x := rng.NormFloat64()
			p := 1 / (1 + math.Exp(-(-0.5 + 0.7*x + re[i%ng])))
			y := 0
			for range nt {
				if rng.Float64() < p {
					y++
				}
			}
			fmt.Fprintf(&b, "%d,%g,g%d\n", y, x, i%ng)
		}
		d = designFromCSV(t, "sim.csv", b.String(), "y ~ x + (1 | g)", "g")
		d.Family = model.Binomial
		d.Trials = make([]float64, d.N)
		for i := range d.Trials {
			d.Trials[i] = float64(nt)
		}
	case "insurance":
		d = glmmDesignFile(t, "insurance.csv", "Claims ~ Age + Group + offset(log(Holders)) + (1 | District)", model.Poisson, "District")
	}
	spec := &GLMMSpec{Design: d, ShapeA: 0.01, ShapeB: 0.01}
	for range d.Terms {
		spec.SD = append(spec.SD, priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5})
	}
	for range d.XNames {
		spec.Fixed = append(spec.Fixed, priors.Normal{Mu: 0, Sigma: 10})
	}
	methods := []struct {
		name string
		run  func(context.Context, *GLMMSpec, GLMMOptions) (*GLMMResult, error)
	}{{"laplace", RunLaplace}}
	if d.Family.Logistic() && os.Getenv("MEASURE_PG") != "" {
		methods = append(methods, methods[0])
		methods[0].name, methods[0].run = "pg", RunLogistic
	}
	seeds := 1
	if v, err := strconv.Atoi(os.Getenv("MEASURE_SEEDS")); err == nil {
		seeds = v
	}
	for _, m := range methods {
		for seed := range seeds {
			opt := GLMMOptions{Chains: 4, Warmup: 1000, Draws: 1000, Seed: uint64(seed + 1)}
			start := time.Now()
			r, err := m.run(context.Background(), spec, opt)
			if err != nil {
				t.Fatal(err)
			}
			wall := time.Since(start).Seconds()
			nc := len(r.Columns)
			minESS, minName := 1e300, ""
			line := ""
			for j, name := range r.Columns {
				x := make([][]float64, len(r.Draws))
				for c := range r.Draws {
					for i := range r.NDraws {
						x[c] = append(x[c], r.Draws[c][i*nc+j])
					}
				}
				e := diagnostics.ESSBulk(x)
				line += " " + name + "=" + strconv.Itoa(int(e))
				if e < minESS {
					minESS, minName = e, name
				}
			}
			t.Logf("%s seed %d: %.3f s, min bulk-ESS %.0f (%s), %.0f/s; acc %.2v;%s", m.name, seed+1, wall, minESS, minName, minESS/wall, r.Accept, line)
		}
	}
}

// BenchmarkLaplaceCbppChain is one chain of RunLaplace on cbpp, 1000 +
// 1000 iterations.
func BenchmarkLaplaceCbppChain(b *testing.B) {
	d := glmmCbpp(b)
	spec := &GLMMSpec{Design: d, SD: []priors.ScalePrior{priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5}}}
	for range d.XNames {
		spec.Fixed = append(spec.Fixed, priors.Normal{Mu: 0, Sigma: 10})
	}
	for b.Loop() {
		if _, err := RunLaplace(context.Background(), spec, GLMMOptions{Chains: 1, Warmup: 1000, Draws: 1000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

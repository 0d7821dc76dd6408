//go:build long

package sampler

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// brmsRef is one row of testdata/glmm/brms_*.csv (glmm_brms.R).
type brmsRef struct {
	mean, sd, q025, q975, mcseMean, mcseSD, mcseQ025, mcseQ975 float64
}

func readBrmsRef(t *testing.T, name string) (map[string]brmsRef, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "glmm", "brms_"+name+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(r []string, k string) float64 {
		v, err := strconv.ParseFloat(r[col[k]], 64)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		return v
	}
	out := map[string]brmsRef{}
	var order []string
	for _, r := range rows[1:] {
		out[r[0]] = brmsRef{num(r, "mean"), num(r, "sd"), num(r, "q2.5"), num(r, "q97.5"), num(r, "mcse_mean"), num(r, "mcse_sd"), num(r, "mcse_q2.5"), num(r, "mcse_q97.5")}
		order = append(order, r[0])
	}
	return out, order
}

// TestLogisticBrms compares RunLogistic and RunLaplace (4 chains × 5000
// draws after 1000 warmup) with brms's long runs (glmm_brms.R, the same
// priors: b ~ normal(0, 10), sd ~ half-t(3, 0, 2.5), shape ~ gamma(0.01,
// 0.01)): mean, sd, 2.5 % and 97.5 %
// quantiles of every b_, sd_ and listed r_ within 4 combined MCSEs, and
// R-hat ≤ 1.01. It logs min bulk-ESS per second of sampling.
func TestLogisticBrms(t *testing.T) {
	cases := []struct {
		name, file, formula string
		fam                 model.Family
		factors             []string
		pg                  bool // RunLogistic rather than RunLaplace
	}{
		{"cbpp", "cbpp.csv", "cbind(incidence, size - incidence) ~ period + (1 | herd)", model.Binomial, []string{"herd", "period"}, false},
		{"cbpp", "cbpp.csv", "cbind(incidence, size - incidence) ~ period + (1 | herd)", model.Binomial, []string{"herd", "period"}, true},
		{"verbagg", "verbagg.csv", "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", model.Bernoulli, []string{"id", "item"}, true},
		{"grouseticks", "grouseticks.csv", "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)", model.Poisson, []string{"YEAR", "BROOD", "LOCATION"}, false},
		{"grouseticks_nb", "grouseticks.csv", "TICKS ~ YEAR + scale(HEIGHT) + (1 | LOCATION)", model.NegBinomial, []string{"YEAR", "BROOD", "LOCATION"}, false},
		// The offset (log exposure): MASS's Insurance.
		{"insurance", "insurance.csv", "Claims ~ Age + Group + offset(log(Holders)) + (1 | District)", model.Poisson, []string{"District"}, false},
	}
	for _, c := range cases {
		method := "mh"
		if c.pg {
			method = "pg"
		}
		t.Run(c.name+"_"+method, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join("..", "testdata", "glmm", "brms_"+c.name+".csv")); err != nil {
				t.Skip("no brms reference yet")
			}
			d := glmmDesignFile(t, c.file, c.formula, c.fam, c.factors...)
			spec := &GLMMSpec{Design: d, ShapeA: 0.01, ShapeB: 0.01}
			for range d.XNames {
				spec.Fixed = append(spec.Fixed, priors.Normal{Mu: 0, Sigma: 10})
			}
			for range d.Terms {
				spec.SD = append(spec.SD, priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5})
			}
			t0 := time.Now()
			opt := GLMMOptions{Chains: 4, Warmup: 1000, Draws: 5000, Seed: 15, RandomEffects: true}
			run := RunLaplace
			if c.pg {
				run = RunLogistic
			}
			res, err := run(context.Background(), spec, opt)
			if err != nil {
				t.Fatal(err)
			}
			wall := time.Since(t0)
			ref, order := readBrmsRef(t, c.name)
			nc := len(res.Columns)
			cols := map[string]int{}
			for j, n := range res.Columns {
				// brms writes b_scale(HEIGHT) as b_scaleHEIGHT and
				// b_Age25-29 as b_Age25M29 (brms's rename()).
				cols[strings.NewReplacer("(", "", ")", "").Replace(n)] = j
				if strings.HasPrefix(n, "b_") {
					cols[brmsName.Replace(n)] = j
				}
				cols[n] = j
			}
			minESS := math.Inf(1)
			for _, name := range order {
				j, ok := cols[name]
				if !ok {
					t.Errorf("%s: not among the sampler's columns", name)
					continue
				}
				x := make([][]float64, len(res.Draws))
				var all []float64
				for ci, ch := range res.Draws {
					for i := range res.NDraws {
						x[ci] = append(x[ci], ch[i*nc+j])
					}
					all = append(all, x[ci]...)
				}
				r := ref[name]
				check := func(what string, got, want, se float64) {
					if d := math.Abs(got - want); d > 4*se {
						t.Errorf("%s %s: ours %.5g, brms %.5g: |diff| %.3g > 4·%.3g", name, what, got, want, d, se)
					} else {
						t.Logf("%s %s: ours %.5g, brms %.5g (diff %.2f se)", name, what, got, want, d/se)
					}
				}
				check("mean", diagnostics.Mean(all), r.mean, math.Hypot(diagnostics.MCSEMean(x), r.mcseMean))
				check("sd", diagnostics.SD(all), r.sd, math.Hypot(diagnostics.MCSESD(x), r.mcseSD))
				check("q2.5", diagnostics.Quantile(all, 0.025), r.q025, math.Hypot(diagnostics.MCSEQuantile(x, 0.025), r.mcseQ025))
				check("q97.5", diagnostics.Quantile(all, 0.975), r.q975, math.Hypot(diagnostics.MCSEQuantile(x, 0.975), r.mcseQ975))
				if rh := diagnostics.Rhat(x); rh > 1.01 {
					t.Errorf("%s: R-hat %.4f", name, rh)
				}
				minESS = math.Min(minESS, diagnostics.ESSBulk(x))
			}
			t.Logf("%s: wall %v (4 chains in parallel, warmup included), min bulk-ESS %.0f, acceptance %v", c.name, wall, minESS, res.Accept)
		})
	}
}

// brmsName renames a coefficient as brms's rename() does: spaces,
// brackets, commas and quotes dropped, + - * / ^ = spelled P M MU D E EQ.
var brmsName = strings.NewReplacer(" ", "", "(", "", ")", "", "[", "", "]", "", ",", "", "\"", "", "'", "", "?", "",
	"+", "P", "-", "M", "*", "MU", "/", "D", "^", "E", "=", "EQ")

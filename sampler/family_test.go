//go:build family

package sampler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// unitSpec is refSpec on the unit scale of testdata/family/README.md's
// threeway, factor4 and penicillin Stan runs: fixed effects
// normal(0, 100), σ and SDs half-t(3, 0, 2.5), LKJ(2).
func unitSpec(d *model.Design) *Spec {
	s := refSpec(d)
	for j := range s.Fixed {
		s.Fixed[j] = priors.Normal{Mu: 0, Sigma: 100}
	}
	s.Sigma = priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5}
	for i := range s.SD {
		for e := range s.SD[i] {
			s.SD[i][e] = priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5}
		}
	}
	return s
}

// familyMember is one model of issue 12's test family.
type familyMember struct {
	name, file, formula string
	factors             []string
	ref                 string // Stan summary under testdata/, "" for none
	spec                func(*model.Design) *Spec
	re                  bool // compare the r_ rows of the reference
}

var family = []familyMember{
	{"maximal", "family/maximal.csv", "rt ~ A * B + (1 + A * B | subj) + (1 + A * B | item)", nil, "family/stan_maximal.csv", refSpec, true},
	{"maximal_zero", "family/maximal_zero.csv", "rt ~ A * B + (1 + A * B | subj) + (1 + A * B | item)", nil, "family/stan_maximal_zero.csv", refSpec, true},
	{"threeway", "family/threeway.csv", "y ~ A * B * C + (1 + A * B * C | subj)", nil, "family/stan_threeway.csv", unitSpec, true},
	{"factor4", "family/factor4.csv", "y ~ f + (0 + f | g)", nil, "family/stan_factor4.csv", unitSpec, true},
	{"politeness_slopes", "politeness.csv", "frequency ~ attitude + gender + (1 + attitude | subject) + (1 + attitude | scenario)", nil, "family/stan_politeness_slopes.csv", refSpec, true},
	{"sleepstudy", "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", []string{"Subject"}, "stan/ref_sleepstudy.csv", refSpec, true},
	{"politeness", "politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", nil, "stan/ref_politeness.csv", refSpec, true},
	{"penicillin", "penicillin.csv", "diameter ~ 1 + (1|plate) + (1|sample)", []string{"plate", "sample"}, "family/stan_penicillin.csv", unitSpec, true},
	// No Stan reference: a long Stan run on InstEval takes hours.
	{"insteval", "insteval.csv", "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)", []string{"s", "d", "studage", "lectage", "service", "dept"}, "", unitSpec, false},
}

// familySeeds is the number of seeds each member runs with.
const familySeeds = 10

// TestFamily (build tag family: about 45 minutes on 2 cores, run by
// .ci/run on its own) is issue 12's acceptance test: on every member of the
// family, with the default settings (method auto, 4 chains × 1000 draws
// after 1000 warmup) and 10 seeds, at least 9 seeds must have max R-hat
// < 1.01 and min bulk-ESS ≥ 400 over every b_, sd_, cor_ and sigma, and
// every posterior mean, sd, 2.5 % and 97.5 % quantile in the member's
// long Stan reference within 4 combined MCSEs of ours.
func TestFamily(t *testing.T) {
	for _, m := range family {
		t.Run(m.name, func(t *testing.T) {
			d := loadDesign(t, m.file, m.formula, m.factors...)
			var ref map[string]stanRef
			var order []string
			if m.ref != "" {
				ref, order = readStanRefAt(t, m.ref)
			}
			pass := 0
			for seed := uint64(1); seed <= familySeeds; seed++ {
				start := time.Now()
				res, err := Run(context.Background(), m.spec(d), Options{Chains: 4, Warmup: 1000, Draws: 1000, Seed: seed, RandomEffects: m.re, Method: "auto"})
				if err != nil {
					t.Fatal(err)
				}
				maxR, minE, rv, ev := familyDiag(res)
				var bad []string
				if maxR >= 1.01 {
					bad = append(bad, fmt.Sprintf("max R-hat %.4f (%s)", maxR, rv))
				}
				if minE < 400 {
					bad = append(bad, fmt.Sprintf("min bulk-ESS %.0f (%s)", minE, ev))
				}
				if ref != nil {
					bad = append(bad, stanDeviations(res, ref, order, func(string, ...any) {})...)
				}
				div := 0
				for _, c := range res.Chains {
					if c.NUTS != nil {
						div += c.NUTS.Divergent
					}
				}
				t.Logf("seed %d: %s, max R-hat %.4f (%s), min bulk-ESS %.0f (%s), divergent %d, %d deviations from Stan, %.1f s",
					seed, res.Method, maxR, rv, minE, ev, div, len(bad), time.Since(start).Seconds())
				for _, b := range bad {
					t.Logf("  seed %d: %s", seed, b)
				}
				if len(bad) == 0 {
					pass++
				}
			}
			t.Logf("%s: %d of %d seeds pass", m.name, pass, familySeeds)
			if pass < familySeeds-1 {
				t.Errorf("%s: only %d of %d seeds pass (need %d)", m.name, pass, familySeeds, familySeeds-1)
			}
		})
	}
}

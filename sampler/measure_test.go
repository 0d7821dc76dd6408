//go:build measure

package sampler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/priors"
)

// TestMeasureVariants prints bulk-ESS per iteration and per second of
// every variance parameter under the collapsed default, plain Gibbs, and
// the conjugate inverse-gamma step (go test -tags measure -run
// MeasureVariants -v ./sampler; 4 chains × (1000 + 5000), 2 at a time).
func TestMeasureVariants(t *testing.T) {
	type model struct {
		name, file, formula string
		factors             []string
	}
	models := []model{
		{"sleepstudy", "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", []string{"Subject"}},
		{"politeness", "politeness.csv", "frequency ~ attitude + gender + (1 | subject) + (1 | scenario)", []string{"subject", "scenario", "attitude", "gender"}},
	}
	for _, m := range models {
		d := loadDesign(t, m.file, m.formula, m.factors...)
		ig := refSpec(d)
		ig.Sigma = priors.InvGamma{Shape: 1, Scale: 100}
		for ti, tm := range d.Terms {
			if !tm.Correlated || tm.K == 1 {
				for e := range ig.SD[ti] {
					ig.SD[ti][e] = priors.InvGamma{Shape: 1, Scale: 100}
				}
			}
		}
		igc := *ig
		igc.ConjugateInvGamma = true
		variants := []struct {
			name string
			spec *Spec
			opt  Options
		}{
			{"collapsed (half-t)", refSpec(d), Options{}},
			{"plain Gibbs (half-t)", refSpec(d), Options{plainGibbs: true}},
			{"collapsed (inv_gamma, Metropolis)", ig, Options{}},
			{"collapsed + conjugate inv_gamma", &igc, Options{}},
			{"plain Gibbs (inv_gamma)", ig, Options{plainGibbs: true}},
		}
		for _, v := range variants {
			opt := v.opt
			opt.Chains, opt.Warmup, opt.Draws, opt.Seed, opt.Parallel = 4, 1000, 5000, 5, 2
			start := time.Now()
			res, err := Run(context.Background(), v.spec, opt)
			if err != nil {
				t.Fatal(err)
			}
			el := time.Since(start).Seconds()
			n := res.Names
			line := fmt.Sprintf("%s | %s | %.2f s |", m.name, v.name, el)
			for j, c := range n.Columns {
				if j <= len(n.B) || j > len(n.B)+len(n.SD)+len(n.Cor)+1 {
					continue
				}
				e := diagnostics.ESSBulk(res.Column(j))
				line += fmt.Sprintf(" %s %.3f/it %.0f/s;", c, e/20000, e/el)
			}
			t.Log(line)
		}
	}
}

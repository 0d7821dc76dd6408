//go:build long

package sampler

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/lmmbayes/lmmbayes/diagnostics"
)

// TestMeasureCrossedInstEval times the crossed method on InstEval and
// logs the minimum bulk-ESS and maximum R-hat over every column
// (measurement for docs/sampler.md; LMMB_METHOD picks the method,
// LMMB_ITERS the warmup and draws).
func TestMeasureCrossedInstEval(t *testing.T) {
	d := loadDesign(t, "insteval.csv", "y ~ service + (1|s) + (1|d) + (1|dept:service)", "s", "d", "service", "dept")
	method := os.Getenv("LMMB_METHOD")
	if method == "" {
		method = "crossed"
	}
	iters := 500
	if v, err := strconv.Atoi(os.Getenv("LMMB_ITERS")); err == nil {
		iters = v
	}
	start := time.Now()
	res, err := Run(context.Background(), refSpec(d), Options{Chains: 4, Warmup: iters, Draws: iters, Seed: 5, RandomEffects: true, Method: method})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %v (%s)", res.Method, time.Since(start), res.MethodReason)
	logESS(t, res)
}

func logESS(t *testing.T, res *Result) {
	minESS, maxR := 1e300, 0.0
	var minName, rName string
	for j, name := range res.Names.Columns {
		if j == 0 {
			continue
		}
		x := res.Column(j)
		e, r := diagnostics.ESSBulk(x), diagnostics.Rhat(x)
		if e < minESS {
			minESS, minName = e, name
		}
		if r > maxR {
			maxR, rName = r, name
		}
		if j < 12 {
			t.Logf("%s: bulk-ESS %.0f R-hat %.4f", name, e, r)
		}
	}
	t.Logf("min bulk-ESS %.0f (%s), max R-hat %.4f (%s)", minESS, minName, maxR, rName)
}

// TestMeasureCrossover logs, for both methods on the small reference
// data sets, the minimum bulk-ESS per iteration over the sd and sigma
// columns and the CPU time per iteration (4 chains × 1000 draws after
// 1000 warmup; the table of docs/sampler.md).
func TestMeasureCrossover(t *testing.T) {
	cases := []struct{ file, formula, factor string }{
		{"sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject"},
		{"politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", "scenario"},
		{"penicillin.csv", "diameter ~ 1 + (1|plate) + (1|sample)", "plate"},
	}
	if f := os.Getenv("LMMB_SIM"); f != "" {
		cases = append(cases, struct{ file, formula, factor string }{f, "y ~ x + (1 + x | subject) + (1 | item)", "subject"})
	}
	for _, c := range cases {
		d := loadDesign(t, c.file, c.formula, c.factor)
		for _, m := range []string{"collapsed", "crossed"} {
			if m == "collapsed" && d.N > 20000 {
				continue
			}
			start := time.Now()
			res, err := Run(context.Background(), refSpec(d), Options{Chains: 4, Warmup: 1000, Draws: 1000, Seed: 3, Method: m, Parallel: 1})
			if err != nil {
				t.Fatal(err)
			}
			el := time.Since(start)
			minE := 1e300
			for j := 1 + len(res.Names.B); j < len(res.Names.Columns); j++ {
				minE = min(minE, diagnostics.ESSBulk(res.Column(j)))
			}
			t.Logf("%s %s: min ESS/iter (sd, sigma) %.3f, %.3g ms/iter (1 core), %s", c.file, m, minE/4000, el.Seconds()*1000/8000, res.MethodReason)
		}
	}
}

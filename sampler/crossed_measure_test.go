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

package sampler

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/diagnostics"
)

// TestNUTSReproducible runs NUTS, and auto choosing it, under GOMAXPROCS
// 1 and 2: the draws must be bit-identical, chain 2 alone must equal
// chain 2 of the full run, and auto must say why it chose NUTS.
func TestNUTSReproducible(t *testing.T) {
	d := loadDesign(t, "politeness.csv", "frequency ~ attitude + gender + (1 + attitude | subject) + (1 + attitude | scenario)")
	spec := refSpec(d)
	opt := Options{Chains: 2, Warmup: 150, Draws: 100, Seed: 5, RandomEffects: true, Method: "nuts"}
	a := checkProcsIdentical(t, spec, opt)
	one := opt
	one.Chains, one.FirstChain = 1, 2
	s, err := Run(context.Background(), spec, one)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Chains[0].Draws, a.Chains[1].Draws) {
		t.Error("chain 2 run alone differs from chain 2 of a 2-chain run")
	}
	for _, c := range a.Chains {
		ns := c.NUTS
		if ns == nil {
			t.Fatalf("chain %d: no NUTS statistics", c.ID)
		}
		if !(ns.StepSize > 0) || ns.MeanLeapfrog < 1 || ns.MaxDepth != nutsMaxDepth || math.IsNaN(c.Accept) {
			t.Errorf("chain %d: implausible NUTS statistics %+v, accept %g", c.ID, *ns, c.Accept)
		}
	}
	auto := opt
	auto.Method = "auto"
	r := checkProcsIdentical(t, spec, auto)
	if r.Method != "nuts" || !strings.Contains(r.MethodReason, "pilot") {
		t.Errorf("auto ran %q: %s", r.Method, r.MethodReason)
	}
}

// TestNUTSMixesMaximalShort is a short check that NUTS converges on a
// model with two crossed 2 × 2 terms where the Metropolis step does not
// keep up: 4 chains × 300 draws after 300 warmup.
func TestNUTSMixesMaximalShort(t *testing.T) {
	d := loadDesign(t, "politeness.csv", "frequency ~ attitude + gender + (1 + attitude | subject) + (1 + attitude | scenario)")
	res, err := Run(context.Background(), refSpec(d), Options{Chains: 4, Warmup: 300, Draws: 300, Seed: 3, Method: "nuts"})
	if err != nil {
		t.Fatal(err)
	}
	maxR, _, rv, _ := familyDiag(res)
	if maxR > 1.02 {
		t.Errorf("max R-hat %.4f (%s) after 300 warmup", maxR, rv)
	}
}

// familyDiag returns the max R-hat and min bulk-ESS over the b_, sd_,
// cor_ and sigma columns, with their names.
func familyDiag(res *Result) (maxR, minE float64, rv, ev string) {
	n := res.Names
	np := len(n.B) + len(n.SD) + len(n.Cor) + 1
	minE = math.Inf(1)
	for j := 1; j <= np; j++ {
		x := res.Column(j)
		if r := diagnostics.Rhat(x); r > maxR {
			maxR, rv = r, n.Columns[j]
		}
		if e := diagnostics.ESSBulk(x); e < minE {
			minE, ev = e, n.Columns[j]
		}
	}
	return
}

package sampler

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
)

// TestStanPolitenessCrossed compares the crossed method on politeness
// (crossed intercepts) with the Stan reference, every term updated on its
// own (PRZ's sampler; 4 chains × 4000 draws: its ESS per iteration is
// lower than the collapsed method's).
func TestStanPolitenessCrossed(t *testing.T) {
	runStanCaseOpt(t, "politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", "scenario",
		Options{Chains: 4, Warmup: 1000, Draws: 4000, Seed: 13, RandomEffects: true, Method: "crossed", crossedSmall: -1})
}

// TestStanPolitenessCrossedSmall does the same with the default layout,
// where both terms are small and join β̃ (one joint draw of (β, b)).
func TestStanPolitenessCrossedSmall(t *testing.T) {
	runStanCaseMethod(t, "politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", "scenario", 15, 2000, "crossed")
}

// TestStanSleepstudyCrossed checks the correlated random slope (K = 2)
// updated on its own.
func TestStanSleepstudyCrossed(t *testing.T) {
	runStanCaseOpt(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject",
		Options{Chains: 4, Warmup: 1000, Draws: 4000, Seed: 14, RandomEffects: true, Method: "crossed", crossedSmall: -1})
}

// TestGewekeCrossed runs the Geweke joint-distribution test on the
// crossed method's conditionals: a random slope with LKJ (every term on
// its own, so the per-term (β, bₖ) draw and the scale step are used), an
// intercept term in β̃, and the inverse-Wishart case.
func TestGewekeCrossed(t *testing.T) {
	cases := []struct {
		name  string
		small int
	}{{"normal_halfnormal_halft_lkj", -1}, {"normal_halfnormal_halft_lkj", 0}, {"invwishart", -1}}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s_small%d", c.name, c.small), func(t *testing.T) {
			t.Parallel()
			gc := gwCaseNamed(c.name)
			pv, names := gewekeRun(t, gc.spec(t), Options{Method: "crossed", crossedSmall: c.small}, 30000, uint64(51+i))
			for j, p := range pv {
				if p < gwAlpha/float64(len(pv)) {
					t.Errorf("%s: successive-conditional marginal differs from the prior (p = %.2g)", names[j], p)
				}
			}
		})
	}
}

// TestGewekeCrossedCatchesBug runs the crossed random-slope case with the
// (β, bₖ) draw's σ scaled by 1.3: the test must fail.
func TestGewekeCrossedCatchesBug(t *testing.T) {
	pv, _ := gewekeRun(t, gwCaseNamed("normal_halfnormal_halft_lkj").spec(t), Options{Method: "crossed", crossedSmall: -1, drawScale: 1.3}, 30000, 61)
	if slices.Min(pv) >= gwAlpha/float64(len(pv)) {
		t.Errorf("the Geweke test did not catch a (β, b) draw with σ scaled by 1.3 (min p = %.2g)", slices.Min(pv))
	}
}

// TestGewekeCrossedLong runs every Geweke case with the crossed method
// (opt-in: LMMB_GEWEKE_CROSSED_LONG=1; 300,000 iterations per case).
func TestGewekeCrossedLong(t *testing.T) {
	if os.Getenv("LMMB_GEWEKE_CROSSED_LONG") == "" {
		t.Skip("set LMMB_GEWEKE_CROSSED_LONG=1")
	}
	for ci, c := range gwCases() {
		if c.plain {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			pv, names := gewekeRun(t, c.spec(t), Options{Method: "crossed", crossedSmall: -1}, 300000, uint64(201+ci))
			for j, p := range pv {
				if p < gwAlpha/float64(len(pv)) {
					t.Errorf("%s: successive-conditional marginal differs from the prior (p = %.2g)", names[j], p)
				}
			}
		})
	}
}

// TestAutoMethod checks the "auto" rule's choices: collapsed on the small
// reference designs, crossed on InstEval (whose dense kernel block is
// 1156 × 1156), and that the choice is recorded.
func TestAutoMethod(t *testing.T) {
	for _, c := range []struct {
		file, formula string
		factors       []string
		want          string
	}{
		{"sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", []string{"Subject"}, "collapsed"},
		{"politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", []string{"scenario"}, "collapsed"},
		{"politeness.csv", "frequency ~ attitude + gender + (1 + attitude|subject) + (1|scenario)", []string{"scenario"}, "collapsed"},
		{"insteval.csv", "y ~ service + (1|s) + (1|d) + (1|dept:service)", []string{"s", "d", "service", "dept"}, "crossed"},
	} {
		d := loadDesign(t, c.file, c.formula, c.factors...)
		st, _, err := newSetup(refSpec(d), Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, why := chooseMethod(st, Options{Method: "auto"})
		t.Logf("%s: %s (%s)", c.file, got, why)
		if got != c.want {
			t.Errorf("%s: auto chose %s, want %s", c.file, got, c.want)
		}
	}
}

// TestReproducibleCrossed runs the crossed method under GOMAXPROCS 1 and
// 2 and chain 2 alone: the draws must be bit-identical and finite.
func TestReproducibleCrossed(t *testing.T) {
	d := loadDesign(t, "politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", "scenario")
	opt := Options{Chains: 3, Warmup: 200, Draws: 300, Seed: 99, RandomEffects: true, Method: "crossed", crossedSmall: -1}
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	a, err := Run(context.Background(), refSpec(d), opt)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GOMAXPROCS(2)
	b, err := Run(context.Background(), refSpec(d), opt)
	if err != nil {
		t.Fatal(err)
	}
	one := opt
	one.Chains, one.FirstChain = 1, 2
	s, err := Run(context.Background(), refSpec(d), one)
	if err != nil {
		t.Fatal(err)
	}
	for c := range a.Chains {
		if !slices.Equal(a.Chains[c].Draws, b.Chains[c].Draws) {
			t.Errorf("chain %d differs between GOMAXPROCS 1 and 2", c+1)
		}
		for _, v := range a.Chains[c].Draws {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("chain %d: non-finite draw", c+1)
			}
		}
	}
	if !slices.Equal(s.Chains[0].Draws, a.Chains[1].Draws) {
		t.Error("chain 2 run alone differs from chain 2 of a 3-chain run")
	}
	if a.Method != "crossed" || !math.IsNaN(a.Chains[0].Accept) {
		t.Errorf("method %q, accept %v: want crossed, NaN", a.Method, a.Chains[0].Accept)
	}
}

// TestAutoMethodSparseDowndate checks the auto rule on the shape of the
// benchmark's simulated model (many subjects with random slopes crossed
// with a few hundred items): the kernel's dense block is small but its
// sparse downdate by every subject's rows dominates, and the crossed
// method is the cheaper one; penicillin (24 × 6 crossed) stays collapsed.
func TestAutoMethodSparseDowndate(t *testing.T) {
	var b strings.Builder
	b.WriteString("y,x,subject,item\n")
	rng := rand.New(rand.NewPCG(1, 2))
	for s := range 1000 {
		for j := range 40 {
			fmt.Fprintf(&b, "%g,%g,s%d,i%d\n", rng.NormFloat64(), rng.NormFloat64(), s, (s*7+j*13)%300)
		}
	}
	d := designFromCSV(t, "sim.csv", b.String(), "y ~ x + (1 + x | subject) + (1 | item)")
	for _, c := range []struct {
		d    *model.Design
		want string
	}{
		{d, "crossed"},
		{loadDesign(t, "penicillin.csv", "diameter ~ 1 + (1|plate) + (1|sample)"), "collapsed"},
	} {
		st, _, err := newSetup(refSpec(c.d), Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, why := chooseMethod(st, Options{Method: "auto"})
		t.Logf("%s: %s (%s)", c.d.Formula.Text, got, why)
		if got != c.want {
			t.Errorf("%s: auto chose %s, want %s", c.d.Formula.Text, got, c.want)
		}
	}
}

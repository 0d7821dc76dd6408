package sampler

import (
	"context"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/lmmbayes/lmmbayes/diagnostics"
)

// minESS returns the smallest bulk ESS over the b, sd, cor and sigma
// columns.
func minESS(res *Result) (float64, string) {
	best, name := math.Inf(1), ""
	n := res.Names
	for j, c := range n.Columns {
		if j == 0 || j > len(n.B)+len(n.SD)+len(n.Cor)+1 {
			continue
		}
		e := diagnostics.ESSBulk(res.Column(j))
		if e < best {
			best, name = e, c
		}
	}
	return best, name
}

// BenchmarkSleepstudy times 4 chains × (1000 warmup + 5000 draws) on
// sleepstudy and reports the minimum bulk ESS per second over b, sd, cor
// and sigma.
func BenchmarkSleepstudy(b *testing.B) {
	d := loadDesign(b, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	spec := refSpec(d)
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		res, err := Run(context.Background(), spec, Options{Chains: 4, Warmup: 1000, Draws: 5000, Seed: uint64(i + 1), RandomEffects: true})
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(start).Seconds()
		e, _ := minESS(res)
		b.ReportMetric(e/el, "minESS/s")
		b.ReportMetric(e, "minESS")
	}
}

// TestHotLoopAllocations checks that the per-iteration work allocates
// nothing: the allocation count of a run must not grow with the number of
// draws beyond the occasional growth of the draws buffer (amortised
// doubling: a handful of allocations over thousands of draws).
func TestHotLoopAllocations(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	spec := refSpec(d)
	count := func(draws int) uint64 {
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		if _, err := Run(context.Background(), spec, Options{Chains: 1, Warmup: 200, Draws: draws, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&b)
		return b.Mallocs - a.Mallocs
	}
	a1, a2 := count(1000), count(3000)
	// Signed difference: the two counts may differ by a little either way.
	per := (float64(a2) - float64(a1)) / 2000
	t.Logf("allocations per iteration: %.4f", per)
	if per > 0.05 {
		t.Errorf("%.4f allocations per iteration, want none in the hot loop", per)
	}
}

// BenchmarkGradientMaximal times one factorisation with the gradient of
// the collapsed target (logTargetGrad) and one without (logTarget) on the
// maximal 2 × 2 family member (testdata/family/maximal.csv: 21 variance
// parameters, 288 random effects): a NUTS leapfrog step costs one
// logTargetGrad.
func BenchmarkGradientMaximal(b *testing.B) {
	d := loadDesign(b, "family/maximal.csv", "rt ~ A * B + (1 + A * B | subj) + (1 + A * B | item)")
	spec := refSpec(d)
	st, k0, err := newSetup(spec, Options{})
	if err != nil {
		b.Fatal(err)
	}
	gk := k0.(gradKernel)
	mode, _, err := findModeGrad(st, gk)
	if err != nil {
		b.Fatal(err)
	}
	ev := newEvaluator(spec, st.lay, st.fixed)
	g := make([]float64, st.lay.dim)
	b.Run("logTargetGrad", func(b *testing.B) {
		for b.Loop() {
			ev.logTargetGrad(mode, gk, g)
		}
	})
	b.Run("logTarget", func(b *testing.B) {
		for b.Loop() {
			ev.logTarget(mode, gk)
		}
	})
}

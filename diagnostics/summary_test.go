package diagnostics

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// slowOf is the summary by the one-at-a-time functions.
func slowOf(x [][]float64) Summary {
	return slowSummary(x)
}

// sameSummary compares two summaries field by field to within tol
// relative (NaN matching NaN).
func sameSummary(t *testing.T, name string, got, want Summary, tol float64) {
	t.Helper()
	g, w := got.Values(), want.Values()
	for i, c := range Columns() {
		if math.IsNaN(g[i]) || math.IsNaN(w[i]) {
			if math.IsNaN(g[i]) != math.IsNaN(w[i]) {
				t.Errorf("%s %s: %v vs %v", name, c, g[i], w[i])
			}
			continue
		}
		if d := math.Abs(g[i] - w[i]); d > tol*math.Abs(w[i]) && d > 1e-14 {
			t.Errorf("%s %s: fast %.15g, slow %.15g", name, c, g[i], w[i])
		}
	}
}

// TestSummarizeMatchesReference checks the one-sort Summarize against
// posterior's values for the columns the reference has.
func TestSummarizeMatchesReference(t *testing.T) {
	d := loadRefDraws(t)
	ref := readRef(t, filepath.Join("..", "testdata", "diagnostics", "expected.csv"))
	for _, v := range ref.rows {
		x := d.Variable(d.Index(v))
		s := Summarize(x)
		r := ref.val[v]
		for c, got := range map[string]float64{"mean": s.Mean, "sd": s.SD, "median": s.Median,
			"mad": s.MAD, "q5": s.Q5, "q95": s.Q95, "rhat": s.Rhat, "ess_bulk": s.ESSBulk,
			"ess_tail": s.ESSTail, "mcse_mean": s.MCSEMean, "mcse_sd": s.MCSESD} {
			want := r[c]
			if w, ok := fromFile(t)[v+"/"+c]; ok {
				want = w // see fromFile
			}
			if !agrees(got, want) {
				t.Errorf("%s %s = %.12g, posterior %.12g", v, c, got, want)
			}
		}
		sameSummary(t, v, s, slowOf(x), 1e-12)
	}
}

// TestSummarizeIdentity checks Summarize against the one-at-a-time
// functions on odd and even chain lengths, ties, constant chains and
// non-finite draws.
func TestSummarizeIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mk := func(m, n int, f func() float64) [][]float64 {
		x := make([][]float64, m)
		for c := range x {
			x[c] = make([]float64, n)
			for i := range x[c] {
				x[c][i] = f()
			}
		}
		return x
	}
	cases := map[string][][]float64{
		"normal even":  mk(4, 200, rng.NormFloat64),
		"normal odd":   mk(3, 201, rng.NormFloat64),
		"ties odd":     mk(2, 99, func() float64 { return math.Round(2 * rng.NormFloat64()) }),
		"ties even":    mk(4, 50, func() float64 { return float64(rng.IntN(3)) }),
		"one chain":    mk(1, 101, rng.ExpFloat64),
		"short":        mk(2, 5, rng.NormFloat64),
		"constant":     mk(2, 10, func() float64 { return 3 }),
		"nearly const": mk(2, 10, func() float64 { return 1 + float64(rng.IntN(2))*0x1p-60 }),
	}
	withInf := mk(2, 20, rng.NormFloat64)
	withInf[1][3] = math.Inf(1)
	cases["inf"] = withInf
	withNaN := mk(2, 20, rng.NormFloat64)
	withNaN[0][0] = math.NaN()
	cases["nan"] = withNaN
	for name, x := range cases {
		sameSummary(t, name, Summarize(x), slowOf(x), 1e-12)
	}
	s := Summarize(cases["constant"])
	if s.Mean != 3 || s.SD != 0 || s.MAD != 0 || !math.IsNaN(s.Rhat) || !math.IsNaN(s.ESSBulk) || !math.IsNaN(s.MCSEMean) {
		t.Errorf("constant draws: %+v", s)
	}
	for _, bad := range [][][]float64{nil, {{}}, {{1, 2}, {1}}} {
		if s := Summarize(bad); !math.IsNaN(s.Mean) || !math.IsNaN(s.Rhat) {
			t.Errorf("Summarize(%v) = %+v, want NaN", bad, s)
		}
	}
}

// TestSummarizeAllOrder checks that the worker pool keeps input order and
// gives the same numbers as Summarize.
func TestSummarizeAllOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vars := make([][][]float64, 37)
	for k := range vars {
		vars[k] = make([][]float64, 4)
		for c := range vars[k] {
			vars[k][c] = make([]float64, 100)
			for i := range vars[k][c] {
				vars[k][c][i] = float64(k) + rng.NormFloat64()
			}
		}
	}
	for _, w := range []int{0, 1, 3, 100} {
		got := SummarizeAll(vars, w)
		for k, s := range got {
			if want := Summarize(vars[k]); s != want {
				t.Fatalf("workers=%d var %d: %+v != %+v", w, k, s, want)
			}
		}
	}
}

// BenchmarkSummarize10000 summarises 10,000 variables of 4 chains × 1000
// AR(1) draws with GOMAXPROCS workers.
func BenchmarkSummarize10000(b *testing.B) {
	const nv, m, n = 10000, 4, 1000
	rng := rand.New(rand.NewPCG(5, 6))
	vars := make([][][]float64, nv)
	for k := range vars {
		vars[k] = make([][]float64, m)
		for c := range vars[k] {
			ch := make([]float64, n)
			x := rng.NormFloat64()
			for i := range ch {
				x = 0.7*x + rng.NormFloat64()
				ch[i] = x
			}
			vars[k][c] = ch
		}
	}
	b.ResetTimer()
	for b.Loop() {
		SummarizeAll(vars, 0)
	}
}

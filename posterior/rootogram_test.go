package posterior

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
)

// TestRootogramK checks the choice of the last bin: the largest
// observed count up to 50, else the larger of 50 and the 99 % quantile
// (an observed count), at most 500, at least 1.
func TestRootogramK(t *testing.T) {
	seq := func(n int, f func(i int) float64) []float64 {
		y := make([]float64, n)
		for i := range y {
			y[i] = f(i)
		}
		return y
	}
	cases := []struct {
		name string
		y    []float64
		want int
	}{
		{"all zero", seq(10, func(int) float64 { return 0 }), 1},
		{"max 1", []float64{0, 1, 0}, 1},
		{"max 50", append(seq(99, func(i int) float64 { return float64(i % 7) }), 50), 50},
		// 1000 rows: 990 at most 20, ten from 200 up: q99 (the 990th
		// smallest) is at most 20, so K = 50.
		{"short body, long tail", seq(1000, func(i int) float64 {
			if i < 990 {
				return float64(i % 21)
			}
			return float64(200 + 10*(i-990))
		}), 50},
		// 100 rows 0 … 99: the 99th smallest is 98.
		{"q99 above 50", seq(100, func(i int) float64 { return float64(i) }), 98},
		{"capped", seq(100, func(i int) float64 { return float64(1000 + i) }), 500},
	}
	for _, c := range cases {
		if got := rootogramK(c.y); got != c.want {
			t.Errorf("%s: K = %d, want %d", c.name, got, c.want)
		}
	}
}

// countDesign builds y ~ x (+ (1 | g) when re) of family fam from the
// counts y, x evenly spread over [−1, 1] and g cycling over 5 levels.
func countDesign(t testing.TB, fam model.Family, y []float64, re bool) *model.Design {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("y,x,g\n")
	for i, v := range y {
		fmt.Fprintf(&sb, "%g,%g,g%d\n", v, -1+2*float64(i)/float64(len(y)-1), i%5)
	}
	fr, err := model.ReadFrame(strings.NewReader(sb.String()), "counts.csv", model.FrameOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := "y ~ x"
	if re {
		f += " + (1 | g)"
	}
	fo, err := model.ParseFormula(f)
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.Build(fo, fr, model.BuildOptions{Family: fam})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRootogramBins feeds known replicated counts through the per-chunk
// accumulators, folded as WritePPC folds them, and checks every column
// of the rootogram exactly against a direct count per draw (as
// bayesplot's ppc_rootogram tabulates yrep), the observed column against
// the data's table, and that a draw missing rows is an error.
func TestRootogramBins(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n, s := 37, 301
	y := make([]float64, n)
	for i := range y {
		y[i] = float64(rng.IntN(9))
	}
	y[5] = 9 // K = 9
	d := countDesign(t, model.Poisson, y, false)
	rep := make([][]float64, n) // rep[i][j]: row i, draw j
	for i := range rep {
		rep[i] = make([]float64, s)
		for j := range rep[i] {
			rep[i][j] = float64(rng.IntN(14)) // beyond K too
		}
	}
	all := newFamilyStats(d, s)
	chunk := newFamilyStats(d, s)
	for _, lohi := range [][2]int{{0, 20}, {20, n}} {
		chunk.reset()
		for i := lohi[0]; i < lohi[1]; i++ {
			chunk.add(i, rep[i])
		}
		all.fold(chunk)
	}
	rows, err := all.rootogram()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10 {
		t.Fatalf("%d rows, want 10 (0 … 8 and 9+)", len(rows))
	}
	per := make([]float64, s)
	for k, r := range rows {
		var obs float64
		for _, v := range y {
			if v == float64(k) || k == 9 && v >= 9 {
				obs++
			}
		}
		for j := range s {
			per[j] = 0
			for i := range n {
				if v := rep[i][j]; v == float64(k) || k == 9 && v >= 9 {
					per[j]++
				}
			}
		}
		want := RootogramRow{Count: k, Tail: k == 9, Observed: obs, Expected: diagnostics.Mean(per),
			Lo: diagnostics.Quantile(per, 0.025), Hi: diagnostics.Quantile(per, 0.975)}
		if math.Abs(r.Expected-want.Expected) > 1e-12*want.Expected {
			t.Errorf("row %d: expected %v, the mean of the draws' counts %v", k, r.Expected, want.Expected)
		}
		if r.Expected = want.Expected; r != want {
			t.Errorf("row %d: %+v, want %+v", k, r, want)
		}
	}
	if rows[9].Label() != "9+" || rows[3].Label() != "3" {
		t.Errorf("labels %q %q", rows[3].Label(), rows[9].Label())
	}
	short := newFamilyStats(d, s)
	for i := range n - 1 {
		short.add(i, rep[i])
	}
	if _, err := short.rootogram(); err == nil || !strings.Contains(err.Error(), "36 replicated rows") {
		t.Errorf("a draw short of a row: %v", err)
	}
	if g := newFamilyStats(countDesign(t, model.Bernoulli, []float64{0, 1, 1, 0}, false), s); g == nil {
		t.Fatal("no family stats for bernoulli")
	} else if r, err := g.rootogram(); r != nil || err != nil {
		t.Errorf("bernoulli rootogram: %v, %v", r, err)
	}
}

// rootogramCheck compares ppc_rootogram.csv in dir with the exact
// predictive expectation: given the posterior draws (fixed here), the
// replicated counts are independent, so E[#{y_rep = k}] =
// Σ_i mean_j p_ij(k), p_ij = P(Y = k | μ_ij, shape_j) (P(Y ≥ K) for the
// tail bin), and the Monte Carlo variance of the mean over S draws is
// Σ_j Σ_i p_ij(1 − p_ij) / S². It returns the largest |z| and checks the
// columns and the observed frequencies.
func rootogramCheck(t *testing.T, dir string, d *model.Design, mu [][]float64, shape []float64) float64 {
	t.Helper()
	h, recs := readCSVT(t, filepath.Join(dir, "ppc_rootogram.csv"))
	if !slices.Equal(h, RootogramColumns) {
		t.Fatalf("header %v, want %v", h, RootogramColumns)
	}
	K := len(recs) - 1
	if want := strconv.Itoa(K) + "+"; recs[K][0] != want {
		t.Fatalf("last count %q, want %q", recs[K][0], want)
	}
	obs, exp := colT(t, h, recs, "observed"), colT(t, h, recs, "expected")
	lo, hi := colT(t, h, recs, "q2.5"), colT(t, h, recs, "q97.5")
	S := len(mu[0])
	logp := func(k, m, sh float64) float64 {
		if sh == 0 {
			return k*math.Log(m) - m - lgamma(k+1)
		}
		return lgamma(k+sh) - lgamma(sh) - lgamma(k+1) + sh*math.Log(sh/(m+sh)) + k*math.Log(m/(m+sh))
	}
	var sumExp, worst float64
	for k := range K + 1 {
		if recs[k][0] != strconv.Itoa(k) && k < K {
			t.Errorf("row %d: count %q", k+1, recs[k][0])
		}
		var o float64
		for _, v := range d.Y {
			if v == float64(k) || k == K && v >= float64(K) {
				o++
			}
		}
		if obs[k] != o {
			t.Errorf("count %d: observed %v, the data have %v", k, obs[k], o)
		}
		var ref, vr float64
		for i := range d.N {
			for j := range S {
				sh := 0.0
				if shape != nil {
					sh = shape[j]
				}
				var p float64
				if k < K {
					p = math.Exp(logp(float64(k), mu[i][j], sh))
				} else {
					p = 1
					for c := range K {
						p -= math.Exp(logp(float64(c), mu[i][j], sh))
					}
					p = max(0, p)
				}
				ref += p
				vr += p * (1 - p)
			}
		}
		ref /= float64(S)
		se := math.Sqrt(vr) / float64(S)
		z := (exp[k] - ref) / se
		worst = max(worst, math.Abs(z))
		if !(lo[k] <= exp[k] && exp[k] <= hi[k]) {
			t.Errorf("count %d: expected %v outside its interval [%v, %v]", k, exp[k], lo[k], hi[k])
		}
		sumExp += exp[k]
		t.Logf("count %s: observed %v expected %.4f exact %.4f (MCSE %.4f, z %+.2f)", recs[k][0], obs[k], exp[k], ref, se, z)
	}
	if math.Abs(sumExp-float64(d.N)) > 1e-9*float64(d.N) {
		t.Errorf("expected frequencies sum to %v, want the %d rows", sumExp, d.N)
	}
	return worst
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// TestRootogramExact checks ppc_rootogram.csv of a Poisson and a
// negative binomial y ~ x against the closed-form predictive expectation
// of each count given fixed posterior draws of (β, shape): every count
// within 4 Monte Carlo SEs. The planted bug (each replicated count
// binned one too high) must be caught.
func TestRootogramExact(t *testing.T) {
	for _, fam := range []model.Family{model.Poisson, model.NegBinomial} {
		t.Run(fam.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(fam)))
			n, S := 60, 2000
			y := make([]float64, n)
			for i := range y {
				y[i] = float64(rng.IntN(8))
			}
			d := countDesign(t, fam, y, false)
			names := draws.ColumnNames(d, false)
			post := draws.New(names, false, "fixed")
			nc := len(names.Columns)
			mu := make([][]float64, n)
			for i := range mu {
				mu[i] = make([]float64, S)
			}
			var shape []float64
			if fam == model.NegBinomial {
				shape = make([]float64, S)
			}
			for c := range 2 {
				vals := make([]float64, S/2*nc)
				for k := range S / 2 {
					j := c*S/2 + k
					row := vals[k*nc : (k+1)*nc]
					b0, b1 := 1+0.2*rng.NormFloat64(), 0.6+0.2*rng.NormFloat64()
					for ci, name := range names.Columns {
						switch name {
						case "b_Intercept":
							row[ci] = b0
						case "b_x":
							row[ci] = b1
						case "shape":
							shape[j] = 2 + 3*rng.Float64()
							row[ci] = shape[j]
						}
					}
					for i := range n {
						mu[i][j] = math.Exp(b0 + b1*d.X.At(i, 1))
					}
				}
				post.AddChain(S/2, vals)
			}
			dir := t.TempDir()
			if err := WritePPC(dir, d, post, 3); err != nil {
				t.Fatal(err)
			}
			if z := rootogramCheck(t, dir, d, mu, shape); z > 4 {
				t.Errorf("largest |z| %.2f > 4", z)
			}
			rootogramShiftBug = 1
			defer func() { rootogramShiftBug = 0 }()
			bug := t.TempDir()
			if err := WritePPC(bug, d, post, 3); err != nil {
				t.Fatal(err)
			}
			z := rootogramCheck(t, bug, d, mu, shape)
			t.Logf("planted bug (counts binned one too high): largest |z| %.1f", z)
			if z <= 4 {
				t.Errorf("the planted bug is not caught: largest |z| %.2f", z)
			}
		})
	}
}

// TestRootogramNotForOthers checks that the Gaussian and logistic
// families write no ppc_rootogram.csv.
func TestRootogramNotForOthers(t *testing.T) {
	d, post := benchPost(t, 40, 8)
	dir := t.TempDir()
	if err := WritePPC(dir, d, post, 1); err != nil {
		t.Fatal(err)
	}
	if fileExistsT(filepath.Join(dir, "ppc_rootogram.csv")) {
		t.Error("gaussian run wrote ppc_rootogram.csv")
	}
	bd := countDesign(t, model.Bernoulli, []float64{0, 1, 1, 0, 1, 0, 0, 1, 1, 1}, false)
	names := draws.ColumnNames(bd, false)
	bp := draws.New(names, false, "fixed")
	bp.AddChain(2, make([]float64, 2*len(names.Columns)))
	if err := WritePPC(dir, bd, bp, 1); err != nil {
		t.Fatal(err)
	}
	if !fileExistsT(filepath.Join(dir, "ppc_stats.csv")) || fileExistsT(filepath.Join(dir, "ppc_rootogram.csv")) {
		t.Error("bernoulli: want ppc_stats.csv and no ppc_rootogram.csv")
	}
}

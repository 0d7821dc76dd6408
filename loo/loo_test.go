package loo

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tolR is the acceptance tolerance against R loo 2.5.1 (relative).
const tolR = 1e-6

func looOf(t *testing.T, cols [][]float64, chains int) (*Result, *WAICResult) {
	t.Helper()
	S := len(cols[0])
	c, err := NewComputer(chains, S/chains)
	if err != nil {
		t.Fatal(err)
	}
	pw := make([]Pointwise, len(cols))
	wp := make([]WAICPointwise, len(cols))
	for i, ll := range cols {
		if pw[i], err = c.LOO(ll, 0); err != nil {
			t.Fatal(err)
		}
		if wp[i], err = c.WAIC(ll); err != nil {
			t.Fatal(err)
		}
	}
	return Summarize(pw, S), SummarizeWAIC(wp, S)
}

// TestAgainstRLoo checks every pointwise value, k̂, n_eff, r_eff and estimate
// of PSIS-LOO and WAIC, the Pareto k table and the log-likelihood itself
// against R loo 2.5.1 on five reference runs (testdata/loo/loo_refs.R).
func TestAgainstRLoo(t *testing.T) {
	refs := readRefs(t)
	if refs.LooVersion != "2.5.1" {
		t.Fatalf("references from loo %s", refs.LooVersion)
	}
	for _, r := range refRuns {
		t.Run(r.name, func(t *testing.T) {
			ref := refs.Models[r.name]
			lr := loadRun(t, r)
			cols := lr.logLikColumns(t)
			S := len(cols[0])
			if S != ref.S || len(cols) != ref.N {
				t.Fatalf("S × N = %d × %d, R %d × %d", S, len(cols), ref.S, ref.N)
			}
			for i := range 3 {
				check(t, "log_lik[1, i]", cols[i][0], ref.LLFirst[i], 1e-12)
				check(t, "log_lik[S, N-2+i]", cols[ref.N-3+i][S-1], ref.LLLast[i], 1e-12)
			}
			res, w := looOf(t, cols, len(lr.chains))
			hdr, rows, _ := readRefCSV(t, r.name+"_loo.csv")
			want := []string{"elpd_loo", "mcse_elpd_loo", "p_loo", "looic", "influence_pareto_k", "n_eff", "r_eff"}
			for j, h := range want {
				if hdr[j] != h {
					t.Fatalf("column %d is %q, want %q", j, hdr[j], h)
				}
			}
			for i, p := range res.Pointwise {
				got := []float64{p.ElpdLoo, p.MCSEElpdLoo, p.PLoo, p.LooIC, p.ParetoK, p.NEff, p.REff}
				for j, g := range got {
					if !relClose(g, rows[i][j], tolR) {
						t.Errorf("obs %d %s = %.17g, R %.17g", i+1, want[j], g, rows[i][j])
					}
				}
			}
			check(t, "elpd_loo", res.ElpdLoo.Estimate, ref.Loo["elpd_loo"].Estimate, tolR)
			check(t, "se_elpd_loo", res.ElpdLoo.SE, ref.Loo["elpd_loo"].SE, tolR)
			check(t, "p_loo", res.PLoo.Estimate, ref.Loo["p_loo"].Estimate, tolR)
			check(t, "se_p_loo", res.PLoo.SE, ref.Loo["p_loo"].SE, tolR)
			check(t, "looic", res.LooIC.Estimate, ref.Loo["looic"].Estimate, tolR)
			check(t, "se_looic", res.LooIC.SE, ref.Loo["looic"].SE, tolR)
			if ref.McseLoo == nil {
				if !math.IsNaN(res.MCSE()) {
					t.Errorf("mcse_loo = %g, R NA", res.MCSE())
				}
			} else {
				check(t, "mcse_loo", res.MCSE(), *ref.McseLoo, tolR)
			}
			kt := res.KTable(Thresholds251)
			for b := range 4 {
				if kt.Rows[b].Count != ref.ParetoKTable.Count[b] {
					t.Errorf("k table row %d: count %d, R %d", b, kt.Rows[b].Count, ref.ParetoKTable.Count[b])
				}
				if mn := ref.ParetoKTable.MinNEff[b]; mn == nil {
					if !math.IsNaN(kt.Rows[b].MinNEff) {
						t.Errorf("k table row %d: min n_eff %g, R NA", b, kt.Rows[b].MinNEff)
					}
				} else {
					check(t, "min n_eff", kt.Rows[b].MinNEff, *mn, tolR)
				}
			}

			hdr, rows, _ = readRefCSV(t, r.name+"_waic.csv")
			for i, p := range w.Pointwise {
				got := []float64{p.ElpdWAIC, p.PWAIC, p.WAIC}
				for j, g := range got {
					if !relClose(g, rows[i][j], tolR) {
						t.Errorf("obs %d %s = %.17g, R %.17g", i+1, hdr[j], g, rows[i][j])
					}
				}
			}
			for _, c := range []struct {
				name string
				e    Estimate
			}{{"elpd_waic", w.ElpdWAIC}, {"p_waic", w.PWAIC}, {"waic", w.WAIC}} {
				check(t, c.name, c.e.Estimate, ref.Waic[c.name].Estimate, tolR)
				check(t, "se_"+c.name, c.e.SE, ref.Waic[c.name].SE, tolR)
			}
		})
	}
}

func modelOf(name string, r *Result) Model {
	return Model{Name: name, Pointwise: r.ElpdPointwise(), Elpd: r.ElpdLoo, P: r.PLoo, IC: r.LooIC}
}

func modelOfWAIC(name string, r *WAICResult) Model {
	e := make([]float64, len(r.Pointwise))
	for i, p := range r.Pointwise {
		e[i] = p.ElpdWAIC
	}
	return Model{Name: name, Pointwise: e, Elpd: r.ElpdWAIC, P: r.PWAIC, IC: r.WAIC}
}

// TestCompareAgainstR checks loo_compare's table (order, elpd_diff, se_diff
// and every model's estimates) for LOO and WAIC on the three sleepstudy
// models and on politeness with and without a slope, and for
// leave-one-subject-out on sleepstudy.
func TestCompareAgainstR(t *testing.T) {
	refs := readRefs(t)
	loos, waics, logos := map[string]Model{}, map[string]Model{}, map[string]Model{}
	for _, r := range refRuns {
		lr := loadRun(t, r)
		res, w := looOf(t, lr.logLikColumns(t), len(lr.chains))
		loos[r.name], waics[r.name] = modelOf(r.name, res), modelOfWAIC(r.name, w)
		if r.data == "sleepstudy.csv" {
			gcols, _ := lr.groupLogLikColumns(t, r.group)
			g, _ := looOf(t, gcols, len(lr.chains))
			logos[r.name] = modelOf(r.name, g)
		}
	}
	sleep := []string{"sleep_int", "sleep_uncorr", "sleep_corr"}
	polite := []string{"polite_int", "polite_slope"}
	cases := []struct {
		ref    string
		models map[string]Model
		names  []string
		cols   []string
	}{
		{"sleep_loo", loos, sleep, []string{"elpd_loo", "se_elpd_loo", "p_loo", "se_p_loo", "looic", "se_looic"}},
		{"sleep_waic", waics, sleep, []string{"elpd_waic", "se_elpd_waic", "p_waic", "se_p_waic", "waic", "se_waic"}},
		{"polite_loo", loos, polite, []string{"elpd_loo", "se_elpd_loo", "p_loo", "se_p_loo", "looic", "se_looic"}},
		{"polite_waic", waics, polite, []string{"elpd_waic", "se_elpd_waic", "p_waic", "se_p_waic", "waic", "se_waic"}},
		{"sleep_logo", logos, sleep, []string{"elpd_loo", "se_elpd_loo", "p_loo", "se_p_loo", "looic", "se_looic"}},
	}
	for _, c := range cases {
		t.Run(c.ref, func(t *testing.T) {
			var ms []Model
			for _, n := range c.names {
				ms = append(ms, c.models[n])
			}
			rows, err := Compare(ms)
			if err != nil {
				t.Fatal(err)
			}
			ref := refs.Compare[c.ref]
			for i, row := range rows {
				if row.Name != ref.Model[i] {
					t.Fatalf("row %d is %s, R %s", i, row.Name, ref.Model[i])
				}
				rt := ref.Table[i]
				check(t, row.Name+" elpd_diff", row.ElpdDiff, rt["elpd_diff"], tolR)
				check(t, row.Name+" se_diff", row.SEDiff, rt["se_diff"], tolR)
				got := []float64{row.Elpd.Estimate, row.Elpd.SE, row.P.Estimate, row.P.SE, row.IC.Estimate, row.IC.SE}
				for j, col := range c.cols {
					check(t, row.Name+" "+col, got[j], rt[col], tolR)
				}
			}
		})
	}
}

// TestLOGOAgainstR checks the leave-one-group-out log-likelihood (the
// marginal of each group with its own effects integrated out) and PSIS over
// groups against R (dense Cholesky of Z Σ Zᵀ + σ²I there, Woodbury here).
func TestLOGOAgainstR(t *testing.T) {
	refs := readRefs(t)
	for _, r := range refRuns {
		t.Run(r.name, func(t *testing.T) {
			ref := refs.Models[r.name]
			lr := loadRun(t, r)
			cols, levels := lr.groupLogLikColumns(t, r.group)
			_, first5, _ := readRefCSV(t, r.name+"_logo_ll_first5.csv")
			for s := range 5 {
				for j := range cols {
					check(t, "group log_lik", cols[j][s], first5[s][j], 1e-10)
				}
			}
			res, _ := looOf(t, cols, len(lr.chains))
			_, rows, text := readRefCSV(t, r.name+"_logo_"+r.group+".csv")
			for j, p := range res.Pointwise {
				if text[j][7] != levels[j] {
					t.Fatalf("group %d is %s, R %s", j, levels[j], text[j][7])
				}
				got := []float64{p.ElpdLoo, p.MCSEElpdLoo, p.PLoo, p.LooIC, p.ParetoK, p.NEff, p.REff}
				for c, g := range got {
					if !relClose(g, rows[j][c], tolR) {
						t.Errorf("group %s column %d = %.17g, R %.17g", levels[j], c, g, rows[j][c])
					}
				}
			}
			check(t, "elpd_loo", res.ElpdLoo.Estimate, ref.Logo["elpd_loo"].Estimate, tolR)
			check(t, "se_elpd_loo", res.ElpdLoo.SE, ref.Logo["elpd_loo"].SE, tolR)
		})
	}
}

// TestBayesR2AgainstR checks the per-draw Bayesian R², conditional and
// marginal, against brms's .bayes_R2 computed by R on the same draws.
func TestBayesR2AgainstR(t *testing.T) {
	for _, r := range refRuns {
		t.Run(r.name, func(t *testing.T) {
			lr := loadRun(t, r)
			_, rows, _ := readRefCSV(t, r.name+"_r2.csv")
			d := lr.d
			mu := make([]float64, d.N)
			s := 0
			for _, ch := range lr.chains {
				for _, pd := range ch {
					for j, withRE := range []bool{true, false} {
						if err := Fitted(d, pd, withRE, mu); err != nil {
							t.Fatal(err)
						}
						if got := BayesR2(d.Y, mu); !relClose(got, rows[s][j], 1e-8) {
							t.Errorf("draw %d R2 (withRE %v) = %.17g, R %.17g", s+1, withRE, got, rows[s][j])
						}
					}
					s++
				}
			}
		})
	}
}

// TestPrintAgainstR compares the printed loo, waic and loo_compare output
// with what R's print methods wrote (testdata/loo/*_print.txt).
func TestPrintAgainstR(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "loo", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	loos := map[string]*Result{}
	for _, r := range refRuns {
		lr := loadRun(t, r)
		res, w := looOf(t, lr.logLikColumns(t), len(lr.chains))
		loos[r.name] = res
		var b strings.Builder
		if err := res.Print(&b, Thresholds251); err != nil {
			t.Fatal(err)
		}
		if want := read(r.name + "_loo_print.txt"); b.String() != want {
			t.Errorf("%s loo print:\n%s\nR:\n%s", r.name, b.String(), want)
		}
		b.Reset()
		if err := w.Print(&b); err != nil {
			t.Fatal(err)
		}
		if want := read(r.name + "_waic_print.txt"); b.String() != want {
			t.Errorf("%s waic print:\n%s\nR:\n%s", r.name, b.String(), want)
		}
		gcols, _ := lr.groupLogLikColumns(t, r.group)
		g, _ := looOf(t, gcols, len(lr.chains))
		b.Reset()
		if err := g.Print(&b, Thresholds251); err != nil {
			t.Fatal(err)
		}
		if want := read(r.name + "_logo_print.txt"); b.String() != want {
			t.Errorf("%s logo print:\n%s\nR:\n%s", r.name, b.String(), want)
		}
	}
	for _, c := range []struct {
		file  string
		names []string
	}{{"sleep_compare_print.txt", []string{"sleep_int", "sleep_uncorr", "sleep_corr"}},
		{"polite_compare_print.txt", []string{"polite_int", "polite_slope"}}} {
		var ms []Model
		for _, n := range c.names {
			ms = append(ms, modelOf(n, loos[n]))
		}
		rows, err := Compare(ms)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := PrintCompare(&b, rows); err != nil {
			t.Fatal(err)
		}
		if want := read(c.file); b.String() != want {
			t.Errorf("compare print:\n%s\nR:\n%s", b.String(), want)
		}
	}
}

// TestRelativeEffFFTPath checks r_eff against R when every lag comes from the
// FFT (the path taken by strongly autocorrelated likelihoods) and when every
// lag is summed directly.
func TestRelativeEffFFTPath(t *testing.T) {
	for _, r := range refRuns[2:4] {
		lr := loadRun(t, r)
		cols := lr.logLikColumns(t)
		_, rows, _ := readRefCSV(t, r.name+"_loo.csv")
		chains := len(lr.chains)
		n := len(cols[0]) / chains
		for _, direct := range []int{0, n} {
			c, err := NewComputer(chains, n)
			if err != nil {
				t.Fatal(err)
			}
			c.ess.direct = direct
			for i, ll := range cols {
				p, err := c.LOO(ll, 0)
				if err != nil {
					t.Fatal(err)
				}
				if !relClose(p.REff, rows[i][6], tolR) {
					t.Errorf("%s obs %d (direct lags %d): r_eff %.17g, R %.17g", r.name, i+1, direct, p.REff, rows[i][6])
				}
			}
		}
	}
}

// TestTopIndicesStable checks the tail selection against a stable sort (R's
// sort.int order: ascending value, ties by position) on data with many ties.
func TestTopIndicesStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var w psisWork
	for trial := range 200 {
		n := 50 + rng.IntN(500)
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Round(rng.NormFloat64() * float64(1+trial%5))
		}
		m := 1 + rng.IntN(n-1)
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case x[a] < x[b]:
				return -1
			case x[a] > x[b]:
				return 1
			}
			return 0
		})
		want := order[n-m:]
		got := w.topIndices(x, m)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (n %d, m %d): got %v, want %v", trial, n, m, got, want)
		}
	}
}

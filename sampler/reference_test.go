package sampler

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/diagnostics"
)

// stanRef is one row of testdata/stan/ref_*.csv.
type stanRef struct {
	mean, sd, q025, q975, mcseMean, mcseSD, essBulk, essTail float64
}

func readStanRef(t testing.TB, file string) (map[string]stanRef, []string) {
	t.Helper()
	return readStanRefAt(t, filepath.Join("stan", file))
}

// readStanRefAt reads a reference summary at path (relative to testdata/).
func readStanRefAt(t testing.TB, path string) (map[string]stanRef, []string) {
	t.Helper()
	file := path
	f, err := os.Open(filepath.Join("..", "testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	out := map[string]stanRef{}
	var order []string
	num := func(r []string, k string) float64 {
		v, err := strconv.ParseFloat(r[col[k]], 64)
		if err != nil {
			t.Fatalf("%s: %s: %v", file, k, err)
		}
		return v
	}
	for _, r := range rows[1:] {
		out[r[0]] = stanRef{num(r, "mean"), num(r, "sd"), num(r, "q2.5"), num(r, "q97.5"), num(r, "mcse_mean"), num(r, "mcse_sd"), num(r, "ess_bulk"), num(r, "ess_tail")}
		order = append(order, r[0])
	}
	return out, order
}

// quantileMCSEFromESS approximates the MCSE of a Stan quantile from its
// reported tail ESS: √(p(1−p)/ESS) / f(q), with the density f at q taken
// from a normal with Stan's mean and sd (the reference files do not hold
// quantile MCSEs).
func quantileMCSEFromESS(r stanRef, p, q, ess float64) float64 {
	z := (q - r.mean) / r.sd
	f := math.Exp(-0.5*z*z) / (r.sd * math.Sqrt(2*math.Pi))
	return math.Sqrt(p*(1-p)/ess) / f
}

// compareToStan checks every parameter in the reference file against
// the draws of res, failing the test on each deviation.
func compareToStan(t *testing.T, res *Result, ref map[string]stanRef, order []string) {
	for _, msg := range stanDeviations(res, ref, order, t.Logf) {
		t.Error(msg)
	}
}

// stanDeviations returns one message per reference quantity (mean, sd,
// 2.5 % and 97.5 % quantiles) farther than 4 combined MCSEs from ours,
// and per parameter with R-hat above 1.01; logf gets the rest.
func stanDeviations(res *Result, ref map[string]stanRef, order []string, logf func(string, ...any)) []string {
	var bad []string
	cols := map[string]int{}
	for i, c := range res.Names.Columns {
		cols[c] = i
	}
	for _, re := range res.Names.RE {
		cols[re.Summary] = cols[re.Column]
	}
	for _, name := range order {
		j, ok := cols[name]
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: not among the sampler's columns", name))
			continue
		}
		r := ref[name]
		x := res.Column(j)
		var all []float64
		for _, c := range x {
			all = append(all, c...)
		}
		mean, sd := diagnostics.Mean(all), diagnostics.SD(all)
		mm, ms := diagnostics.MCSEMean(x), diagnostics.MCSESD(x)
		check := func(what string, got, want, se float64) {
			if d := math.Abs(got - want); d > 4*se {
				bad = append(bad, fmt.Sprintf("%s %s: ours %.5g, Stan %.5g: |diff| %.3g > 4·%.3g", name, what, got, want, d, se))
			} else {
				logf("%s %s: ours %.5g, Stan %.5g (diff %.2f se)", name, what, got, want, d/se)
			}
		}
		check("mean", mean, r.mean, math.Hypot(mm, r.mcseMean))
		check("sd", sd, r.sd, math.Hypot(ms, r.mcseSD))
		for _, q := range []struct {
			p    float64
			want float64
		}{{0.025, r.q025}, {0.975, r.q975}} {
			got := diagnostics.Quantile(all, q.p)
			se := math.Hypot(diagnostics.MCSEQuantile(x, q.p), quantileMCSEFromESS(r, q.p, q.want, r.essTail))
			check("q"+strconv.FormatFloat(q.p*100, 'g', -1, 64), got, q.want, se)
		}
		if rh := diagnostics.Rhat(x); rh > 1.01 {
			bad = append(bad, fmt.Sprintf("%s: R-hat %.4f > 1.01", name, rh))
		}
	}
	return bad
}

// stanDraws is the number of draws per chain of the Stan comparisons:
// 1000 in the default suite, 5000 (as the acceptance criterion asks)
// with -tags long (see reference_long_test.go).
func runStanCase(t *testing.T, file, formula, factor string, seed uint64, draws int) {
	runStanCaseMethod(t, file, formula, factor, seed, draws, "collapsed")
}

// runStanCaseMethod is runStanCase with the given method.
func runStanCaseMethod(t *testing.T, file, formula, factor string, seed uint64, draws int, method string) {
	runStanCaseOpt(t, file, formula, factor, Options{Chains: 4, Warmup: 1000, Draws: draws, Seed: seed, RandomEffects: true, Method: method})
}

// runStanCaseOpt is runStanCase with the given options.
func runStanCaseOpt(t *testing.T, file, formula, factor string, opt Options) {
	d := loadDesign(t, file, formula, factor)
	ref, order := readStanRef(t, "ref_"+strings.TrimSuffix(file, ".csv")+".csv")
	res, err := Run(context.Background(), refSpec(d), opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Chains {
		t.Logf("chain %d: accept warmup %.2f rw %.2f indep %.2f, %v", c.ID, c.AcceptWarmup, c.AcceptRW, c.AcceptIndep, c.Wall)
	}
	compareToStan(t, res, ref, order)
}

func TestStanSleepstudy(t *testing.T) {
	runStanCase(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject", 11, stanDraws)
}

func TestStanPoliteness(t *testing.T) {
	runStanCase(t, "politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", "scenario", 12, stanDraws)
}

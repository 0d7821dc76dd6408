package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
)

// bernoulliData writes a small simulated Bernoulli data set: 30 groups of
// 12 rows, y ~ Bernoulli(logit⁻¹(−0.3 + 0.8 x + b_g)), b_g ~ N(0, 0.7²).
func bernoulliData(t *testing.T, dir string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(15, 2))
	var b strings.Builder
	b.WriteString("g,x,y\n")
	for g := range 30 {
		bg := 0.7 * rng.NormFloat64()
		for range 12 {
			x := rng.NormFloat64()
			p := 1 / (1 + math.Exp(-(-0.3 + 0.8*x + bg)))
			y := 0
			if rng.Float64() < p {
				y = 1
			}
			fmt.Fprintf(&b, "g%d,%.4f,%d\n", g+1, x, y)
		}
	}
	path := filepath.Join(dir, "bern.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// glmmCase is one family's small run.
type glmmCase struct {
	family, data, formula string
	factors               []string
	extraCols             []string // columns besides b_ and sd_
}

func glmmCases(t *testing.T) []glmmCase {
	td, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "glmm"))
	return []glmmCase{
		{"bernoulli", bernoulliData(t, t.TempDir()), "y ~ x + (1 | g)", []string{"g"}, nil},
		{"binomial", filepath.Join(td, "cbpp.csv"), "cbind(incidence, size - incidence) ~ period + (1 | herd)", []string{"herd", "period"}, nil},
		{"poisson", filepath.Join(td, "grouseticks.csv"), "TICKS ~ YEAR + scale(HEIGHT) + (1 | LOCATION)", []string{"LOCATION", "YEAR", "BROOD"}, nil},
		{"negbinomial", filepath.Join(td, "grouseticks.csv"), "TICKS ~ YEAR + scale(HEIGHT) + (1 | LOCATION)", []string{"LOCATION", "YEAR", "BROOD"}, []string{"shape"}},
	}
}

// runGLMMCase runs family c with 2 chains of 400 + 600 iterations into
// a fresh dir and returns the dir, exit code, stdout and stderr.
func runGLMMCase(t *testing.T, c glmmCase, extra ...string) (string, int, string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--data", c.data, "--formula", c.formula, "--family", c.family,
		"--factors", strings.Join(c.factors, ","), "--out", dir, "--chains", "2", "--warmup", "400", "--draws", "600", "--seed", "11", "--quiet"}
	code, out, errs := runCLI(t, append(args, extra...)...)
	return dir, code, out, errs
}

// TestRunGLMMFamilies runs every GLMM family on a small data set and checks
// the files, the column names, run.json, and that each fixed effect's
// posterior mean is near the ML fit (ml_fit.json, glmer's Laplace fit,
// itself checked against lme4 in model/): |mean − ML| ≤ 0.5·SD + 4·MCSE.
// With the weak priors here the posterior mean and the MLE differ by
// O(SD/√n) plus the skewness of the likelihood; measured, the largest
// difference was 0.19 SD (negbinomial b_YEAR97, 300 draws per chain). A swapped or mis-scaled
// column, or a wrong sign, is many SDs off.
func TestRunGLMMFamilies(t *testing.T) {
	for _, c := range glmmCases(t) {
		t.Run(c.family, func(t *testing.T) {
			// The negative binomial's sampler costs most (lgamma in every
			// likelihood evaluation): fewer iterations.
			nDraws, extra := 600, []string{"--log-lik"}
			if c.family == "negbinomial" {
				nDraws, extra = 300, append(extra, "--warmup", "250", "--draws", "300")
			}
			dir, code, stdout, stderr := runGLMMCase(t, c, extra...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			checkGLMMLogLik(t, c, dir)
			for _, f := range []string{"draws_1.csv", "draws_2.csv", "log_lik_1.csv", "log_lik_2.csv", "summary.csv", "run.json", "ml_fit.json", "random_effects.csv"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("missing %s", f)
				}
			}
			head, rows := readDrawsT(t, filepath.Join(dir, "draws_1.csv"))
			if len(rows) != nDraws || head[0] != "lp__" || head[1] != "b_Intercept" {
				t.Errorf("draws_1.csv: %d rows, header %v", len(rows), head[:2])
			}
			if slices.Contains(head, "sigma") {
				t.Errorf("draws of family %s have a sigma column", c.family)
			}
			for _, x := range c.extraCols {
				if !slices.Contains(head, x) {
					t.Errorf("no column %s", x)
				}
			}
			if c.family != "negbinomial" && slices.Contains(head, "shape") {
				t.Errorf("family %s has a shape column", c.family)
			}
			var meta struct {
				Family, Method string
				Chains         []json.RawMessage `json:"chain_stats"`
			}
			raw, _ := os.ReadFile(filepath.Join(dir, "run.json"))
			if err := json.Unmarshal(raw, &meta); err != nil {
				t.Fatal(err)
			}
			// Every case has one random-effect term: "auto" samples
			// them all by mh (TestGLMMMethodPG covers pg).
			wantMethod := "mh"
			if meta.Family != c.family || meta.Method != wantMethod || len(meta.Chains) != 2 {
				t.Errorf("run.json: family %q method %q, %d chain_stats", meta.Family, meta.Method, len(meta.Chains))
			}
			if !strings.Contains(stdout, " Family: "+c.family) || !strings.Contains(stdout, "Population-Level Effects:") {
				t.Errorf("summary:\n%s", stdout)
			}
			var ml struct{ Fixef map[string]float64 }
			raw, _ = os.ReadFile(filepath.Join(dir, "ml_fit.json"))
			if err := json.Unmarshal(raw, &ml); err != nil {
				t.Fatal(err)
			}
			checkMeansNearML(t, readSummaryT(t, filepath.Join(dir, "summary.csv")), ml.Fixef, func(name string) string {
				return "b_" + strings.NewReplacer("(Intercept)", "Intercept", "(", "", ")", "").Replace(name)
			})
		})
	}
}

// checkMeansNearML checks each fixed effect's posterior mean in sum (from
// readSummaryT) against its ML estimate in fixef: |mean − ML| ≤ 0.5 SD +
// 4 MCSE. col names the summary row of an ML coefficient.
func checkMeansNearML(t *testing.T, sum map[string]map[string]float64, fixef map[string]float64, col func(string) string) {
	t.Helper()
	for name, v := range fixef {
		c := col(name)
		s, ok := sum[c]
		if !ok {
			t.Errorf("summary.csv has no %s", c)
			continue
		}
		if d := math.Abs(s["mean"] - v); d > 0.5*s["sd"]+4*s["mcse_mean"] {
			t.Errorf("%s: posterior mean %.4f, ML %.4f: |diff| %.3g > 0.5 SD + 4 MCSE = %.3g", c, s["mean"], v, d, 0.5*s["sd"]+4*s["mcse_mean"])
		} else {
			t.Logf("%s: posterior mean %.4f (sd %.4f), ML %.4f: %.2f SD", c, s["mean"], s["sd"], v, (s["mean"]-v)/s["sd"])
		}
	}
}

// readSummaryT reads summary.csv into variable → column → value.
func readSummaryT(t *testing.T, path string) map[string]map[string]float64 {
	t.Helper()
	head, recs := readCSVT(t, path)
	out := map[string]map[string]float64{}
	for _, r := range recs {
		m := map[string]float64{}
		for j := 1; j < len(head); j++ {
			var v float64
			fmt.Sscan(r[j], &v)
			m[head[j]] = v
		}
		out[r[0]] = m
	}
	return out
}

// TestRunGLMMReproducible: the same seed gives byte-identical draws under
// GOMAXPROCS 1 and 2.
func TestRunGLMMReproducible(t *testing.T) {
	c := glmmCases(t)[1]
	old := runtime.GOMAXPROCS(1)
	d1, code1, _, e1 := runGLMMCase(t, c, "--draws", "100", "--warmup", "100")
	runtime.GOMAXPROCS(2)
	d2, code2, _, _ := runGLMMCase(t, c, "--draws", "100", "--warmup", "100")
	runtime.GOMAXPROCS(old)
	if code1 != 0 || code2 != 0 {
		t.Fatalf("exit %d/%d: %s", code1, code2, e1)
	}
	for _, f := range []string{"draws_1.csv", "draws_2.csv"} {
		a, _ := os.ReadFile(filepath.Join(d1, f))
		b, _ := os.ReadFile(filepath.Join(d2, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between GOMAXPROCS 1 and 2", f)
		}
	}
}

// TestRunGLMMRefusals: keys the GLMM samplers cannot honour are refused
// with exit 2 naming the key, and nothing is written.
func TestRunGLMMRefusals(t *testing.T) {
	c := glmmCases(t)[1]
	dir := t.TempDir()
	for _, tc := range []struct{ cfg, want string }{
		{"[priors]\nsigma = \"student_t(3, 0, 2.5)\"\n", `key "priors.sigma"`},
		{"[priors]\nb = \"horseshoe(1)\"\n", `key "priors.b"`},
		{"[sampler]\nmethod = \"nuts\"\n", `key "sampler.method"`},
		{"[priors]\nshape = \"gamma(2, 1)\"\n", `key "priors.shape"`},
		{"[priors]\ncov = \"inv_wishart(3, 1)\"\n", `key "priors.cov"`},
	} {
		cfg := filepath.Join(dir, "c.toml")
		body := fmt.Sprintf("[data]\npath = %q\nfactors = [\"herd\", \"period\"]\n[model]\nformula = %q\nfamily = \"binomial\"\n[output]\ndir = %q\n%s",
			c.data, c.formula, filepath.Join(dir, "out"), tc.cfg)
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLI(t, "run", cfg, "--quiet", "--draws", "10", "--warmup", "10")
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q (want %s)", tc.cfg, code, stderr, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
			t.Errorf("%q: output dir written", tc.cfg)
		}
	} // kfold refits the Gaussian model only.
	code, _, stderr := runCLI(t, "kfold", glmmConfig(t, c, dir), "--group", "herd")
	if code != 2 || !strings.Contains(stderr, "kfold refits the gaussian family only") {
		t.Errorf("kfold: exit %d, %q", code, stderr)
	}
}

// checkGLMMLogLik checks log_lik_1.csv of a GLMM run: each row sums to the
// draw's lp__ (for GLMM families lp__ is the log-likelihood given the
// effects; both are rounded to 12 decimals, so to 1e-9), a few rows of a
// few draws equal the density computed here from the data file and the
// draws' own columns (independent of model.Family.LogDensity: lgamma
// formulas of dbinom, dpois, dnbinom), and `lmmbayes loo` reads them.
func checkGLMMLogLik(t *testing.T, c glmmCase, dir string) {
	t.Helper()
	head, rows := readDrawsT(t, filepath.Join(dir, "draws_1.csv"))
	_, ll := readDrawsT(t, filepath.Join(dir, "log_lik_1.csv"))
	if len(ll) != len(rows) {
		t.Fatalf("%d log_lik rows for %d draws", len(ll), len(rows))
	}
	for s := range rows {
		sum := 0.0
		for _, v := range ll[s] {
			sum += v
		}
		if math.Abs(sum-rows[s][0]) > 1e-9*float64(len(ll[s])) {
			t.Fatalf("draw %d: sum of log_lik %.12g, lp__ %.12g", s+1, sum, rows[s][0])
		}
	}
	// The r_ columns by group and level (random_effects.csv).
	mh, mrecs := readCSVT(t, filepath.Join(dir, "random_effects.csv"))
	reCol := map[string]int{} // "group/level" → draws column
	for _, r := range mrecs {
		reCol[r[slices.Index(mh, "group")]+"/"+r[slices.Index(mh, "level")]] = slices.Index(head, r[0])
	}
	col := func(name string) int {
		j := slices.Index(head, name)
		if j < 0 {
			t.Fatalf("no column %s", name)
		}
		return j
	}
	dh, drecs := readCSVT(t, c.data)
	val := func(i int, name string) string { return drecs[i][slices.Index(dh, name)] }
	lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	var eta func(row []float64, i int) float64
	var logd func(row []float64, i int, e float64) float64
	switch c.family {
	case "bernoulli":
		eta = func(row []float64, i int) float64 {
			return row[col("b_Intercept")] + row[col("b_x")]*num(val(i, "x")) + row[reCol["g/"+val(i, "g")]]
		}
	case "binomial":
		eta = func(row []float64, i int) float64 {
			e := row[col("b_Intercept")] + row[reCol["herd/"+val(i, "herd")]]
			if p := val(i, "period"); p != "1" {
				e += row[col("b_period"+p)]
			}
			return e
		}
	default:
		var m, ss float64
		for i := range drecs {
			m += num(val(i, "HEIGHT"))
		}
		m /= float64(len(drecs))
		for i := range drecs {
			d := num(val(i, "HEIGHT")) - m
			ss += d * d
		}
		sd := math.Sqrt(ss / float64(len(drecs)-1))
		eta = func(row []float64, i int) float64 {
			e := row[col("b_Intercept")] + row[col("b_scaleHEIGHT")]*(num(val(i, "HEIGHT"))-m)/sd + row[reCol["LOCATION/"+val(i, "LOCATION")]]
			if y := val(i, "YEAR"); y != "95" {
				e += row[col("b_YEAR"+y)]
			}
			return e
		}
	}
	switch c.family {
	case "bernoulli", "binomial":
		logd = func(_ []float64, i int, e float64) float64 {
			y, n := 0.0, 1.0
			if c.family == "bernoulli" {
				y = num(val(i, "y"))
			} else {
				y, n = num(val(i, "incidence")), num(val(i, "size"))
			}
			p := 1 / (1 + math.Exp(-e))
			return lg(n+1) - lg(y+1) - lg(n-y+1) + y*math.Log(p) + (n-y)*math.Log1p(-p)
		}
	case "poisson":
		logd = func(_ []float64, i int, e float64) float64 {
			y := num(val(i, "TICKS"))
			return y*e - math.Exp(e) - lg(y+1)
		}
	case "negbinomial":
		logd = func(row []float64, i int, e float64) float64 {
			y, k, mu := num(val(i, "TICKS")), row[col("shape")], math.Exp(e)
			return lg(y+k) - lg(k) - lg(y+1) + k*math.Log(k/(k+mu)) + y*math.Log(mu/(k+mu))
		}
	}
	for _, s := range []int{0, 17, len(rows) - 1} {
		for _, i := range []int{0, 1, 5, len(drecs) - 1} {
			want := logd(rows[s], i, eta(rows[s], i))
			if got := ll[s][i]; math.Abs(got-want) > 1e-9 {
				t.Errorf("draw %d row %d: log_lik %.12g, direct %.12g", s+1, i+1, got, want)
			}
		}
	}
	code, out, errs := runCLI(t, "loo", dir)
	if code != 0 || !strings.Contains(out, "elpd_loo") {
		t.Errorf("loo: exit %d: %s%s", code, out, errs)
	}
}

// glmmConfig writes a config for case c with output in dir/out.
func glmmConfig(t *testing.T, c glmmCase, dir string) string {
	t.Helper()
	q := make([]string, len(c.factors))
	for i, f := range c.factors {
		q[i] = fmt.Sprintf("%q", f)
	}
	body := fmt.Sprintf("[data]\npath = %q\nfactors = [%s]\n[model]\nformula = %q\nfamily = %q\n[sampler]\nchains = 2\nwarmup = 300\ndraws = 400\nseed = 5\n[output]\ndir = %q\n",
		c.data, strings.Join(q, ", "), c.formula, c.family, filepath.Join(dir, "out"))
	path := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// allDraws reads draws_1.csv and draws_2.csv of dir.
func allDraws(t *testing.T, dir string) ([]string, [][]float64) {
	t.Helper()
	h, r1 := readDrawsT(t, filepath.Join(dir, "draws_1.csv"))
	_, r2 := readDrawsT(t, filepath.Join(dir, "draws_2.csv"))
	return h, append(r1, r2...)
}

// TestPredictGLMM checks predict for the binomial (cbpp) and Poisson
// (grouseticks) models against exact identities: epred's mean on the
// response scale is the mean over the draws files of logit⁻¹(η) or
// exp(η), η computed here from the draws' columns; --scale link gives the
// mean of η itself; --re-form NA drops r_. pred holds whole numbers whose
// mean is within 5 Monte Carlo SEs (pred_sd/√S, the draws independent
// given the posterior draw) of epred's. ppc_stats.csv's prop_ones /
// prop_zeros has the observed value of the data exactly.
func TestPredictGLMM(t *testing.T) {
	cases := glmmCases(t)
	for _, c := range []glmmCase{cases[1], cases[2]} {
		t.Run(c.family, func(t *testing.T) {
			dir := t.TempDir()
			cfg := glmmConfig(t, c, dir)
			if code, _, errs := runCLI(t, "run", cfg, "--quiet", "--log-lik"); code != 0 {
				t.Fatalf("run: %s", errs)
			}
			out := filepath.Join(dir, "out")
			if c.family == "binomial" {
				checkBayesR2Binomial(t, c, out)
			}
			head, rows := allDraws(t, out)
			S := float64(len(rows))
			col := func(n string) int {
				j := slices.Index(head, n)
				if j < 0 {
					t.Fatalf("no column %s", n)
				}
				return j
			}
			nd := filepath.Join(dir, "nd.csv")
			var etaOf func(r []float64, pop bool) float64
			inv := func(e float64) float64 { return math.Exp(e) }
			stat, obs := "prop_zeros", 0.0
			if c.family == "binomial" {
				os.WriteFile(nd, []byte("herd,period\n3,4\n"), 0o644)
				_, mrecs := readCSVT(t, filepath.Join(out, "random_effects.csv"))
				var re int
				for _, r := range mrecs {
					if r[3] == "3" {
						re = col(r[0])
					}
				}
				etaOf = func(r []float64, pop bool) float64 {
					e := r[col("b_Intercept")] + r[col("b_period4")]
					if !pop {
						e += r[re]
					}
					return e
				}
				inv = func(e float64) float64 { return 1 / (1 + math.Exp(-e)) }
				stat = "prop_ones"
				var ys, ns float64
				dh, drecs := readCSVT(t, c.data)
				for _, r := range drecs {
					ys += num(r[slices.Index(dh, "incidence")])
					ns += num(r[slices.Index(dh, "size")])
				}
				obs = ys / ns
			} else {
				os.WriteFile(nd, []byte("YEAR,HEIGHT,LOCATION,BROOD\n96,465,32,501\n"), 0o644)
				_, mrecs := readCSVT(t, filepath.Join(out, "random_effects.csv"))
				var re int
				for _, r := range mrecs {
					if r[3] == "32" {
						re = col(r[0])
					}
				}
				dh, drecs := readCSVT(t, c.data)
				var m, ss, zeros float64
				for _, r := range drecs {
					m += num(r[slices.Index(dh, "HEIGHT")])
					if r[slices.Index(dh, "TICKS")] == "0" {
						zeros++
					}
				}
				m /= float64(len(drecs))
				for _, r := range drecs {
					d := num(r[slices.Index(dh, "HEIGHT")]) - m
					ss += d * d
				}
				z := (465 - m) / math.Sqrt(ss/float64(len(drecs)-1))
				etaOf = func(r []float64, pop bool) float64 {
					e := r[col("b_Intercept")] + r[col("b_YEAR96")] + r[col("b_scaleHEIGHT")]*z
					if !pop {
						e += r[re]
					}
					return e
				}
				obs = zeros / float64(len(drecs))
			}
			for _, v := range []struct {
				args []string
				pop  bool
				link bool
			}{{nil, false, false}, {[]string{"--scale", "link"}, false, true}, {[]string{"--re-form", "NA"}, true, false}} {
				pf := filepath.Join(dir, "pred.csv")
				args := append([]string{"predict", cfg, "--newdata", nd, "--out", pf}, v.args...)
				if code, _, errs := runCLI(t, args...); code != 0 {
					t.Fatalf("predict %v: %s", v.args, errs)
				}
				ph, precs := readCSVT(t, pf)
				get := func(n string) float64 { return num(precs[0][slices.Index(ph, n)]) }
				want := 0.0
				for _, r := range rows {
					e := etaOf(r, v.pop)
					if !v.link {
						e = inv(e)
					}
					want += e / S
				}
				if got := get("epred_mean"); math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
					t.Errorf("%v: epred_mean %.15g, from the draws %.15g", v.args, got, want)
				}
				if !v.link {
					if d := math.Abs(get("pred_mean") - get("epred_mean")); d > 5*get("pred_sd")/math.Sqrt(S) {
						t.Errorf("%v: pred_mean %g, epred_mean %g: beyond 5 MCSE", v.args, get("pred_mean"), get("epred_mean"))
					}
				}
			}
			// compare: the glmer-style fit beside the posterior, no sigma row.
			code, cmpOut, errs := runCLI(t, "compare", cfg, "--format", "csv")
			if code != 0 {
				t.Fatalf("compare: %s", errs)
			}
			var ml struct{ Fixef map[string]float64 }
			raw, _ := os.ReadFile(filepath.Join(out, "ml_fit.json"))
			if err := json.Unmarshal(raw, &ml); err != nil {
				t.Fatal(err)
			}
			ch, crecs, _ := parseCompareCSV(t, cmpOut)
			if _, ok := crecs["sigma"]; ok {
				t.Errorf("compare of family %s has a sigma row", c.family)
			}
			for name, v := range ml.Fixef {
				b := "b_" + strings.NewReplacer("(Intercept)", "Intercept", "(", "", ")", "").Replace(name)
				r, ok := crecs[b]
				if !ok {
					t.Errorf("compare has no row %s", b)
					continue
				}
				if got := mustFloat(t, r[slices.Index(ch, "ml_estimate")]); math.Abs(got-v) > 1e-9*math.Max(1, math.Abs(v)) {
					t.Errorf("compare %s ml_estimate %g, ml_fit.json %g", b, got, v)
				}
				if got, want := mustFloat(t, r[slices.Index(ch, "post_mean")]), colMean(t, head, rows, b); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Errorf("compare %s post_mean %g, draws %g", b, got, want)
				}
			}
			if c.family == "binomial" {
				// New data with the response's columns: 7 trials, so
				// epred = 7·logit⁻¹(η) and pred counts successes of 7.
				os.WriteFile(nd, []byte("herd,period,incidence,size\n3,4,1,7\n"), 0o644)
				pf := filepath.Join(dir, "pred_trials.csv")
				if code, _, errs := runCLI(t, "predict", cfg, "--newdata", nd, "--out", pf); code != 0 {
					t.Fatalf("predict with trials: %s", errs)
				}
				ph, precs := readCSVT(t, pf)
				want := 0.0
				for _, r := range rows {
					want += 7 * inv(etaOf(r, false)) / S
				}
				if got := num(precs[0][slices.Index(ph, "epred_mean")]); math.Abs(got-want) > 1e-12*want {
					t.Errorf("7 trials: epred_mean %.15g, from the draws %.15g", got, want)
				}
				if hi := num(precs[0][slices.Index(ph, "pred_q97.5")]); hi > 7 || hi != math.Floor(hi) {
					t.Errorf("7 trials: pred_q97.5 = %g", hi)
				}
			}
			if c.family == "binomial" {
				// A herd not seen in training: its effect is drawn from
				// N(0, τ(s)²) per draw, so on the link scale epred's mean
				// is the population η's mean plus a mean of independent
				// N(0, τ(s)²)/S terms: within 5 of their SD √(Σ τ²)/S.
				os.WriteFile(nd, []byte("herd,period\n99,2\n"), 0o644)
				pf := filepath.Join(dir, "pred_new.csv")
				if code, _, errs := runCLI(t, "predict", cfg, "--newdata", nd, "--out", pf, "--scale", "link"); code != 0 {
					t.Fatalf("predict new level: %s", errs)
				}
				ph, precs := readCSVT(t, pf)
				var pop, tau2 float64
				for _, r := range rows {
					pop += (r[col("b_Intercept")] + r[col("b_period2")]) / S
					tau2 += r[col("sd_herd__Intercept")] * r[col("sd_herd__Intercept")]
				}
				got := num(precs[0][slices.Index(ph, "epred_mean")])
				if tol := 5 * math.Sqrt(tau2) / S; math.Abs(got-pop) > tol {
					t.Errorf("new herd: epred_mean %g, population %g: beyond %g", got, pop, tol)
				}
			}
			sh, srecs := readCSVT(t, filepath.Join(out, "ppc_stats.csv"))
			found := false
			for _, r := range srecs {
				if r[0] == stat {
					found = true
					if got := num(r[slices.Index(sh, "observed")]); math.Abs(got-obs) > 1e-12 {
						t.Errorf("%s observed %g, data %g", stat, got, obs)
					}
				}
			}
			if !found {
				t.Errorf("ppc_stats.csv has no %s", stat)
			}
			// Replicated responses are whole numbers.
			_, pp := readCSVT(t, filepath.Join(out, "ppc.csv"))
			for _, r := range pp[:5] {
				if v := num(r[9]); v != math.Floor(v) {
					t.Errorf("ppc.csv pred_q50 %g is not a whole number", v)
				}
			}
		})
	}
}

// num parses a number (0 when it is not one).
func num(s string) float64 {
	var v float64
	fmt.Sscan(s, &v)
	return v
}

// checkBayesR2Binomial checks loo's bayes_R2.csv of a cbpp run against the
// definition (brms's bayes_R2 on posterior_epred): for the first draw,
// ŷᵢ = nᵢ·logit⁻¹(ηᵢ) with (conditional) and without (marginal) the herd
// effects, R² = var(ŷ)/(var(ŷ) + var(y − ŷ)), computed here from the
// draws file and the data.
func checkBayesR2Binomial(t *testing.T, c glmmCase, out string) {
	t.Helper()
	if code, o, errs := runCLI(t, "loo", out); code != 0 {
		t.Fatalf("loo: %s%s", o, errs)
	}
	head, rows := readDrawsT(t, filepath.Join(out, "draws_1.csv"))
	r := rows[0]
	_, mrecs := readCSVT(t, filepath.Join(out, "random_effects.csv"))
	re := map[string]int{}
	for _, m := range mrecs {
		re[m[3]] = slices.Index(head, m[0])
	}
	dh, drecs := readCSVT(t, c.data)
	r2 := func(withRE bool) float64 {
		var yh, e []float64
		for _, d := range drecs {
			eta := r[slices.Index(head, "b_Intercept")]
			if p := d[slices.Index(dh, "period")]; p != "1" {
				eta += r[slices.Index(head, "b_period"+p)]
			}
			if withRE {
				eta += r[re[d[slices.Index(dh, "herd")]]]
			}
			n, y := num(d[slices.Index(dh, "size")]), num(d[slices.Index(dh, "incidence")])
			v := n / (1 + math.Exp(-eta))
			yh = append(yh, v)
			e = append(e, y-v)
		}
		vr := func(x []float64) float64 {
			m := 0.0
			for _, v := range x {
				m += v
			}
			m /= float64(len(x))
			s := 0.0
			for _, v := range x {
				s += (v - m) * (v - m)
			}
			return s / float64(len(x)-1)
		}
		return vr(yh) / (vr(yh) + vr(e))
	}
	_, r2s := readCSVT(t, filepath.Join(out, "bayes_R2.csv"))
	for j, want := range []float64{r2(true), r2(false)} {
		if got := num(r2s[0][j]); math.Abs(got-want) > 1e-9 {
			t.Errorf("bayes_R2.csv draw 1 column %d: %.12g, from the draws %.12g", j+1, got, want)
		}
	}
}

// TestInterruptGLMM sends SIGINT while a binomial run samples: as the
// Gaussian run, it writes its files from the draws made so far (every
// chain cut to the same number), run.json marked incomplete, exit 130.
func TestInterruptGLMM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	c := glmmCases(t)[1]
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(os.Args[0], "run", "--data", c.data, "--formula", c.formula, "--family", c.family,
		"--factors", strings.Join(c.factors, ","), "--out", out, "--quiet", "--chains", "2", "--warmup", "100", "--draws", "100000000", "--seed", "5")
	cmd.Env = append(os.Environ(), "LMMBAYES_TEST_MAIN=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitSampling()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code 130; stderr:\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatalf("run.json: %v; stderr:\n%s", err, stderr.String())
	}
	var rj struct {
		Incomplete bool `json:"incomplete"`
	}
	if err := json.Unmarshal(raw, &rj); err != nil || !rj.Incomplete {
		t.Fatalf("run.json incomplete = %v (%v)", rj.Incomplete, err)
	}
	_, r1 := readDrawsT(t, filepath.Join(out, "draws_1.csv"))
	_, r2 := readDrawsT(t, filepath.Join(out, "draws_2.csv"))
	if len(r1) < 4 || len(r1) != len(r2) {
		t.Errorf("draws files hold %d and %d draws", len(r1), len(r2))
	}
	if _, err := os.Stat(filepath.Join(out, "summary.csv")); err != nil {
		t.Error(err)
	}
}

// TestGLMMChainIDMatchesFullRun: --chain-id for a GLMM family (cbpp,
// binomial; and the Poisson count sampler) writes draws_K.csv equal to
// chain K of a full run, and summarize merges the chains into the full
// run's summary.csv.
func TestGLMMChainIDMatchesFullRun(t *testing.T) {
	for _, c := range []glmmCase{glmmCases(t)[1], glmmCases(t)[2]} {
		t.Run(c.family, func(t *testing.T) {
			full, code, _, stderr := runGLMMCase(t, c, "--draws", "150", "--warmup", "100")
			if code != 0 {
				t.Fatalf("full run: exit %d: %s", code, stderr)
			}
			split := filepath.Join(t.TempDir(), "split")
			for _, k := range []string{"2", "1"} {
				args := []string{"run", "--data", c.data, "--formula", c.formula, "--family", c.family,
					"--factors", strings.Join(c.factors, ","), "--out", split, "--chains", "1", "--warmup", "100", "--draws", "150",
					"--seed", "11", "--quiet", "--chain-id", k}
				code, stdout, stderr := runCLI(t, args...)
				if code != 0 || !strings.Contains(stdout, "draws_"+k+".csv") {
					t.Fatalf("chain %s: exit %d: %s %s", k, code, stdout, stderr)
				}
			}
			if code, _, stderr := runCLI(t, "summarize", split, "--format", "csv"); code != 0 {
				t.Fatalf("summarize: exit %d: %s", code, stderr)
			}
			if code, _, stderr := runCLI(t, "summarize", full, "--format", "csv"); code != 0 {
				t.Fatalf("summarize full: exit %d: %s", code, stderr)
			}
			checkSameFiles(t, full, split, "draws_1.csv", "draws_2.csv", "summary.csv")
		})
	}
}

// TestGLMMMethodPG checks the GLMM method rule (auto: mh with one
// random-effect term, pg with more, for bernoulli and binomial; mh for
// the count families; an explicit pg or mh kept) and that method = "pg"
// in the config runs the Pólya-Gamma sampler, while "pg" for a count
// family or a gaussian method for a GLMM is an input error.
func TestGLMMMethodPG(t *testing.T) {
	one := &model.Design{Family: model.Bernoulli, Terms: make([]*model.ReTerm, 1)}
	two := &model.Design{Family: model.Binomial, Terms: make([]*model.ReTerm, 2)}
	cnt := &model.Design{Family: model.Poisson, Terms: make([]*model.ReTerm, 2)}
	for _, c := range []struct {
		method string
		d      *model.Design
		want   string
	}{{"auto", one, "mh"}, {"auto", two, "pg"}, {"auto", cnt, "mh"}, {"pg", one, "pg"}, {"mh", two, "mh"}} {
		if got := glmmMethod(c.method, c.d); got != c.want {
			t.Errorf("glmmMethod(%q, %s with %d terms) = %q, want %q", c.method, c.d.Family, len(c.d.Terms), got, c.want)
		}
	}
	dir := t.TempDir()
	data := bernoulliData(t, dir)
	write := func(family, method string) string {
		cfg := filepath.Join(dir, family+method+".toml")
		text := fmt.Sprintf("[data]\npath = %q\nfactors = [\"g\"]\n[model]\nformula = \"y ~ x + (1 | g)\"\nfamily = %q\n[sampler]\nmethod = %q\nchains = 2\nwarmup = 200\ndraws = 200\n[output]\ndir = %q\n",
			data, family, method, filepath.Join(dir, "out_"+family+method))
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if code, _, errs := runCLI(t, "run", write("bernoulli", "pg"), "--quiet"); code != 0 {
		t.Fatalf("method pg: exit %d: %s", code, errs)
	}
	var meta struct{ Method string }
	raw, _ := os.ReadFile(filepath.Join(dir, "out_bernoullipg", "run.json"))
	if err := json.Unmarshal(raw, &meta); err != nil || meta.Method != "pg" {
		t.Errorf("run.json method %q (%v), want pg", meta.Method, err)
	}
	for _, c := range [][2]string{{"poisson", "pg"}, {"bernoulli", "nuts"}} {
		code, _, errs := runCLI(t, "run", write(c[0], c[1]), "--quiet")
		if code != 2 || !strings.Contains(errs, "sampler.method") {
			t.Errorf("family %s, method %s: exit %d, stderr %q; want exit 2 naming sampler.method", c[0], c[1], code, errs)
		}
	}
}

// TestGLMMMixturePriorsRun runs both GLMM samplers with brms's
// student_t(3, 0, 2.5) on the intercept and laplace(0, 1) on b: exit 0,
// and run.json lists the priors as given.
func TestGLMMMixturePriorsRun(t *testing.T) {
	dir := t.TempDir()
	data := bernoulliData(t, dir)
	for _, method := range []string{"pg", "mh"} {
		cfg := filepath.Join(dir, method+".toml")
		out := filepath.Join(dir, "out_"+method)
		text := fmt.Sprintf("[data]\npath = %q\nfactors = [\"g\"]\n[model]\nformula = \"y ~ x + (1 | g)\"\nfamily = \"bernoulli\"\n[priors]\nIntercept = \"student_t(3, 0, 2.5)\"\nb = \"laplace(0, 1)\"\n[sampler]\nmethod = %q\nchains = 2\nwarmup = 200\ndraws = 200\n[output]\ndir = %q\n",
			data, method, out)
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := runCLI(t, "run", cfg, "--quiet"); code != 0 {
			t.Fatalf("method %s: exit %d: %s", method, code, errs)
		}
		raw, err := os.ReadFile(filepath.Join(out, "run.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"student_t(3, 0, 2.5)", "laplace(0, 1)"} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("method %s: run.json does not list %s", method, want)
			}
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
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
// difference was 0.14 SD (binomial b_period4). A swapped or mis-scaled
// column, or a wrong sign, is many SDs off.
func TestRunGLMMFamilies(t *testing.T) {
	for _, c := range glmmCases(t) {
		t.Run(c.family, func(t *testing.T) {
			dir, code, stdout, stderr := runGLMMCase(t, c)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, f := range []string{"draws_1.csv", "draws_2.csv", "summary.csv", "run.json", "ml_fit.json", "random_effects.csv"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("missing %s", f)
				}
			}
			head, rows := readDrawsT(t, filepath.Join(dir, "draws_1.csv"))
			if len(rows) != 600 || head[0] != "lp__" || head[1] != "b_Intercept" {
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
			wantMethod := "mh"
			if c.family == "bernoulli" || c.family == "binomial" {
				wantMethod = "pg"
			}
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
			sum := readSummaryT(t, filepath.Join(dir, "summary.csv"))
			for name, v := range ml.Fixef {
				col := "b_" + strings.NewReplacer("(Intercept)", "Intercept", "(", "", ")", "").Replace(name)
				s, ok := sum[col]
				if !ok {
					t.Errorf("summary.csv has no %s", col)
					continue
				}
				if d := math.Abs(s["mean"] - v); d > 0.5*s["sd"]+4*s["mcse_mean"] {
					t.Errorf("%s: posterior mean %.4f, ML %.4f: |diff| %.3g > 0.5 SD + 4 MCSE = %.3g", col, s["mean"], v, d, 0.5*s["sd"]+4*s["mcse_mean"])
				} else {
					t.Logf("%s: posterior mean %.4f (sd %.4f), ML %.4f: %.2f SD", col, s["mean"], s["sd"], v, (s["mean"]-v)/s["sd"])
				}
			}
		})
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
	}
}

package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFitGLMMCommandJSON runs "lmmbayes fit --family ... --json" on
// cbpp and on MASS's Insurance with offset(log(Holders)) (Laplace and
// nAGQ = 10) and compares it with glmer's tight-
// convergence references (testdata/glmm; model/glmm_fit_test.go compares
// every model): −2 logLik to 1e-5 relative, fixed effects to 1e-3 SE, θ to
// 1e-3 relative.
func TestFitGLMMCommandJSON(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "glmm")
	cbpp := "cbind(incidence, size - incidence) ~ period + (1 | herd)"
	ins := "Claims ~ Age + Group + offset(log(Holders)) + (1 | District)"
	for _, c := range []struct{ ref, nagq, data, factors, family, formula string }{
		{"cbpp_tight", "1", "cbpp.csv", "herd,period", "binomial", cbpp},
		{"cbpp_agq10_tight", "10", "cbpp.csv", "herd,period", "binomial", cbpp},
		// The offset: MASS's Insurance with the log exposure.
		{"insurance_tight", "1", "insurance.csv", "District", "poisson", ins},
		{"insurance_agq10_tight", "10", "insurance.csv", "District", "poisson", ins},
	} {
		code, out, errs := runCLI(t, "fit", "--data", filepath.Join(dir, c.data), "--factors", c.factors, "--family", c.family,
			"--nagq", c.nagq, "--formula", c.formula, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var got, want struct {
			Objective float64            `json:"objective"`
			Theta     []float64          `json:"theta"`
			Fixef     map[string]float64 `json:"fixef"`
			FixefSE   map[string]float64 `json:"fixef_se"`
			Family    string             `json:"family"`
			NAGQ      int                `json:"nAGQ"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, c.ref+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if got.Family != c.family || got.NAGQ != want.NAGQ {
			t.Errorf("family %q nAGQ %d, want %s %d", got.Family, got.NAGQ, c.family, want.NAGQ)
		}
		if math.Abs(got.Objective-want.Objective) > 1e-5*want.Objective {
			t.Errorf("%s: objective %.10g, glmer %.10g", c.ref, got.Objective, want.Objective)
		}
		if math.Abs(got.Theta[0]-want.Theta[0]) > 1e-3*want.Theta[0] {
			t.Errorf("%s: theta %g, glmer %g", c.ref, got.Theta[0], want.Theta[0])
		}
		for k, v := range want.Fixef {
			if math.Abs(got.Fixef[k]-v) > 1e-3*want.FixefSE[k] {
				t.Errorf("%s: fixef %s = %g, glmer %g", c.ref, k, got.Fixef[k], v)
			}
		}
	}
}

// TestFitGLMMBadInput checks the errors for responses a family cannot
// take and for bad binomial formulas: exit 2, naming the line or column.
func TestFitGLMMBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	data := write("d.csv", "y,n,s,g,f,h\n1,3,2,a,N,x\n0,4,5,a,Y,y\n2,2,1,b,N,z\n1,5,-1,b,Y,x\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--family", "bernoulli", "--formula", "y ~ 1 + (1 | g)"}, "must be 0 or 1"},
		{[]string{"--family", "poisson", "--formula", "s ~ 1 + (1 | g)"}, "line 5 of"},
		{[]string{"--family", "binomial", "--formula", "s | trials(n) ~ 1 + (1 | g)"}, "exceed the trials"},
		{[]string{"--family", "binomial", "--formula", "cbind(s, n - s) ~ 1 + (1 | g)"}, "line 3 of"},
		{[]string{"--family", "gaussian", "--formula", "cbind(y, n - y) ~ 1 + (1 | g)"}, "needs family \"binomial\""},
		{[]string{"--family", "binomial", "--formula", "cbind(y) ~ 1 + (1 | g)"}, "exactly two arguments"},
		{[]string{"--family", "binomial", "--formula", "y | tri(n) ~ 1 + (1 | g)"}, "'|' outside parentheses"},
		{[]string{"--family", "logistic", "--formula", "y ~ 1 + (1 | g)"}, "unknown family"},
		{[]string{"--family", "bernoulli", "--formula", "h ~ 1 + (1 | g)"}, "two values"},
		{[]string{"--family", "binomial", "--reml", "--formula", "f ~ 1 + (1 | g)"}, "REML"},
	} {
		code, _, errs := runCLI(t, append([]string{"fit", "--data", data}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
}

package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFitCommandJSON runs "lmmbayes fit --json" on sleepstudy and checks
// the objective, θ and fixed effects against lme4's reference file.
func TestFitCommandJSON(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "sleepstudy.csv")
	code, out, errs := runCLI(t, "fit", "--data", data, "--formula", "Reaction ~ Days + (Days | Subject)", "--reml", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got, want struct {
		Objective float64            `json:"objective"`
		Theta     []float64          `json:"theta"`
		Fixef     map[string]float64 `json:"fixef"`
		FixefSE   map[string]float64 `json:"fixef_se"`
		REML      bool               `json:"reml"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "lme4", "sleepstudy_reml.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !got.REML || math.Abs(got.Objective-want.Objective) > 1e-6*want.Objective {
		t.Errorf("REML %v objective %.10g, lme4 %.10g", got.REML, got.Objective, want.Objective)
	}
	for k, v := range want.Fixef {
		if math.Abs(got.Fixef[k]-v) > 1e-4*want.FixefSE[k] {
			t.Errorf("fixef %s = %g, lme4 %g", k, got.Fixef[k], v)
		}
	}
}

// TestFitCommandSummary checks the text summary and the --coef and
// --ranef tables, and that a bad formula is an input error.
func TestFitCommandSummary(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "politeness.csv")
	code, out, errs := runCLI(t, "fit", "--data", data, "--formula", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", "--coef", "--ranef")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Linear mixed model fit by maximum likelihood", "795.1", "Random effects:", "scenario", "Residual", "Number of obs: 83", "genderM", "coef $subject", "ranef $scenario"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, errs = runCLI(t, "fit", "--data", data, "--formula", "frequency ~ attitude + (1|subjct)")
	if code != 2 || out != "" || !strings.Contains(errs, "subjct") {
		t.Errorf("bad formula: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

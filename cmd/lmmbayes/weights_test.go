package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestFitCommandWeights: fit --json --weights gives lme4's weighted fit
// (testdata/formula/cbpp_weights_ml.json) and names the weights column.
func TestFitCommandWeights(t *testing.T) {
	data := testdataPath(t, filepath.Join("formula", "cbpp.csv"))
	code, out, errs := runCLI(t, "fit", "--data", data, "--factors", "herd,period", "--formula", "I(incidence/size) ~ period + (1 | herd)", "--weights", "size", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Objective float64            `json:"objective"`
		Fixef     map[string]float64 `json:"fixef"`
		Weights   string             `json:"weights"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	var ref struct {
		Objective float64            `json:"objective"`
		Fixef     map[string]float64 `json:"fixef"`
	}
	b, err := os.ReadFile(testdataPath(t, filepath.Join("formula", "cbpp_weights_ml.json")))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Objective-ref.Objective) > 1e-6*math.Abs(ref.Objective) || got.Weights != "size" {
		t.Errorf("objective %.10g weights %q, lme4 %.10g with weights size", got.Objective, got.Weights, ref.Objective)
	}
	for k, v := range ref.Fixef {
		if math.Abs(got.Fixef[k]-v) > 1e-5*math.Abs(v) {
			t.Errorf("fixef %s = %.8g, lme4 %.8g", k, got.Fixef[k], v)
		}
	}
}

// TestFitCommandRankDrop: an aliased column is dropped with lme4's
// message naming it, and fit --json lists it; rank_deficient = "error"
// refuses the model instead.
func TestFitCommandRankDrop(t *testing.T) {
	data := testdataPath(t, filepath.Join("formula", "orthodont.csv"))
	formula := "distance ~ age + I(age - 11) + Sex + (1 | Subject)"
	code, out, errs := runCLI(t, "fit", "--data", data, "--factors", "Subject,Sex", "--formula", formula, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if want := `fixed-effect model matrix is rank deficient so dropping 1 column / coefficient: "I(age - 11)"`; !strings.Contains(errs, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errs)
	}
	var got struct {
		Aliased []string `json:"aliased"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Aliased, []string{"I(age - 11)"}) {
		t.Errorf("aliased %q", got.Aliased)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte("[data]\npath = "+strconv.Quote(data)+"\nfactors = [\"Subject\", \"Sex\"]\n[model]\nformula = "+strconv.Quote(formula)+"\nrank_deficient = \"error\"\n"), 0o644)
	code, _, errs = runCLI(t, "fit", cfg)
	if code != exitInput || !strings.Contains(errs, `column "I(age - 11)" is a linear combination of other columns`) {
		t.Errorf("rank_deficient = \"error\": exit %d: %s", code, errs)
	}
}

// TestPredictOffsetWeights: a run with an offset() term, an offset
// column and prior weights; predict needs the offset column in the new
// data, adds the offset to epred (two rows differing only in their offset
// by 1 differ by 1 in every draw's epred), and gives a row of weight 4
// half the residual sd of a row of weight 1.
func TestPredictOffsetWeights(t *testing.T) {
	dir := t.TempDir()
	data := testdataPath(t, filepath.Join("formula", "cbpp.csv"))
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte("[data]\npath = "+strconv.Quote(data)+"\nfactors = [\"herd\", \"period\"]\nweights = \"size\"\noffset = \"logsize\"\n"+
		"[model]\nformula = \"log1p(incidence) ~ period + offset(-log(size)) + (1 | herd)\"\n[sampler]\nchains = 1\nwarmup = 200\ndraws = 400\nseed = 3\n[output]\ndir = \"out\"\nml_fit = false\n"), 0o644)
	if code, _, errs := runCLI(t, "run", cfg, "--quiet"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	noOff := writeCSV(t, dir, "nooff.csv", []string{"herd,period,size", "1,1,4"})
	if code, _, errs := runCLI(t, "predict", cfg, "--newdata", noOff, "--re-form", "NA"); code != exitInput || !strings.Contains(errs, `"logsize"`) {
		t.Errorf("new data without the offset column: exit %d: %s", code, errs)
	}
	// Rows 1 and 2 differ in the offset only (logsize - log(size) is 0
	// and 1); rows 3 and 4 in the weight only (1 and 4, offset 0).
	nd := writeCSV(t, dir, "new.csv", []string{"herd,period,size,logsize", "1,2,1,0", "1,2,1,1",
		"1,2,1," + strconv.FormatFloat(math.Log(1), 'g', -1, 64), "1,2,4," + strconv.FormatFloat(math.Log(4), 'g', -1, 64)})
	out := filepath.Join(dir, "pred.csv")
	if code, _, errs := runCLI(t, "predict", cfg, "--newdata", nd, "--re-form", "NA", "--out", out); code != 0 {
		t.Fatalf("predict: exit %d: %s", code, errs)
	}
	head, recs := readCSVT(t, out)
	col := func(name string, row int) float64 {
		v, err := strconv.ParseFloat(recs[row][slices.Index(head, name)], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if d := col("epred_mean", 1) - col("epred_mean", 0); math.Abs(d-1) > 1e-9 {
		t.Errorf("epred differs by %.12g between offsets 0 and 1, want 1", d)
	}
	if d := col("epred_mean", 3) - col("epred_mean", 2); math.Abs(d) > 1e-9 {
		t.Errorf("epred differs by %.12g between weights 1 and 4, want 0", d)
	}
	// The residual part of pred's variance, pred_sd² − epred_sd² (the
	// noise is independent of the draw): σ² for weight 1, σ²/4 for 4.
	// With 400 draws each RMS has relative sd about 1/√800 = 3.5 %, their
	// ratio 5 %; 0.5 is 5 of those.
	resid := func(row int) float64 {
		return math.Sqrt(col("pred_sd", row)*col("pred_sd", row) - col("epred_sd", row)*col("epred_sd", row))
	}
	if r := resid(2) / resid(3); math.Abs(r-2) > 0.5 {
		t.Errorf("residual sd of weight 1 over weight 4: %.3g, want 2", r)
	} else {
		t.Logf("residual sd of weight 1 over weight 4: %.3g", r)
	}
}

// TestCompareRunWeightsFlag: a run given --weights records the column,
// and compare (refitting the ML fit, ml_fit = false) uses it: its ML
// column equals fit --weights.
func TestCompareRunWeightsFlag(t *testing.T) {
	dir := t.TempDir()
	data := testdataPath(t, filepath.Join("formula", "cbpp.csv"))
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte("[data]\npath = "+strconv.Quote(data)+"\nfactors = [\"herd\", \"period\"]\n"+
		"[model]\nformula = \"I(incidence/size) ~ period + (1 | herd)\"\n[sampler]\nchains = 1\nwarmup = 100\ndraws = 100\nseed = 3\n[output]\ndir = \"out\"\nml_fit = false\n"), 0o644)
	if code, _, errs := runCLI(t, "run", cfg, "--weights", "size", "--quiet"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	code, out, errs := runCLI(t, "compare", cfg, "--format", "json")
	if code != 0 {
		t.Fatalf("compare: exit %d: %s", code, errs)
	}
	_, fitOut, _ := runCLI(t, "fit", cfg, "--weights", "size", "--json")
	var fit struct {
		Sigma float64 `json:"sigma"`
	}
	if err := json.Unmarshal([]byte(fitOut), &fit); err != nil {
		t.Fatal(err)
	}
	var cmp struct {
		Parameters []struct {
			Variable string  `json:"variable"`
			ML       float64 `json:"ml_estimate"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(out), &cmp); err != nil {
		t.Fatalf("compare JSON: %v\n%s", err, out)
	}
	found := false
	for _, p := range cmp.Parameters {
		if p.Variable == "sigma" {
			found = true
			if math.Abs(p.ML-fit.Sigma) > 1e-9*fit.Sigma {
				t.Errorf("compare's ML sigma %.8g, fit --weights %.8g", p.ML, fit.Sigma)
			}
		}
	}
	if !found {
		t.Errorf("compare has no sigma row:\n%s", out)
	}
}

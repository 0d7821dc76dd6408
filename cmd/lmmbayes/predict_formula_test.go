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

// trainDays returns the mean and SD (n - 1) of Days in
// testdata/formula/sleep_train.csv: what R's scale(Days) uses.
func trainDays(t *testing.T, path string) (mean, sd float64) {
	t.Helper()
	head, recs := readCSVT(t, path)
	j := slices.Index(head, "Days")
	var xs []float64
	for _, r := range recs {
		v, err := strconv.ParseFloat(r[j], 64)
		if err != nil {
			t.Fatal(err)
		}
		xs = append(xs, v)
		mean += v
	}
	mean /= float64(len(xs))
	for _, v := range xs {
		sd += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)-1))
}

// TestFitCommandJSONTransforms: fit --json adds what scale() and poly()
// learned (transforms) to lme4's keys, and its fixed effects are lme4's.
func TestFitCommandJSONTransforms(t *testing.T) {
	data := testdataPath(t, filepath.Join("formula", "sleep_train.csv"))
	code, out, errs := runCLI(t, "fit", "--data", data, "--factors", "Subject", "--formula", "Reaction ~ scale(Days) + (scale(Days) | Subject)", "--reml", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Fixef      map[string]float64 `json:"fixef"`
		Transforms []struct {
			Term   string   `json:"term"`
			Center *float64 `json:"center"`
			Scale  *float64 `json:"scale"`
		} `json:"transforms"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	mean, sd := trainDays(t, data)
	if len(got.Transforms) != 1 || got.Transforms[0].Term != "scale(Days)" || got.Transforms[0].Center == nil || got.Transforms[0].Scale == nil ||
		math.Abs(*got.Transforms[0].Center-mean) > 1e-12*mean || math.Abs(*got.Transforms[0].Scale-sd) > 1e-12*sd {
		t.Errorf("transforms %s, want scale(Days) with center %v and scale %v", out[strings.Index(out, `"transforms"`):], mean, sd)
	}
	var ref struct {
		Fixef map[string]float64 `json:"fixef"`
	}
	b, err := os.ReadFile(testdataPath(t, filepath.Join("formula", "sleep_scale_predict.json")))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for k, v := range ref.Fixef {
		if math.Abs(got.Fixef[k]-v) > 1e-6*math.Abs(v) {
			t.Errorf("fixef %s = %.10g, lme4 %.10g", k, got.Fixef[k], v)
		}
	}
}

// TestPredictFormulaScaleStored: run.json records scale()'s training
// centre and scale, and predict codes new rows with them (as lme4's
// predict does through makepredictcall), without the training data:
// with --re-form NA, epred_mean is mean(b_Intercept) + mean(b_scaleDays) *
// (Days - centre) / scale over the draws, to rounding, and with the random
// effects it adds the subject's mean r_ draw.
func TestPredictFormulaScaleStored(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	src, err := os.ReadFile(testdataPath(t, filepath.Join("formula", "sleep_train.csv")))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(train, src, 0o644)
	r := makeRun(t, train, "Reaction ~ scale(Days) + (1 | Subject)", []string{"Subject"}, widePriors, "chains = 1\nwarmup = 100\ndraws = 50\nseed = 5", "")
	mean, sd := trainDays(t, train)
	var meta struct {
		Levels struct {
			Transforms []struct {
				Term          string
				Center, Scale float64
			} `json:"transforms"`
		} `json:"levels"`
	}
	b, err := os.ReadFile(filepath.Join(r.out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if tr := meta.Levels.Transforms; len(tr) != 1 || tr[0].Term != "scale(Days)" || tr[0].Center != mean || math.Abs(tr[0].Scale-sd) > 1e-14*sd {
		t.Fatalf("run.json transforms %+v, want scale(Days) %v %v", tr, mean, sd)
	}
	// The training data are not needed any more.
	if err := os.Remove(train); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "predict", r.cfg, "--newdata", testdataPath(t, filepath.Join("formula", "sleep_new.csv")), "--re-form", "NA")
	if code != 0 {
		t.Fatalf("predict: exit %d: %s", code, stderr)
	}
	head, draws := readDrawsT(t, filepath.Join(r.out, "draws_1.csv"))
	b0, b1 := colMean(t, head, draws, "b_Intercept"), colMean(t, head, draws, "b_scaleDays")
	ph, preds := readCSVT(t, filepath.Join(r.out, "predictions.csv"))
	jd, je := slices.Index(ph, "Days"), slices.Index(ph, "epred_mean")
	if len(preds) != 12 {
		t.Fatalf("%d predictions, want 12", len(preds))
	}
	for _, p := range preds {
		days, _ := strconv.ParseFloat(p[jd], 64)
		got, _ := strconv.ParseFloat(p[je], 64)
		want := b0 + b1*(days-mean)/sd
		if math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("Days %v: epred_mean %.12g, want %.12g (training centre and scale)", days, got, want)
		}
	}
	// With the random effects (re.form = NULL): subjects 308 and 309 are
	// training levels 1 and 2, so epred_mean adds the mean of
	// r_Subject.1.1 or r_Subject.2.1.
	seen := filepath.Join(dir, "seen.csv")
	os.WriteFile(seen, []byte("Days,Subject\n9,308\n9,309\n0,309\n"), 0o644)
	outSeen := filepath.Join(dir, "seen_pred.csv")
	if code, _, stderr := runCLI(t, "predict", r.cfg, "--newdata", seen, "--out", outSeen, "--new-levels", "error"); code != 0 {
		t.Fatalf("predict seen subjects: exit %d: %s", code, stderr)
	}
	ph, preds = readCSVT(t, outSeen)
	je = slices.Index(ph, "epred_mean")
	for i, c := range []struct {
		days float64
		j    string
	}{{9, "1"}, {9, "2"}, {0, "2"}} {
		got, _ := strconv.ParseFloat(preds[i][je], 64)
		want := b0 + b1*(c.days-mean)/sd + colMean(t, head, draws, "r_Subject."+c.j+".1")
		if math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("row %d: epred_mean %.12g, want %.12g", i+1, got, want)
		}
	}
}

// readDrawsT reads a CmdStan CSV file: the header and the draws.
func readDrawsT(t *testing.T, path string) ([]string, [][]float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var head []string
	var rows [][]float64
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if head == nil {
			head = strings.Split(line, ",")
			continue
		}
		var row []float64
		for _, c := range strings.Split(line, ",") {
			v, err := strconv.ParseFloat(c, 64)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return head, rows
}

func colMean(t *testing.T, head []string, rows [][]float64, name string) float64 {
	t.Helper()
	j := slices.Index(head, name)
	if j < 0 {
		t.Fatalf("no column %s in %v", name, head)
	}
	s := 0.0
	for _, r := range rows {
		s += r[j]
	}
	return s / float64(len(rows))
}

// TestFitCommandFuncError: a value a function cannot take is an input
// error (exit 2) naming the data line, with the caret under the call.
func TestFitCommandFuncError(t *testing.T) {
	data := filepath.Join(t.TempDir(), "neg.csv")
	os.WriteFile(data, []byte("y,x,g\n1,2,a\n2,-1,b\n3,4,a\n4,5,b\n5,6,a\n"), 0o644)
	code, out, errs := runCLI(t, "fit", "--data", data, "--formula", "y ~ sqrt(x) + (1 | g)")
	want := "sqrt(x) is not a number at row 2 (line 3 of " + data + "): sqrt() of the negative value -1 at column 5"
	if code != 2 || out != "" || !strings.Contains(errs, want) || !strings.Contains(errs, "y ~ sqrt(x) + (1 | g)\n    ^\n") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q with a caret", code, out, errs, want)
	}
}

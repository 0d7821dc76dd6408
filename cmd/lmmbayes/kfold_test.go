package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestKfoldAgainstBrms runs grouped 10-fold cross-validation of sleepstudy
// (each fold a child process) and checks elpd_kfold against brms's
// kfold(folds = "grouped", group = "Subject", K = 10) with the same model
// and priors (testdata/loo/kfold_brms.R): within brms's SE. The fold
// assignments differ (both random), which the SE covers.
func TestKfoldAgainstBrms(t *testing.T) {
	if testing.Short() {
		t.Skip("ten refits in child processes")
	}
	t.Setenv("LMMBAYES_TEST_MAIN", "1") // children run main()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "kf")
	// The config, with its output dir in tmp: its own run (with
	// --log-lik) gives brms's p_kfold.
	raw0, err := os.ReadFile(filepath.Join("..", "..", "testdata", "loo", "kfold_sleepstudy.toml"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "sleepstudy.csv"))
	body := strings.Replace(string(raw0), `path = "../sleepstudy.csv"`, "path = "+strconvQuote(data), 1)
	body = strings.Replace(body, `dir = "runs/kfold_sleepstudy"`, `dir = "full"`, 1)
	cfg := filepath.Join(tmp, "kfold.toml")
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, se := runCLI(t, "run", cfg, "--log-lik", "--quiet"); code != 0 {
		t.Fatalf("run: %s", se)
	}
	var raw []byte
	code, stdout, stderr := runCLI(t, "kfold", cfg, "--group", "Subject", "--folds", "10", "--out", out, "--jobs", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got kfoldJSON
	raw, err = os.ReadFile(filepath.Join(out, "kfold.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Elpd float64 `json:"elpd_kfold"`
		SE   float64 `json:"se_elpd_kfold"`
		P    float64 `json:"p_kfold"`
		SEP  float64 `json:"se_p_kfold"`
	}
	raw, err = os.ReadFile(filepath.Join("..", "..", "testdata", "loo", "kfold_brms.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	t.Logf("elpd_kfold %.2f (SE %.2f), brms %.2f (SE %.2f); by level %.2f (SE %.2f)", got.ElpdKfold, got.SEElpdKfold, ref.Elpd, ref.SE, got.ElpdKfoldGroup, got.SEElpdKfoldGroup)
	if d := math.Abs(got.ElpdKfold - ref.Elpd); d > ref.SE {
		t.Errorf("elpd_kfold %.2f differs from brms's %.2f by %.2f, more than its SE %.2f", got.ElpdKfold, ref.Elpd, d, ref.SE)
	}
	if got.PKfold == nil {
		t.Fatalf("no p_kfold although the config's run has log_lik:\n%s", stdout)
	}
	t.Logf("p_kfold %.2f (SE %.2f), brms %.2f (SE %.2f)", *got.PKfold, *got.SEPKfold, ref.P, ref.SEP)
	if d := math.Abs(*got.PKfold - ref.P); d > ref.SEP {
		t.Errorf("p_kfold %.2f differs from brms's %.2f by more than its SE %.2f", *got.PKfold, ref.P, ref.SEP)
	}
	if got.N != 180 || len(got.FoldOfLevel) != 18 {
		t.Errorf("nobs %d, levels %d", got.N, len(got.FoldOfLevel))
	}
	if !strings.Contains(stdout, "elpd_kfold") {
		t.Errorf("stdout lacks the estimates:\n%s", stdout)
	}
	// The fold files are kept: a second run combines them without refitting.
	code, stdout, stderr = runCLI(t, "kfold", cfg, "--group", "Subject", "--folds", "10", "--out", out)
	if code != 0 || strings.Count(stdout, "exists, kept") != 10 {
		t.Fatalf("second run: exit %d, stdout:\n%s\nstderr: %s", code, stdout, stderr)
	}
	raw2, _ := os.ReadFile(filepath.Join(out, "kfold.json"))
	var again kfoldJSON
	json.Unmarshal(raw2, &again)
	if again.ElpdKfold != got.ElpdKfold {
		t.Errorf("recombined elpd %v, first %v", again.ElpdKfold, got.ElpdKfold)
	}
}

func TestKfoldBadInput(t *testing.T) {
	cfg := filepath.Join("..", "..", "testdata", "loo", "kfold_sleepstudy.toml")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"kfold", cfg, "--folds", "10"}, "--group NAME is required"},
		{[]string{"kfold", cfg, "--group", "Subjet"}, `did you mean "Subject"`},
		{[]string{"kfold", cfg, "--group", "Subject", "--folds", "1"}, "at least 2"},
		{[]string{"kfold", cfg, "--group", "Subject", "--folds", "19"}, "more than the 18 levels"},
		{[]string{"kfold", cfg, "--group", "Subject", "--folds", "5", "--fold", "6"}, "--fold must be between"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != exitInput || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

func strconvQuote(s string) string { return strconv.Quote(s) }

package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// looRef runs the reference config NAME.toml of testdata/loo with --log-lik
// into a temporary dir (the same seed gives the draws the R references were
// computed from) and returns the dir.
func looRef(t *testing.T, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	code, _, stderr := runCLI(t, "run", filepath.Join("..", "..", "testdata", "loo", name+".toml"), "--out", out, "--log-lik", "--quiet")
	if code != 0 {
		t.Fatalf("run %s: exit %d: %s", name, code, stderr)
	}
	return out
}

func readCSVFloats(t *testing.T, path string) ([]string, [][]float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]float64
	for _, rec := range recs[1:] {
		row := make([]float64, len(rec))
		for j, s := range rec {
			if s == "Inf" {
				row[j] = math.Inf(1)
				continue
			}
			row[j], _ = strconv.ParseFloat(s, 64)
		}
		rows = append(rows, row)
	}
	return recs[0], rows
}

// TestLooCommandAgainstR: `run --log-lik` then `lmmbayes loo` on three
// sleepstudy models gives R loo 2.5.1's pointwise table (computed by R from
// the same draws) to 1e-6, and loo_compare's printed table.
func TestLooCommandAgainstR(t *testing.T) {
	if testing.Short() {
		t.Skip("three runs")
	}
	names := []string{"sleep_int", "sleep_uncorr", "sleep_corr"}
	dirs := make([]string, len(names))
	for i, n := range names {
		dirs[i] = looRef(t, n)
	}
	args := append([]string{"loo", "--k-table", "2.5.1"}, dirs...)
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("loo: exit %d: %s", code, stderr)
	}
	for i, n := range names {
		hdr, got := readCSVFloats(t, filepath.Join(dirs[i], "loo.csv"))
		if strings.Join(hdr, ",") != "elpd_loo,mcse_elpd_loo,p_loo,looic,influence_pareto_k" {
			t.Fatalf("loo.csv header %v", hdr)
		}
		_, want := readCSVFloats(t, filepath.Join("..", "..", "testdata", "loo", n+"_loo.csv"))
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows, R %d", n, len(got), len(want))
		}
		for r := range got {
			for c := range 5 {
				g, w := got[r][c], want[r][c]
				if !(math.IsInf(w, 1) && math.IsInf(g, 1)) && math.Abs(g-w) > 1e-6*math.Abs(w)+1e-12 {
					t.Errorf("%s row %d col %s: %.17g, R %.17g", n, r+1, hdr[c], g, w)
				}
			}
		}
	}
	// R² per draw: the reference R computed from the same draws, to 1e-8.
	_, r2 := readCSVFloats(t, filepath.Join(dirs[2], "bayes_R2.csv"))
	_, r2ref := readCSVFloats(t, filepath.Join("..", "..", "testdata", "loo", "sleep_corr_r2.csv"))
	if len(r2) != len(r2ref) {
		t.Fatalf("bayes_R2.csv: %d draws, R %d", len(r2), len(r2ref))
	}
	for s := range r2 {
		for c := range 2 {
			if math.Abs(r2[s][c]-r2ref[s][c]) > 1e-8*math.Abs(r2ref[s][c]) {
				t.Errorf("bayes_R2 draw %d col %d: %.17g, R %.17g", s+1, c, r2[s][c], r2ref[s][c])
			}
		}
	}
	// The short loo_compare table as R prints it, run dirs for model names.
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "loo", "sleep_compare_print.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dirOf := map[string]string{}
	for i, n := range names {
		dirOf[n] = filepath.Clean(dirs[i])
	}
	lines := strings.Split(stdout, "\n")
	at := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "Model comparison (loo_compare, loo)") {
			at = i
		}
	}
	if at < 0 {
		t.Fatalf("no comparison printed:\n%s", stdout)
	}
	wantRows := strings.Split(strings.TrimSpace(string(raw)), "\n")[1:]
	for k, w := range wantRows {
		f := strings.Fields(w)
		g := strings.Fields(lines[at+2+k])
		if len(g) != 3 || g[0] != dirOf[f[0]] || g[1] != f[1] || g[2] != f[2] {
			t.Errorf("loo_compare row %d: %q, R %q", k+1, lines[at+2+k], w)
		}
	}
	// A budget too small for the matrix goes through temporary batch files
	// and one worker: the same table, byte for byte.
	small := filepath.Join(t.TempDir(), "small.csv")
	if code, _, se := runCLI(t, "loo", dirs[2], "--memory-mb", "1", "--workers", "1", "--out", small); code != 0 {
		t.Fatalf("loo --memory-mb 1: %s", se)
	}
	a, _ := os.ReadFile(filepath.Join(dirs[2], "loo.csv"))
	b, _ := os.ReadFile(small)
	if len(a) == 0 || string(a) != string(b) {
		t.Errorf("loo.csv differs with --memory-mb 1 --workers 1")
	}
	// --format json: the comparison's numbers.
	code, js, stderr := runCLI(t, append([]string{"loo", "--format", "json"}, dirs...)...)
	if code != 0 {
		t.Fatalf("loo --format json: %s", stderr)
	}
	var parsed looJSON
	if err := json.Unmarshal([]byte(js), &parsed); err != nil {
		t.Fatal(err)
	}
	if len(parsed.Models) != 3 || len(parsed.Compare) != 3 || parsed.Compare[0].Model != filepath.Clean(dirs[1]) ||
		math.Abs(parsed.Compare[2].ElpdDiff-(-25.0)) > 0.05 {
		t.Errorf("json: %+v", parsed.Compare)
	}
	// --group: leave-one-subject-out of the run matches R's PSIS over groups.
	code, gout, stderr := runCLI(t, "loo", "--group", "Subject", dirs[2])
	if code != 0 {
		t.Fatalf("loo --group: exit %d: %s", code, stderr)
	}
	// One subject has k̂ > 1 (R agrees): the output says so and points to kfold.
	if !strings.Contains(gout, "lmmbayes kfold CONFIG --group Subject --folds K") || !strings.Contains(gout, "Bayesian R2") {
		t.Errorf("loo --group output lacks the kfold hint or R2:\n%s", gout)
	}
	_, got2 := readCSVFloats(t, filepath.Join(dirs[2], "loo_group_Subject.csv"))
	_, want2 := readCSVFloats(t, filepath.Join("..", "..", "testdata", "loo", "sleep_corr_logo_Subject.csv"))
	for r := range want2 {
		for c := range 5 {
			g, w := got2[r][c+1], want2[r][c]
			if !(math.IsInf(w, 1) && math.IsInf(g, 1)) && math.Abs(g-w) > 1e-6*math.Abs(w)+1e-12 {
				t.Errorf("group row %d col %d: %.17g, R %.17g", r+1, c, g, w)
			}
		}
	}
}

// TestLooRefusesDifferentData: runs on different data files, or with
// different responses, are not compared (exit 2, nothing written).
func TestLooRefusesDifferentData(t *testing.T) {
	if testing.Short() {
		t.Skip("runs")
	}
	a := looRef(t, "sleep_int")
	b := looRef(t, "polite_int")
	code, _, stderr := runCLI(t, "loo", a, b)
	if code != exitInput || !strings.Contains(stderr, "fitted to different data") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(a, "loo.csv")); err == nil {
		t.Errorf("loo.csv written although the command failed")
	}
	// A run without log_lik says how to get it.
	dir := filepath.Join(t.TempDir(), "nolog")
	if code, _, se := runCLI(t, "run", filepath.Join("..", "..", "testdata", "loo", "sleep_int.toml"), "--out", dir, "--quiet", "--draws", "50", "--warmup", "50"); code != 0 {
		t.Fatal(se)
	}
	code, _, stderr = runCLI(t, "loo", dir)
	if code != exitInput || !strings.Contains(stderr, "--log-lik") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/posterior"
)

// rootogramConfig writes case c's config (glmmConfig) with extra lines
// appended to its [output] table.
func rootogramConfig(t *testing.T, c glmmCase, dir, extra string) string {
	t.Helper()
	cfg := glmmConfig(t, c, dir)
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, append(raw, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// countBars returns the number of SVG paths filled with the rootogram's
// bar colour (one per count, and the legend's).
func countBars(t *testing.T, path string) int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(raw), `style="fill:#D1E1EC"`)
}

// TestRootogramRun runs the Poisson grouseticks model with plots = true:
// ppc_rootogram.csv has one row per count 0 … K−1 and the tail "K+"
// (K = 79 by the documented rule: the largest count, 85, is above 50, so
// K is the 99 % quantile), its observed column is the data's table and
// its expected column sums to the 403 rows; the run's report holds the
// rootogram; "lmmbayes plot --format svg" writes rootogram.svg with one
// bar per row. A malformed file is an input error naming its line, a
// missing one a note; a run with --family negbinomial is plotted with that family; with
// [output] ppc = false neither the file nor the plot is written.
func TestRootogramRun(t *testing.T) {
	c := glmmCases(t)[2]
	if c.family != "poisson" {
		t.Fatalf("case %s", c.family)
	}
	dir := t.TempDir()
	cfg := rootogramConfig(t, c, dir, "plots = true\n")
	if code, _, errs := runCLI(t, "run", cfg, "--quiet"); code != 0 {
		t.Fatalf("run: %s", errs)
	}
	out := filepath.Join(dir, "out")
	h, recs := readCSVT(t, filepath.Join(out, "ppc_rootogram.csv"))
	if !slices.Equal(h, posterior.RootogramColumns) {
		t.Fatalf("header %v", h)
	}
	if len(recs) != 80 || recs[79][0] != "79+" {
		t.Fatalf("%d rows, the last %v; want 80, 0 … 78 and 79+", len(recs), recs[len(recs)-1])
	}
	dh, drecs := readCSVT(t, c.data)
	ticks := slices.Index(dh, "TICKS")
	var sumExp float64
	for k, r := range recs {
		var o float64
		for _, d := range drecs {
			if v := num(d[ticks]); v == float64(k) || k == 79 && v >= 79 {
				o++
			}
		}
		if k < 79 && r[0] != strconv.Itoa(k) || num(r[1]) != o {
			t.Errorf("row %d: %v; the data have %v rows with count %d", k+1, r, o, k)
		}
		e, lo, hi := num(r[2]), num(r[3]), num(r[4])
		if !(lo <= e && e <= hi) {
			t.Errorf("count %s: expected %v outside [%v, %v]", r[0], e, lo, hi)
		}
		sumExp += e
	}
	if math.Abs(sumExp-float64(len(drecs))) > 1e-9*sumExp {
		t.Errorf("expected frequencies sum to %v, want %d", sumExp, len(drecs))
	}
	checkPNG(t, filepath.Join(out, "plots", "rootogram.png"), 600, 400)
	report, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(report), "Hanging rootogram of TICKS") {
		t.Errorf("report.html lacks the rootogram (%v)", err)
	}

	svgDir := filepath.Join(t.TempDir(), "svg")
	if code, stdout, stderr := runPlot(t, out, "--format", "svg", "--out", svgDir); code != 0 {
		t.Fatalf("plot: exit %d: %s", code, stderr)
	} else if !strings.Contains(stdout, filepath.Join(svgDir, "rootogram.svg")) {
		t.Errorf("plot does not list rootogram.svg:\n%s", stdout)
	}
	svg := filepath.Join(svgDir, "rootogram.svg")
	checkSVGFile(t, svg)
	if n := countBars(t, svg); n != len(recs)+1 {
		t.Errorf("rootogram.svg: %d bar-filled paths, want %d bars and the legend's", n, len(recs))
	}

	// A malformed file: exit 2 naming the file, line and column; no plot written.
	path := filepath.Join(out, "ppc_rootogram.csv")
	raw, _ := os.ReadFile(path)
	lines := strings.Split(string(raw), "\n")
	lines[2] = "1,62,abc,51,81"
	os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644)
	bad := filepath.Join(t.TempDir(), "bad")
	code, _, stderr := runPlot(t, out, "--out", bad)
	if code != 2 || !strings.Contains(stderr, "ppc_rootogram.csv:3: column expected") {
		t.Errorf("malformed ppc_rootogram.csv: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("plots written despite the error (%v)", err)
	}

	// No file (a run made before the rootogram): a note, no rootogram.
	os.Remove(path)
	none := filepath.Join(t.TempDir(), "none")
	code, _, stderr = runPlot(t, out, "--out", none)
	if code != 0 || !strings.Contains(stderr, "ppc_rootogram.csv is missing") {
		t.Errorf("no ppc_rootogram.csv: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(none, "rootogram.png")); !os.IsNotExist(err) {
		t.Errorf("rootogram.png drawn without ppc_rootogram.csv (%v)", err)
	}

	// run --family negbinomial on the Poisson config: plot rebuilds the
	// model with run.json's family (the draws have a shape column), so
	// the PPC density is drawn and the rootogram's axis names TICKS.
	dirNB := t.TempDir()
	cfgNB := rootogramConfig(t, c, dirNB, "")
	if code, _, errs := runCLI(t, "run", cfgNB, "--quiet", "--family", "negbinomial"); code != 0 {
		t.Fatalf("run --family negbinomial: %s", errs)
	}
	nbSVG := filepath.Join(t.TempDir(), "svg")
	code, _, stderr = runPlot(t, filepath.Join(dirNB, "out"), "--format", "svg", "--out", nbSVG)
	if code != 0 || strings.Contains(stderr, "note") {
		t.Errorf("plot of the negbinomial run: exit %d: %s", code, stderr)
	}
	checkSVGFile(t, filepath.Join(nbSVG, "ppc_density.svg"))
	if raw, err := os.ReadFile(filepath.Join(nbSVG, "rootogram.svg")); err != nil || !strings.Contains(string(raw), ">TICKS<") {
		t.Errorf("negbinomial rootogram.svg lacks the response's name (%v)", err)
	}

	// [output] ppc = false: no ppc_rootogram.csv, no rootogram.
	dir2 := t.TempDir()
	cfg2 := rootogramConfig(t, c, dir2, "plots = true\nppc = false\n")
	if code, _, errs := runCLI(t, "run", cfg2, "--quiet"); code != 0 {
		t.Fatalf("run with ppc = false: %s", errs)
	}
	for _, f := range []string{"ppc_rootogram.csv", filepath.Join("plots", "rootogram.png")} {
		if _, err := os.Stat(filepath.Join(dir2, "out", f)); !os.IsNotExist(err) {
			t.Errorf("%s written with ppc = false (%v)", f, err)
		}
	}
}

// TestRootogramNotBinomial checks that a binomial run (cbpp) writes no
// ppc_rootogram.csv and draws no rootogram (the Gaussian case is
// TestPlotWritesEveryKind's exact list of files).
func TestRootogramNotBinomial(t *testing.T) {
	c := glmmCases(t)[1]
	dir := t.TempDir()
	cfg := rootogramConfig(t, c, dir, "plots = true\n")
	if code, _, errs := runCLI(t, "run", cfg, "--quiet"); code != 0 {
		t.Fatalf("run: %s", errs)
	}
	out := filepath.Join(dir, "out")
	for _, f := range []string{"ppc_stats.csv", filepath.Join("plots", "ppc_density.png")} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	for _, f := range []string{"ppc_rootogram.csv", filepath.Join("plots", "rootogram.png")} {
		if _, err := os.Stat(filepath.Join(out, f)); !os.IsNotExist(err) {
			t.Errorf("%s: binomial run wrote it (%v)", c.family, err)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// runIn runs "lmmbayes run" on the sleepstudy config with output in dir.
func runIn(t *testing.T, dir string, extra ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdout: &out, stderr: &errb}
	args := append([]string{"run", filepath.Join("..", "..", "configs", "sleepstudy.toml"), "--out", dir,
		"--warmup", "300", "--draws", "400", "--seed", "7", "--quiet"}, extra...)
	code := dispatch(e, args)
	return code, out.String(), errb.String()
}

// TestRunFilesReproducible checks the output files and that the draws
// are byte-identical under GOMAXPROCS 1 and 2.
func TestRunFilesReproducible(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	old := runtime.GOMAXPROCS(1)
	code, stdout, stderr := runIn(t, d1)
	runtime.GOMAXPROCS(2)
	code2, _, _ := runIn(t, d2)
	runtime.GOMAXPROCS(old)
	if code != 0 || code2 != 0 {
		t.Fatalf("exit %d/%d: %s", code, code2, stderr)
	}
	for _, f := range []string{"draws_1.csv", "draws_2.csv", "draws_3.csv", "draws_4.csv", "summary.csv", "random_effects.csv", "run.json"} {
		if _, err := os.Stat(filepath.Join(d1, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	for c := 1; c <= 4; c++ {
		a, _ := os.ReadFile(filepath.Join(d1, "draws_"+string(rune('0'+c))+".csv"))
		b, _ := os.ReadFile(filepath.Join(d2, "draws_"+string(rune('0'+c))+".csv"))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("draws_%d.csv differs between GOMAXPROCS 1 and 2", c)
		}
	}
	entries, _ := os.ReadDir(d1)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && e.Name() != runMarker {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	// The draws file: comments, a header, 400 rows of numbers.
	raw, _ := os.ReadFile(filepath.Join(d1, "draws_1.csv"))
	var body []string
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if !strings.HasPrefix(l, "#") {
			body = append(body, l)
		}
	}
	rec, err := csv.NewReader(strings.NewReader(strings.Join(body, "\n"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 401 || rec[0][0] != "lp__" || rec[0][1] != "b_Intercept" || len(rec[0]) != 7+36 {
		t.Errorf("draws_1.csv: %d rows, header %v", len(rec), rec[0][:3])
	}
	for _, want := range []string{"# num_samples = 400", "# num_warmup = 300", "# seed = 7", "# chain_id = 1", "# formula = Reaction ~ Days + (Days | Subject)"} {
		if !strings.Contains(string(raw), want+"\n") {
			t.Errorf("draws_1.csv lacks %q", want)
		}
	}
	for _, want := range []string{"Group-Level Effects:", "sd(Intercept)", "cor(Intercept,Days)", "Population-Level Effects:", "Family Specific Parameters:", "sigma ~ student_t(3, 0, 50)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	sum, _ := os.ReadFile(filepath.Join(d1, "summary.csv"))
	lines := strings.Split(string(sum), "\n")
	if !strings.HasPrefix(lines[0], "variable,mean,sd,median,mad,q2.5,q5,q95,q97.5,rhat,ess_bulk,ess_tail,mcse_mean,mcse_sd") ||
		!strings.HasPrefix(lines[1], "b_Intercept,") || !strings.HasPrefix(lines[7], `"r_Subject[308,Intercept]",`) {
		t.Errorf("summary.csv starts %q / %q / %q", lines[0], lines[1], lines[7])
	}
}

// TestRunNoRandomEffects checks [output] random_effects = false via a
// config file: no r_ columns, the other summaries stay.
func TestRunNoRandomEffects(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	data, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "sleepstudy.csv"))
	os.WriteFile(cfg, []byte(`[data]
path = "`+data+`"
factors = ["Subject"]
[model]
formula = "Reaction ~ Days + (Days | Subject)"
[sampler]
chains = 2
warmup = 200
draws = 200
seed = 3
[output]
dir = "out"
random_effects = false
`), 0o644)
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdout: &out, stderr: &errb}
	if code := dispatch(e, []string{"run", cfg, "--quiet"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	raw, err := os.ReadFile(filepath.Join(dir, "out", "draws_1.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), ",r_Subject.") || !strings.Contains(string(raw), "sd_Subject__Days") {
		t.Error("random_effects = false: r_ columns present or sd columns missing")
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "random_effects.csv")); err == nil {
		t.Error("random_effects.csv written without random effects")
	}
}

// TestRunBadPrior checks that a bad prior key is an input error naming
// the file and line.
func TestRunBadPrior(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	data, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "sleepstudy.csv"))
	os.WriteFile(cfg, []byte("[data]\npath = \""+data+"\"\nfactors = [\"Subject\"]\n[model]\nformula = \"Reaction ~ Days + (Days | Subject)\"\n[priors]\nsd_Subjekt = \"normal(0, 1)\"\n"), 0o644)
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdout: &out, stderr: &errb}
	code := dispatch(e, []string{"run", cfg, "--out", filepath.Join(dir, "o"), "--quiet"})
	if code != exitInput || !strings.Contains(errb.String(), "c.toml:7") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); err == nil {
		t.Error("output dir created for a failed run")
	}
}

// TestRunNoPPC checks [output] ppc = false: no ppc.csv or ppc_stats.csv
// (and no PPC plot in the report), every other file written.
func TestRunNoPPC(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	data, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sleepstudy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	body := "[data]\npath = " + strconv.Quote(data) + "\nfactors = [\"Subject\"]\n[model]\nformula = \"Reaction ~ Days + (Days | Subject)\"\n" +
		"[sampler]\nwarmup = 200\ndraws = 200\nseed = 3\n[output]\ndir = \"out\"\nppc = false\nplots = true\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "run", cfg, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "out")
	for _, f := range []string{"ppc.csv", "ppc_stats.csv", filepath.Join("plots", "ppc_density.png")} {
		if _, err := os.Stat(filepath.Join(out, f)); !os.IsNotExist(err) {
			t.Errorf("%s written with ppc = false (%v)", f, err)
		}
	}
	for _, f := range []string{"draws_1.csv", "summary.csv", "coef.csv", "run.json", "report.html", filepath.Join("plots", "trace_1.png")} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunOutputDir checks the whole set of run files, that a second run
// into the same dir is refused without --force, that --force refuses a
// file lmmbayes did not write, and that it replaces the dir whole (no file
// of the old run survives) with nothing left beside.
func TestRunOutputDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if code, _, stderr := runIn(t, dir); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"draws_1.csv", "draws_4.csv", "summary.csv", "random_effects.csv",
		"ppc.csv", "ppc_stats.csv", "coef.csv", "ml_fit.json", "run.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "ml_fit.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ml struct {
		Objective float64 `json:"objective"`
		REML      bool    `json:"reml"`
	}
	if err := json.Unmarshal(raw, &ml); err != nil || ml.REML {
		t.Fatalf("ml_fit.json: %v %+v", err, ml)
	}
	// lme4's ML deviance for this model (testdata/lme4/sleepstudy_ml.json).
	if d := ml.Objective - 1751.93934448899; d > 1e-4 || d < -1e-4 {
		t.Errorf("ml_fit.json objective %v", ml.Objective)
	}

	stray := filepath.Join(dir, "old_file.txt")
	if err := os.WriteFile(stray, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "draws_1.csv"))
	code, _, stderr := runIn(t, dir)
	if code != exitInput || !strings.Contains(stderr, "--force") {
		t.Fatalf("second run without --force: exit %d: %s", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "draws_1.csv"))
	if string(before) != string(after) {
		t.Error("a refused run changed the old files")
	}
	// --force does not delete a file lmmbayes did not write.
	if code, _, stderr := runIn(t, dir, "--force", "--seed", "8"); code != exitInput || !strings.Contains(stderr, "old_file.txt") {
		t.Fatalf("run --force with a foreign file: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Error("--force removed a file lmmbayes did not write")
	}
	os.Remove(stray)
	// A stale file of the old run (say a chain the new run has not).
	staleDraws := filepath.Join(dir, "draws_9.csv")
	os.WriteFile(staleDraws, []byte("x"), 0o644)
	if code, _, stderr := runIn(t, dir, "--force", "--seed", "8"); code != 0 {
		t.Fatalf("run --force: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(staleDraws); !os.IsNotExist(err) {
		t.Error("--force kept a file of the old dir")
	}
	replaced, _ := os.ReadFile(filepath.Join(dir, "draws_1.csv"))
	if string(replaced) == string(before) {
		t.Error("--force with another seed did not replace the draws")
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left beside the output dir: %v", names)
	}
}

// TestRunUnwritableOutput checks that an output dir that cannot be made
// is an internal error (exit 1), not an input error, that leaves nothing
// behind.
func TestRunUnwritableOutput(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores permission bits; use a file where a dir is needed.
		parent := t.TempDir()
		file := filepath.Join(parent, "file")
		os.WriteFile(file, []byte("x"), 0o644)
		code, _, stderr := runIn(t, filepath.Join(file, "out"))
		if code != exitInternal || !strings.Contains(stderr, "output dir") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		entries, _ := os.ReadDir(parent)
		if len(entries) != 1 {
			t.Errorf("files left: %v", entries)
		}
		return
	}
	parent := t.TempDir()
	os.Chmod(parent, 0o555)
	defer os.Chmod(parent, 0o755)
	code, _, stderr := runIn(t, filepath.Join(parent, "out"))
	if code != exitInternal || !strings.Contains(stderr, "output dir") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// TestRunPlots checks that [output] plots = true writes the plots and a
// self-contained report.html with the other run files.
func TestRunPlots(t *testing.T) {
	dir := t.TempDir()
	data, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sleepstudy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "c.toml")
	body := "[data]\npath = \"" + data + "\"\n[model]\nformula = \"Reaction ~ Days + (Days | Subject)\"\n" +
		"[sampler]\nwarmup = 200\ndraws = 200\nseed = 3\n[output]\ndir = \"out\"\nplots = true\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "run", cfg, "--quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "out")
	for _, f := range []string{"report.html", "plots/trace_1.png", "plots/ppc_density.png", "summary.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !strings.Contains(string(html), "data:image/png;base64,") || strings.Contains(string(html), "http://") {
		t.Error("report.html does not embed its images or refers outside itself")
	}
}

// TestRunDiskFull runs into a 64 KiB tmpfs, far too small for the draws:
// the run must fail with exit 1 naming the problem and leave nothing on
// the file system. Needs root to mount; skipped otherwise.
func TestRunDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).Run(); err != nil {
		t.Skipf("cannot mount a small tmpfs here: %v", err)
	}
	defer exec.Command("umount", mnt).Run()
	code, _, stderr := runIn(t, filepath.Join(mnt, "out"))
	if code != exitInternal || !strings.Contains(stderr, "no space left on device") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	entries, _ := os.ReadDir(mnt)
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left on the full disk: %v", names)
	}
}

// TestRunConjugateInvGamma runs sleepstudy with inverse-gamma priors on
// the variances and the conjugate step switched on, and checks that σ's
// posterior mean is near the ML estimate (25.6) and the run says it used
// the key.
func TestRunConjugateInvGamma(t *testing.T) {
	dir := t.TempDir()
	data, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "sleepstudy.csv"))
	cfg := filepath.Join(dir, "c.toml")
	body := "[data]\npath = \"" + data + "\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)\"\n" +
		"[priors]\nsigma = \"inv_gamma(0.01, 0.01)\"\nsd = \"inv_gamma(0.01, 0.01)\"\n" +
		"[sampler]\nwarmup = 300\ndraws = 500\nseed = 3\nconjugate_inv_gamma = true\n[output]\ndir = \"out\"\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "run", cfg, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "sigma ~ inv_gamma(0.01, 0.01)") {
		t.Errorf("priors not printed:\n%s", stdout)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "out", "summary.csv"))
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "sigma,") {
			var m float64
			fmt.Sscanf(strings.Split(l, ",")[1], "%g", &m)
			if m < 23 || m > 28.5 {
				t.Errorf("posterior mean of sigma %v, far from the ML 25.6", m)
			}
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSummarizeRefusesDifferentModels is issue 13, defect B: summarize
// merged chain files run on different data or priors (only an R-hat of
// 1.67 hinted at it). Each draws file's header now records the data
// file's SHA-256 and the priors as resolved; summarize refuses files
// whose data, formula or priors differ (exit 2, one line naming both
// files and what differs), and still only warns on other settings.
func TestSummarizeRefusesDifferentModels(t *testing.T) {
	src := testdataPath(t, "sleepstudy.csv")
	raw := readBytesT(t, src)
	// The same rows with one reaction time changed: other data, same
	// columns and levels.
	other := filepath.Join(t.TempDir(), "sleep2.csv")
	os.WriteFile(other, []byte(strings.Replace(string(raw), "249.56", "259.56", 1)), 0o644)
	cfgDir := t.TempDir()
	writeCfg := func(name, data, formula, sigma string) string {
		p := filepath.Join(cfgDir, name)
		os.WriteFile(p, []byte("[data]\npath = \""+data+"\"\nfactors = [\"Subject\"]\n[model]\nformula = \""+formula+"\"\n"+
			"[priors]\nb = \"normal(0, 1000)\"\nIntercept = \"normal(0, 1000)\"\nsigma = \""+sigma+"\"\nsd = \"student_t(3, 0, 50)\"\n"+
			"[sampler]\nwarmup = 100\ndraws = 100\nseed = 7\n"), 0o644)
		return p
	}
	const f = "Reaction ~ Days + (Days | Subject)"
	base := writeCfg("base.toml", src, f, "student_t(3, 0, 50)")
	cases := []struct {
		name, cfg, want string
	}{
		{"data", writeCfg("data.toml", other, f, "student_t(3, 0, 50)"), "were run on different data"},
		{"formula", writeCfg("formula.toml", src, "Reaction ~ Days + (Days || Subject)", "student_t(3, 0, 50)"), "were run with different formulas"},
		{"priors", writeCfg("priors.toml", src, f, "student_t(3, 0, 10)"), "were run with different priors: priors = sigma ~ student_t(3, 0, 50) in the first, sigma ~ student_t(3, 0, 10) in the second"},
		{"same", writeCfg("same.toml", src, f, "student_t(3, 0, 50)"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "chains")
			for k, cfg := range []string{base, c.cfg} {
				if code, _, stderr := runCLI(t, "run", cfg, "--out", dir, "--chain-id", []string{"1", "2"}[k], "--quiet"); code != 0 {
					t.Fatalf("chain %d: exit %d: %s", k+1, code, stderr)
				}
			}
			code, stdout, stderr := runCLI(t, "summarize", dir)
			if c.want == "" {
				if code != 0 {
					t.Fatalf("summarize of chains of one model: exit %d: %s", code, stderr)
				}
				return
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			f1, f2 := filepath.Join(dir, "draws_1.csv"), filepath.Join(dir, "draws_2.csv")
			if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], f1) || !strings.Contains(lines[0], f2) || !strings.Contains(lines[0], c.want) {
				t.Errorf("summarize: exit %d, stdout %q, stderr %q; want exit 2 and one line naming both files and %q", code, stdout, stderr, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "summary.csv")); err == nil {
				t.Errorf("summarize wrote summary.csv for chains of different models")
			}
		})
	}
}

// TestSummarizeWarnsMixedMethod: chains made by different samplers are
// still each a valid chain: a warning, not a refusal.
func TestSummarizeWarnsMixedMethod(t *testing.T) {
	files := []string{"d/draws_1.csv", "d/draws_2.csv"}
	got := mixedSettings(files, []map[string]string{{"method": "sample (collapsed Gibbs)"}, {"method": "sample (nuts Gibbs)"}})
	if len(got) != 1 || !strings.Contains(got[0], "different method: draws_1.csv has method = sample (collapsed Gibbs), draws_2.csv has method = sample (nuts Gibbs)") {
		t.Errorf("warnings: %q", got)
	}
	if err := sameModel(files, []map[string]string{{"formula": "y ~ x + (1 | g)"}, {}}); err != nil {
		t.Errorf("a file without a formula line (older lmmbayes) is not compared: %v", err)
	}
}

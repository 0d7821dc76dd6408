package main

import (
	"math"
	"path/filepath"
	"testing"
)

// TestRunGLMMBrms runs configs/cbpp.toml end to end (4 chains × 5000
// draws after 1000 warmup, 1.7 s: cheap enough for the default suite;
// its priors as brms's run in
// testdata/glmm/brms_cbpp.csv, made by testdata/glmm/glmm_brms.R) and
// checks every b_ and sd_ of summary.csv against brms: mean and sd within
// 4 combined MCSEs (√(ours² + brms²)).
func TestRunGLMMBrms(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	cfg := filepath.Join("..", "..", "configs", "cbpp.toml")
	if code, _, errs := runCLI(t, "run", cfg, "--out", out, "--draws", "5000", "--quiet"); code != 0 {
		t.Fatalf("run: %s", errs)
	}
	ours := readSummaryT(t, filepath.Join(out, "summary.csv"))
	ref := readSummaryT(t, filepath.Join("..", "..", "testdata", "glmm", "brms_cbpp.csv"))
	for _, v := range []string{"b_Intercept", "b_period2", "b_period3", "b_period4", "sd_herd__Intercept"} {
		o, r := ours[v], ref[v]
		if o == nil || r == nil {
			t.Fatalf("%s missing", v)
		}
		for _, k := range [][2]string{{"mean", "mcse_mean"}, {"sd", "mcse_sd"}} {
			se := math.Hypot(o[k[1]], r[k[1]])
			d := (o[k[0]] - r[k[0]]) / se
			t.Logf("%s %s: ours %.4f, brms %.4f: %.2f MCSE", v, k[0], o[k[0]], r[k[0]], d)
			if math.Abs(d) > 4 {
				t.Errorf("%s %s: ours %.4f, brms %.4f: %.2f combined MCSE", v, k[0], o[k[0]], r[k[0]], d)
			}
		}
	}
}

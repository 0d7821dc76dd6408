package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPredictFactorLevelsLookingLikeNumbers is issue 13 item 6: a column
// that is a factor in training stays a factor in the new data whatever
// its values look like: politeness's attitude level "inf" (which alone
// read as +Inf), a level "nan", and "NA" when it is not an NA marker.
func TestPredictFactorLevelsLookingLikeNumbers(t *testing.T) {
	t.Run("politeness inf", func(t *testing.T) {
		r := makeRun(t, testdataPath(t, "politeness.csv"), "frequency ~ attitude + (1 | subject)", nil,
			widePriors, "chains = 1\nwarmup = 100\ndraws = 50\nseed = 5", "ml_fit = false")
		nd := filepath.Join(t.TempDir(), "new.csv")
		os.WriteFile(nd, []byte("subject,attitude\nF1,inf\nM3,inf\n"), 0o644)
		code, _, stderr := runCLI(t, "predict", r.cfg, "--newdata", nd)
		if code != 0 {
			t.Fatalf("predict informal-only rows: exit %d: %s", code, stderr)
		}
		_, recs := readCSVT(t, filepath.Join(r.out, "predictions.csv"))
		if len(recs) != 2 || recs[0][1] != "inf" {
			t.Errorf("predictions: %v", recs)
		}
	})
	for _, c := range []struct{ level, na string }{{"nan", ""}, {"NA", "na = [\"\"]\n"}} {
		t.Run(c.level, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("y,a,g\n")
			for i := range 40 {
				lv := c.level
				if i%2 == 1 {
					lv = "pol"
				}
				fmt.Fprintf(&b, "%d,%s,g%d\n", 100+i%7*3+i%2*10, lv, i%5)
			}
			dir := t.TempDir()
			data := filepath.Join(dir, "d.csv")
			os.WriteFile(data, []byte(b.String()), 0o644)
			cfg := filepath.Join(dir, "c.toml")
			os.WriteFile(cfg, []byte("[data]\npath = \"d.csv\"\n"+c.na+"[model]\nformula = \"y ~ a + (1 | g)\"\n"+widePriors+
				"[sampler]\nchains = 1\nwarmup = 100\ndraws = 50\nseed = 5\n[output]\ndir = \"out\"\nml_fit = false\n"), 0o644)
			if code, _, stderr := runCLI(t, "run", cfg, "--quiet"); code != 0 {
				t.Fatalf("run: exit %d: %s", code, stderr)
			}
			nd := filepath.Join(dir, "new.csv")
			os.WriteFile(nd, []byte("a,g\n"+c.level+",g1\n"+c.level+",g2\n"), 0o644)
			code, _, stderr := runCLI(t, "predict", cfg, "--newdata", nd)
			if code != 0 {
				t.Fatalf("predict: exit %d: %s", code, stderr)
			}
			_, recs := readCSVT(t, filepath.Join(dir, "out", "predictions.csv"))
			if len(recs) != 2 || recs[0][0] != c.level {
				t.Errorf("predictions: %v", recs)
			}
		})
	}
}

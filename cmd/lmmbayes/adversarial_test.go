package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeCSV writes rows to dir/name and returns the path.
func writeCSV(t *testing.T, dir, name string, rows []string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// drawsAreFinite checks that every value of every draws file in dir is a
// finite number.
func drawsAreFinite(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "draws_*.csv"))
	if len(files) == 0 {
		t.Fatal("no draws files")
	}
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		low := strings.ToLower(string(raw))
		for _, bad := range []string{"nan", "inf"} {
			for _, line := range strings.Split(low, "\n") {
				if !strings.HasPrefix(line, "#") && strings.Contains(line, bad) {
					t.Fatalf("%s holds %s: %q", f, bad, line)
				}
			}
		}
	}
}

// TestAdversarialData runs the sampler on data built to break it: it must
// finish with finite draws and say what is wrong, or refuse clearly.
func TestAdversarialData(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	// Predictor and response on scales 12 orders of magnitude apart.
	scale := []string{"y,x,g"}
	for i := range 200 {
		x := rng.NormFloat64() * 1e6
		scale = append(scale, fmt.Sprintf("%g,%g,g%d", 3e-6*x+1e-3*rng.NormFloat64()+1e-3*float64(i%10), x, i%10))
	}
	// A response that is an exact function of the group: residual SD 0.
	exact := []string{"y,x,g"}
	for i := range 200 {
		exact = append(exact, fmt.Sprintf("%g,%d,g%d", 2*float64(i%10), i%5, i%10))
	}
	// Two predictors equal up to 1e-9.
	coll := []string{"y,x1,x2,g"}
	for i := range 200 {
		x := rng.NormFloat64()
		coll = append(coll, fmt.Sprintf("%g,%g,%g,g%d", x+rng.NormFloat64(), x, x+1e-9*rng.NormFloat64(), i%10))
	}
	cases := []struct {
		name, formula string
		rows          []string
		code          int
		want          string // in stdout (code 0) or stderr
	}{
		{"huge scale differences", "y ~ x + (1|g)", scale, 0, ""},
		{"huge scale differences, random slope", "y ~ x + (x|g)", scale, 0, ""},
		{"exact fit", "y ~ x + (1|g)", exact, 0, "fits the response exactly"},
		// lme4 drops x2 (R's qr() at tolerance 1e-7 finds it aliased).
		{"near-collinear predictors", "y ~ x1 + x2 + (1|g)", coll, 0, `stderr:dropping 1 column / coefficient: "x2"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := writeCSV(t, t.TempDir(), "d.csv", c.rows)
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			code, stdout, stderr := runCLI(t, "run", "--data", data, "--formula", c.formula, "--out", out,
				"--quiet", "--seed", "1", "--warmup", "200", "--draws", "200")
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, stderr)
			}
			if code == 0 {
				drawsAreFinite(t, out)
				if w, ok := strings.CutPrefix(c.want, "stderr:"); ok {
					if !strings.Contains(stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, stderr)
					}
					return
				}
				if !strings.Contains(stdout, c.want) {
					t.Errorf("stdout lacks %q:\n%s", c.want, stdout)
				}
				return
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr lacks %q: %s", c.want, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Error("output written for refused input")
			}
		})
	}
}

// TestNum2 checks the printed precision of estimates.
func TestNum2(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{251.405, "251.41"}, {0.0021, "0.0021"}, {-3.4e-7, "-3.4e-07"}, {0, "0.00"}, {math.NaN(), "NA"}} {
		if got := num2(c.v); got != c.want {
			t.Errorf("num2(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

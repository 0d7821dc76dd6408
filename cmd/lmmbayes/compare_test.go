package main

import (
	"encoding/json"
	"github.com/lmmbayes/lmmbayes/posterior"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/sampler"
)

// parseCompareCSV parses compare's CSV output into rows by variable.
func parseCompareCSV(t *testing.T, text string) ([]string, map[string][]string, []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	header := strings.Split(lines[0], ",")
	rows := map[string][]string{}
	var order []string
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		rows[f[0]] = f
		order = append(order, f[0])
	}
	return header, rows, order
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// TestCompareAgreesWithML checks, on politeness and sleepstudy under the
// wide priors of configs/, that the posterior means of the fixed effects
// lie within 0.2 posterior SD of the ML estimates; that the ML columns
// are those of lme4 (testdata/lme4/*_ml.json, whether fitted here or read
// from ml_fit.json); and that ML modes and posterior means of the random
// effects agree in ordering (correlation > 0.95).
func TestCompareAgreesWithML(t *testing.T) {
	cases := []struct {
		name, data, formula, ref string
		factors                  []string
		priors                   string
	}{
		{"politeness", "politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", "politeness_ml.json", []string{"scenario"}, widePriors},
		{"sleepstudy", "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "sleepstudy_ml.json", []string{"Subject"}, widePriors + "cor = \"lkj(2)\"\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := makeRun(t, testdataPath(t, c.data), c.formula, c.factors, c.priors, "chains = 4\nwarmup = 500\ndraws = 1000\nseed = 11", "")
			var ref struct {
				Fixef   map[string]float64 `json:"fixef"`
				FixefSE map[string]float64 `json:"fixef_se"`
				Sigma   float64            `json:"sigma"`
			}
			refRaw, err := os.ReadFile(testdataPath(t, filepath.Join("lme4", c.ref)))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(refRaw, &ref); err != nil {
				t.Fatal(err)
			}
			code, fitted, stderr := runCLI(t, "compare", r.cfg, "--format", "csv")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			header, rows, order := parseCompareCSV(t, fitted)
			if !slices.Equal(header, posterior.CompareColumns) {
				t.Fatalf("header %v, want %v", header, posterior.CompareColumns)
			}
			_, d := loadDesignT(t, r.cfg)
			names := sampler.ColumnNames(d, false)
			want := slices.Concat(names.B, names.SD, names.Cor, []string{"sigma"})
			if !slices.Equal(order, want) {
				t.Fatalf("rows %v, want %v", order, want)
			}
			for j, x := range d.XNames {
				row := rows[names.B[j]]
				ml, se := mustFloat(t, row[1]), mustFloat(t, row[2])
				if math.Abs(ml-ref.Fixef[x]) > 1e-4*math.Abs(ref.Fixef[x]) || math.Abs(se-ref.FixefSE[x]) > 1e-3*ref.FixefSE[x] {
					t.Errorf("%s: ML %v (SE %v), lme4 %v (%v)", x, ml, se, ref.Fixef[x], ref.FixefSE[x])
				}
				mean, sd, diff := mustFloat(t, row[3]), mustFloat(t, row[4]), mustFloat(t, row[7])
				if math.Abs(diff-(mean-ml)/sd) > 1e-12 {
					t.Errorf("%s: diff_sd %v ≠ (post_mean − ml)/post_sd %v", x, diff, (mean-ml)/sd)
				}
				t.Logf("%s: ML %.4f, posterior %.4f ± %.4f, diff %.3f SD", x, ml, mean, sd, diff)
				if math.Abs(diff) > 0.2 {
					t.Errorf("%s: posterior mean %.3f SD from the ML estimate, want ≤ 0.2", x, diff)
				}
			}
			for _, v := range slices.Concat(names.SD, names.Cor, []string{"sigma"}) {
				if rows[v][2] != "" {
					t.Errorf("%s: ml_se %q, want empty", v, rows[v][2])
				}
				if rows[v][1] == "" {
					t.Errorf("%s: no ML estimate", v)
				}
			}
			if s := mustFloat(t, rows["sigma"][1]); math.Abs(s-ref.Sigma) > 1e-4*ref.Sigma {
				t.Errorf("sigma: ML %v, lme4 %v", s, ref.Sigma)
			}
			// ml_fit.json, when present, replaces the fit: lme4's own
			// file gives lme4's numbers.
			os.WriteFile(filepath.Join(r.out, "ml_fit.json"), refRaw, 0o644)
			code, fromFile, stderr := runCLI(t, "compare", r.cfg, "--format", "csv")
			if code != 0 {
				t.Fatalf("with ml_fit.json: exit %d: %s", code, stderr)
			}
			_, rows2, order2 := parseCompareCSV(t, fromFile)
			if !slices.Equal(order2, order) {
				t.Fatalf("with ml_fit.json: rows %v", order2)
			}
			for j, x := range d.XNames {
				if got := mustFloat(t, rows2[names.B[j]][1]); got != ref.Fixef[x] {
					t.Errorf("ml_fit.json: %s = %v, file has %v", x, got, ref.Fixef[x])
				}
			}
			for _, v := range order {
				if a, b := mustFloat(t, rows[v][1]), mustFloat(t, rows2[v][1]); math.Abs(a-b) > 2e-3*math.Max(math.Abs(b), 1e-2) {
					t.Errorf("%s: fitted %v, lme4 file %v", v, a, b)
				}
			}
			os.Remove(filepath.Join(r.out, "ml_fit.json"))
			// Random effects: the JSON form carries the correlations.
			code, js, stderr := runCLI(t, "compare", r.cfg, "--format", "json")
			if code != 0 {
				t.Fatalf("json: exit %d: %s", code, stderr)
			}
			// A budget of 1 MiB reads the r_ means a batch at a time: the
			// same output.
			if code, js1, stderr := runCLI(t, "compare", r.cfg, "--format", "json", "--memory-mb", "1"); code != 0 || js1 != js {
				t.Errorf("--memory-mb 1: exit %d (%s), output differs: %v", code, stderr, js1 != js)
			}
			var out struct {
				Parameters []map[string]any      `json:"parameters"`
				Ranef      []posterior.RanefCorr `json:"ranef"`
			}
			if err := json.Unmarshal([]byte(js), &out); err != nil {
				t.Fatalf("json: %v\n%s", err, js)
			}
			if len(out.Parameters) != len(order) {
				t.Errorf("json: %d parameters, want %d", len(out.Parameters), len(order))
			}
			for _, p := range out.Parameters {
				keys := make([]string, 0, len(p))
				for k := range p {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				wantKeys := slices.Sorted(slices.Values(posterior.CompareColumns))
				if !slices.Equal(keys, wantKeys) {
					t.Errorf("json row keys %v, want %v", keys, wantKeys)
				}
			}
			nEff := 0
			for _, tm := range d.Terms {
				nEff += tm.K
			}
			if len(out.Ranef) != nEff {
				t.Errorf("%d random-effect correlations, want %d", len(out.Ranef), nEff)
			}
			for _, rc := range out.Ranef {
				t.Logf("ranef %s %s: correlation %.4f over %d levels", rc.Group, rc.Effect, rc.Corr, rc.Levels)
				if !(rc.Corr > 0.95) {
					t.Errorf("ranef %s %s: correlation %.4f of ML modes and posterior means", rc.Group, rc.Effect, rc.Corr)
				}
			}
		})
	}
}

// TestCompareTable checks the table layout: the header names the
// columns in order, one line per parameter, right-aligned columns (every
// line ends at the same width), blank ml_se cells outside b_, then the
// random-effects section.
func TestCompareTable(t *testing.T) {
	r := makeRun(t, testdataPath(t, "sleepstudy.csv"), "Reaction ~ Days + (Days | Subject)", []string{"Subject"},
		widePriors+"cor = \"lkj(2)\"\n", "chains = 2\nwarmup = 100\ndraws = 100\nseed = 2", "")
	code, out, stderr := runCLI(t, "compare", r.cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	parts := strings.SplitN(out, "\n\n", 2)
	lines := strings.Split(strings.TrimRight(parts[0], "\n"), "\n")
	if got := strings.Fields(lines[0]); !slices.Equal(got, posterior.CompareColumns) {
		t.Fatalf("header fields %v, want %v", got, posterior.CompareColumns)
	}
	want := []string{"b_Intercept", "b_Days", "sd_Subject__Intercept", "sd_Subject__Days", "cor_Subject__Intercept__Days", "sigma"}
	if len(lines) != 1+len(want) {
		t.Fatalf("%d table lines, want %d:\n%s", len(lines), 1+len(want), out)
	}
	width := len(strings.TrimRight(lines[0], " "))
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if f[0] != want[i] {
			t.Errorf("line %d is %q, want %q first", i+2, l, want[i])
		}
		wantFields := len(posterior.CompareColumns)
		if i >= 2 {
			wantFields-- // no ml_se
		}
		if len(f) != wantFields {
			t.Errorf("line %q: %d fields, want %d", l, len(f), wantFields)
		}
		if w := len(strings.TrimRight(l, " ")); w != width {
			t.Errorf("line %q ends at %d, header at %d", l, w, width)
		}
	}
	if len(parts) < 2 || !strings.HasPrefix(parts[1], "Random effects: correlation") || !strings.Contains(parts[1], "(Intercept)") {
		t.Errorf("no random-effects section:\n%s", out)
	}
	if code, _, stderr := runCLI(t, "compare", r.cfg, "--format", "xml"); code != exitInput || !strings.Contains(stderr, `"xml"`) {
		t.Errorf("--format xml: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "compare", filepath.Join(t.TempDir(), "none.toml")); code != exitInput || !strings.Contains(stderr, "none.toml") {
		t.Errorf("missing config: exit %d, %s", code, stderr)
	}
}

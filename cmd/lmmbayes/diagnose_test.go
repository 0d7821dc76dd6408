package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// diagRun runs lmmbayes with args and returns the exit code, stdout and
// stderr.
func diagRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	code := dispatch(e, args)
	return code, out.String(), errb.String()
}

var sleepFiles = []string{
	filepath.Join("..", "..", "testdata", "cmdstan_csv", "sleepstudy_1.csv"),
	filepath.Join("..", "..", "testdata", "cmdstan_csv", "sleepstudy_2.csv"),
}

// parseDiagCSV reads diagnose's CSV output into variable → column → value.
func parseDiagCSV(t *testing.T, text string) ([]string, map[string]map[string]float64) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, text)
	}
	cols := recs[0]
	vals := map[string]map[string]float64{}
	for _, r := range recs[1:] {
		m := map[string]float64{}
		for j := 1; j < len(cols); j++ {
			if r[j] == "NA" {
				m[cols[j]] = math.NaN()
				continue
			}
			v, err := strconv.ParseFloat(r[j], 64)
			if err != nil {
				t.Fatalf("%s %s: %v", r[0], cols[j], err)
			}
			m[cols[j]] = v
		}
		vals[r[0]] = m
	}
	return cols, vals
}

// TestDiagnoseCmdStanReference runs "diagnose --format csv" on the two
// sleepstudy chains and compares the parsed output with posterior's
// summary (1e-6 relative, 1e-9 absolute), warmup skipped.
func TestDiagnoseCmdStanReference(t *testing.T) {
	code, out, stderr := diagRun(append([]string{"diagnose", "--format", "csv"}, sleepFiles...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cols, got := parseDiagCSV(t, out)
	want := "variable,mean,sd,median,mad,q2.5,q5,q95,q97.5,rhat,ess_bulk,ess_tail,mcse_mean,mcse_sd"
	if strings.Join(cols, ",") != want {
		t.Errorf("columns %v, want %s", cols, want)
	}
	if _, ok := got["divergent__"]; ok {
		t.Error("sampler statistic divergent__ reported as a variable")
	}
	if _, ok := got["lp__"]; !ok {
		t.Error("lp__ missing")
	}
	_, ref := parseDiagCSV(t, readFileT(t, filepath.Join("..", "..", "testdata", "cmdstan_csv", "expected.csv")))
	for v, rc := range ref {
		g, ok := got[v]
		if !ok {
			t.Errorf("variable %s missing from output", v)
			continue
		}
		for c, w := range rc {
			if !agreeRef(g[c], w) {
				t.Errorf("%s %s = %.12g, posterior %.12g", v, c, g[c], w)
			}
		}
	}
	for _, s := range []string{"divergent transitions: 0 of 2000", "mean accept_stat__", "max treedepth"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
}

func readFileT(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func agreeRef(got, want float64) bool {
	if math.IsNaN(got) || math.IsNaN(want) {
		return math.IsNaN(got) && math.IsNaN(want)
	}
	d := math.Abs(got - want)
	return d <= 1e-9 || d <= 1e-6*math.Abs(want)
}

// TestDiagnoseFormats checks the table and JSON forms, --vars and --out.
func TestDiagnoseFormats(t *testing.T) {
	code, out, stderr := diagRun(append([]string{"diagnose", "--vars", `^(beta|Omega)`}, sleepFiles...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "variable") || !strings.HasPrefix(lines[1], "beta[1]") || strings.Contains(out, "lp__ ") {
		t.Errorf("table:\n%s", out)
	}
	// Aligned: every row of the table as long as the header.
	for _, l := range lines[1:7] {
		if len(l) != len(lines[0]) {
			t.Errorf("row %q not aligned with header %q", l, lines[0])
		}
	}
	if !strings.Contains(out, "divergent transitions") || !strings.Contains(out, "Omega[1,1]") {
		t.Errorf("table lacks sampler notes or Omega:\n%s", out)
	}

	code, out, stderr = diagRun(append([]string{"diagnose", "--format", "json", "--vars", "Omega"}, sleepFiles...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Variables []map[string]any `json:"variables"`
		Sampler   map[string]any   `json:"sampler"`
		Warnings  []string         `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if len(doc.Variables) != 4 || doc.Variables[0]["rhat"] != nil || doc.Variables[1]["rhat"] == nil {
		t.Errorf("json variables: %s", out)
	}
	if doc.Sampler["divergent"] != float64(0) {
		t.Errorf("json sampler: %v", doc.Sampler)
	}

	dst := filepath.Join(t.TempDir(), "sum.csv")
	code, out, _ = diagRun(append([]string{"diagnose", "--format", "csv", "--out", dst}, sleepFiles...)...)
	if code != 0 || out != "" {
		t.Fatalf("--out: exit %d, stdout %q", code, out)
	}
	_, vals := parseDiagCSV(t, readFileT(t, dst))
	for v := range vals {
		if strings.HasSuffix(v, "__") && v != "lp__" {
			t.Errorf("--out file reports sampler statistic %s", v)
		}
	}
	if _, ok := vals["zeta[2,18]"]; !ok || len(vals) != 1+2+1+2+4+4+36+36 {
		t.Errorf("--out file has %d variables, want 86 with zeta[2,18]", len(vals))
	}
}

// TestDiagnoseWarnings checks the R-hat and ESS warnings on the stress
// draws, where ar099 has R-hat ≈ 1.35 and ESS ≈ 10.
func TestDiagnoseWarnings(t *testing.T) {
	var files []string
	for i := 1; i <= 4; i++ {
		files = append(files, filepath.Join("..", "..", "testdata", "diagnostics", "chain_"+strconv.Itoa(i)+".csv"))
	}
	code, out, stderr := diagRun(append([]string{"diagnose"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"warning: R-hat > 1.01", "warning: bulk-ESS < 400", "warning: tail-ESS < 400", "ar099"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	rhatLine := out[strings.Index(out, "warning: R-hat"):]
	rhatLine = rhatLine[:strings.Index(rhatLine, "\n")]
	if strings.Contains(rhatLine, "iid") || !strings.Contains(rhatLine, "shifted") {
		t.Errorf("R-hat warning names the wrong variables: %s", rhatLine)
	}
}

// TestDiagnoseBadFiles checks exit code 2, a message naming file and
// line, and that no output file is created.
func TestDiagnoseBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.csv", "lp__,a\n1,2\n3,4\n5,6\n")
	cases := []struct {
		files []string
		want  []string
	}{
		{[]string{write("ragged.csv", "lp__,a\n1,2\n3\n")}, []string{"ragged.csv:3:"}},
		{[]string{write("nonnum.csv", "# x\nlp__,a\n1,2\n3,abc\n")}, []string{"nonnum.csv:4:", `"abc"`}},
		{[]string{write("nohead.csv", "# x\n1,2\n")}, []string{"nohead.csv:2:", "header"}},
		{[]string{write("empty.csv", "")}, []string{"empty.csv:1:", "empty"}},
		{[]string{good, write("short.csv", "lp__,a\n1,2\n")}, []string{"short.csv", "good.csv"}},
		{[]string{good, write("mismatch.csv", "lp__,b\n1,2\n3,4\n5,6\n")}, []string{"mismatch.csv", "good.csv"}},
		{[]string{filepath.Join(dir, "absent.csv")}, []string{"absent.csv"}},
	}
	for _, c := range cases {
		dst := filepath.Join(dir, "out.csv")
		code, out, stderr := diagRun(append([]string{"diagnose", "--format", "csv", "--out", dst}, c.files...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.files, code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", c.files, stderr, w)
			}
		}
		if out != "" {
			t.Errorf("%v: stdout %q", c.files, out)
		}
		if _, err := os.Stat(dst); !os.IsNotExist(err) {
			t.Errorf("%v: output file created", c.files)
		}
		if m, _ := filepath.Glob(filepath.Join(dir, ".out.csv.tmp*")); len(m) > 0 {
			t.Errorf("%v: temporary file left: %v", c.files, m)
		}
	}
	for _, args := range [][]string{
		{"diagnose"},
		{"diagnose", "--format", "xml", good},
		{"diagnose", "--vars", "(", good},
		{"diagnose", "--vars", "nomatch", good},
	} {
		if code, _, _ := diagRun(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestDiagnoseMemoryBatches checks that diagnose with a budget of one
// column at a time prints exactly what it prints with every column at
// once.
func TestDiagnoseMemoryBatches(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "cmdstan_csv")
	files := []string{filepath.Join(dir, "sleepstudy_1.csv"), filepath.Join(dir, "sleepstudy_2.csv")}
	code, whole, stderr := runCLI(t, append([]string{"diagnose", "--format", "json"}, files...)...)
	if code != 0 {
		t.Fatalf("diagnose: %d %s", code, stderr)
	}
	// 2 chains × 1500 rows × 8 bytes = 24 KB per column: 1 MiB holds
	// about 40 columns, fewer than the file has.
	code, batched, stderr := runCLI(t, append([]string{"diagnose", "--format", "json", "--memory-mb", "1"}, files...)...)
	if code != 0 {
		t.Fatalf("diagnose --memory-mb 1: %d %s", code, stderr)
	}
	if whole != batched || !strings.Contains(whole, "\"divergent\"") {
		t.Errorf("batched output differs or lacks the sampler statistics:\n%s", batched)
	}
}

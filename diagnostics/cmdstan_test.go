package diagnostics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCmdStanReference reads rstan's two sleepstudy chains (500 saved
// warmup rows each) and checks Summarize against posterior's summary.
func TestCmdStanReference(t *testing.T) {
	dir := filepath.Join("..", "testdata", "cmdstan_csv")
	d, err := ReadCmdStan(filepath.Join(dir, "sleepstudy_1.csv"), filepath.Join(dir, "sleepstudy_2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if d.NumDraws() != 1000 || d.Chains[0].Warmup != 500 {
		t.Fatalf("draws %d, warmup %d; want 1000 and 500", d.NumDraws(), d.Chains[0].Warmup)
	}
	ref := readRef(t, filepath.Join(dir, "expected.csv"))
	for _, v := range ref.rows {
		j := d.Index(v)
		if j < 0 {
			t.Errorf("%s not found among %v", v, d.Names)
			continue
		}
		s := Summarize(d.Variable(j))
		got := map[string]float64{"mean": s.Mean, "sd": s.SD, "median": s.Median, "mad": s.MAD,
			"q5": s.Q5, "q95": s.Q95, "rhat": s.Rhat, "ess_bulk": s.ESSBulk, "ess_tail": s.ESSTail,
			"mcse_mean": s.MCSEMean, "mcse_sd": s.MCSESD}
		for _, c := range ref.cols {
			g, ok := got[c]
			if !ok {
				t.Errorf("no summary column for %q", c)
				continue
			}
			if !agrees(g, ref.val[v][c]) {
				t.Errorf("%s %s = %.12g, posterior %.12g", v, c, g, ref.val[v][c])
			}
		}
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"beta.1": "beta[1]", "Omega.2.1": "Omega[2,1]", "beta[1]": "beta[1]", "lp__": "lp__",
		"Omega[2,1]": "Omega[2,1]", "a.b": "a.b", ".1": ".1", "x.": "x.", "x.1.": "x.1.",
	} {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCmdStanWarmupForms checks the two comment styles for saved warmup
// and the thinning of saved warmup rows.
func TestCmdStanWarmupForms(t *testing.T) {
	rows := "a,b__\n1,0\n2,0\n# Adaptation terminated\n3,1\n4,0\n5,0\n#  Elapsed Time: 1 seconds\n"
	cases := []struct {
		head string
		skip int
	}{
		{"# num_warmup = 2\n# save_warmup = 1\n", 2},
		{"# num_warmup = 2 (Default)\n# save_warmup = true\n", 2},
		{"# warmup=2\n# save_warmup=1\n", 2},
		{"#   num_warmup = 3\n#   save_warmup = 1\n#   thin = 2\n", 2},
		{"# num_warmup = 2\n# save_warmup = 0\n", 0},
		{"# num_warmup = 2\n# save_warmup = false\n", 0},
		{"# warmup=2\n", 0},
	}
	for _, c := range cases {
		ch, err := ReadCmdStanChain(strings.NewReader(c.head+rows), "x.csv")
		if err != nil {
			t.Errorf("%q: %v", c.head, err)
			continue
		}
		if ch.Warmup != c.skip || len(ch.Draws) != 5-c.skip || ch.Draws[0][0] != float64(1+c.skip) {
			t.Errorf("%q: warmup %d, %d draws starting %v; want %d skipped", c.head, ch.Warmup, len(ch.Draws), ch.Draws[0], c.skip)
		}
	}
}

// TestCmdStanErrors checks that every malformed input is an error naming
// the file and the line.
func TestCmdStanErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.csv", "# c\na,b\n1,2\n3,4\n")
	cases := []struct {
		files []string
		want  []string
	}{
		{[]string{write("ragged.csv", "# c\na,b\n1,2\n3\n")}, []string{"ragged.csv:4:", "1 fields"}},
		{[]string{write("nonnum.csv", "a,b\n1,2\n3,x4\n")}, []string{"nonnum.csv:3:", "column 2 (b)", `"x4"`}},
		{[]string{write("nohead.csv", "# c\n# d\n1,2\n3,4\n")}, []string{"nohead.csv:3:", "missing header"}},
		{[]string{write("empty.csv", "")}, []string{"empty.csv:1:", "empty"}},
		{[]string{write("comments.csv", "# a\n# b\n")}, []string{"comments.csv:2:", "no header"}},
		{[]string{write("headonly.csv", "a,b\n")}, []string{"headonly.csv:1:", "no draws"}},
		{[]string{write("warm.csv", "# num_warmup = 5\n# save_warmup = 1\na,b\n1,2\n")}, []string{"warm.csv:4:", "5 warmup"}},
		{[]string{good, write("short.csv", "a,b\n1,2\n")}, []string{"short.csv", "good.csv", "1 post-warmup", "has 2"}},
		{[]string{good, write("other.csv", "a,c\n1,2\n3,4\n")}, []string{"other.csv", "good.csv", `"c"`, `"b"`}},
		{[]string{filepath.Join(dir, "missing.csv")}, []string{"missing.csv"}},
	}
	for _, c := range cases {
		_, err := ReadCmdStan(c.files...)
		if err == nil {
			t.Errorf("%v: no error", c.files)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not contain %q", c.files, err, w)
			}
		}
	}
}

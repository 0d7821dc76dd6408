package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// TestMemoryBudget runs the same seed with the default memory budget and
// with 1 MiB, which forces summary.csv to be computed a few columns at a
// time from the draws files and the ppc/coef/plot draws to be thinned:
// the draws and summary.csv must be byte-identical, run.json must say
// what was thinned, and summarize with a small budget must rewrite the
// same summary.
func TestMemoryBudget(t *testing.T) {
	big, small := filepath.Join(t.TempDir(), "big"), filepath.Join(t.TempDir(), "small")
	if code, _, stderr := runIn(t, big); code != 0 {
		t.Fatalf("default budget: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runIn(t, small, "--memory-mb", "1", "--draws", "2000"); code != 0 {
		t.Fatalf("1 MiB: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runIn(t, big+"2", "--draws", "2000"); code != 0 {
		t.Fatalf("default budget, 2000 draws: exit %d: %s", code, stderr)
	}
	// 4 chains × 2000 draws × 8 bytes = 62.5 KiB per column: 16 columns
	// per 1 MiB batch, against 47 summary columns.
	for _, f := range []string{"draws_1.csv", "draws_4.csv", "summary.csv", "random_effects.csv"} {
		a, err1 := os.ReadFile(filepath.Join(big+"2", f))
		b, err2 := os.ReadFile(filepath.Join(small, f))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", f, err1, err2)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between memory budgets", f)
		}
	}
	var rj struct{ Warnings []string }
	raw, err := os.ReadFile(filepath.Join(small, "run.json"))
	if err != nil || json.Unmarshal(raw, &rj) != nil {
		t.Fatalf("run.json: %v", err)
	}
	if !strings.Contains(strings.Join(rj.Warnings, "\n"), "use one draw in 6 of each chain") {
		t.Errorf("run.json warnings %q do not say the ppc draws were thinned", rj.Warnings)
	}
	for _, f := range []string{"ppc.csv", "coef.csv"} {
		if _, err := os.Stat(filepath.Join(small, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	before, _ := os.ReadFile(filepath.Join(small, "summary.csv"))
	if code, _, stderr := runCLI(t, "summarize", small, "--memory-mb", "1", "--format", "csv"); code != 0 {
		t.Fatalf("summarize: exit %d: %s", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(small, "summary.csv"))
	if !bytes.Equal(before, after) {
		t.Error("summarize --memory-mb 1 rewrote a different summary.csv")
	}
	if code, _, stderr := runIn(t, filepath.Join(t.TempDir(), "x"), "--memory-mb", "0"); code != exitInput || !strings.Contains(stderr, "output.memory_mb") {
		t.Errorf("--memory-mb 0: exit %d: %s", code, stderr)
	}
}

// TestSummarizeFilesBatches checks the batched summaries against the
// summaries of the whole draws in memory, for every batch size from one
// column to all of them.
func TestSummarizeFilesBatches(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "cmdstan_csv")
	files := []string{filepath.Join(dir, "sleepstudy_1.csv"), filepath.Join(dir, "sleepstudy_2.csv")}
	all, err := diagnostics.ReadCmdStan(files...)
	if err != nil {
		t.Fatal(err)
	}
	var cols []int
	for j := 1; j < len(all.Names); j++ {
		cols = append(cols, j)
	}
	want := diagnostics.SummarizeEach(len(cols), func(i int) [][]float64 { return all.Variable(cols[i]) }, 0)
	total := 2 * all.NumDraws()
	for _, per := range []int{1, 2, 5, len(cols)} {
		got, draws, err := summarizeFiles(files, cols, total, drawsBytes(total*per))
		if err != nil || draws != all.NumDraws() {
			t.Fatal(err, draws)
		}
		for i := range want {
			if !sameValues(got[i].Values(), want[i].Values()) {
				t.Fatalf("%d columns per batch: %s: %+v, want %+v", per, all.Names[cols[i]], got[i], want[i])
			}
		}
	}
	for _, f := range files {
		n, err := countRows(f)
		// The files hold their saved warmup too.
		if want := all.NumDraws() + all.Chains[0].Warmup; err != nil || n != want {
			t.Errorf("countRows(%s) = %d, %v; want %d", f, n, err, want)
		}
	}
	h, set, err := readHeader(files[0])
	if err != nil || len(h) != len(all.Names) || h[0] != all.Chains[0].Header[0] {
		t.Errorf("readHeader: %v, %v", h, err)
	}
	if set["warmup"] != all.Chains[0].Config["warmup"] || set["warmup"] != "500" {
		t.Errorf("readHeader settings: warmup %q, want %q", set["warmup"], all.Chains[0].Config["warmup"])
	}
}

// TestDrawsSinkNoAllocs checks that streaming a row allocates nothing.
func TestDrawsSinkNoAllocs(t *testing.T) {
	names := &sampler.Names{Columns: []string{"lp__", "b_x", "sigma"}}
	s, err := newDrawsSink(filepath.Join(t.TempDir(), "d.csv"), &drawsHeader{draws: 1000, thin: 1}, sampler.ChainInfo{ID: 1, Names: names})
	if err != nil {
		t.Fatal(err)
	}
	defer s.abort()
	row := sampler.RowOf([]float64{-1.25, 0.1, 3e-9})
	if a := testing.AllocsPerRun(500, func() { s.WriteDraw(row) }); a != 0 {
		t.Errorf("%.1f allocations per row", a)
	}
}

// sameValues compares two slices, NaN equal to NaN.
func sameValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

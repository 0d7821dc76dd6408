package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

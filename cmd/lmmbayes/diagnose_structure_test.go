package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiagnoseRefusesNonCmdStanAndWarnsTwice is issue 13 item 7: a CSV
// file without CmdStan structure (ppc.csv: no lp__ column, no "#"
// comments) is refused with exit 2 unless --any-csv is given, and a file
// given twice is warned about on stderr.
func TestDiagnoseRefusesNonCmdStanAndWarnsTwice(t *testing.T) {
	dir := t.TempDir()
	cfg := quickProject(t, dir, "")
	out := filepath.Join(dir, "out")
	if code, _, stderr := runCLI(t, "run", cfg, "--out", out, "--quiet", "--chains", "2"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	ppc := filepath.Join(out, "ppc.csv")
	if _, err := os.Stat(ppc); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "diagnose", ppc)
	if code != exitInput || stdout != "" {
		t.Fatalf("diagnose ppc.csv: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stderrOneLine(t, stderr, "ppc.csv", "not a CmdStan CSV file", "--any-csv")
	if code, stdout, stderr := runCLI(t, "diagnose", "--any-csv", ppc); code != 0 || !strings.Contains(stdout, "row") {
		t.Errorf("diagnose --any-csv ppc.csv: exit %d: %s %s", code, stdout, stderr)
	}

	d1, d2 := filepath.Join(out, "draws_1.csv"), filepath.Join(out, "draws_2.csv")
	code, _, stderr = runCLI(t, "diagnose", d1, d2)
	if code != 0 || stderr != "" {
		t.Errorf("diagnose of two chains: exit %d, stderr %q", code, stderr)
	}
	// The same file twice, once through another path.
	code, _, stderr = runCLI(t, "diagnose", d1, d2, filepath.Join(out, ".", "draws_1.csv"))
	if code != 0 {
		t.Fatalf("diagnose with a file twice: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "given twice") || !strings.Contains(stderr, "arguments 1 and 3") {
		t.Errorf("no warning about the file given twice: %q", stderr)
	}
}

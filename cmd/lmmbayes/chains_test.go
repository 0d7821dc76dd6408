package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChainIDMatchesFullRun runs a 3-chain run, then the same chains as
// three separate --chain-id runs into one dir, merged by summarize: the
// draws files and summary.csv must be byte-identical.
func TestChainIDMatchesFullRun(t *testing.T) {
	full, split := filepath.Join(t.TempDir(), "full"), filepath.Join(t.TempDir(), "split")
	if code, _, stderr := runIn(t, full, "--chains", "3"); code != 0 {
		t.Fatalf("full run: exit %d: %s", code, stderr)
	}
	// Chains in a different order, as a batch system might run them.
	for _, k := range []string{"3", "1", "2"} {
		code, stdout, stderr := runIn(t, split, "--chain-id", k)
		if code != 0 {
			t.Fatalf("chain %s: exit %d: %s", k, code, stderr)
		}
		if !strings.Contains(stdout, "draws_"+k+".csv") {
			t.Errorf("chain %s stdout: %q", k, stdout)
		}
	}
	if code, _, stderr := runIn(t, split, "--chain-id", "2"); code != exitInput || !strings.Contains(stderr, "draws_2.csv exists") {
		t.Errorf("rerun of chain 2 without --force: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "summarize", split)
	if code != 0 {
		t.Fatalf("summarize: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "3 chains × 400 draws") {
		t.Errorf("summarize stdout: %q", stdout)
	}
	checkSameFiles(t, full, split, "draws_1.csv", "draws_2.csv", "draws_3.csv", "summary.csv", "random_effects.csv")
	// summarize on the full run's dir rewrites the same summary.
	before, _ := os.ReadFile(filepath.Join(full, "summary.csv"))
	if code, _, stderr := runCLI(t, "summarize", full, "--format", "csv"); code != 0 {
		t.Fatalf("summarize full: %d %s", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(full, "summary.csv"))
	if !bytes.Equal(before, after) {
		t.Error("summarize changed a multi-chain run's summary.csv")
	}
}

func TestChainIDErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "x")
	if code, _, stderr := runIn(t, dir, "--chain-id", "0"); code != exitInput || !strings.Contains(stderr, "--chain-id must be positive") {
		t.Errorf("chain-id 0: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "summarize", dir); code != exitInput || !strings.Contains(stderr, "does not exist") {
		t.Errorf("summarize missing dir: %d %s", code, stderr)
	}
}

// TestSummarizeWarnsMixedSeeds checks that merging chains run with
// different seeds or warmup is flagged, in the table and, for csv
// output, on stderr.
func TestSummarizeWarnsMixedSeeds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mixed")
	if code, _, stderr := runIn(t, dir, "--chain-id", "1"); code != 0 {
		t.Fatalf("chain 1: %d %s", code, stderr)
	}
	if code, _, stderr := runIn(t, dir, "--chain-id", "2", "--seed", "8", "--warmup", "200"); code != 0 {
		t.Fatalf("chain 2: %d %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "summarize", dir)
	if code != 0 {
		t.Fatalf("summarize: %d %s", code, stderr)
	}
	for _, want := range []string{"different seed: draws_1.csv has seed = 7, draws_2.csv has seed = 8", "different num_warmup: draws_1.csv has num_warmup = 300, draws_2.csv has num_warmup = 200"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summarize output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = runCLI(t, "summarize", dir, "--format", "csv")
	if code != 0 || strings.Contains(stdout, "different seed") || !strings.Contains(stderr, "different seed") {
		t.Errorf("csv: exit %d, the warning should be on stderr only:\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// checkSameFiles checks that each of files is byte-identical in the full
// run's dir and the dir the chain runs were merged into.
func checkSameFiles(t *testing.T, full, split string, files ...string) {
	t.Helper()
	for _, f := range files {
		a, err1 := os.ReadFile(filepath.Join(full, f))
		b, err2 := os.ReadFile(filepath.Join(split, f))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", f, err1, err2)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the full run and the merged chain runs", f)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestRunProgressFlag checks that --progress writes the progress lines to
// a stderr that is not a terminal (a program driving lmmbayes reads them
// from a pipe), each chain ending at its last iteration, and that without
// it nothing but messages reaches such a stderr.
func TestRunProgressFlag(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	data, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "sleepstudy.csv"))
	os.WriteFile(cfg, []byte("[data]\npath = \""+data+"\"\nfactors = [\"Subject\"]\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n"+
		"[sampler]\nchains = 2\nwarmup = 100\ndraws = 100\nseed = 1\nmethod = \"collapsed\"\n[output]\nml_fit = false\n"), 0o644)
	code, _, stderr := runCLI(t, "run", cfg, "--out", filepath.Join(dir, "a"), "--progress")
	if code != 0 {
		t.Fatalf("run --progress: exit %d: %s", code, stderr)
	}
	for _, c := range []string{"1", "2"} {
		if !regexp.MustCompile(`chain ` + c + `: 200/200 \(`).MatchString(stderr) {
			t.Errorf("run --progress: no final progress of chain %s on stderr: %q", c, stderr)
		}
	}
	code, _, stderr = runCLI(t, "run", cfg, "--out", filepath.Join(dir, "b"))
	if code != 0 || regexp.MustCompile(`chain \d+: \d+/`).MatchString(stderr) {
		t.Errorf("run without --progress on a non-terminal: exit %d, stderr %q", code, stderr)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDroppedRowsReported is issue 13 item 4: rows with a missing value
// in a used column are dropped with a stderr line (count, first line
// numbers) from run and fit, and run.json has dropped_rows and the first
// 20 dropped_lines.
func TestDroppedRowsReported(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sleepstudy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	// NA in the response on 25 data rows; a missing value in an unused
	// column (none here) would not count.
	var want []int
	for i := 1; i < len(lines) && len(want) < 25; i += 7 {
		f := strings.Split(lines[i], ",")
		f[0] = "NA"
		lines[i] = strings.Join(f, ",")
		want = append(want, i+1)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "data.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte("[data]\npath = \"data.csv\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n"+
		"[sampler]\nchains = 1\nwarmup = 50\ndraws = 50\nseed = 1\n[output]\nml_fit = false\n"), 0o644)
	n := len(lines) - 1
	wantLine := fmt.Sprintf("dropped 25 rows with a missing value in a column the model uses (lines %d, %d, %d, %d, %d and 20 more); %d of %d rows are used",
		want[0], want[1], want[2], want[3], want[4], n-25, n)

	out := filepath.Join(dir, "out")
	code, _, stderr := runCLI(t, "run", cfg, "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "data.csv: "+wantLine) {
		t.Errorf("run's stderr lacks %q:\n%s", wantLine, stderr)
	}
	rj, _ := os.ReadFile(filepath.Join(out, "run.json"))
	var j struct {
		NObs         int   `json:"nobs"`
		DroppedRows  *int  `json:"dropped_rows"`
		DroppedLines []int `json:"dropped_lines"`
	}
	if err := json.Unmarshal(rj, &j); err != nil {
		t.Fatal(err)
	}
	if j.DroppedRows == nil || *j.DroppedRows != 25 || j.NObs != n-25 || !slices.Equal(j.DroppedLines, want[:20]) {
		t.Errorf("run.json: dropped_rows %v, nobs %d, dropped_lines %v; want 25, %d, %v", j.DroppedRows, j.NObs, j.DroppedLines, n-25, want[:20])
	}

	code, _, stderr = runCLI(t, "fit", cfg)
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, wantLine) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("fit's stderr is not the one line %q:\n%s", wantLine, stderr)
	}
	// No missing value: nothing said, and run.json says 0.
	code, _, stderr = runCLI(t, "fit", "--data", filepath.Join("..", "..", "testdata", "sleepstudy.csv"), "--formula", "Reaction ~ Days + (1 | Subject)")
	if code != 0 || stderr != "" {
		t.Errorf("fit without NA: exit %d, stderr %q", code, stderr)
	}
}

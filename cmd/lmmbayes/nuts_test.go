package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/sampler"
)

// TestRunNUTSStats runs method "nuts" from a config and checks that
// run.json holds every chain's NUTS statistics, the summary prints them
// and the draws files end with them.
func TestRunNUTSStats(t *testing.T) {
	dir := t.TempDir()
	data, err := filepath.Abs(filepath.Join("..", "..", "testdata", "politeness.csv"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte(`[data]
path = "`+data+`"
[model]
formula = "frequency ~ attitude + gender + (1 + attitude | subject) + (1 + attitude | scenario)"
[sampler]
chains = 2
warmup = 200
draws = 200
seed = 3
method = "nuts"
`), 0o644)
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdout: &out, stderr: &errb}
	if code := dispatch(e, []string{"run", cfg, "--out", filepath.Join(dir, "out")}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	raw, err := os.ReadFile(filepath.Join(dir, "out", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Method string `json:"method"`
		Chains []struct {
			NUTS *struct {
				StepSize  *float64 `json:"stepsize"`
				Divergent *int     `json:"divergent"`
				Depth     *int     `json:"max_treedepth_hits"`
				MaxDepth  *int     `json:"max_treedepth"`
				Leap      *float64 `json:"mean_n_leapfrog"`
			} `json:"nuts"`
		} `json:"chain_stats"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	if j.Method != "nuts" || len(j.Chains) != 2 {
		t.Fatalf("method %q, %d chains", j.Method, len(j.Chains))
	}
	for i, c := range j.Chains {
		if c.NUTS == nil || c.NUTS.StepSize == nil || c.NUTS.Divergent == nil || c.NUTS.Depth == nil || c.NUTS.MaxDepth == nil || c.NUTS.Leap == nil {
			t.Errorf("chain %d: NUTS statistics missing in run.json: %s", i+1, raw)
		}
	}
	if !strings.Contains(out.String(), "NUTS by chain (step size, mean leapfrog steps, divergent, max tree depth hits):") {
		t.Errorf("summary lacks the NUTS line:\n%s", out.String())
	}
	draws, _ := os.ReadFile(filepath.Join(dir, "out", "draws_1.csv"))
	if !strings.Contains(string(draws), "# NUTS on the variance parameters: step size") {
		t.Error("draws_1.csv lacks the NUTS trailer")
	}
}

// TestNUTSWarnings checks the divergence and tree-depth warnings: none
// without NUTS or without events, else one line each naming the chains.
func TestNUTSWarnings(t *testing.T) {
	if w := nutsWarnings([]*sampler.ChainResult{{ID: 1}}); len(w) != 0 {
		t.Errorf("warnings without NUTS: %v", w)
	}
	clean := &sampler.NUTSStats{StepSize: 0.3, MaxDepth: 10}
	if w := nutsWarnings([]*sampler.ChainResult{{ID: 1, NUTS: clean}}); len(w) != 0 {
		t.Errorf("warnings without divergences: %v", w)
	}
	w := nutsWarnings([]*sampler.ChainResult{
		{ID: 1, NUTS: &sampler.NUTSStats{Divergent: 3, MaxDepth: 10}},
		{ID: 2, NUTS: &sampler.NUTSStats{Divergent: 2, MaxTreeDepth: 7, MaxDepth: 10}},
	})
	if len(w) != 2 || !strings.HasPrefix(w[0], "5 divergent transitions after warmup (by chain 1: 3, 2: 2)") ||
		!strings.Contains(w[0], "warmup = 2000") || !strings.HasPrefix(w[1], "7 transitions after warmup hit the maximum tree depth 10 (by chain 2: 7)") {
		t.Errorf("warnings: %q", w)
	}
}

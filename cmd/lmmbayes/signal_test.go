package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as lmmbayes itself, so that signal
// tests can run the real main in a child process.
func TestMain(m *testing.M) {
	if os.Getenv("LMMBAYES_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// startRun starts "lmmbayes run" on sleepstudy in a child process with
// more draws than it can finish before the signal.
func startRun(t *testing.T, out string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "run", filepath.Join("..", "..", "configs", "sleepstudy.toml"),
		"--out", out, "--quiet", "--warmup", "200", "--draws", "100000000", "--seed", "5")
	cmd.Env = append(os.Environ(), "LMMBAYES_TEST_MAIN=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// waitSampling waits until the child has been sampling for a while.
func waitSampling() { time.Sleep(700 * time.Millisecond) }

// TestInterruptWritesFinishedDraws sends SIGINT during sampling: the run
// must stop, write its files from the draws made so far with run.json
// marked incomplete, and exit 130.
func TestInterruptWritesFinishedDraws(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	out := filepath.Join(t.TempDir(), "out")
	cmd, stderr := startRun(t, out)
	waitSampling()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code 130; stderr:\n%s", err, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatalf("run.json: %v; stderr:\n%s", err, stderr)
	}
	var rj struct {
		Incomplete bool     `json:"incomplete"`
		Warnings   []string `json:"warnings"`
	}
	if err := json.Unmarshal(raw, &rj); err != nil || !rj.Incomplete {
		t.Fatalf("run.json incomplete = %v (%v)", rj.Incomplete, err)
	}
	sum, err := os.ReadFile(filepath.Join(out, "summary.csv"))
	if err != nil || !strings.Contains(string(sum), "b_Days,") {
		t.Fatalf("summary.csv: %v", err)
	}
	// Every chain's file holds the same number of draws, as its header says.
	var rows []int
	for k := 1; k <= 4; k++ {
		raw, err := os.ReadFile(filepath.Join(out, "draws_"+string(rune('0'+k))+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				n++
			}
		}
		rows = append(rows, n-1)
		if !strings.Contains(string(raw), "# incomplete = 1") {
			t.Errorf("draws_%d.csv not marked incomplete", k)
		}
	}
	for _, n := range rows {
		if n != rows[0] || n < 4 {
			t.Fatalf("draws per chain %v", rows)
		}
	}
}

// TestSecondSignalExitsAtOnce sends two signals: the process must end at
// once, and whatever it leaves must not be a half-written run: either no
// output dir or a complete one.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	out := filepath.Join(t.TempDir(), "out")
	cmd, _ := startRun(t, out)
	waitSampling()
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	start := time.Now()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the second signal did not end the process")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Errorf("exit: %v, want code 130", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the process took %v to end after the second signal", d)
	}
	if _, err := os.Stat(out); err == nil {
		if _, err := os.Stat(filepath.Join(out, "run.json")); err != nil {
			t.Errorf("output dir exists without run.json: a partial run was left in place")
		}
	}
	// The draws streamed so far lived in a staging dir beside out: it
	// must be gone too.
	entries, _ := os.ReadDir(filepath.Dir(out))
	for _, en := range entries {
		if en.Name() != "out" {
			t.Errorf("left behind after the second signal: %s", en.Name())
		}
	}
}

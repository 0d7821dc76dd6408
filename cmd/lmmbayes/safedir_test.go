package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickProject writes into dir a small config c.toml (output dir outDir
// unless empty), a copy of the sleepstudy data, a notes file and a
// subdirectory, as a user's project dir holds them.
func quickProject(t *testing.T, dir, outLine string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sleepstudy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "data.csv"), raw, 0o644))
	must(os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("my notes\n"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "sub", "keep.txt"), []byte("keep\n"), 0o644))
	cfg := filepath.Join(dir, "c.toml")
	body := "[data]\npath = \"data.csv\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n" +
		"[sampler]\nchains = 1\nwarmup = 50\ndraws = 50\nseed = 1\n[output]\nml_fit = false\n" + outLine
	must(os.WriteFile(cfg, []byte(body), 0o644))
	return cfg
}

// projectIntact fails the test when a file of quickProject is gone.
func projectIntact(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{"c.toml", "data.csv", "notes.txt", "sub/keep.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s was removed: %v", f, err)
		}
	}
}

// stderrOneLine checks that stderr is one line holding every want.
func stderrOneLine(t *testing.T, stderr string, want ...string) {
	t.Helper()
	if strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 {
		t.Errorf("stderr is not one line:\n%s", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %q", stderr, w)
		}
	}
}

// TestRunForceNeverDeletesUserFiles is issue 13 item 1: --force replaces
// only a dir lmmbayes made (or an empty one), never the working dir, a
// dir holding the config or data, or one holding other files; and
// [output] dir = "" is an input error.
func TestRunForceNeverDeletesUserFiles(t *testing.T) {
	t.Run("working dir", func(t *testing.T) {
		dir := t.TempDir()
		cfg := quickProject(t, dir, "")
		t.Chdir(dir)
		code, _, stderr := runCLI(t, "run", cfg, "--out", ".", "--force", "--quiet")
		if code != exitInput {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		stderrOneLine(t, stderr, "--out:", "working directory")
		projectIntact(t, dir)
	})
	t.Run("empty dir key", func(t *testing.T) {
		dir := t.TempDir()
		cfg := quickProject(t, dir, "dir = \"\"\n")
		cfg2 := quickProject(t, t.TempDir(), "")
		t.Chdir(dir)
		code, _, stderr := runCLI(t, "run", cfg, "--force", "--quiet")
		if code != exitInput {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		stderrOneLine(t, stderr, "c.toml:12:", `"output.dir" is empty`)
		projectIntact(t, dir)
		if code, _, stderr := runCLI(t, "run", cfg2, "--out", "", "--quiet"); code != exitInput || !strings.Contains(stderr, "--out:") {
			t.Errorf("--out \"\": exit %d: %s", code, stderr)
		}
	})
	t.Run("dir holding the config", func(t *testing.T) {
		dir := t.TempDir()
		cfg := quickProject(t, dir, "dir = \".\"\n")
		os.WriteFile(filepath.Join(dir, runMarker), []byte(markerText), 0o644)
		code, _, stderr := runCLI(t, "run", cfg, "--force", "--quiet")
		if code != exitInput {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		stderrOneLine(t, stderr, "c.toml:12:", "config file")
		projectIntact(t, dir)
	})
	t.Run("dir holding the data", func(t *testing.T) {
		dir := t.TempDir()
		cfg := quickProject(t, dir, "")
		sub := filepath.Join(dir, "sub")
		os.Rename(filepath.Join(dir, "data.csv"), filepath.Join(sub, "data.csv"))
		code, _, stderr := runCLI(t, "run", cfg, "--data", filepath.Join(sub, "data.csv"), "--out", sub, "--force", "--quiet")
		if code != exitInput {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		stderrOneLine(t, stderr, "--out:", "data file")
		if _, err := os.Stat(filepath.Join(sub, "keep.txt")); err != nil {
			t.Error("sub/keep.txt removed")
		}
	})
	t.Run("dir of other files", func(t *testing.T) {
		dir := t.TempDir()
		cfg := quickProject(t, dir, "")
		other := filepath.Join(t.TempDir(), "other")
		os.MkdirAll(other, 0o755)
		os.WriteFile(filepath.Join(other, "thesis.tex"), []byte("x"), 0o644)
		code, _, stderr := runCLI(t, "run", cfg, "--out", other, "--force", "--quiet")
		if code != exitInput {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		stderrOneLine(t, stderr, "--out:", runMarker)
		if _, err := os.Stat(filepath.Join(other, "thesis.tex")); err != nil {
			t.Error("thesis.tex removed")
		}
	})
	t.Run("run dir replaced, foreign file kept", func(t *testing.T) {
		dir := t.TempDir()
		cfg := quickProject(t, dir, "")
		out := filepath.Join(dir, "out")
		if code, _, stderr := runCLI(t, "run", cfg, "--out", out, "--quiet"); code != 0 {
			t.Fatalf("first run: exit %d: %s", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(out, runMarker)); err != nil {
			t.Fatalf("no marker in the output dir: %v", err)
		}
		os.WriteFile(filepath.Join(out, "notes.txt"), []byte("x"), 0o644)
		code, _, stderr := runCLI(t, "run", cfg, "--out", out, "--force", "--quiet")
		if code != exitInput {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		stderrOneLine(t, stderr, "--out:", "notes.txt")
		if _, err := os.Stat(filepath.Join(out, "notes.txt")); err != nil {
			t.Error("notes.txt removed")
		}
		os.Remove(filepath.Join(out, "notes.txt"))
		if code, _, stderr := runCLI(t, "run", cfg, "--out", out, "--force", "--seed", "2", "--quiet"); code != 0 {
			t.Fatalf("--force on a run dir: exit %d: %s", code, stderr)
		}
		projectIntact(t, dir)
	})
}

// TestRunThroughSymlinkKeepsDirMode is issue 13 item 2: an output dir
// that is a symbolic link is written through (the link stays a link,
// the files land in its target, also on --force), and an existing empty
// dir keeps its permissions: lmmbayes never chmods it, and when it
// cannot write there it fails with exit 1 saying so.
func TestRunThroughSymlinkKeepsDirMode(t *testing.T) {
	t.Run("symlink", func(t *testing.T) {
		dir := t.TempDir()
		cfg := quickProject(t, dir, "")
		target := filepath.Join(t.TempDir(), "real")
		os.Mkdir(target, 0o755)
		link := filepath.Join(dir, "out")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		for i, extra := range [][]string{nil, {"--force", "--seed", "5"}} {
			args := append([]string{"run", cfg, "--out", link, "--quiet"}, extra...)
			if code, _, stderr := runCLI(t, args...); code != 0 {
				t.Fatalf("run %d: exit %d: %s", i+1, code, stderr)
			}
			fi, err := os.Lstat(link)
			if err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("run %d: the output symlink was replaced (%v, %v)", i+1, fi.Mode(), err)
			}
			if _, err := os.Stat(filepath.Join(target, "draws_1.csv")); err != nil {
				t.Fatalf("run %d: the draws did not land in the link's target: %v", i+1, err)
			}
		}
		entries, _ := os.ReadDir(filepath.Dir(target))
		if len(entries) != 1 {
			t.Errorf("left beside the target: %v", entries)
		}
	})
	t.Run("read-only empty dir", func(t *testing.T) {
		dir := t.TempDir()
		cfg := quickProject(t, dir, "")
		out := filepath.Join(dir, "out")
		os.Mkdir(out, 0o555)
		defer os.Chmod(out, 0o755)
		code, _, stderr := runCLI(t, "run", cfg, "--out", out, "--quiet")
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o555 {
			t.Errorf("the output dir's mode changed to %v", fi.Mode().Perm())
		}
		if os.Geteuid() == 0 {
			// root may write into it: the run succeeds, mode kept.
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			return
		}
		if code != exitInternal {
			t.Fatalf("exit %d, want %d: %s", code, exitInternal, stderr)
		}
		stderrOneLine(t, stderr, "--out:", "not writable")
	})
}

// TestRunFileModesAndStaleStage is issue 13 item 3: every file of a run
// is created 0644 and every dir 0755 (under umask 002, which would show
// 0664 for a file made by os.Create and 0600 for one by os.CreateTemp),
// and the staging dir a SIGKILLed run leaves beside the output dir is
// removed by the next run into the same place, which says so on stderr.
func TestRunFileModesAndStaleStage(t *testing.T) {
	t.Run("modes", func(t *testing.T) {
		dir := t.TempDir()
		cfg := quickProject(t, dir, "plots = true\n")
		old := syscall.Umask(0o002)
		defer syscall.Umask(old)
		out := filepath.Join(dir, "out")
		if code, _, stderr := runCLI(t, "run", cfg, "--out", out, "--quiet"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		n := 0
		filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := d.Info()
			want := fs.FileMode(0o644)
			if d.IsDir() {
				want = 0o755
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
			}
			n++
			return nil
		})
		if n < 10 {
			t.Errorf("only %d files and dirs", n)
		}
	})
	t.Run("stale stage", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts a child process")
		}
		parent := t.TempDir()
		out := filepath.Join(parent, "out")
		cmd, stderr := startRun(t, out)
		var stage string
		for try := 0; try < 200 && stage == ""; try++ {
			time.Sleep(20 * time.Millisecond)
			if m, _ := filepath.Glob(filepath.Join(parent, ".out.tmp-*")); len(m) == 1 {
				if _, err := os.Stat(filepath.Join(m[0], "draws_1.csv")); err == nil {
					stage = m[0]
				}
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		if stage == "" {
			t.Fatalf("no staging dir appeared; stderr:\n%s", stderr)
		}
		// The staging dir of a run still going (this process) is kept.
		live := filepath.Join(parent, fmt.Sprintf(".out.tmp-%d-live", os.Getpid()))
		os.Mkdir(live, 0o755)
		writeMarker(live)
		code, _, errText := runIn(t, out)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errText)
		}
		if _, err := os.Stat(live); err != nil {
			t.Errorf("the staging dir of a live process was removed")
		}
		os.RemoveAll(live)
		if !strings.Contains(errText, "removed "+stage) || !strings.Contains(errText, "interrupted run") {
			t.Errorf("stderr does not report the removal:\n%s", errText)
		}
		entries, _ := os.ReadDir(parent)
		if len(entries) != 1 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("left beside the output dir: %v", names)
		}
	})
}

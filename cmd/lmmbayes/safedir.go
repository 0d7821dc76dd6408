package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/lmmbayes/lmmbayes/internal/outfile"
)

// runMarker is the file lmmbayes writes into every output dir it makes;
// --force replaces only a dir that holds it (or an empty one).
const runMarker = ".lmmbayes-run"

// markerText is the content of the marker file.
const markerText = "This directory was made by lmmbayes run; \"lmmbayes run --force\" may replace it whole.\n"

// writeMarker writes the marker file into dir, with the host and process
// that made it (a stale staging dir is recognised by them).
func writeMarker(dir string) error {
	host, _ := os.Hostname()
	text := fmt.Sprintf("%shost %s\npid %d\n", markerText, host, os.Getpid())
	return os.WriteFile(filepath.Join(dir, runMarker), []byte(text), 0o644)
}

// Files are created 0644 and dirs 0755, subject to the umask, whichever
// code writes them (outfile.FileMode, outfile.DirMode).
const dirMode = outfile.DirMode

// stagePrefix is the name prefix of the staging dirs of output dir dir;
// the process id follows, so that a stale one can be recognised.
func stagePrefix(dir string) string {
	return "." + filepath.Base(dir) + ".tmp-"
}

// makeStage creates the staging dir of output dir dir beside it, with
// dirMode, named stagePrefix, the process id and a random suffix.
func makeStage(dir string) (string, error) {
	for try := 0; ; try++ {
		stage := filepath.Join(filepath.Dir(dir), fmt.Sprintf("%s%d-%s", stagePrefix(dir), os.Getpid(), outfile.RandomSuffix()))
		err := os.Mkdir(stage, dirMode)
		if os.IsExist(err) && try < 10000 {
			continue
		}
		return stage, err
	}
}

var stageNameRE = regexp.MustCompile(`^(\d+)-[0-9a-z]+(\.old)?$`)

// removeStaleStages removes the staging dirs of output dir dir that a run
// killed before it finished (SIGKILL, a power cut) left beside it: those
// named as makeStage names them, made on this host by a process that no
// longer runs (a staging dir holds the marker saying so; ".old" dirs, an
// earlier run's files moved aside, are recognised by name). It says what
// it removed on w.
func removeStaleStages(dir string, w io.Writer) {
	parent, prefix := filepath.Dir(dir), stagePrefix(dir)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	host, _ := os.Hostname()
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, prefix) {
			continue
		}
		m := stageNameRE.FindStringSubmatch(name[len(prefix):])
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || processAlive(pid) {
			continue
		}
		path := filepath.Join(parent, name)
		if m[2] == "" {
			raw, err := os.ReadFile(filepath.Join(path, runMarker))
			if err != nil || !strings.HasPrefix(string(raw), markerText) || !strings.Contains(string(raw), "\nhost "+host+"\n") {
				continue
			}
		}
		if err := os.RemoveAll(path); err != nil {
			fmt.Fprintf(w, "lmmbayes: %s: could not remove the staging dir of an interrupted run: %v\n", path, err)
			continue
		}
		fmt.Fprintf(w, "lmmbayes: removed %s, left by an interrupted run (process %d) into %s\n", path, pid, dir)
	}
}

// processAlive reports whether process pid exists on this host.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// runFileRE matches the names lmmbayes writes into a run dir: run writes
// most, predict predictions.csv, plot plots/ and report.html; hidden
// temporary files are those of saveAtomically.
var runFileRE = regexp.MustCompile(`^(draws_\d+\.csv|run_\d+\.json|summary\.csv|random_effects\.csv|ppc\.csv|ppc_stats\.csv|coef\.csv|ml_fit\.json|run\.json|report\.html|plots|predictions\.csv|log_lik_\d+\.csv|loo\.csv|bayes_R2\.csv|waic\.csv|loo_group_.+\.csv|kfold\.json|kfold\.csv|kfold_\d+\.csv|\.lmmbayes-run|\..+\.tmp.*)$`)

// realPath returns p made absolute with its symbolic links resolved (as
// far as they exist; p itself may not).
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	parent, base := filepath.Split(abs)
	parent = filepath.Clean(parent)
	if parent == abs {
		return abs
	}
	return filepath.Join(realPath(parent), base)
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && (rel == "." || rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}

// checkRunDir decides whether a run may write into the output dir dir: a
// dir that does not exist or is empty always; one that holds files only
// with force, and then only when lmmbayes made it (it holds the marker)
// and everything in it is a file a run writes. The working directory, a
// dir holding it, or one holding the config or the data file is never
// used. The refusals are input errors (exit 2) naming the key or flag.
func checkRunDir(cfg *config, dir string, force bool) error {
	where := cfg.where("output.dir")
	real := realPath(dir)
	if wd, err := os.Getwd(); err == nil && within(realPath(wd), real) {
		what := "is the working directory"
		if realPath(wd) != real {
			what = "holds the working directory"
		}
		return inputErrorf("%s: output dir %s %s; a run needs a dir of its own (for example --out run1)", where, dir, what)
	}
	if cfg.path != "" && within(realPath(cfg.path), real) {
		return inputErrorf("%s: output dir %s holds the config file %s; a run needs a dir of its own", where, dir, cfg.path)
	}
	if data := cfg.resolve(cfg.Data.Path); data != "" && within(realPath(data), real) {
		return inputErrorf("%s: output dir %s holds the data file %s; a run needs a dir of its own", where, dir, data)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case os.IsNotExist(err):
		return nil
	case err != nil:
		return fmt.Errorf("%s: output dir: %w", where, err)
	case len(entries) == 0:
		return writable(where, dir)
	case !force:
		return inputErrorf("%s: output dir %s already holds files; use --force to replace it, or choose another dir", where, dir)
	}
	if _, err := os.Lstat(filepath.Join(dir, runMarker)); err != nil {
		return inputErrorf("%s: output dir %s holds files and was not made by lmmbayes (no %s file): --force replaces only a run's dir; choose another dir", where, dir, runMarker)
	}
	for _, e := range entries {
		if !runFileRE.MatchString(e.Name()) {
			return inputErrorf("%s: output dir %s holds %s, which lmmbayes did not write: --force would delete it; move it out or choose another dir", where, dir, e.Name())
		}
	}
	return writable(where, dir)
}

// writable returns an internal error (exit 1) when the existing dir
// cannot be written: lmmbayes never changes a directory's permissions.
func writable(where, dir string) error {
	if err := syscall.Access(dir, 0x2|0x1); err != nil { // W_OK|X_OK
		return fmt.Errorf("%s: output dir %s is not writable (%v); lmmbayes does not change a directory's permissions: fix them or choose another dir", where, dir, err)
	}
	return nil
}

// resolveOutDir returns the directory the run's files go into: dir
// itself, or, when dir is a symbolic link, the directory it points to,
// so that the files are written through the link and the link stays.
func resolveOutDir(where, dir string) (string, error) {
	fi, err := os.Lstat(dir)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return dir, nil
	}
	target, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("%s: output dir %s is a symbolic link that cannot be followed: %w", where, dir, err)
	}
	if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%s: output dir %s is a symbolic link to %s, which is not a directory", where, dir, target)
	}
	return target, nil
}

// moveInto moves every entry of the finished stage into the existing dir,
// whose own entries (an earlier run's, checked by checkRunDir) are first
// moved aside into old and removed at the end. The dir itself, its
// permissions, and a symbolic link to it are kept.
func moveInto(stage, dir, old string) error {
	prev, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	if len(prev) > 0 {
		if err := os.Mkdir(old, dirMode); err != nil {
			return fmt.Errorf("output dir: %w", err)
		}
		for _, e := range prev {
			if err := os.Rename(filepath.Join(dir, e.Name()), filepath.Join(old, e.Name())); err != nil {
				return fmt.Errorf("output dir: %w", err)
			}
		}
	}
	entries, err := os.ReadDir(stage)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	// The marker goes last: a move cut short leaves it in the stage,
	// which removeStaleStages then recognises, and the output dir without
	// it, which --force then refuses to delete.
	slices.SortStableFunc(entries, func(a, b os.DirEntry) int {
		return cmpBool(a.Name() == runMarker, b.Name() == runMarker)
	})
	for _, e := range entries {
		if err := os.Rename(filepath.Join(stage, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("output dir %s: %w", dir, err)
		}
	}
	os.Remove(stage)
	if len(prev) > 0 {
		return os.RemoveAll(old)
	}
	return nil
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

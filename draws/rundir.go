package draws

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
)

var drawsFileRE = regexp.MustCompile(`^draws_(\d+)\.csv$`)

// Files lists dir's draws_<k>.csv files in chain order; a missing dir or
// one without draws files is an *InputError.
func Files(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, Inputf("output dir %s does not exist: no run to read (run \"lmmbayes run CONFIG\" first)", dir)
		}
		return nil, Inputf("output dir %s: %v", dir, err)
	}
	type f struct {
		k    int
		name string
	}
	var fs []f
	for _, e := range ents {
		if m := drawsFileRE.FindStringSubmatch(e.Name()); m != nil && !e.IsDir() {
			k, _ := strconv.Atoi(m[1])
			fs = append(fs, f{k, e.Name()})
		}
	}
	if len(fs) == 0 {
		return nil, Inputf("output dir %s holds no draws_*.csv: no run to read (run \"lmmbayes run CONFIG\" first)", dir)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].k < fs[j].k })
	out := make([]string, len(fs))
	for i, x := range fs {
		out[i] = filepath.Join(dir, x.name)
	}
	return out, nil
}

// ReadOptions select what Read reads.
type ReadOptions struct {
	// KeepRE, when not nil, keeps only the r_ columns it accepts (nil
	// keeps all): predict needs only the levels of its new data, which
	// bounds its memory on models with many levels.
	KeepRE func(rc REColumn) bool
	// Thin > 1 keeps one draw in Thin of each chain.
	Thin int
}

// Read reads the draws files of the run in dir and checks their columns
// against design d: they must be exactly the columns a run of d writes,
// with or without the r_ columns. The Draws' Names then list the
// columns kept.
func Read(dir string, d *model.Design, opt ReadOptions) (*Draws, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	header, _, err := ReadHeader(files[0])
	if err != nil {
		return nil, AsInput(fmt.Errorf("reading the run in %s: %w", dir, err))
	}
	full := ColumnNames(d, true)
	var names *Names
	switch {
	case slices.Equal(header, full.Columns):
		names = full
	default:
		short := ColumnNames(d, false)
		if !slices.Equal(header, short.Columns) {
			return nil, Inputf("%s: its columns are not those of the model in the config (%s); was the config changed after the run?",
				files[0], columnMismatch(header, full.Columns))
		}
		names = short
	}
	ro := diagnostics.ReadOptions{Thin: max(opt.Thin, 1)}
	if opt.KeepRE != nil && len(names.RE) > 0 {
		sub := *names
		nHead := len(names.Columns) - len(names.RE)
		sub.Columns = slices.Clone(names.Columns[:nHead])
		sub.RE = nil
		for j := range nHead {
			ro.Columns = append(ro.Columns, j)
		}
		for i, rc := range names.RE {
			if opt.KeepRE(rc) {
				ro.Columns = append(ro.Columns, nHead+i)
				sub.Columns = append(sub.Columns, rc.Column)
				sub.RE = append(sub.RE, rc)
			}
		}
		names = &sub
	}
	dr, err := diagnostics.ReadCmdStanWith(ro, files...)
	if err != nil {
		return nil, AsInput(fmt.Errorf("reading the run in %s: %w", dir, err))
	}
	p := &Draws{Names: names, HasRE: len(names.RE) > 0 || ro.Columns != nil, Source: dir}
	p.addChains(dr)
	if p.NumDraws() == 0 {
		return nil, Inputf("%s: the run in %s has no draws", files[0], dir)
	}
	return p, nil
}

// ReadColumns reads the draws files of the run in dir without a design:
// only the column names are known (Names.Columns; HasRE false). thin > 1
// keeps one draw in thin of each chain.
func ReadColumns(dir string, thin int) (*Draws, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	dr, err := diagnostics.ReadCmdStanWith(diagnostics.ReadOptions{Thin: max(thin, 1)}, files...)
	if err != nil {
		return nil, AsInput(fmt.Errorf("reading the run in %s: %w", dir, err))
	}
	if dr.NumDraws() == 0 {
		return nil, Inputf("%s: the run in %s has no draws", files[0], dir)
	}
	p := &Draws{Names: &Names{Columns: dr.Chains[0].Header}, Source: dir}
	p.addChains(dr)
	return p, nil
}

// columnMismatch describes the first difference between two headers.
func columnMismatch(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("column %d is %q, the model has %q", i+1, got[i], want[i])
		}
	}
	if len(got) < len(want) {
		return fmt.Sprintf("the file has %d columns, the model %d: %q is missing", len(got), len(want), want[len(got)])
	}
	return fmt.Sprintf("the file has %d columns, the model %d: %q is extra", len(got), len(want), got[len(want)])
}

// Seed returns the seed recorded in dir/run.json, and whether there is
// a readable run.json.
func Seed(dir string) (uint64, bool) {
	m, err := ReadMetaFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return 0, false
	}
	return m.Seed, true
}

// metaFile returns the file that records a run in dir: run.json, or for
// chains run as separate processes the first run_K.json ("" when there
// is none).
func metaFile(dir string) string {
	p := filepath.Join(dir, "run.json")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	best, bestK := "", 0
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		m := runChainJSONRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if k, err := strconv.Atoi(m[1]); err == nil && (best == "" || k < bestK) {
			best, bestK = filepath.Join(dir, e.Name()), k
		}
	}
	return best
}

var runChainJSONRE = regexp.MustCompile(`^run_(\d+)\.json$`)

// ReadMeta reads the record of the run in dir (run.json, or in chain mode
// the first run_K.json) and returns it with the file it came from: nil,
// "" when there is none.
func ReadMeta(dir string) (*RunMeta, string, error) {
	p := metaFile(dir)
	if p == "" {
		return nil, "", nil
	}
	m, err := ReadMetaFile(p)
	return m, p, err
}

// ReadMetaFile reads a run.json (or run_K.json) file.
func ReadMetaFile(path string) (*RunMeta, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, Inputf("%s: %v", path, err)
	}
	var m RunMeta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, Inputf("%s: %v", path, err)
	}
	return &m, nil
}

// CheckData refuses, for what (a command that reads the training data:
// compare, the PPC plot), a data file at path that is not the one the
// run in dir was fitted to: its size or SHA-256 differ from those
// recorded in meta (read from metaPath). A run that recorded none (made
// before lmmbayes recorded them) is let through with a warning.
func CheckData(what, path, dir string, meta *RunMeta, metaPath string) (warning string, err error) {
	if meta == nil || meta.DataFile == nil || meta.DataFile.SHA256 == "" {
		where := metaPath
		if where == "" {
			where = filepath.Join(dir, "run.json")
		}
		return fmt.Sprintf("%s records no fingerprint of the data file (a run made before lmmbayes recorded one): %s cannot check that %s is the data the run was fitted to", where, what, path), nil
	}
	size, sum, err := fingerprint(path)
	if err != nil {
		return "", Inputf("%s: %s: data: %v", path, what, err)
	}
	df := meta.DataFile
	if size != df.Size || sum != df.SHA256 {
		return "", Inputf("%s: %s: the data file changed since the run in %s was made (now %d bytes, SHA-256 %.12s…; the run read %d bytes, SHA-256 %.12s…, recorded in %s): restore the data the run was fitted to, or run again",
			path, what, dir, size, sum, df.Size, df.SHA256, filepath.Base(metaPath))
	}
	return "", nil
}

// fingerprint returns the size and hex SHA-256 of the file at path.
func fingerprint(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

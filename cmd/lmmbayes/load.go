package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lmmbayes/lmmbayes/model"
)

// modelFlags are the flags that name a model without a config file
// (--data, --formula, --factors) or override the config's.
type modelFlags struct {
	data    *string
	formula *string
	factors *string
	// weights is --weights (run and fit only; nil elsewhere).
	weights *string
}

// addModelFlags registers --data, --formula and --factors on fs.
func addModelFlags(fs *flagSet) *modelFlags {
	return &modelFlags{
		data:    fs.String("data", "", "CSV `file` with a header row (overrides [data] path)"),
		formula: fs.String("formula", "", "lme4-style model `formula` (overrides [model] formula)"),
		factors: fs.String("factors", "", "comma-separated `columns` to treat as categorical (overrides [data] factors)"),
	}
}

// addModelFlagsWeights is addModelFlags with --weights.
func addModelFlagsWeights(fs *flagSet) *modelFlags {
	m := addModelFlags(fs)
	m.addWeightsFlag(fs)
	return m
}

// addWeightsFlag registers --weights (run and fit).
func (m *modelFlags) addWeightsFlag(fs *flagSet) {
	m.weights = fs.String("weights", "", "`column` of prior weights: residual variance sigma^2/w, as lmer's weights= (overrides [data] weights)")
}

// config returns the config named by pos (at most one path) with the
// flags applied, or one built from the flags alone.
func (m *modelFlags) config(pos []string) (*config, error) {
	var cfg *config
	switch len(pos) {
	case 0:
		if *m.data == "" || *m.formula == "" {
			return nil, inputErrorf("give a config file, or both --data and --formula")
		}
		cfg = defaultConfig()
	case 1:
		var err error
		if cfg, err = loadConfig(pos[0]); err != nil {
			return nil, err
		}
	default:
		return nil, inputErrorf("expected one config file, got %d arguments: %q", len(pos), pos)
	}
	if *m.data != "" {
		cfg.Data.Path = *m.data
		cfg.flagKeys["data.path"] = "--data"
		if len(pos) == 1 {
			// A path given on the command line is relative to the
			// working directory, not to the config file.
			abs, err := absPath(*m.data)
			if err != nil {
				return nil, err
			}
			cfg.Data.Path = abs
		}
	}
	if *m.formula != "" {
		cfg.Model.Formula = *m.formula
		cfg.flagKeys["model.formula"] = "--formula"
	}
	if *m.factors != "" {
		cfg.Data.Factors = splitList(*m.factors)
		cfg.flagKeys["data.factors"] = "--factors"
	}
	if m.weights != nil && *m.weights != "" {
		cfg.Data.Weights = *m.weights
		cfg.flagKeys["data.weights"] = "--weights"
	}
	if cfg.Data.Path == "" {
		return nil, inputErrorf("%s: key \"data.path\" is missing: name the CSV file", cfg.where("data"))
	}
	if cfg.Model.Formula == "" {
		return nil, inputErrorf("%s: key \"model.formula\" is missing", cfg.where("model"))
	}
	return cfg, nil
}

// buildDesign reads the config's data and formula and builds the design.
func buildDesign(cfg *config) (*model.Design, error) {
	d, _, err := buildDesignDropped(cfg)
	return d, err
}

// maxDroppedLines is how many line numbers of dropped rows run.json lists.
const maxDroppedLines = 20

// droppedRows describes the data rows the design left out for a missing
// value in a column the model uses.
type droppedRows struct {
	source string
	rows   int   // of the file's data rows
	n      int   // dropped
	lines  []int // file lines of the first maxDroppedLines dropped rows
	// size and sha256 fingerprint the data file as it was read (bytes
	// and hex SHA-256), and categorical lists the columns read as
	// categorical: a run records them in run.json.
	size        int64
	sha256      string
	categorical []string
}

// report returns the stderr line about the dropped rows ("" when none).
func (dr *droppedRows) report() string {
	if dr == nil || dr.n == 0 {
		return ""
	}
	const shown = 5
	var ls []string
	for _, l := range dr.lines[:min(shown, len(dr.lines))] {
		ls = append(ls, strconv.Itoa(l))
	}
	where := "line " + ls[0]
	if dr.n > 1 {
		where = "lines " + strings.Join(ls, ", ")
		if dr.n > shown {
			where += fmt.Sprintf(" and %d more", dr.n-shown)
		}
	}
	rows := "rows"
	if dr.n == 1 {
		rows = "row"
	}
	return fmt.Sprintf("lmmbayes: %s: dropped %d %s with a missing value in a column the model uses (%s); %d of %d rows are used",
		dr.source, dr.n, rows, where, dr.rows-dr.n, dr.rows)
}

// buildDesignDropped is buildDesign that also says which rows were
// dropped for a missing value.
func buildDesignDropped(cfg *config) (*model.Design, *droppedRows, error) {
	d, _, dr, err := buildDesignFrame(cfg)
	return d, dr, err
}

// buildDesignFrame is buildDesignDropped that also returns the training
// frame (predict reads new data with its column types).
func buildDesignFrame(cfg *config) (*model.Design, *model.Frame, *droppedRows, error) {
	f, err := model.ParseFormula(cfg.Model.Formula)
	if err != nil {
		return nil, nil, nil, formulaError(cfg, err)
	}
	path := cfg.resolve(cfg.Data.Path)
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, inputErrorf("%s: data: %v", cfg.where("data.path"), err)
	}
	defer file.Close()
	// The data are hashed as they are read, so that a run can record
	// which file it was fitted to (fingerprint).
	h := sha256.New()
	cnt := &countWriter{}
	tee := io.TeeReader(file, io.MultiWriter(h, cnt))
	fr, lines, err := model.ReadFrameLines(tee, path, model.FrameOptions{Factors: cfg.Data.Factors, NA: cfg.Data.NA})
	if err != nil {
		return nil, nil, nil, asInput(err)
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return nil, nil, nil, inputErrorf("%s: data: %v", cfg.where("data.path"), err)
	}
	d, err := model.Build(f, fr, model.BuildOptions{Reference: cfg.Data.Reference, Weights: cfg.Data.Weights, Offset: cfg.Data.Offset,
		DropRankDeficient: cfg.Model.RankDeficient != "error"})
	if err != nil {
		var fe *model.FormulaError
		if errors.As(err, &fe) {
			return nil, nil, nil, formulaError(cfg, fe)
		}
		if strings.Contains(err.Error(), "model matrix is rank deficient") {
			err = fmt.Errorf("%w (%s: model.rank_deficient = \"error\"; \"drop\" drops them as lme4 does)", err, cfg.where("model.rank_deficient"))
		}
		return nil, nil, nil, asInput(err)
	}
	dr := &droppedRows{source: path, rows: fr.NRows, n: fr.NRows - len(d.Rows), lines: []int{},
		size: cnt.n, sha256: hex.EncodeToString(h.Sum(nil)), categorical: categoricalColumns(fr)}
	next := 0 // d.Rows is increasing
	for i := 0; i < fr.NRows && len(dr.lines) < maxDroppedLines; i++ {
		if next < len(d.Rows) && d.Rows[next] == i {
			next++
			continue
		}
		dr.lines = append(dr.lines, lines[i])
	}
	return d, fr, dr, nil
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// categoricalColumns lists the columns of fr read as categorical.
func categoricalColumns(fr *model.Frame) []string {
	out := []string{}
	for _, c := range fr.Columns {
		if c.Categorical {
			out = append(out, c.Name)
		}
	}
	return out
}

// fileFingerprint returns the size and hex SHA-256 of the file at path.
func fileFingerprint(path string) (int64, string, error) {
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

// formulaError prefixes a formula error with where the formula came from;
// main prints the formula's echo-and-caret detail under the message.
func formulaError(cfg *config, err error) error {
	return asInput(fmt.Errorf("%s: %w", cfg.where("model.formula"), err))
}

// absPath returns p made absolute against the working directory.
func absPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", inputErrorf("--data: %v", err)
	}
	return abs, nil
}

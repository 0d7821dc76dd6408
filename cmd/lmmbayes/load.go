package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lmmbayes/lmmbayes/draws"
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
	family  *string
}

// addModelFlags registers --data, --formula, --factors and --family on fs.
func addModelFlags(fs *flagSet) *modelFlags {
	return &modelFlags{
		data:    fs.String("data", "", "CSV `file` with a header row (overrides [data] path)"),
		formula: fs.String("formula", "", "lme4-style model `formula` (overrides [model] formula)"),
		factors: fs.String("factors", "", "comma-separated `columns` to treat as categorical (overrides [data] factors)"),
		family:  fs.String("family", "", "response `family`: gaussian, bernoulli, binomial, poisson or negbinomial (overrides [model] family)"),
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
	m.weights = fs.String("weights", "", "`column` of prior weights: residual variance sigma^2/w (gaussian), each row's log-likelihood times w (other families), as lmer's and glmer's weights= (overrides [data] weights)")
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
	if *m.family != "" {
		if _, err := model.ParseFamily(*m.family); err != nil {
			return nil, inputErrorf("--family: %v", err)
		}
		cfg.Model.Family = *m.family
		cfg.flagKeys["model.family"] = "--family"
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

// droppedRows describes the data file a design was read from and the
// rows it left out for a missing value.
type droppedRows = draws.DataInfo

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
	fam, err := model.ParseFamily(cfg.Model.Family)
	if err != nil {
		return nil, nil, nil, inputErrorf("%s: key \"model.family\": %v", cfg.where("model.family"), err)
	}
	// The data are hashed as they are read, so that a run can record
	// which file it was fitted to (fingerprint).
	d, fr, dr, err := draws.ReadData(file, path, f, model.FrameOptions{Factors: cfg.Data.Factors, NA: cfg.Data.NA},
		model.BuildOptions{Reference: cfg.Data.Reference, Family: fam, Weights: cfg.Data.Weights, Offset: cfg.Data.Offset,
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
	return d, fr, dr, nil
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

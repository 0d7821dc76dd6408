package main

import (
	"fmt"
	"io"
	"os"

	"github.com/lmmbayes/lmmbayes/draws"
)

// defaultPredictSeed seeds predict when neither --seed nor the run's
// run.json gives one.
const defaultPredictSeed = 20260101

// checkRunData refuses, for what (a command that reads the training
// data), the config's data file when it is not the one the run in dir
// was fitted to (draws.CheckData), and warns on stderr when the run
// recorded no fingerprint. It lets a missing data file or run through,
// to the errors that reading them gives.
func checkRunData(stderr io.Writer, what string, cfg *config, dir string) error {
	if _, err := draws.Files(dir); err != nil {
		return nil
	}
	path := cfg.resolve(cfg.Data.Path)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	meta, metaPath, err := draws.ReadMeta(dir)
	if err != nil {
		return err
	}
	warn, err := draws.CheckData(what, path, dir, meta, metaPath)
	if warn != "" {
		fmt.Fprintf(stderr, "lmmbayes: warning: %s\n", warn)
	}
	return err
}

// useRunColumns sets the config's weights and offset columns, when it
// names none, to those the run in dir used (run.json's levels), which
// --weights may have given: compare and plot rebuild the run's model.
func useRunColumns(cfg *config, dir string) {
	meta, _, err := draws.ReadMeta(dir)
	if err != nil || meta == nil {
		return
	}
	applyRunColumns(cfg, meta)
}

// applyRunColumns is useRunColumns with run.json read.
func applyRunColumns(cfg *config, meta *draws.RunMeta) {
	if meta.Levels == nil {
		return
	}
	if cfg.Data.Weights == "" {
		cfg.Data.Weights = meta.Levels.WeightsColumn
	}
	if cfg.Data.Offset == "" {
		cfg.Data.Offset = meta.Levels.OffsetColumn
	}
}

package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/internal/outfile"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/posterior"
)

const predictSynopsis = `CONFIG [--newdata CSV] [flags]
       lmmbayes predict --run DIR [--newdata CSV] [flags]

Predicts the rows of --newdata from the posterior draws of the run that
CONFIG describes (its [output] dir), or of the run in DIR alone (the
formula, family and levels run.json recorded; the [predict] keys at their
defaults, the flags below setting them): per row the posterior of the expected
response (epred = xβ + zb) and the posterior predictive (pred = epred +
N(0, σ²)). Levels seen in training use their drawn effects; unseen levels
get effects drawn from N(0, Σ) (or are refused with --new-levels error);
--re-form NA drops all random effects. For a GLMM family epred is the
expected response (the probability of a success, times the row's trials
when the new data hold a binomial response's columns; the expected count)
and pred a draw of the response (successes; a count); --scale link makes
epred the linear predictor. Without --newdata, prints
and writes coef.csv: fixed plus random coefficients per level (on the link
scale), as lme4's coef().`

// predictFlags are the flags of predict.
type predictFlags struct {
	newdata, out, reForm, newLevels, drawsOut, run *string
	scale                                          *string
	seed                                           *uint64
	fs                                             *flagSet
}

func addPredictFlags(fs *flagSet) *predictFlags {
	return &predictFlags{
		newdata:   fs.String("newdata", "", "CSV `file` of rows to predict (overrides [predict] newdata)"),
		out:       fs.String("out", "", "predictions `file` (overrides [predict] out; default predictions.csv in the output dir)"),
		reForm:    fs.String("re-form", "", "\"NA\" drops all random effects (overrides [predict] re_form)"),
		newLevels: fs.String("new-levels", "", "\"gaussian\" draws unseen levels from N(0, Σ), \"error\" refuses them (overrides [predict] new_levels)"),
		drawsOut:  fs.String("draws-out", "", "also write every predictive draw to `file` (rows = draws, columns pred_1..pred_M)"),
		run:       addRunDirFlag(fs),
		scale:     fs.String("scale", "response", "\"response\": epred on the response scale (probabilities, expected counts); \"link\": the linear predictor (logit, log), as brms's posterior_linpred"),
		seed:      fs.Uint64("seed", 0, "random `seed` of the predictive draws (default: the run's seed from run.json, else 20260101)"),
		fs:        fs,
	}
}

// config loads the config and applies the flags given.
func (p *predictFlags) config(pos []string) (*config, error) {
	var cfg *config
	var err error
	switch {
	case len(pos) == 1:
		cfg, err = loadConfig(pos[0])
	case len(pos) == 0 && *p.run != "":
		cfg, err = configFromRun(*p.run)
	default:
		return nil, inputErrorf("predict: expected one config file (or none with --run DIR), got %d arguments (see \"lmmbayes predict -h\")", len(pos))
	}
	if err != nil {
		return nil, err
	}
	set := p.fs.setFlags()
	wd := func(s string) (string, error) {
		if s == "" {
			return s, nil
		}
		return filepath.Abs(s)
	}
	for _, f := range []struct {
		flag, key string
		dst       *string
		v         string
		path      bool
	}{
		{"newdata", "predict.newdata", &cfg.Predict.Newdata, *p.newdata, true},
		{"out", "predict.out", &cfg.Predict.Out, *p.out, true},
		{"re-form", "predict.re_form", &cfg.Predict.ReForm, *p.reForm, false},
		{"new-levels", "predict.new_levels", &cfg.Predict.NewLevels, *p.newLevels, false},
	} {
		if !set[f.flag] {
			continue
		}
		v := f.v
		if f.path {
			// Paths on the command line are relative to the working
			// directory, not to the config file.
			if v, err = wd(v); err != nil {
				return nil, inputErrorf("--%s: %v", f.flag, err)
			}
		}
		*f.dst = v
		cfg.flagKeys[f.key] = "--" + f.flag
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func cmdPredict(e *env, args []string) error {
	fs := newFlags("predict", predictSynopsis, e.stdout)
	pf := addPredictFlags(fs)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	cfg, err := pf.config(pos)
	if err != nil {
		return err
	}
	dir, err := runDir(cfg, *pf.run)
	if err != nil {
		return err
	}
	d, categorical, err := predictDesign(e.stderr, cfg, dir)
	if err != nil {
		return err
	}
	if cfg.Predict.Newdata == "" {
		if *pf.drawsOut != "" {
			return inputErrorf("--draws-out needs --newdata")
		}
		post, err := draws.Read(dir, d, draws.ReadOptions{})
		if err != nil {
			return err
		}
		rows, err := posterior.WriteCoef(dir, d, post)
		if err != nil {
			return err
		}
		return printCoef(e.stdout, rows)
	}
	seed := uint64(defaultPredictSeed)
	if s, ok := draws.Seed(dir); ok {
		seed = s
	}
	if fs.setFlags()["seed"] {
		seed = *pf.seed
	}
	path := cfg.resolve(cfg.Predict.Newdata)
	fr, err := readNewFrame(cfg, path, categorical)
	if err != nil {
		return err
	}
	nd, err := d.NewData(fr)
	if err != nil {
		return asInput(fmt.Errorf("%s: %w", cfg.where("predict.newdata"), err))
	}
	// Only the effects of the training levels the new rows refer to are
	// read, so that memory follows the new data, not the model's levels.
	post, err := draws.Read(dir, d, draws.ReadOptions{KeepRE: posterior.LevelsIn(nd)})
	if err != nil {
		return err
	}
	if *pf.scale != "response" && *pf.scale != "link" {
		return inputErrorf("--scale must be \"response\" or \"link\", got %q", *pf.scale)
	}
	opt := model.PredictOptions{Population: cfg.Predict.ReForm == "NA", RefuseNewLevels: cfg.Predict.NewLevels == "error", LinkScale: *pf.scale == "link", Trials: nd.Trials}
	if err := posterior.CheckSeenLevels(d, nd, post, opt); err != nil {
		return err
	}
	if _, err := model.NewPredictor(d, nd, opt); err != nil {
		return asInput(fmt.Errorf("%s: %w", path, err))
	}
	pd, err := posterior.Predict(d, nd, post, opt, seed, posterior.PredictStream)
	if err != nil {
		return err
	}
	out := cfg.resolve(cfg.Predict.Out)
	if out == "" {
		out = filepath.Join(dir, "predictions.csv")
	}
	if err := outfile.SaveAtomically(out, func(w io.Writer) error { return posterior.WritePredictions(w, fr, pd) }); err != nil {
		return err
	}
	if *pf.drawsOut != "" {
		do, err := filepath.Abs(*pf.drawsOut)
		if err != nil {
			return inputErrorf("--draws-out: %v", err)
		}
		if err := outfile.SaveAtomically(do, func(w io.Writer) error { return posterior.WritePredDraws(w, pd) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "Predicted %d rows from %d posterior draws (seed %d): %s\n", nd.N, pd.S, seed, out)
	return nil
}

// configFromRun is the config of `predict --run DIR` without a config
// file: the formula, family and weights/offset columns run.json recorded,
// every other key at its default.
func configFromRun(dir string) (*config, error) {
	meta, metaPath, err := draws.ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	if meta == nil || meta.Formula == "" || meta.Levels == nil {
		return nil, inputErrorf("predict: %s records no formula and levels (a run of an older lmmbayes): give the run's config file too", metaPath)
	}
	cfg := defaultConfig()
	cfg.Model.Formula = meta.Formula
	if meta.Family != "" {
		cfg.Model.Family = meta.Family
	}
	applyRunColumns(cfg, meta)
	cfg.Output.Dir = dir
	return cfg, nil
}

// predictDesign returns the design that predict codes new rows with, and
// the columns of the training data read as categorical. They come from
// what the run recorded in run.json (the levels of every factor and
// grouping factor), so that predict never reads the training data: a
// changed, renamed or moved data file changes nothing. For a run that
// recorded no levels (made by an older lmmbayes) they are rebuilt from
// the data file as it is now, with a warning.
func predictDesign(stderr io.Writer, cfg *config, dir string) (*model.Design, []string, error) {
	meta, metaPath, err := draws.ReadMeta(dir)
	if err != nil {
		return nil, nil, err
	}
	if meta != nil && meta.Levels != nil {
		f, err := model.ParseFormula(cfg.Model.Formula)
		if err != nil {
			return nil, nil, formulaError(cfg, err)
		}
		d, err := model.FromLevels(f, meta.Levels)
		if err != nil {
			return nil, nil, inputErrorf("%s: the levels the run recorded do not fit the formula of %s (%v); was the config changed after the run?", metaPath, cfg.where("model.formula"), err)
		}
		fam, err := model.ParseFamily(cfg.Model.Family)
		if err != nil {
			return nil, nil, inputErrorf("%s: %v", cfg.where("model.family"), err)
		}
		if meta.Family != "" && meta.Family != fam.String() {
			return nil, nil, inputErrorf("%s: the run sampled family %s, %s says %s; was the config changed after the run?", metaPath, meta.Family, cfg.where("model.family"), fam)
		}
		d.Family = fam
		return d, meta.CategoricalColumns, nil
	}
	if _, err := draws.Files(dir); err != nil {
		return nil, nil, err
	}
	if metaPath == "" {
		metaPath = filepath.Join(dir, "run.json")
	}
	fmt.Fprintf(stderr, "lmmbayes: warning: %s records no factor levels (a run made before lmmbayes recorded them): they are rebuilt from %s as it is now, which must be the data the run was fitted to\n",
		metaPath, cfg.resolve(cfg.Data.Path))
	d, train, _, err := buildDesignFrame(cfg)
	if err != nil {
		return nil, nil, err
	}
	return d, draws.CategoricalColumns(train), nil
}

// readNewFrame reads the new data with the config's factor and NA
// settings; a column that is categorical in the training data (listed in
// categorical) is read as categorical whatever its new values look like
// (a level "inf", "nan" or "1e5" is a level, not a number).
func readNewFrame(cfg *config, path string, categorical []string) (*model.Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, inputErrorf("%s: newdata: %v", cfg.where("predict.newdata"), err)
	}
	defer f.Close()
	factors := slices.Clone(cfg.Data.Factors)
	if len(categorical) > 0 {
		header, err := csv.NewReader(f).Read()
		if err == nil {
			if len(header) > 0 {
				header[0] = strings.TrimPrefix(header[0], "\ufeff")
			}
			for _, h := range header {
				if slices.Contains(categorical, h) && !slices.Contains(factors, h) {
					factors = append(factors, h)
				}
			}
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, inputErrorf("%s: newdata: %v", cfg.where("predict.newdata"), err)
		}
	}
	fr, err := model.ReadFrame(f, path, model.FrameOptions{Factors: factors, NA: cfg.Data.NA})
	if err != nil {
		return nil, asInput(err)
	}
	return fr, nil
}

// printCoef prints coef rows as a table.
func printCoef(w io.Writer, rows []posterior.CoefRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "group\tlevel\teffect\tmean\tsd\tq2.5\tq97.5\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4g\t%.3g\t%.4g\t%.4g\t\n", r.Group, r.Level, r.Effect, r.Mean, r.SD, r.Lo, r.Hi)
	}
	return tw.Flush()
}

package main

import (
	"fmt"

	"github.com/lmmbayes/lmmbayes/internal/safejson"
	"github.com/lmmbayes/lmmbayes/model"
)

// cmdFit fits the model by maximum likelihood (or REML with --reml) as
// lme4 does and prints an lme4-style summary, or the fit as JSON.
func cmdFit(e *env, args []string) error {
	fs := newFlags("fit", "[CONFIG] [flags]\n\nFit the model by maximum likelihood (or REML), as lme4's lmer does.", e.stdout)
	mf := addModelFlags(fs)
	mf.addWeightsFlag(fs)
	reml := fs.Bool("reml", false, "fit by REML instead of maximum likelihood")
	asJSON := fs.Bool("json", false, "print the fit as JSON (the keys of lme4's reference files)")
	coef := fs.Bool("coef", false, "also print coef(): fixed plus random coefficients per level")
	ranef := fs.Bool("ranef", false, "also print ranef(): the conditional modes per level")
	nagq := fs.Int("nagq", 1, "glmer's nAGQ for a non-Gaussian family: 1 is the Laplace approximation, more is adaptive Gauss-Hermite quadrature with that many nodes (a single scalar random effect only)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	cfg, err := mf.config(pos)
	if err != nil {
		return err
	}
	d, dropped, err := buildDesignDropped(cfg)
	if err != nil {
		return err
	}
	if msg := dropped.Report(); msg != "" {
		fmt.Fprintln(e.stderr, msg)
	}
	if msg := d.RankMessage(); msg != "" {
		fmt.Fprintln(e.stderr, "lmmbayes: "+msg)
	}
	if d.Family != model.Gaussian {
		return fitGLMM(e, d, *reml, *nagq, *asJSON, *ranef, *coef)
	}
	if *nagq != 1 {
		return inputErrorf("--nagq applies to a non-Gaussian family (the family is gaussian)")
	}
	fit, err := model.Fit(d, model.FitOptions{REML: *reml})
	if err != nil {
		return asInput(err)
	}
	if *asJSON {
		// lme4's keys, and what scale() and poly() learned from the
		// data (run.json records the same under levels.transforms).
		// The aliased columns dropped, and the weights and offset
		// columns, when there are any.
		out := struct {
			*model.FitResult
			Transforms []*model.Transform `json:"transforms,omitempty"`
			Aliased    []string           `json:"aliased,omitempty"`
			Weights    string             `json:"weights,omitempty"`
			Offset     string             `json:"offset,omitempty"`
		}{fit, d.LevelMap().Transforms, d.Aliased, d.WeightsColumn, d.OffsetColumn}
		if err := safejson.Encode(e.stdout, out, "  "); err != nil {
			return fmt.Errorf("fit: writing JSON: %w", err)
		}
		return nil
	}
	if err := fit.WriteSummary(e.stdout); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	if *ranef {
		fmt.Fprintln(e.stdout)
		if err := model.WriteEffects(e.stdout, "ranef", fit.Ranef); err != nil {
			return fmt.Errorf("fit: %w", err)
		}
	}
	if *coef {
		fmt.Fprintln(e.stdout)
		if err := model.WriteEffects(e.stdout, "coef", fit.Coef); err != nil {
			return fmt.Errorf("fit: %w", err)
		}
	}
	return nil
}

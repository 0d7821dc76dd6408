package main

import (
	"fmt"

	"github.com/lmmbayes/lmmbayes/internal/safejson"
	"github.com/lmmbayes/lmmbayes/model"
)

// fitGLMM is `fit` for a non-Gaussian family: glmer's maximum-likelihood
// fit (Laplace, or adaptive Gauss–Hermite quadrature with nagq > 1) and a
// glmer-style summary, or the fit as JSON.
func fitGLMM(e *env, d *model.Design, reml bool, nagq int, asJSON, ranef, coef bool) error {
	if reml {
		return inputErrorf("--reml: REML is defined for the Gaussian family only (the family is %s); glmer fits by maximum likelihood", d.Family)
	}
	if nagq < 1 || nagq > 100 {
		return inputErrorf("--nagq must be from 1 to 100, got %d", nagq)
	}
	fit, err := model.FitGLMM(d, model.GLMMOptions{NAGQ: nagq})
	if err != nil {
		return asInput(err)
	}
	if asJSON {
		// As the Gaussian fit's JSON: what scale() and poly() learned,
		// and the offset column when there is one.
		out := struct {
			*model.GLMMFitResult
			Transforms []*model.Transform `json:"transforms,omitempty"`
			Offset     string             `json:"offset,omitempty"`
		}{fit, d.LevelMap().Transforms, d.OffsetColumn}
		if err := safejson.Encode(e.stdout, out, "  "); err != nil {
			return fmt.Errorf("fit: writing JSON: %w", err)
		}
		return nil
	}
	if err := fit.WriteSummary(e.stdout); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	if ranef {
		fmt.Fprintln(e.stdout)
		if err := model.WriteEffects(e.stdout, "ranef", fit.Ranef); err != nil {
			return fmt.Errorf("fit: %w", err)
		}
	}
	if coef {
		fmt.Fprintln(e.stdout)
		if err := model.WriteEffects(e.stdout, "coef", fit.Coef); err != nil {
			return fmt.Errorf("fit: %w", err)
		}
	}
	return nil
}

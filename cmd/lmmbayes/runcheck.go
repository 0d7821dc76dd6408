package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// Limits on what a run may ask for: beyond them the counts overflow or
// the run could not finish (the draws alone would take terabytes).
const (
	// maxSavedDraws bounds chains × draws.
	maxSavedDraws = 1_000_000_000
	// maxIterations bounds warmup + draws × thin, per chain.
	maxIterations = 1_000_000_000_000
	// minMagnitude and maxMagnitude bound the response's scale and the
	// priors' scales and locations: beyond them squares over- or
	// underflow and the posterior cannot be computed.
	minMagnitude = 1e-100
	maxMagnitude = 1e100
)

// checkSizes refuses counts whose products overflow or are absurd,
// naming the key (or flag) that makes them so. It runs after each count
// was checked to be positive.
func (c *config) checkSizes() error {
	s := c.Sampler
	if s.Draws > maxSavedDraws/s.Chains {
		return inputErrorf("%s: key \"sampler.draws\" is %d: chains × draws = %d × %d is more than the %d draws a run may save", c.where("sampler.draws"), s.Draws, s.Chains, s.Draws, int64(maxSavedDraws))
	}
	if s.Warmup > maxIterations {
		return inputErrorf("%s: key \"sampler.warmup\" is %d: more than the %d iterations a chain may run", c.where("sampler.warmup"), s.Warmup, int64(maxIterations))
	}
	if s.Thin > (maxIterations-s.Warmup)/s.Draws {
		return inputErrorf("%s: key \"sampler.thin\" is %d: warmup + draws × thin = %d + %d × %d is more than the %d iterations a chain may run", c.where("sampler.thin"), s.Thin, s.Warmup, s.Draws, s.Thin, int64(maxIterations))
	}
	return nil
}

// checkRunnable refuses, before sampling, designs the sampler cannot
// run: no random-effect term, no fixed-effect column, or a response on
// a scale the posterior cannot be computed on.
func checkRunnable(cfg *config, d *model.Design) error {
	where := cfg.where("model.formula")
	if len(d.Terms) == 0 {
		return inputErrorf("%s: formula %q has no random-effect term such as (1 | g): run samples mixed models; add one, or fit the model by ML with lmmbayes fit", where, d.Formula.Text)
	}
	if len(d.XNames) == 0 {
		return inputErrorf("%s: formula %q has no fixed-effect column (\"0 +\" removed the intercept and nothing is left): run needs at least one; remove \"0 +\" or add a predictor", where, d.Formula.Text)
	}
	if err := draws.CheckColumnNames(d); err != nil {
		return asInput(fmt.Errorf("%s: %w", where, err))
	}
	// The SD is computed on y / max|y|, so that it neither over- nor
	// underflows.
	big, sd := sampler.ResponseScale(d.Y)
	name := d.Formula.Response.Name
	src := cfg.resolve(cfg.Data.Path)
	switch {
	case big > maxMagnitude || math.IsInf(sd, 0):
		return inputErrorf("%s: response %q has values as large as %.3g: lmmbayes computes with responses up to %.0e in size; rescale it (for example divide it by %.0e)", src, name, big, maxMagnitude, math.Pow(10, math.Floor(math.Log10(big))))
	case sd > 0 && sd < minMagnitude:
		return inputErrorf("%s: response %q has standard deviation %.3g: lmmbayes computes with responses whose spread is at least %.0e; rescale it (for example multiply it by %.0e)", src, name, sd, minMagnitude, math.Pow(10, -math.Floor(math.Log10(sd))))
	}
	return nil
}

// checkPriorScale refuses a prior whose scale or location is outside
// what the posterior can be computed with, naming its key.
func checkPriorScale(cfg *config, e priors.Entry) error {
	var what []string
	var vals []float64
	add := func(name string, v float64) {
		what = append(what, name)
		vals = append(vals, v)
	}
	switch p := e.Prior.(type) {
	case priors.Normal:
		add("mu", p.Mu)
		add("sigma", p.Sigma)
	case priors.StudentT:
		add("mu", p.Mu)
		add("sigma", p.Sigma)
	case priors.Cauchy:
		add("mu", p.Mu)
		add("sigma", p.Sigma)
	case priors.Laplace:
		add("mu", p.Mu)
		add("scale", p.Scale)
	case priors.Horseshoe:
		add("scale", p.Scale)
	case priors.Exponential:
		add("rate", p.Rate)
	case priors.InvGamma:
		add("scale", p.Scale)
	}
	for i, v := range vals {
		isLoc := what[i] == "mu"
		bad := math.Abs(v) > maxMagnitude || !isLoc && v < minMagnitude
		if !bad {
			continue
		}
		where := cfg.path
		if e.Key != "" {
			where = fmt.Sprintf("%s: key \"priors.%s\"", cfg.where("priors."+e.Key), e.Key)
		}
		limit := fmt.Sprintf("a scale or rate must be between %.0e and %.0e", minMagnitude, maxMagnitude)
		if isLoc {
			limit = fmt.Sprintf("a location must be at most %.0e in size", maxMagnitude)
		}
		return inputErrorf("%s: %s: %s %g is outside what the posterior can be computed with (%s)", where, e.Prior, what[i], v, limit)
	}
	return nil
}

// samplerInputError turns the sampler's refusal of a posterior that is
// not finite at its starting values, which only the inputs can cause,
// into an input error naming where the priors are; other errors are
// returned as they are.
func samplerInputError(cfg *config, err error) error {
	if err == nil || !strings.Contains(err.Error(), "not finite at the starting values") {
		return err
	}
	return inputErrorf("%s: the posterior is not finite at the sampler's starting values: a prior in [priors] is too narrow or too far from the data, or the data's scale is extreme", cfg.where("priors"))
}

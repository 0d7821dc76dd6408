package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/lmmbayes/lmmbayes/priors"
)

// mixingPrior is a prior on a coefficient written as a normal scale
// mixture x | V ~ N(μ, V): MixingVariance draws V | x.
type mixingPrior interface {
	MixingVariance(x float64, rng *rand.Rand) float64
}

// classifyFixed maps each fixed-effect prior onto the sampler's cases.
func classifyFixed(ps []priors.Univariate, names []string) ([]fixedPrior, error) {
	out := make([]fixedPrior, len(ps))
	var hsScales []float64
	for j, pr := range ps {
		f := fixedPrior{prior: pr}
		switch q := pr.(type) {
		case priors.Flat:
			f.kind = fixedFlat
		case priors.Normal:
			f.kind, f.mu, f.v = fixedNormal, q.Mu, q.Sigma*q.Sigma
		case priors.StudentT:
			f.kind, f.mu, f.v, f.mix = fixedMixture, q.Mu, q.Sigma*q.Sigma, q
		case priors.Cauchy:
			f.kind, f.mu, f.v, f.mix = fixedMixture, q.Mu, q.Sigma*q.Sigma, q
		case priors.Laplace:
			f.kind, f.mu, f.v, f.mix = fixedMixture, q.Mu, 2*q.Scale*q.Scale, q
		case priors.Horseshoe:
			if !(q.Scale > 0) || math.IsInf(q.Scale, 1) {
				return nil, fmt.Errorf("sampler: horseshoe scale must be positive and finite, got %g", q.Scale)
			}
			f.kind, f.v = fixedHorseshoe, q.Scale*q.Scale
			f.hs = slices.Index(hsScales, q.Scale)
			if f.hs < 0 {
				f.hs = len(hsScales)
				hsScales = append(hsScales, q.Scale)
			}
		default:
			name := fmt.Sprint(j)
			if j < len(names) {
				name = names[j]
			}
			return nil, fmt.Errorf("sampler: prior %s on %s is not supported on a fixed effect (use flat, normal, student_t, cauchy, laplace or horseshoe)", pr, name)
		}
		out[j] = f
	}
	return out, nil
}

// updateLatent draws the latent variance of every scale-mixture prior
// given β; it reports whether any changed.
func (ev *evaluator) updateLatent(beta []float64, rng *rand.Rand) bool {
	return drawLatent(ev.fixed, beta, ev.lvar, rng)
}

// drawLatent draws into lvar the latent variance of each scale-mixture
// prior in fixed given its coefficient in beta (a draw that is not
// finite and positive keeps the old value); it reports whether any
// changed.
func drawLatent(fixed []fixedPrior, beta, lvar []float64, rng *rand.Rand) bool {
	changed := false
	for j, f := range fixed {
		if f.kind != fixedMixture {
			continue
		}
		v := f.mix.MixingVariance(beta[j], rng)
		if v > 0 && v < 1e300 {
			lvar[j] = v
			changed = true
		}
	}
	return changed
}

// fastScale evaluates a half location-scale prior on an SD as the full
// density plus a constant truncation term computed once, avoiding the
// CDF (and its allocations) on every call. Other families fall through
// to their own LogDensitySD.
type fastScale struct {
	p     priors.ScalePrior
	full  priors.Univariate
	shift float64
}

func newFastScale(p priors.ScalePrior) fastScale {
	f := fastScale{p: p}
	switch q := p.(type) {
	case priors.StudentT:
		f.full = q
	case priors.Normal:
		f.full = q
	case priors.Cauchy:
		f.full = q
	}
	if f.full != nil {
		f.shift = p.LogDensitySD(1) - f.full.LogDensity(1)
		if math.IsNaN(f.shift) || math.IsInf(f.shift, 0) {
			f.full = nil
		}
	}
	return f
}

func (f fastScale) logDensitySD(x float64) float64 {
	if f.full == nil {
		return f.p.LogDensitySD(x)
	}
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Inf(-1)
	}
	return f.full.LogDensity(x) + f.shift
}

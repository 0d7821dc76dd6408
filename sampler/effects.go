package sampler

import (
	"fmt"
	"math/rand/v2"

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
		default:
			name := fmt.Sprint(j)
			if j < len(names) {
				name = names[j]
			}
			return nil, fmt.Errorf("sampler: prior %s on %s is not supported on a fixed effect (use flat, normal, student_t, cauchy or laplace)", pr, name)
		}
		out[j] = f
	}
	return out, nil
}

// updateLatent draws the latent variance of every scale-mixture prior
// given β; it reports whether any changed.
func (ev *evaluator) updateLatent(beta []float64, rng *rand.Rand) bool {
	changed := false
	for j, f := range ev.fixed {
		if f.kind != fixedMixture {
			continue
		}
		v := f.mix.MixingVariance(beta[j], rng)
		if v > 0 && v < 1e300 {
			ev.lvar[j] = v
			changed = true
		}
	}
	return changed
}

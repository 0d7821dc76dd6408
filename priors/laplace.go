package priors

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Laplace is laplace(mu, scale), the double exponential of the Bayesian
// lasso (Park & Casella 2008): density (2b)⁻¹ exp(−|x−μ|/b).
//
// It is the normal scale mixture x | V ~ N(μ, V), V ~ Exponential(rate
// 1/(2b²)) (mean 2b²). Given x, 1/V ~ InverseGaussian(mean 1/(b|x−μ|),
// shape 1/b²) (Park & Casella's conditional with λ = 1/b); see
// MixingVariance.
type Laplace struct {
	// Mu is the location μ.
	Mu float64
	// Scale is b > 0 (the SD is b√2).
	Scale float64
}

// Family returns "laplace".
func (Laplace) Family() string { return "laplace" }

// String prints "laplace(mu, scale)".
func (l Laplace) String() string {
	return fmt.Sprintf("laplace(%s, %s)", fmtNum(l.Mu), fmtNum(l.Scale))
}

// Allows reports whether laplace may be used on c: b and Intercept.
func (Laplace) Allows(c Class) bool { return c == ClassB || c == ClassIntercept }

// LogDensity is −log 2b − |x−μ|/b.
func (l Laplace) LogDensity(x float64) float64 {
	return -math.Log(2*l.Scale) - math.Abs(x-l.Mu)/l.Scale
}

// Rand draws μ + b(E₁ − E₂), E ~ Exponential(1).
func (l Laplace) Rand(rng *rand.Rand) float64 {
	return l.Mu + l.Scale*(rng.ExpFloat64()-rng.ExpFloat64())
}

// MixingVariancePrior draws the latent variance V from its prior,
// Exponential with mean 2b².
func (l Laplace) MixingVariancePrior(rng *rand.Rand) float64 {
	return 2 * l.Scale * l.Scale * rng.ExpFloat64()
}

// MixingVariance draws the latent variance V (x | V ~ N(μ, V)) from its
// conditional given x: 1/V ~ InverseGaussian(1/(b|x−μ|), 1/b²). At x = μ
// the conditional is V ~ Gamma(1/2, rate 1/(2b²)). A Gibbs sampler that
// alternates this with x | V ~ N(μ, V) (times the likelihood) has the
// Laplace prior as the marginal of x.
func (l Laplace) MixingVariance(x float64, rng *rand.Rand) float64 {
	d := math.Abs(x - l.Mu)
	shape := 1 / (l.Scale * l.Scale)
	if d == 0 || math.IsInf(1/(l.Scale*d), 1) {
		return 2 * l.Scale * l.Scale * randGamma(0.5, rng)
	}
	return 1 / RandInverseGaussian(1/(l.Scale*d), shape, rng)
}

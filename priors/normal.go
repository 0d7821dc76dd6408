package priors

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// Normal is normal(mu, sigma): density (2πσ²)^(−1/2) exp(−(x−μ)²/(2σ²)).
// On a standard deviation it is the half-normal truncated at 0.
type Normal struct {
	// Mu is the location μ.
	Mu float64
	// Sigma is the scale σ > 0 (the standard deviation).
	Sigma float64
}

type stdNormal struct{}

func (stdNormal) logPDF(z float64) float64   { return logStdNormal(z) }
func (stdNormal) cdf(z float64) float64      { return 0.5 * math.Erfc(-z/math.Sqrt2) }
func (stdNormal) quantile(p float64) float64 { return distuv.UnitNormal.Quantile(p) }

// Family returns "normal".
func (Normal) Family() string { return "normal" }

// String prints "normal(mu, sigma)".
func (n Normal) String() string { return fmt.Sprintf("normal(%s, %s)", fmtNum(n.Mu), fmtNum(n.Sigma)) }

// Allows reports whether normal may be used on c: b, Intercept, sigma, sd.
func (Normal) Allows(c Class) bool { return c != ClassCor && c != ClassCov }

// LogDensity is the normal log density at x.
func (n Normal) LogDensity(x float64) float64 {
	return logStdNormal((x-n.Mu)/n.Sigma) - math.Log(n.Sigma)
}

// Rand draws from normal(mu, sigma).
func (n Normal) Rand(rng *rand.Rand) float64 { return n.Mu + n.Sigma*rng.NormFloat64() }

// LogDensitySD is the half-normal log density at sd > 0: the normal
// truncated to (0, ∞) and renormalised by P(X > 0) = Φ(μ/σ).
func (n Normal) LogDensitySD(sd float64) float64 {
	return halfLogDensity(stdNormal{}, n.Mu, n.Sigma, sd)
}

// RandSD draws from the half-normal (truncated at 0).
func (n Normal) RandSD(rng *rand.Rand) float64 { return halfRand(stdNormal{}, n.Mu, n.Sigma, rng) }

// PriorMoments returns the mean and variance of the conjugate normal
// prior, for a Gibbs step on a coefficient.
func (n Normal) PriorMoments() (mean, variance float64) { return n.Mu, n.Sigma * n.Sigma }

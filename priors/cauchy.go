package priors

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Cauchy is cauchy(mu, sigma): density 1 / (πσ (1 + z²)), z = (x−μ)/σ.
// On a standard deviation it is the half-Cauchy truncated at 0.
type Cauchy struct {
	// Mu is the location μ.
	Mu float64
	// Sigma is the scale σ > 0.
	Sigma float64
}

type stdCauchy struct{}

func (stdCauchy) logPDF(z float64) float64   { return -math.Log(math.Pi) - math.Log1p(z*z) }
func (stdCauchy) cdf(z float64) float64      { return 0.5 + math.Atan(z)/math.Pi }
func (stdCauchy) quantile(p float64) float64 { return math.Tan(math.Pi * (p - 0.5)) }

// Family returns "cauchy".
func (Cauchy) Family() string { return "cauchy" }

// String prints "cauchy(mu, sigma)".
func (c Cauchy) String() string { return fmt.Sprintf("cauchy(%s, %s)", fmtNum(c.Mu), fmtNum(c.Sigma)) }

// Allows reports whether cauchy may be used on k: b, Intercept, sigma,
// sd.
func (Cauchy) Allows(k Class) bool { return k != ClassCor && k != ClassCov }

// LogDensity is the Cauchy log density at x.
func (c Cauchy) LogDensity(x float64) float64 {
	return stdCauchy{}.logPDF((x-c.Mu)/c.Sigma) - math.Log(c.Sigma)
}

// Rand draws from the Cauchy by inversion.
func (c Cauchy) Rand(rng *rand.Rand) float64 {
	for {
		u := rng.Float64()
		if u > 0 {
			return c.Mu + c.Sigma*stdCauchy{}.quantile(u)
		}
	}
}

// LogDensitySD is the half-Cauchy log density at sd > 0.
func (c Cauchy) LogDensitySD(sd float64) float64 {
	return halfLogDensity(stdCauchy{}, c.Mu, c.Sigma, sd)
}

// RandSD draws from the half-Cauchy.
func (c Cauchy) RandSD(rng *rand.Rand) float64 { return halfRand(stdCauchy{}, c.Mu, c.Sigma, rng) }

// MixingVariance draws the latent variance of the Cauchy's normal scale
// mixture given x; it is StudentT{1, μ, σ}.MixingVariance.
func (c Cauchy) MixingVariance(x float64, rng *rand.Rand) float64 {
	return StudentT{Nu: 1, Mu: c.Mu, Sigma: c.Sigma}.MixingVariance(x, rng)
}

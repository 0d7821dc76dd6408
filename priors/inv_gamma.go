package priors

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// InvGamma is inv_gamma(a, b), a prior on a VARIANCE v (σ² or τ²):
// density bᵃ/Γ(a) · v^(−a−1) e^(−b/v) on v > 0. It is conjugate for the
// variance of normal observations or effects.
type InvGamma struct {
	// Shape is a > 0.
	Shape float64
	// Scale is b > 0.
	Scale float64
}

// Family returns "inv_gamma".
func (InvGamma) Family() string { return "inv_gamma" }

// String prints "inv_gamma(a, b)".
func (g InvGamma) String() string {
	return fmt.Sprintf("inv_gamma(%s, %s)", fmtNum(g.Shape), fmtNum(g.Scale))
}

// Allows reports whether inv_gamma may be used on c: sigma and sd (where
// it is read as a prior on σ² or τ²).
func (InvGamma) Allows(c Class) bool { return c.IsScale() }

// LogDensity is the inverse-gamma log density of the variance v.
func (g InvGamma) LogDensity(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 1) {
		return math.Inf(-1)
	}
	lg, _ := math.Lgamma(g.Shape)
	return g.Shape*math.Log(g.Scale) - lg - (g.Shape+1)*math.Log(v) - g.Scale/v
}

// Rand draws a variance: b / G with G ~ Gamma(a, 1).
func (g InvGamma) Rand(rng *rand.Rand) float64 { return RandInvGamma(g.Shape, g.Scale, rng) }

// LogDensitySD is the density the prior on the variance implies for the
// SD s = √v: LogDensity(s²) + log 2s (the Jacobian |dv/ds|).
func (g InvGamma) LogDensitySD(sd float64) float64 {
	if !(sd > 0) {
		return math.Inf(-1)
	}
	return g.LogDensity(sd*sd) + math.Log(2*sd)
}

// RandSD draws an SD: the square root of a variance draw.
func (g InvGamma) RandSD(rng *rand.Rand) float64 { return math.Sqrt(g.Rand(rng)) }

// Posterior is the conjugate update of the variance v given n normal
// values with mean zero and sum of squares ss (Σ xᵢ², i = 1..n, each
// xᵢ ~ N(0, v)): inv_gamma(a + n/2, b + ss/2).
func (g InvGamma) Posterior(ss float64, n int) InvGamma {
	return InvGamma{Shape: g.Shape + float64(n)/2, Scale: g.Scale + ss/2}
}

// RandInvGamma draws from InvGamma(shape, scale) (density
// ∝ v^(−shape−1) e^(−scale/v)) as scale / Gamma(shape, 1).
func RandInvGamma(shape, scale float64, rng *rand.Rand) float64 {
	for {
		g := randGamma(shape, rng)
		if g > 0 {
			return scale / g
		}
	}
}

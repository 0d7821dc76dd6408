package priors

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Exponential is exponential(rate): density λ e^(−λx) on x ≥ 0, a prior
// for a standard deviation (classes sigma and sd).
type Exponential struct {
	// Rate is λ > 0 (the mean is 1/λ).
	Rate float64
}

// Family returns "exponential".
func (Exponential) Family() string { return "exponential" }

// String prints "exponential(rate)".
func (e Exponential) String() string { return fmt.Sprintf("exponential(%s)", fmtNum(e.Rate)) }

// Allows reports whether exponential may be used on c: sigma and sd.
func (Exponential) Allows(c Class) bool { return c.IsScale() }

// LogDensity is log λ − λx for x ≥ 0 and −Inf below.
func (e Exponential) LogDensity(x float64) float64 {
	if x < 0 || math.IsNaN(x) {
		return math.Inf(-1)
	}
	return math.Log(e.Rate) - e.Rate*x
}

// Rand draws from the exponential.
func (e Exponential) Rand(rng *rand.Rand) float64 { return rng.ExpFloat64() / e.Rate }

// LogDensitySD is LogDensity (the exponential is already on x > 0),
// except that sd = 0 gets −Inf.
func (e Exponential) LogDensitySD(sd float64) float64 {
	if !(sd > 0) {
		return math.Inf(-1)
	}
	return e.LogDensity(sd)
}

// RandSD is Rand.
func (e Exponential) RandSD(rng *rand.Rand) float64 { return e.Rand(rng) }

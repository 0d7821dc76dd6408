package priors

import "math/rand/v2"

// Flat is the improper uniform prior on the real line, brms's default for
// class b. Its LogDensity is 0 everywhere (not normalisable).
type Flat struct{}

// Family returns "flat".
func (Flat) Family() string { return "flat" }

// String prints "flat".
func (Flat) String() string { return "flat" }

// Allows reports whether flat may be used on c: b and Intercept only.
func (Flat) Allows(c Class) bool { return c == ClassB || c == ClassIntercept }

// LogDensity returns 0: the flat prior is improper.
func (Flat) LogDensity(float64) float64 { return 0 }

// Rand cannot draw from an improper prior; it returns an initial value
// uniform on (−2, 2), Stan's convention for inits on unconstrained
// parameters.
func (Flat) Rand(rng *rand.Rand) float64 { return 4*rng.Float64() - 2 }

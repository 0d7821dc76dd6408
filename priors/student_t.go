package priors

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// StudentT is student_t(nu, mu, sigma): density
// Γ((ν+1)/2) / (Γ(ν/2) √(νπ) σ) · (1 + z²/ν)^(−(ν+1)/2), z = (x−μ)/σ.
// On a standard deviation it is the half-t truncated at 0.
type StudentT struct {
	// Nu is the degrees of freedom ν > 0.
	Nu float64
	// Mu is the location μ.
	Mu float64
	// Sigma is the scale σ > 0.
	Sigma float64
}

type stdT struct{ nu float64 }

func (t stdT) logPDF(z float64) float64 {
	lg1, _ := math.Lgamma((t.nu + 1) / 2)
	lg2, _ := math.Lgamma(t.nu / 2)
	return lg1 - lg2 - 0.5*math.Log(t.nu*math.Pi) - (t.nu+1)/2*math.Log1p(z*z/t.nu)
}
func (t stdT) cdf(z float64) float64 { return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: t.nu}.CDF(z) }
func (t stdT) quantile(p float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: t.nu}.Quantile(p)
}

// Family returns "student_t".
func (StudentT) Family() string { return "student_t" }

// String prints "student_t(nu, mu, sigma)".
func (t StudentT) String() string {
	return fmt.Sprintf("student_t(%s, %s, %s)", fmtNum(t.Nu), fmtNum(t.Mu), fmtNum(t.Sigma))
}

// Allows reports whether student_t may be used on c: b, Intercept,
// sigma, sd.
func (StudentT) Allows(c Class) bool { return c != ClassCor && c != ClassCov }

// LogDensity is the Student-t log density at x.
func (t StudentT) LogDensity(x float64) float64 {
	return stdT{t.Nu}.logPDF((x-t.Mu)/t.Sigma) - math.Log(t.Sigma)
}

// Rand draws from the Student t as μ + σ·Z/√(V/ν), Z ~ N(0,1),
// V ~ χ²(ν).
func (t StudentT) Rand(rng *rand.Rand) float64 {
	v := distuv.ChiSquared{K: t.Nu, Src: rng}.Rand()
	return t.Mu + t.Sigma*rng.NormFloat64()/math.Sqrt(v/t.Nu)
}

// LogDensitySD is the half-t log density at sd > 0 (truncated at 0 and
// renormalised by P(X > 0)).
func (t StudentT) LogDensitySD(sd float64) float64 {
	return halfLogDensity(stdT{t.Nu}, t.Mu, t.Sigma, sd)
}

// RandSD draws from the half-t.
func (t StudentT) RandSD(rng *rand.Rand) float64 { return halfRand(stdT{t.Nu}, t.Mu, t.Sigma, rng) }

// MixingVariance draws the latent variance V of the Student t's normal
// scale mixture (x | V ~ N(μ, V), V ~ InvGamma(ν/2, νσ²/2)) from its
// conditional given x: V | x ~ InvGamma((ν+1)/2, (νσ² + (x−μ)²)/2). A Gibbs
// sampler alternating it with x | V reproduces the Student-t prior.
func (t StudentT) MixingVariance(x float64, rng *rand.Rand) float64 {
	d := x - t.Mu
	return RandInvGamma((t.Nu+1)/2, (t.Nu*t.Sigma*t.Sigma+d*d)/2, rng)
}

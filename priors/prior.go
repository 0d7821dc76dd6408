package priors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Class is a brms parameter class a prior can be placed on.
type Class string

// The parameter classes.
const (
	// ClassB is a fixed-effect slope (every column of X except the
	// intercept).
	ClassB Class = "b"
	// ClassIntercept is the fixed-effect intercept.
	ClassIntercept Class = "Intercept"
	// ClassSigma is the residual standard deviation σ.
	ClassSigma Class = "sigma"
	// ClassSD is a random-effect standard deviation τₖₑ.
	ClassSD Class = "sd"
	// ClassCor is a random-effect correlation matrix Ωₖ.
	ClassCor Class = "cor"
	// ClassCov is a whole random-effect covariance matrix Σₖ (lmmbayes's
	// own class, for the conjugate inverse-Wishart prior).
	ClassCov Class = "cov"
)

// IsScale reports whether c is a class of standard deviations (sigma or
// sd), on which location-scale priors are half distributions.
func (c Class) IsScale() bool { return c == ClassSigma || c == ClassSD }

// Prior is a parsed prior of any family.
type Prior interface {
	// Family is the family name as written ("normal", "lkj").
	Family() string
	// String prints the prior as a user would write it; Parse of the
	// result gives the same prior.
	String() string
	// Allows reports whether the family may be used on class c.
	Allows(c Class) bool
}

// Univariate is a prior on one real coefficient (classes b and
// Intercept).
type Univariate interface {
	Prior
	// LogDensity is the normalised log density at x (the flat prior
	// returns 0: it is improper).
	LogDensity(x float64) float64
	// Rand draws one value from the prior.
	Rand(rng *rand.Rand) float64
}

// ScalePrior is a prior on a standard deviation (classes sigma and sd).
// For normal, student_t and cauchy it is the half (truncated at 0)
// distribution with the location as given; inv_gamma, a prior on the
// variance, is carried onto the SD with its Jacobian.
type ScalePrior interface {
	Prior
	// LogDensitySD is the normalised log density of the SD at sd > 0
	// (−Inf for sd ≤ 0).
	LogDensitySD(sd float64) float64
	// RandSD draws one SD from the prior.
	RandSD(rng *rand.Rand) float64
}

// CheckClass returns an error when prior p may not be used on class c.
func CheckClass(p Prior, c Class) error {
	if p.Allows(c) {
		return nil
	}
	var ok []string
	for _, k := range []Class{ClassB, ClassIntercept, ClassSigma, ClassSD, ClassCor, ClassCov} {
		if p.Allows(k) {
			ok = append(ok, string(k))
		}
	}
	return fmt.Errorf("%s cannot be used on class %s (it is a prior on class %s)", p.Family(), c, strings.Join(ok, ", "))
}

// fmtNum prints x in the shortest form that parses back to x.
func fmtNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// logStdNormal is log φ(z).
func logStdNormal(z float64) float64 { return -0.5*z*z - 0.5*math.Log(2*math.Pi) }

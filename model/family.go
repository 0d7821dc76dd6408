package model

import (
	"fmt"
	"math"
	"strings"
)

// Family is the response distribution of a (generalized) linear mixed
// model; each non-Gaussian family uses its canonical link as brms and
// lme4 name it (logit for bernoulli and binomial, log for poisson and,
// as glmer.nb does, for the NB2 negative binomial).
type Family int

const (
	// Gaussian is the linear mixed model (identity link, residual σ).
	Gaussian Family = iota
	// Bernoulli is a 0/1 response with the logit link.
	Bernoulli
	// Binomial is a count of successes out of a number of trials, with
	// the logit link.
	Binomial
	// Poisson is a count with the log link.
	Poisson
	// NegBinomial is the NB2 negative binomial (variance μ + μ²/shape)
	// with the log link.
	NegBinomial
)

// familyNames are the config and flag spellings, in Family order.
var familyNames = []string{"gaussian", "bernoulli", "binomial", "poisson", "negbinomial"}

// ParseFamily returns the family spelled s ("" is gaussian).
func ParseFamily(s string) (Family, error) {
	if s == "" {
		return Gaussian, nil
	}
	for i, n := range familyNames {
		if s == n {
			return Family(i), nil
		}
	}
	return Gaussian, fmt.Errorf("unknown family %q: use one of %s", s, strings.Join(familyNames, ", "))
}

// String returns the family's config spelling.
func (f Family) String() string {
	if f < 0 || int(f) >= len(familyNames) {
		return fmt.Sprintf("Family(%d)", int(f))
	}
	return familyNames[f]
}

// Link returns the name of the family's link function.
func (f Family) Link() string {
	switch f {
	case Bernoulli, Binomial:
		return "logit"
	case Poisson, NegBinomial:
		return "log"
	}
	return "identity"
}

// Logistic reports whether the family has the logit link (bernoulli and
// binomial).
func (f Family) Logistic() bool { return f == Bernoulli || f == Binomial }

// Count reports whether the family is a count family (poisson and
// negbinomial).
func (f Family) Count() bool { return f == Poisson || f == NegBinomial }

// LinkInv returns the mean per trial at linear predictor eta: the
// probability for the logistic families, the expected count for the
// count families, eta itself for the Gaussian.
func (f Family) LinkInv(eta float64) float64 {
	switch {
	case f.Logistic():
		return invLogit(eta)
	case f.Count():
		return math.Exp(eta)
	}
	return eta
}

// invLogit is 1/(1+e^(−x)), computed without overflow.
func invLogit(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// log1pExp is log(1+eˣ) without overflow or loss of precision.
func log1pExp(x float64) float64 {
	switch {
	case x > 35:
		return x
	case x < -35:
		return math.Exp(x)
	}
	return math.Log1p(math.Exp(x))
}

// lchoose is log C(n, k) for whole numbers 0 ≤ k ≤ n.
func lchoose(n, k float64) float64 {
	a, _ := math.Lgamma(n + 1)
	b, _ := math.Lgamma(k + 1)
	c, _ := math.Lgamma(n - k + 1)
	return a - b - c
}

// logDensity returns log p(y | η) of one observation: y successes out of
// n trials (logistic families), or a count y (n unused); shape is the
// negative binomial's shape. Constants are included (the binomial
// coefficient, lgamma(y+1)), as R's dbinom, dpois and dnbinom have them.
func (f Family) logDensity(y, n, eta, shape float64) float64 {
	return f.logDensityKernel(y, n, eta, shape) + f.logDensityConst(y, n)
}

// logDensityConst is the part of logDensity that involves neither η nor
// the shape: log C(n, y) (logistic families) or −lgamma(y + 1) (count
// families).
func (f Family) logDensityConst(y, n float64) float64 {
	switch f {
	case Bernoulli, Binomial:
		return lchoose(n, y)
	case Poisson, NegBinomial:
		lg, _ := math.Lgamma(y + 1)
		return -lg
	}
	return math.NaN()
}

// logDensityKernel is logDensity less logDensityConst.
func (f Family) logDensityKernel(y, n, eta, shape float64) float64 {
	switch f {
	case Bernoulli, Binomial:
		// y η − n log(1+e^η)
		return y*eta - n*log1pExp(eta)
	case Poisson:
		return y*eta - math.Exp(eta)
	case NegBinomial:
		mu := math.Exp(eta)
		a, _ := math.Lgamma(y + shape)
		b, _ := math.Lgamma(shape)
		// k log(k/(k+μ)) + y log(μ/(k+μ))
		lkm := math.Log(shape + mu)
		return a - b + shape*(math.Log(shape)-lkm) + y*(eta-lkm)
	}
	return math.NaN()
}

// irls returns the IRLS weight and the working residual (y − μ)/(dμ/dη)
// of one observation at η: w = (dμ/dη)²/Var(y) with the trials (n) of a
// binomial, the Fisher-scoring weight of glm's and lme4's PIRLS.
func (f Family) irls(y, n, eta, shape float64) (w, r float64) {
	switch f {
	case Bernoulli, Binomial:
		p := invLogit(eta)
		w = n * p * (1 - p)
		if w < 1e-300 {
			w = 1e-300
		}
		return w, (y - n*p) / w
	case Poisson:
		mu := math.Exp(eta)
		return mu, (y - mu) / mu
	case NegBinomial:
		mu := math.Exp(eta)
		return mu / (1 + mu/shape), (y - mu) / mu
	}
	return 1, y - eta
}

// LogDensity returns log p(y | η) of one observation of family f, with
// every constant (R's dbinom(y, n, plogis(η), log = TRUE), dpois and
// dnbinom(y, size = shape, mu = exp(η), log = TRUE)): y successes out of
// n trials for the logistic families, a count y (n unused) for the count
// families; shape is the negative binomial's. NaN for the Gaussian.
func (f Family) LogDensity(y, n, eta, shape float64) float64 { return f.logDensity(y, n, eta, shape) }

// LogDensityConst is the part of LogDensity that involves neither η nor
// the shape (log C(n, y) for the logistic families, −log y! for the
// count families): the same for every draw, so a caller evaluating many
// draws computes it once and adds LogDensityKernel.
func (f Family) LogDensityConst(y, n float64) float64 { return f.logDensityConst(y, n) }

// LogDensityKernel is LogDensity less LogDensityConst.
func (f Family) LogDensityKernel(y, n, eta, shape float64) float64 {
	return f.logDensityKernel(y, n, eta, shape)
}

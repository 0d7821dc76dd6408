package priors

import (
	"math"
	"math/rand/v2"
)

// symStd describes a standard symmetric distribution (location 0, scale
// 1) through its log density, CDF and quantile function.
type symStd interface {
	logPDF(z float64) float64
	cdf(z float64) float64
	quantile(p float64) float64
}

// halfLogDensity is the log density at x > 0 of mu + s·Z, Z ~ std,
// truncated to (0, ∞): log f((x−mu)/s) − log s − log P(mu + sZ > 0),
// where P(mu + sZ > 0) = F(mu/s) by symmetry.
func halfLogDensity(std symStd, mu, s, x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Inf(-1)
	}
	return std.logPDF((x-mu)/s) - math.Log(s) - math.Log(std.cdf(mu/s))
}

// halfRand draws mu + s·Z conditioned on being positive, by inversion:
// W = Q(u) with u ~ U(0, F(mu/s)) is Z's law restricted to Z < mu/s, and
// mu − s·W is then the truncated draw (Z is symmetric).
func halfRand(std symStd, mu, s float64, rng *rand.Rand) float64 {
	pmax := std.cdf(mu / s)
	for {
		u := rng.Float64() * pmax
		if u == 0 {
			continue
		}
		x := mu - s*std.quantile(u)
		if x > 0 && !math.IsInf(x, 1) {
			return x
		}
	}
}

package priors

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// randGamma draws from Gamma(shape, rate 1).
func randGamma(shape float64, rng *rand.Rand) float64 {
	return distuv.Gamma{Alpha: shape, Beta: 1, Src: rng}.Rand()
}

// RandInverseGaussian draws from the inverse Gaussian with mean mu > 0 and
// shape lambda > 0 (density √(λ/(2πx³)) exp(−λ(x−μ)²/(2μ²x))) by the
// transformation-with-multiple-roots method of Michael, Schucany and Haas
// (1976). The smaller root is computed as μ / (1 + r + √(r(2+r))),
// r = μy/(2λ), which avoids the cancellation of the textbook form when μy
// is large relative to λ.
func RandInverseGaussian(mu, lambda float64, rng *rand.Rand) float64 {
	for {
		n := rng.NormFloat64()
		r := mu * n * n / (2 * lambda)
		x := mu / (1 + r + math.Sqrt(r*(2+r)))
		var out float64
		if rng.Float64()*(mu+x) <= mu {
			out = x
		} else {
			out = mu * mu / x
		}
		if out > 0 && !math.IsInf(out, 1) {
			return out
		}
	}
}

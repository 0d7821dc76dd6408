package sampler

import (
	"math"
	"math/rand/v2"
)

// Pólya-Gamma draws (Polson, Scott & Windle 2013, "Bayesian inference for
// logistic models using Pólya-Gamma latent variables", JASA 108:1339–1349).
//
// PG(1, c) is drawn exactly by the paper's Algorithm 1 (Devroye's
// alternating-series method for the Jacobi distribution J*(1, c/2), of
// which PG(1, c) is a quarter): a proposal from a mixture of a truncated
// inverse Gaussian (left of t) and a truncated exponential (right of t),
// accepted by the alternating series of piecewise coefficients a_n(x).
// PG(b, c) for a whole number b is the sum of b independent PG(1, c)
// draws (the family is closed under convolution in b). No approximation
// is used: BayesLogit's hybrid sampler switches to a saddle-point
// approximation from b = 13 and a normal one from b = 170 for speed, but
// our binomial trial counts are small (cbpp: at most 34) and an exact
// draw costs about 1.1 proposals per PG(1, ·), so the sum is cheap enough.

// pgTrunc is the truncation point t of Algorithm 1 (the paper's 0.64,
// which nearly maximises the acceptance rate).
const pgTrunc = 0.64

// RandPG returns a draw from PG(b, c) for a whole number b ≥ 1.
func RandPG(b int, c float64, rng *rand.Rand) float64 {
	var s float64
	for range b {
		s += randPG1(c, rng)
	}
	return s
}

// randPG1 draws PG(1, c) = J*(1, |c|/2)/4.
func randPG1(c float64, rng *rand.Rand) float64 {
	z := math.Abs(c) / 2
	t := pgTrunc
	k := math.Pi*math.Pi/8 + z*z/2
	p := math.Pi / (2 * k) * math.Exp(-k*t)
	q := 2 * math.Exp(-z) * igCDF(t, z)
	for {
		var x float64
		if rng.Float64() < p/(p+q) {
			x = t + rng.ExpFloat64()/k
		} else {
			x = randTruncIG(z, t, rng)
		}
		s := pgCoef(0, x, t)
		y := rng.Float64() * s
		for n := 1; ; n++ {
			if n%2 == 1 {
				s -= pgCoef(n, x, t)
				if y <= s {
					return x / 4
				}
			} else {
				s += pgCoef(n, x, t)
				if y > s {
					break
				}
			}
		}
	}
}

// pgCoef is the piecewise coefficient a_n(x) of J*(1, 0)'s density
// (the paper's eq. 15).
func pgCoef(n int, x, t float64) float64 {
	h := float64(n) + 0.5
	if x <= t {
		return math.Pi * h * math.Pow(2/(math.Pi*x), 1.5) * math.Exp(-2*h*h/x)
	}
	return math.Pi * h * math.Exp(-h*h*math.Pi*math.Pi*x/2)
}

// igCDF is P(X < t) for X inverse Gaussian with mean 1/z and shape 1
// (z = 0: the Lévy distribution, P = 2Φ(−1/√t)).
func igCDF(t, z float64) float64 {
	rt := math.Sqrt(t)
	a := normCDF((t*z - 1) / rt)
	b := math.Exp(2*z) * normCDF(-(t*z+1)/rt)
	return a + b
}

// normCDF is the standard normal distribution function.
func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// randTruncIG draws the inverse Gaussian with mean 1/z and shape 1
// truncated to (0, t), by the paper's Algorithm 2 and 3: for a mean above
// t, a scaled 1/χ²₁ (Lévy) proposal accepted with probability exp(−z²x/2);
// otherwise an untruncated inverse Gaussian (Michael, Schucany & Haas 1976)
// redrawn until it falls below t.
func randTruncIG(z, t float64, rng *rand.Rand) float64 {
	mu := math.Inf(1)
	if z > 0 {
		mu = 1 / z
	}
	if mu > t {
		for {
			var e1, e2 float64
			for {
				e1, e2 = rng.ExpFloat64(), rng.ExpFloat64()
				if e1*e1 <= 2*e2/t {
					break
				}
			}
			x := t / ((1 + t*e1) * (1 + t*e1))
			if rng.Float64() <= math.Exp(-z*z*x/2) {
				return x
			}
		}
	}
	for {
		y := rng.NormFloat64()
		y *= y
		x := mu + mu*mu*y/2 - mu/2*math.Sqrt(4*mu*y+mu*mu*y*y)
		if rng.Float64() > mu/(mu+x) {
			x = mu * mu / x
		}
		if x < t {
			return x
		}
	}
}

// pgMean is E[PG(b, c)] = b tanh(c/2)/(2c) (b/4 at c = 0).
func pgMean(b, c float64) float64 {
	if math.Abs(c) < 1e-8 {
		return b / 4
	}
	return b * math.Tanh(c/2) / (2 * c)
}

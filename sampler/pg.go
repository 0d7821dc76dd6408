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
	pc := newPG1(c)
	var s float64
	for range b {
		s += pc.draw(rng)
	}
	return s
}

// pg1 holds what Algorithm 1 computes once per c: z = |c|/2, the
// exponential rate K = π²/8 + z²/2 of the right piece, and the
// probability p/(p+q) of proposing from it.
type pg1 struct {
	z, k, pRight float64
}

func newPG1(c float64) pg1 {
	z := math.Abs(c) / 2
	t := pgTrunc
	k := math.Pi*math.Pi/8 + z*z/2
	p := math.Pi / (2 * k) * math.Exp(-k*t)
	q := 2 * math.Exp(-z) * igCDF(t, z)
	return pg1{z: z, k: k, pRight: p / (p + q)}
}

// draw is one PG(1, c) draw by Algorithm 1.
func (pc pg1) draw(rng *rand.Rand) float64 {
	t := pgTrunc
	for {
		var x float64
		if rng.Float64() < pc.pRight {
			x = t + rng.ExpFloat64()/pc.k
		} else {
			x = randTruncIG(pc.z, t, rng)
		}
		// a_n(x) = π(n+½)·g(x)·exp(−(n+½)²·r(x)) with, left of t,
		// g = (2/(πx))^{3/2}, r = 2/x, and right of t, g = 1, r = π²x/2
		// (the paper's eq. 15), g and r computed once per proposal.
		g, r := 1.0, math.Pi*math.Pi*x/2
		if x <= t {
			a := 2 / (math.Pi * x)
			g, r = a*math.Sqrt(a), 2/x
		}
		coef := func(n int) float64 {
			h := float64(n) + 0.5
			return math.Pi * h * g * math.Exp(-h*h*r)
		}
		s := coef(0)
		y := rng.Float64() * s
		for n := 1; ; n++ {
			if n%2 == 1 {
				s -= coef(n)
				if y <= s {
					return x / 4
				}
			} else {
				s += coef(n)
				if y > s {
					break
				}
			}
		}
	}
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
			// Accept with probability exp(−z²x/2); 1 − a ≤ e^{−a} decides
			// most draws without the exponential.
			a, u := z*z*x/2, rng.Float64()
			if u <= 1-a || u <= math.Exp(-a) {
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

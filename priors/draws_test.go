package priors

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func TestUnivariateDraws(t *testing.T) {
	rng := newRNG(7)
	n := 4000
	cases := []struct {
		p   Univariate
		cdf func(float64) float64
	}{
		{Normal{Mu: 1, Sigma: 2}, distuv.Normal{Mu: 1, Sigma: 2}.CDF},
		{StudentT{Nu: 3, Mu: -1, Sigma: 2.5}, distuv.StudentsT{Mu: -1, Sigma: 2.5, Nu: 3}.CDF},
		{Cauchy{Mu: 0.5, Sigma: 3}, distuv.StudentsT{Mu: 0.5, Sigma: 3, Nu: 1}.CDF},
		{Laplace{Mu: 0.2, Scale: 1.7}, distuv.Laplace{Mu: 0.2, Scale: 1.7}.CDF},
		{Exponential{Rate: 0.7}, distuv.Exponential{Rate: 0.7}.CDF},
		{InvGamma{Shape: 2.5, Scale: 3}, func(v float64) float64 { return distuv.Gamma{Alpha: 2.5, Beta: 3}.Survival(1 / v) }},
		{Flat{}, func(x float64) float64 { return math.Max(0, math.Min(1, (x+2)/4)) }},
	}
	for _, c := range cases {
		if p := ksOne(draws(n, func() float64 { return c.p.Rand(rng) }), c.cdf); p < 1e-3 {
			t.Errorf("%v draws: KS p = %g", c.p, p)
		}
	}
}

func TestHalfDraws(t *testing.T) {
	rng := newRNG(8)
	n := 4000
	trunc := func(cdf func(float64) float64) func(float64) float64 {
		c0 := cdf(0)
		return func(x float64) float64 { return (cdf(x) - c0) / (1 - c0) }
	}
	cases := []struct {
		p   ScalePrior
		cdf func(float64) float64
	}{
		{Normal{Mu: 0, Sigma: 2}, trunc(distuv.Normal{Sigma: 2}.CDF)},
		{Normal{Mu: -3, Sigma: 1}, trunc(distuv.Normal{Mu: -3, Sigma: 1}.CDF)},
		{StudentT{Nu: 3, Mu: 0, Sigma: 2.5}, trunc(distuv.StudentsT{Sigma: 2.5, Nu: 3}.CDF)},
		{StudentT{Nu: 3, Mu: 5, Sigma: 1}, trunc(distuv.StudentsT{Mu: 5, Sigma: 1, Nu: 3}.CDF)},
		{Cauchy{Mu: 0, Sigma: 1}, trunc(distuv.StudentsT{Sigma: 1, Nu: 1}.CDF)},
		{Cauchy{Mu: -2, Sigma: 0.5}, trunc(distuv.StudentsT{Mu: -2, Sigma: 0.5, Nu: 1}.CDF)},
		{Exponential{Rate: 2}, distuv.Exponential{Rate: 2}.CDF},
		// SD under inv_gamma on the variance: P(s ≤ x) = P(v ≤ x²).
		{InvGamma{Shape: 1.5, Scale: 2}, func(x float64) float64 { return distuv.Gamma{Alpha: 1.5, Beta: 2}.Survival(1 / (x * x)) }},
	}
	for _, c := range cases {
		x := draws(n, func() float64 { return c.p.RandSD(rng) })
		for _, v := range x {
			if !(v > 0) {
				t.Fatalf("%v drew %v", c.p, v)
			}
		}
		if p := ksOne(x, c.cdf); p < 1e-3 {
			t.Errorf("%v half draws: KS p = %g", c.p, p)
		}
	}
}

// igCDF is the inverse-Gaussian CDF.
func igCDF(mu, lambda float64) func(float64) float64 {
	return func(x float64) float64 {
		if x <= 0 {
			return 0
		}
		a := math.Sqrt(lambda / x)
		return distuv.UnitNormal.CDF(a*(x/mu-1)) + math.Exp(2*lambda/mu)*distuv.UnitNormal.CDF(-a*(x/mu+1))
	}
}

func TestInverseGaussian(t *testing.T) {
	rng := newRNG(9)
	for _, c := range [][2]float64{{1, 1}, {0.3, 4}, {5, 0.5}, {200, 3}} {
		mu, lam := c[0], c[1]
		x := draws(5000, func() float64 { return RandInverseGaussian(mu, lam, rng) })
		var cdf func(float64) float64
		if 2*lam/mu < 600 {
			cdf = igCDF(mu, lam)
		}
		if cdf != nil {
			if p := ksOne(x, cdf); p < 1e-3 {
				t.Errorf("IG(%v, %v): KS p = %g", mu, lam, p)
			}
		}
		// Mean μ, variance μ³/λ: E[1/X] = 1/μ + 1/λ has finite variance
		// for every (μ, λ), so test it within 4 SE.
		s, s2 := 0.0, 0.0
		for _, v := range x {
			s += 1 / v
			s2 += 1 / (v * v)
		}
		m := s / float64(len(x))
		se := math.Sqrt((s2/float64(len(x)) - m*m) / float64(len(x)))
		if want := 1/mu + 1/lam; math.Abs(m-want) > 4*se {
			t.Errorf("IG(%v, %v): E[1/X] = %g, want %g ± %g", mu, lam, m, want, 4*se)
		}
	}
}

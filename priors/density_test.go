package priors

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

var testPoints = []float64{-7.5, -2, -0.3, 0, 0.01, 1, 2.5, 13}

func TestLogDensityAgainstGonum(t *testing.T) {
	for _, x := range testPoints {
		closeRel(t, "normal", Normal{Mu: 1, Sigma: 2}.LogDensity(x), distuv.Normal{Mu: 1, Sigma: 2}.LogProb(x), 1e-13)
		closeRel(t, "student_t", StudentT{Nu: 3, Mu: -1, Sigma: 2.5}.LogDensity(x), distuv.StudentsT{Mu: -1, Sigma: 2.5, Nu: 3}.LogProb(x), 1e-13)
		closeRel(t, "cauchy", Cauchy{Mu: 0.5, Sigma: 3}.LogDensity(x), distuv.StudentsT{Mu: 0.5, Sigma: 3, Nu: 1}.LogProb(x), 1e-13)
		closeRel(t, "laplace", Laplace{Mu: 0.2, Scale: 1.7}.LogDensity(x), distuv.Laplace{Mu: 0.2, Scale: 1.7}.LogProb(x), 1e-13)
		if x >= 0 {
			closeRel(t, "exponential", Exponential{Rate: 0.7}.LogDensity(x), distuv.Exponential{Rate: 0.7}.LogProb(x), 1e-13)
		}
		if x > 0 {
			// v ~ IG(a, b) ⇔ 1/v ~ Gamma(a, rate b): p(v) = p_Γ(1/v)/v².
			g := InvGamma{Shape: 2.5, Scale: 3}
			closeRel(t, "inv_gamma", g.LogDensity(x), distuv.Gamma{Alpha: 2.5, Beta: 3}.LogProb(1/x)-2*math.Log(x), 1e-12)
			// Half-normal with location 0 is 2·φ: log 2 + log φ.
			closeRel(t, "half-normal", Normal{Sigma: 2}.LogDensitySD(x), math.Ln2+distuv.Normal{Sigma: 2}.LogProb(x), 1e-13)
			// Half-t with location mu: f(x)/P(X>0).
			st := distuv.StudentsT{Mu: 1.5, Sigma: 2, Nu: 3}
			closeRel(t, "half-t", StudentT{Nu: 3, Mu: 1.5, Sigma: 2}.LogDensitySD(x), st.LogProb(x)-math.Log(st.Survival(0)), 1e-12)
			c := distuv.StudentsT{Mu: -1, Sigma: 0.5, Nu: 1}
			closeRel(t, "half-cauchy", Cauchy{Mu: -1, Sigma: 0.5}.LogDensitySD(x), c.LogProb(x)-math.Log(c.Survival(0)), 1e-12)
			closeRel(t, "inv_gamma on sd", g.LogDensitySD(x), g.LogDensity(x*x)+math.Log(2*x), 1e-13)
		} else {
			for _, p := range []ScalePrior{Normal{Sigma: 1}, StudentT{Nu: 3, Sigma: 1}, Cauchy{Sigma: 1}, Exponential{Rate: 1}, InvGamma{Shape: 1, Scale: 1}} {
				if !math.IsInf(p.LogDensitySD(x), -1) {
					t.Errorf("%v.LogDensitySD(%v) = %v, want -Inf", p, x, p.LogDensitySD(x))
				}
			}
		}
	}
}

// integral of exp(logf) over (0, ∞) or the real line.
func integrate(logf func(float64) float64, lo, hi float64) float64 {
	return quad.Fixed(func(x float64) float64 { return math.Exp(logf(x)) }, lo, hi, 4000, nil, 0)
}

func TestHalfNormalisation(t *testing.T) {
	priors := []ScalePrior{
		Normal{Mu: 0, Sigma: 2}, Normal{Mu: 3, Sigma: 1}, Normal{Mu: -2, Sigma: 1},
		StudentT{Nu: 3, Mu: 0, Sigma: 2.5}, StudentT{Nu: 3, Mu: -4, Sigma: 1}, StudentT{Nu: 7, Mu: 10, Sigma: 3},
		Cauchy{Mu: 0, Sigma: 1}, Cauchy{Mu: 2, Sigma: 0.5},
		Exponential{Rate: 0.3},
		InvGamma{Shape: 1, Scale: 1}, InvGamma{Shape: 0.5, Scale: 2}, InvGamma{Shape: 3, Scale: 0.1},
	}
	for _, p := range priors {
		got := integrate(p.LogDensitySD, 0, math.Inf(1))
		// The Gauss–Legendre rule on the mapped interval converges fast for
		// these smooth tails; 1e-5 leaves room for the Cauchy's slow tail.
		closeRel(t, p.String()+" ∫", got, 1, 1e-5)
	}
	for _, p := range []Univariate{Normal{Mu: 1, Sigma: 2}, StudentT{Nu: 2.5, Mu: 0, Sigma: 1}, Laplace{Mu: 1, Scale: 0.5}} {
		closeRel(t, p.String()+" ∫", integrate(p.LogDensity, math.Inf(-1), math.Inf(1)), 1, 1e-5)
	}
}

func TestExpE1(t *testing.T) {
	// E₁(1) = 0.219383934395520273677, E₁(0.1) = 1.82292395841939,
	// E₁(5) = 0.001148295591275325 (Abramowitz & Stegun table 5.1).
	closeRel(t, "E1(1)", expE1(1)*math.Exp(-1), 0.219383934395520273677, 1e-13)
	closeRel(t, "E1(1+)", expE1(math.Nextafter(1, 2))*math.Exp(-1), 0.219383934395520273677, 1e-12)
	closeRel(t, "E1(0.1)", expE1(0.1)*math.Exp(-0.1), 1.82292395841939, 1e-12)
	closeRel(t, "E1(5)", expE1(5)*math.Exp(-5), 0.001148295591275325, 1e-12)
	// E₁ against its integral ∫₁^∞ e^(−xt)/t dt.
	for _, x := range []float64{0.003, 0.7, 2, 30} {
		num := quad.Fixed(func(t float64) float64 { return math.Exp(-x*t) / t }, 1, math.Inf(1), 3000, nil, 0)
		closeRel(t, "E1 integral", expE1(x)*math.Exp(-x), num, 1e-8)
	}
}

func TestHorseshoeDensity(t *testing.T) {
	// p(β | τ) with λ integrated numerically matches the E₁ closed form.
	for _, b := range []float64{0.05, 0.7, 3} {
		tau := 0.8
		num := quad.Fixed(func(l float64) float64 {
			return math.Exp(Normal{Sigma: tau * l}.LogDensity(b) + Cauchy{Sigma: 1}.LogDensitySD(l))
		}, 0, math.Inf(1), 4000, nil, 0)
		closeRel(t, "horseshoe p(β|τ)", math.Exp(horseshoeLogCond(b, tau)), num, 1e-6)
	}
	// The marginal integrates to 1: β ∈ (0, ∞) twice (symmetric); the
	// log-singularity at 0 is integrable, handled by the substitution
	// β = eᵘ.
	h := Horseshoe{Scale: 0.5}
	half := quad.Fixed(func(u float64) float64 { b := math.Exp(u); return math.Exp(h.LogDensity(b)) * b }, -30, 12, 600, nil, 0)
	closeRel(t, "horseshoe ∫", 2*half, 1, 2e-4)
}

func TestLKJDensity(t *testing.T) {
	for _, eta := range []float64{0.5, 1, 2, 7.3} {
		l := LKJ{Eta: eta}
		// K=2: the correlation's density is Beta(η, η) on (−1, 1).
		for _, r := range []float64{-0.9, -0.2, 0, 0.5, 0.99} {
			want := distuv.Beta{Alpha: eta, Beta: eta}.LogProb((r+1)/2) - math.Ln2
			closeRel(t, "lkj K=2", l.LogDensity(r), want, 1e-12)
		}
		if eta >= 1 {
			closeRel(t, "lkj K=2 ∫", integrate(l.LogDensity, -1, 1), 1, 1e-8)
		}
	}
	// Volume of the 3×3 elliptope is π²/2 (η = 1).
	closeRel(t, "c_3(1)", LKJ{Eta: 1}.LogNormalizer(3), math.Log(math.Pi*math.Pi/2), 1e-13)
	// K=3, η=2: ∫ det(Ω) dΩ over the elliptope by nested Gauss–Legendre
	// (r23 between the roots of det = 0); the integrand is a polynomial, so
	// the rule is exact up to rounding.
	vol := quad.Fixed(func(a float64) float64 {
		return quad.Fixed(func(b float64) float64 {
			w := math.Sqrt((1 - a*a) * (1 - b*b))
			return quad.Fixed(func(c float64) float64 {
				return 1 - a*a - b*b - c*c + 2*a*b*c
			}, a*b-w, a*b+w, 8, nil, 0)
		}, -1, 1, 40, nil, 0)
	}, -1, 1, 40, nil, 0)
	closeRel(t, "c_3(2)", LKJ{Eta: 2}.LogNormalizer(3), math.Log(vol), 1e-6)
	// c_K for general K against LKJ (2009) eq. 16's other form:
	// c_K(η) = 2^Σ... checked through K=2: 2^(2η−1) B(η, η).
	closeRel(t, "c_2", LKJ{Eta: 3.5}.LogNormalizer(2), (2*3.5-1)*math.Ln2+mathext.Lbeta(3.5, 3.5), 1e-13)
}

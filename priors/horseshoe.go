package priors

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/integrate/quad"
)

// Horseshoe is horseshoe(scale), the horseshoe prior of Carvalho, Polson
// and Scott (2010) on the fixed-effect slopes (class b only):
//
//	βⱼ | λⱼ, τ, σ ~ N(0, σ²τ²λⱼ²),  λⱼ ~ C⁺(0, 1),  τ ~ C⁺(0, A),
//
// with A = scale the global scale and σ the residual SD (as brms, which
// multiplies the global scale by sigma). For Gibbs sampling each
// half-Cauchy is written with an inverse-gamma auxiliary (Makalic &
// Schmidt 2016): λⱼ² | νⱼ ~ IG(1/2, 1/νⱼ), νⱼ ~ IG(1/2, 1);
// τ² | ξ ~ IG(1/2, 1/ξ), ξ ~ IG(1/2, 1/A²). See HorseshoeState.Update.
//
// Unlike brms, whose first argument is the local degrees of freedom, the
// one argument here is the global scale.
type Horseshoe struct {
	// Scale is the global scale A > 0.
	Scale float64
}

// Family returns "horseshoe".
func (Horseshoe) Family() string { return "horseshoe" }

// String prints "horseshoe(scale)".
func (h Horseshoe) String() string { return fmt.Sprintf("horseshoe(%s)", fmtNum(h.Scale)) }

// Allows reports whether horseshoe may be used on c: b only.
func (Horseshoe) Allows(c Class) bool { return c == ClassB }

// Rand draws one coefficient from the marginal prior with σ = 1:
// τ ~ C⁺(0, A), λ ~ C⁺(0, 1), β ~ N(0, τ²λ²). (Coefficients of one model
// share τ; this draws a fresh τ for each call.)
func (h Horseshoe) Rand(rng *rand.Rand) float64 {
	tau := Cauchy{Sigma: h.Scale}.RandSD(rng)
	lam := Cauchy{Sigma: 1}.RandSD(rng)
	return tau * lam * rng.NormFloat64()
}

// LogDensity is the log marginal density of one coefficient with σ = 1
// and λ, τ integrated out. Given τ the local integral has the closed form
// p(β | τ) = (2π³)^(−1/2) τ⁻¹ eˣ E₁(x), x = β²/(2τ²) (Carvalho, Polson &
// Scott 2010); the τ integral is done numerically (Gauss–Legendre on
// log τ), so this costs a few thousand function evaluations: use it for
// checks and diagnostics, not inside a sampler. It is +Inf at β = 0.
func (h Horseshoe) LogDensity(beta float64) float64 {
	ab := math.Abs(beta)
	if ab == 0 {
		return math.Inf(1)
	}
	if math.IsInf(ab, 1) || math.IsNaN(ab) {
		return math.Inf(-1)
	}
	// τ = e^t: p(β) = ∫ p(β | τ) p(τ) τ dt.
	lb, la := math.Log(ab), math.Log(h.Scale)
	lo := min(lb, la) - 25
	hi := max(lb, la) + 40
	f := func(t float64) float64 {
		tau := math.Exp(t)
		return math.Exp(horseshoeLogCond(beta, tau) + Cauchy{Sigma: h.Scale}.LogDensitySD(tau) + t)
	}
	return math.Log(quad.Fixed(f, lo, hi, 2000, nil, 0))
}

// horseshoeLogCond is log p(β | τ) with λ ~ C⁺(0,1) integrated out.
func horseshoeLogCond(beta, tau float64) float64 {
	x := beta * beta / (2 * tau * tau)
	return -0.5*math.Log(2*math.Pi*math.Pi*math.Pi) - math.Log(tau) + math.Log(expE1(x))
}

// expE1 is eˣ E₁(x) for x > 0, E₁ the exponential integral: the power
// series for x ≤ 1 and the continued fraction (modified Lentz) above.
func expE1(x float64) float64 {
	const eulerGamma = 0.57721566490153286061
	if x <= 1 {
		sum, term := 0.0, 1.0
		for k := 1; k < 100; k++ {
			term *= -x / float64(k)
			d := term / float64(k)
			sum += d
			if math.Abs(d) < 1e-17*math.Abs(sum) {
				break
			}
		}
		return math.Exp(x) * (-eulerGamma - math.Log(x) - sum)
	}
	const tiny = 1e-300
	b := x + 1
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i * i)
		b += 2
		d = 1 / (an*d + b)
		c = b + an/c
		del := c * d
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return h
}

// HorseshoeState is the latent state of a horseshoe prior on p
// coefficients in a Gibbs sampler.
type HorseshoeState struct {
	// Lambda2 are the local variances λⱼ².
	Lambda2 []float64
	// Nu are the local auxiliaries νⱼ.
	Nu []float64
	// Tau2 is the global variance τ².
	Tau2 float64
	// Xi is the global auxiliary ξ.
	Xi float64
}

// NewState draws a state for p coefficients from the prior.
func (h Horseshoe) NewState(p int, rng *rand.Rand) *HorseshoeState {
	st := &HorseshoeState{Lambda2: make([]float64, p), Nu: make([]float64, p)}
	st.Xi = RandInvGamma(0.5, 1/(h.Scale*h.Scale), rng)
	st.Tau2 = RandInvGamma(0.5, 1/st.Xi, rng)
	for j := range p {
		st.Nu[j] = RandInvGamma(0.5, 1, rng)
		st.Lambda2[j] = RandInvGamma(0.5, 1/st.Nu[j], rng)
	}
	return st
}

// PriorVariance is the current prior variance σ²τ²λⱼ² of coefficient j:
// given the state, βⱼ ~ N(0, PriorVariance(j, σ²)).
func (st *HorseshoeState) PriorVariance(j int, sigma2 float64) float64 {
	return sigma2 * st.Tau2 * st.Lambda2[j]
}

// SigmaTerms returns what the horseshoe's coefficients add to the
// inverse-gamma conditional of σ² (β | σ² ~ N(0, σ²τ²Λ)): shape p/2 and
// rate Σⱼ βⱼ²/(2τ²λⱼ²).
func (st *HorseshoeState) SigmaTerms(beta []float64) (shape, rate float64) {
	for j, b := range beta {
		rate += b * b / (2 * st.Tau2 * st.Lambda2[j])
	}
	return float64(len(beta)) / 2, rate
}

// Update draws, in turn, every λⱼ², νⱼ, then τ² and ξ from their full
// conditionals given the coefficients beta (len p) and σ² (Makalic &
// Schmidt 2016).
func (h Horseshoe) Update(st *HorseshoeState, beta []float64, sigma2 float64, rng *rand.Rand) {
	for j, b := range beta {
		st.Lambda2[j] = HorseshoeLocal(b, st.Tau2, sigma2, st.Nu[j], rng)
		st.Nu[j] = HorseshoeLocalAux(st.Lambda2[j], rng)
	}
	st.Tau2 = HorseshoeGlobal(beta, st.Lambda2, sigma2, st.Xi, rng)
	st.Xi = HorseshoeGlobalAux(st.Tau2, h.Scale, rng)
}

// HorseshoeLocal draws λⱼ² | · ~ IG(1, 1/νⱼ + βⱼ²/(2τ²σ²)).
func HorseshoeLocal(beta, tau2, sigma2, nu float64, rng *rand.Rand) float64 {
	return RandInvGamma(1, 1/nu+beta*beta/(2*tau2*sigma2), rng)
}

// HorseshoeLocalAux draws νⱼ | · ~ IG(1, 1 + 1/λⱼ²).
func HorseshoeLocalAux(lambda2 float64, rng *rand.Rand) float64 {
	return RandInvGamma(1, 1+1/lambda2, rng)
}

// HorseshoeGlobal draws τ² | · ~ IG((p+1)/2, 1/ξ + Σⱼ βⱼ²/(2σ²λⱼ²)).
func HorseshoeGlobal(beta, lambda2 []float64, sigma2, xi float64, rng *rand.Rand) float64 {
	rate := 1 / xi
	for j, b := range beta {
		rate += b * b / (2 * sigma2 * lambda2[j])
	}
	return RandInvGamma(float64(len(beta)+1)/2, rate, rng)
}

// HorseshoeGlobalAux draws ξ | · ~ IG(1, 1/A² + 1/τ²) for global scale A.
func HorseshoeGlobalAux(tau2, scale float64, rng *rand.Rand) float64 {
	return RandInvGamma(1, 1/(scale*scale)+1/tau2, rng)
}

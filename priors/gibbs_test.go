package priors

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// The Geweke-style checks below run many independent chains, each started
// at an exact draw from the joint prior of (β, latent) and moved by a few
// Gibbs sweeps with no likelihood. A kernel that leaves the joint prior
// invariant keeps every chain's final β exactly distributed as the
// marginal prior, and the chains are independent, so a KS test of the
// final βs is exact. A wrong conditional drifts towards its own stationary
// law and is rejected.

const (
	gewekeChains = 3000
	gewekeSweeps = 15
)

// laplaceChains returns the final β of each chain; mixing draws V | β.
func laplaceChains(l Laplace, rng *rand.Rand, mixing func(beta float64) float64) []float64 {
	out := make([]float64, gewekeChains)
	for c := range out {
		v := l.MixingVariancePrior(rng)
		beta := l.Mu + math.Sqrt(v)*rng.NormFloat64()
		for range gewekeSweeps {
			v = mixing(beta)
			beta = l.Mu + math.Sqrt(v)*rng.NormFloat64()
		}
		out[c] = beta
	}
	return out
}

func TestLaplaceGibbs(t *testing.T) {
	rng := newRNG(31)
	for _, l := range []Laplace{{Mu: 0, Scale: 1}, {Mu: 2, Scale: 0.3}, {Mu: -1, Scale: 4}} {
		cdf := distuv.Laplace{Mu: l.Mu, Scale: l.Scale}.CDF
		x := laplaceChains(l, rng, func(b float64) float64 { return l.MixingVariance(b, rng) })
		if p := ksOne(x, cdf); p < 1e-3 {
			t.Errorf("%v Gibbs marginal: KS p = %g", l, p)
		}
	}
	// A deliberately wrong conditional: the inverse-Gaussian shape 1/b
	// instead of 1/b² (right only when b = 1), with b = 0.3.
	l := Laplace{Mu: 2, Scale: 0.3}
	wrong := func(b float64) float64 {
		d := math.Abs(b - l.Mu)
		return 1 / RandInverseGaussian(1/(l.Scale*d), 1/l.Scale, rng)
	}
	x := laplaceChains(l, rng, wrong)
	if p := ksOne(x, distuv.Laplace{Mu: l.Mu, Scale: l.Scale}.CDF); p > 1e-6 {
		t.Errorf("wrong Laplace conditional not detected: KS p = %g", p)
	}
}

func TestStudentTGibbs(t *testing.T) {
	rng := newRNG(37)
	st := StudentT{Nu: 3, Mu: 1, Sigma: 2}
	x := make([]float64, gewekeChains)
	for c := range x {
		beta := st.Rand(rng)
		for range gewekeSweeps {
			v := st.MixingVariance(beta, rng)
			beta = st.Mu + math.Sqrt(v)*rng.NormFloat64()
		}
		x[c] = beta
	}
	if p := ksOne(x, distuv.StudentsT{Mu: 1, Sigma: 2, Nu: 3}.CDF); p < 1e-3 {
		t.Errorf("student_t Gibbs marginal: KS p = %g", p)
	}
}

// horseshoeChains runs prior-only Gibbs on p coefficients with σ² fixed
// and returns the final β₁ and log τ² of each chain. update moves the
// latent state given β.
func horseshoeChains(h Horseshoe, p int, sigma2 float64, rng *rand.Rand,
	update func(st *HorseshoeState, beta []float64)) (b1, ltau []float64) {
	beta := make([]float64, p)
	for range gewekeChains {
		st := h.NewState(p, rng)
		for range gewekeSweeps + 1 {
			for j := range beta {
				beta[j] = math.Sqrt(st.PriorVariance(j, sigma2)) * rng.NormFloat64()
			}
			update(st, beta)
		}
		b1 = append(b1, beta[0])
		ltau = append(ltau, math.Log(st.Tau2))
	}
	return b1, ltau
}

// horseshoeDirect draws β₁ and log τ² straight from the prior.
func horseshoeDirect(h Horseshoe, sigma2 float64, rng *rand.Rand) (b1, ltau []float64) {
	for range gewekeChains {
		tau := Cauchy{Sigma: h.Scale}.RandSD(rng)
		lam := Cauchy{Sigma: 1}.RandSD(rng)
		b1 = append(b1, math.Sqrt(sigma2)*tau*lam*rng.NormFloat64())
		ltau = append(ltau, 2*math.Log(tau))
	}
	return b1, ltau
}

func TestHorseshoeGibbs(t *testing.T) {
	rng := newRNG(41)
	h := Horseshoe{Scale: 0.5}
	sigma2 := 2.0
	b1, lt := horseshoeChains(h, 4, sigma2, rng, func(st *HorseshoeState, beta []float64) {
		h.Update(st, beta, sigma2, rng)
	})
	d1, dt := horseshoeDirect(h, sigma2, rng)
	if p := ksTwo(b1, d1); p < 1e-3 {
		t.Errorf("horseshoe Gibbs β₁ marginal: KS p = %g", p)
	}
	if p := ksTwo(lt, dt); p < 1e-3 {
		t.Errorf("horseshoe Gibbs log τ² marginal: KS p = %g", p)
	}
	// Horseshoe.Rand (σ = 1) against the direct construction.
	r := draws(gewekeChains, func() float64 { return h.Rand(rng) })
	d1, _ = horseshoeDirect(h, 1, rng)
	if p := ksTwo(r, d1); p < 1e-3 {
		t.Errorf("Horseshoe.Rand: KS p = %g", p)
	}

	// A deliberately wrong global conditional: shape p/2 instead of
	// (p+1)/2 (forgetting the auxiliary's contribution).
	b1, lt = horseshoeChains(h, 4, sigma2, rng, func(st *HorseshoeState, beta []float64) {
		for j, b := range beta {
			st.Lambda2[j] = HorseshoeLocal(b, st.Tau2, sigma2, st.Nu[j], rng)
			st.Nu[j] = HorseshoeLocalAux(st.Lambda2[j], rng)
		}
		rate := 1 / st.Xi
		for j, b := range beta {
			rate += b * b / (2 * sigma2 * st.Lambda2[j])
		}
		st.Tau2 = RandInvGamma(float64(len(beta))/2, rate, rng)
		st.Xi = HorseshoeGlobalAux(st.Tau2, h.Scale, rng)
	})
	d1, dt = horseshoeDirect(h, sigma2, rng)
	if p := ksTwo(lt, dt); p > 1e-6 {
		t.Errorf("wrong horseshoe global conditional not detected in τ²: KS p = %g", p)
	}
	if p := ksTwo(b1, d1); p > 1e-3 {
		t.Logf("wrong conditional in β₁: KS p = %g", p)
	}
}

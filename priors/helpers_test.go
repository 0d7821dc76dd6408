package priors

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// ksQ is the Kolmogorov survival function Q(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²).
func ksQ(lambda float64) float64 {
	if lambda < 0.2 {
		return 1
	}
	s := 0.0
	for k := 1; k <= 100; k++ {
		term := math.Exp(-2 * float64(k*k) * lambda * lambda)
		if k%2 == 1 {
			s += term
		} else {
			s -= term
		}
		if term < 1e-16 {
			break
		}
	}
	return math.Max(0, math.Min(1, 2*s))
}

// ksPValue is the asymptotic p-value of statistic d for effective size n
// (Stephens' correction).
func ksPValue(d float64, n float64) float64 {
	sn := math.Sqrt(n)
	return ksQ((sn + 0.12 + 0.11/sn) * d)
}

// ksOne is the one-sample KS p-value of x against cdf.
func ksOne(x []float64, cdf func(float64) float64) float64 {
	v := append([]float64(nil), x...)
	sort.Float64s(v)
	n := float64(len(v))
	d := 0.0
	for i, xi := range v {
		f := cdf(xi)
		d = math.Max(d, math.Max(f-float64(i)/n, float64(i+1)/n-f))
	}
	return ksPValue(d, n)
}

// ksTwo is the two-sample KS p-value.
func ksTwo(x, y []float64) float64 {
	a := append([]float64(nil), x...)
	b := append([]float64(nil), y...)
	sort.Float64s(a)
	sort.Float64s(b)
	i, j, d := 0, 0, 0.0
	na, nb := float64(len(a)), float64(len(b))
	for i < len(a) && j < len(b) {
		v := math.Min(a[i], b[j])
		for i < len(a) && a[i] <= v {
			i++
		}
		for j < len(b) && b[j] <= v {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/na-float64(j)/nb))
	}
	return ksPValue(d, na*nb/(na+nb))
}

// draws returns n draws of f.
func draws(n int, f func() float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = f()
	}
	return out
}

func closeRel(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.15g, want %.15g (tol %g)", what, got, want, tol)
	}
}

// TestKSHelpers checks the KS machinery itself: the p-value is uniform-ish
// for a correct sampler and tiny for a wrong one; Q matches known values.
func TestKSHelpers(t *testing.T) {
	// Known values of the Kolmogorov distribution: Q(1.36) ≈ 0.0505,
	// Q(1.63) ≈ 0.0098 (the 5% and 1% critical values).
	closeRel(t, "Q(1.3581)", ksQ(1.3581), 0.05, 2e-3)
	closeRel(t, "Q(1.6276)", ksQ(1.6276), 0.01, 2e-3)
	rng := newRNG(1)
	u := draws(2000, rng.Float64)
	if p := ksOne(u, func(x float64) float64 { return x }); p < 1e-3 {
		t.Errorf("uniform vs uniform p = %g", p)
	}
	if p := ksOne(u, func(x float64) float64 { return x * x }); p > 1e-6 {
		t.Errorf("uniform vs x² p = %g", p)
	}
	if p := ksTwo(u, draws(2000, rng.Float64)); p < 1e-3 {
		t.Errorf("two-sample uniform p = %g", p)
	}
}

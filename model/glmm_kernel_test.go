package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMulLTInvertsDraw checks MulLT against Draw: for x = x̂ + L⁻ᵀz,
// Lᵀ(x − x̂) = z, on VerbAgg's crossed design (sparse and dense blocks)
// after a Reweight with random weights, and on cbpp (one diagonal term).
func TestMulLTInvertsDraw(t *testing.T) {
	for _, c := range []glmmCase{glmmCases[0], glmmCases[2], glmmCases[3]} {
		d, _ := loadGLMMCase(t, c)
		m, err := NewMixedModel(d)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		w, z := make([]float64, m.N()), make([]float64, m.N())
		for i := range w {
			w[i] = 0.1 + rng.Float64()
			z[i] = rng.NormFloat64()
		}
		if err := m.Reweight(w, z); err != nil {
			t.Fatal(err)
		}
		th := make([]float64, m.ThetaLen())
		for i := range th {
			th[i] = 0.3 + float64(i)
		}
		m.SetFixedPrecision(make([]float64, m.P()), nil)
		if err := m.SetTheta(th); err != nil {
			t.Fatal(err)
		}
		q, p := m.Q(), m.P()
		um, bm := make([]float64, q), make([]float64, p)
		m.Modes(um, bm)
		eps := make([]float64, q+p)
		for i := range eps {
			eps[i] = rng.NormFloat64()
		}
		u, b := make([]float64, q), make([]float64, p)
		m.Draw(eps, 1, u, b)
		for i := range u {
			u[i] -= um[i]
		}
		for i := range b {
			b[i] -= bm[i]
		}
		wu, wb := make([]float64, q), make([]float64, p)
		m.MulLT(u, b, wu, wb)
		var worst float64
		for i := range wu {
			worst = math.Max(worst, math.Abs(wu[i]-eps[i]))
		}
		for i := range wb {
			worst = math.Max(worst, math.Abs(wb[i]-eps[q+i]))
		}
		if worst > 1e-9 {
			t.Errorf("%s: max |Lᵀ(x − x̂) − z| = %.3g", c.name, worst)
		}
	}
}

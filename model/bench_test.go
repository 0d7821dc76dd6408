package model

import "testing"

// benchFit benchmarks an ML fit of one reference model.
func benchFit(b *testing.B, name string) {
	ref := readRef(b, name)
	d := loadDesign(b, ref.Data, ref.Formula, factorsFor[ref.Data]...)
	b.ResetTimer()
	var evals int
	for range b.N {
		r, err := Fit(d, FitOptions{REML: ref.REML})
		if err != nil {
			b.Fatal(err)
		}
		evals = r.Evals
	}
	b.ReportMetric(float64(evals), "evals")
}

// benchModel returns the kernel of reference model name at θ = 0.5 on
// the diagonal of every Λ (0 off it).
func benchModel(b *testing.B, name string) (*MixedModel, []float64) {
	ref := readRef(b, name)
	d := loadDesign(b, ref.Data, ref.Formula, factorsFor[ref.Data]...)
	m, err := NewMixedModel(d)
	if err != nil {
		b.Fatal(err)
	}
	th := make([]float64, m.ThetaLen())
	for i, lb := range m.ThetaLower() {
		if lb == 0 {
			th[i] = 0.5
		}
	}
	if err := m.SetTheta(th); err != nil {
		b.Fatal(err)
	}
	return m, th
}

// benchDraw benchmarks one Draw at θ = 0.5 on the diagonal.
func benchDraw(b *testing.B, name string) {
	m, _ := benchModel(b, name)
	z := make([]float64, m.Q()+m.P())
	for i := range z {
		z[i] = float64(i%7) - 3
	}
	u := make([]float64, m.Q())
	beta := make([]float64, m.P())
	b.ResetTimer()
	for range b.N {
		m.Draw(z, 1, u, beta)
	}
}

// benchSetTheta benchmarks one objective evaluation (SetTheta + Objective).
func benchSetTheta(b *testing.B, name string) {
	m, th := benchModel(b, name)
	b.ResetTimer()
	for range b.N {
		if err := m.SetTheta(th); err != nil {
			b.Fatal(err)
		}
		_ = m.Objective(false)
	}
}

func BenchmarkFitSleepstudyML(b *testing.B)    { benchFit(b, "sleepstudy_ml.json") }
func BenchmarkDrawSleepstudy(b *testing.B)     { benchDraw(b, "sleepstudy_ml.json") }
func BenchmarkSetThetaSleepstudy(b *testing.B) { benchSetTheta(b, "sleepstudy_ml.json") }
func BenchmarkFitInstEvalML(b *testing.B)      { benchFit(b, "insteval_ml.json") }
func BenchmarkDrawInstEval(b *testing.B)       { benchDraw(b, "insteval_ml.json") }
func BenchmarkSetThetaInstEval(b *testing.B)   { benchSetTheta(b, "insteval_ml.json") }

// benchMaximal returns the kernel of the maximal 2 × 2 crossed model
// (kernelCases) at its test θ, with the scratch of InvDiagSums' results.
func benchMaximal(b *testing.B) (*MixedModel, []float64, [][]float64, []float64) {
	var kc kernelCase
	for _, c := range kernelCases {
		if c.name == "maximal 2x2 crossed" {
			kc = c
		}
	}
	d := loadDesign(b, kc.csv, kc.formula, kc.factors...)
	m, err := NewMixedModel(d)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.SetTheta(kc.theta); err != nil {
		b.Fatal(err)
	}
	sums := make([][]float64, len(d.Terms))
	for i, t := range d.Terms {
		sums[i] = make([]float64, t.K*t.K)
	}
	return m, kc.theta, sums, make([]float64, m.P())
}

// BenchmarkSetThetaMaximal times the factorisation of the NUTS gradient
// on the maximal 2 × 2 model.
func BenchmarkSetThetaMaximal(b *testing.B) {
	m, th, _, _ := benchMaximal(b)
	b.ResetTimer()
	for range b.N {
		if err := m.SetTheta(th); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInvDiagSumsMaximal times the selected inversion of the NUTS
// gradient on the maximal 2 × 2 model.
func BenchmarkInvDiagSumsMaximal(b *testing.B) {
	m, _, sums, bd := benchMaximal(b)
	b.ResetTimer()
	for range b.N {
		m.InvDiagSums(sums, bd)
	}
}

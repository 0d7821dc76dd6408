package priors

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distmat"
	"gonum.org/v1/gonum/stat/distuv"
)

func TestLKJCholeskyJacobian(t *testing.T) {
	// For K=3 the map from the strictly lower elements of L to those of
	// Ω = LLᵀ has log |J| = LogDensityCholesky(L) − LogDensityCorr(Ω);
	// compare with a central finite-difference Jacobian.
	l := LKJ{Eta: 1.7}
	rng := newRNG(3)
	for range 5 {
		L := l.RandCholesky(3, rng)
		free := []float64{L.At(1, 0), L.At(2, 0), L.At(2, 1)}
		omega := func(f []float64) []float64 {
			l10, l20, l21 := f[0], f[1], f[2]
			l11 := math.Sqrt(1 - l10*l10)
			return []float64{l10, l20, l20*l10 + l21*l11}
		}
		var J [9]float64
		h := 1e-6
		for j := range 3 {
			p := append([]float64(nil), free...)
			m := append([]float64(nil), free...)
			p[j] += h
			m[j] -= h
			op, om := omega(p), omega(m)
			for i := range 3 {
				J[i*3+j] = (op[i] - om[i]) / (2 * h)
			}
		}
		det := mat.Det(mat.NewDense(3, 3, J[:]))
		var om mat.SymDense
		om.SymOuterK(1, L)
		for i := range 3 {
			om.SetSym(i, i, 1)
		}
		got := l.LogDensityCholesky(L) - l.LogDensityCorr(&om)
		closeRel(t, "log|J|", got, math.Log(math.Abs(det)), 1e-7)
	}
	// K=2: the free element of L is the correlation itself.
	L := mat.NewTriDense(2, mat.Lower, []float64{1, 0, 0.3, math.Sqrt(1 - 0.09)})
	closeRel(t, "K=2 chol", l.LogDensityCholesky(L), l.LogDensity(0.3), 1e-13)
	if !math.IsInf(l.LogDensityCorr(mat.NewSymDense(2, []float64{1, 1.2, 1.2, 1})), -1) {
		t.Errorf("non-PD correlation has finite density")
	}
}

func TestLKJDraws(t *testing.T) {
	rng := newRNG(11)
	for _, eta := range []float64{0.7, 1, 3} {
		l := LKJ{Eta: eta}
		beta := distuv.Beta{Alpha: eta, Beta: eta}
		cdf := func(r float64) float64 { return beta.CDF((r + 1) / 2) }
		r2 := draws(4000, func() float64 { return l.RandCorr(2, rng).At(1, 0) })
		if p := ksOne(r2, cdf); p < 1e-3 {
			t.Errorf("LKJ(%v) K=2 draws vs Beta: p = %g", eta, p)
		}
		if p := ksOne(draws(4000, func() float64 { return l.Rand(rng) }), cdf); p < 1e-3 {
			t.Errorf("LKJ(%v).Rand vs Beta: p = %g", eta, p)
		}
		// K=4: every off-diagonal element has (r+1)/2 ~ Beta(η+1, η+1).
		mb := distuv.Beta{Alpha: eta + 1, Beta: eta + 1}
		var r10, r32, r31 []float64
		for range 3000 {
			R := l.RandCorr(4, rng)
			r10 = append(r10, R.At(1, 0))
			r31 = append(r31, R.At(3, 1))
			r32 = append(r32, R.At(3, 2))
			var ch mat.Cholesky
			if !ch.Factorize(R) {
				t.Fatalf("draw not positive definite")
			}
		}
		for name, x := range map[string][]float64{"r10": r10, "r31": r31, "r32": r32} {
			if p := ksOne(x, func(r float64) float64 { return mb.CDF((r + 1) / 2) }); p < 1e-3 {
				t.Errorf("LKJ(%v) K=4 %s marginal: p = %g", eta, name, p)
			}
		}
	}
	// The sampler's marginal is sensitive to α: the wrong Beta(η, η) for
	// K=4 must be rejected.
	l := LKJ{Eta: 1}
	x := draws(3000, func() float64 { return l.RandCorr(4, rng).At(2, 1) })
	if p := ksOne(x, func(r float64) float64 { return distuv.Beta{Alpha: 1, Beta: 1}.CDF((r + 1) / 2) }); p > 1e-6 {
		t.Errorf("K=4 marginal not distinguishable from the K=2 one: p = %g", p)
	}
}

func TestInvWishartDensity(t *testing.T) {
	S := mat.NewSymDense(3, []float64{2, 0.3, -0.4, 0.3, 1, 0.2, -0.4, 0.2, 1.5})
	w := InvWishart{Nu: 6.5, S: S}
	rng := newRNG(5)
	var sinv mat.SymDense
	var cs mat.Cholesky
	cs.Factorize(S)
	cs.InverseTo(&sinv)
	wish, ok := distmat.NewWishart(&sinv, 6.5, nil)
	if !ok {
		t.Fatal("wishart")
	}
	for range 5 {
		sig := w.RandCov(3, rng)
		var ch mat.Cholesky
		if !ch.Factorize(sig) {
			t.Fatal("draw not PD")
		}
		var inv mat.SymDense
		ch.InverseTo(&inv)
		// Σ ~ IW(ν, S) ⇔ Σ⁻¹ ~ W(ν, S⁻¹); |d Σ⁻¹ / d Σ| = |Σ|^−(K+1).
		want := wish.LogProbSym(&inv) - 4*ch.LogDet()
		closeRel(t, "IW density", w.LogDensity(sig), want, 1e-10)
	}
	// K=1: IW(ν, s) is InvGamma(ν/2, s/2).
	w1 := InvWishart{Nu: 5, Scalar: 3}
	for _, v := range []float64{0.1, 1, 4} {
		closeRel(t, "IW K=1", w1.LogDensity(mat.NewSymDense(1, []float64{v})), InvGamma{Shape: 2.5, Scale: 1.5}.LogDensity(v), 1e-12)
	}
	if err := (InvWishart{Nu: 2, Scalar: 1}).CheckDim(3); err == nil {
		t.Errorf("nu=2 accepted for K=3")
	}
}

func TestInvWishartDraws(t *testing.T) {
	S := mat.NewSymDense(2, []float64{2, 0.6, 0.6, 1})
	w := InvWishart{Nu: 9, S: S}
	k, n := 2, 20000
	rng := newRNG(17)
	sum, sum2 := make([]float64, 4), make([]float64, 4)
	var v00 []float64
	for range n {
		d := w.RandCov(k, rng)
		for i := range 2 {
			for j := range 2 {
				x := d.At(i, j)
				sum[i*2+j] += x
				sum2[i*2+j] += x * x
			}
		}
		v00 = append(v00, d.At(0, 0))
	}
	for i := range 2 {
		for j := range 2 {
			m := sum[i*2+j] / float64(n)
			sd := math.Sqrt(sum2[i*2+j]/float64(n) - m*m)
			want := S.At(i, j) / (9 - 2 - 1)
			if math.Abs(m-want) > 4*sd/math.Sqrt(float64(n)) {
				t.Errorf("E[Σ%d%d] = %g, want %g ± %g", i, j, m, want, 4*sd/math.Sqrt(float64(n)))
			}
		}
	}
	// A diagonal element Σ₁₁ ~ InvGamma((ν−K+1)/2, S₁₁/2).
	g := distuv.Gamma{Alpha: (9 - 2 + 1) / 2.0, Beta: S.At(0, 0) / 2}
	if p := ksOne(v00, func(x float64) float64 { return g.Survival(1 / x) }); p < 1e-3 {
		t.Errorf("Σ11 marginal p = %g", p)
	}
	// Scalar S means s·I.
	if got := (InvWishart{Nu: 4, Scalar: 2}).ScaleMatrix(3); got.At(1, 1) != 2 || got.At(1, 0) != 0 {
		t.Errorf("scalar S %v", got)
	}
}

func TestInvWishartPosterior(t *testing.T) {
	// Conjugacy: log IW_post(Σ) − log IW_prior(Σ) − Σⱼ log N(bⱼ; 0, Σ) is
	// the same for every Σ (it is −log p(B)).
	w := InvWishart{Nu: 4, Scalar: 1.5}
	rng := newRNG(23)
	B := mat.NewDense(6, 2, nil)
	for i := range 6 {
		B.Set(i, 0, rng.NormFloat64())
		B.Set(i, 1, rng.NormFloat64()+0.5*B.At(i, 0))
	}
	var sc mat.SymDense
	sc.SymOuterK(1, B.T())
	post := w.Posterior(&sc, 6)
	if post.Nu != 10 {
		t.Errorf("posterior nu %v", post.Nu)
	}
	diff := func(sig *mat.SymDense) float64 {
		var ch mat.Cholesky
		ch.Factorize(sig)
		var inv mat.SymDense
		ch.InverseTo(&inv)
		ll := 0.0
		for i := range 6 {
			b := B.RawRowView(i)
			q := mat.Inner(mat.NewVecDense(2, b), &inv, mat.NewVecDense(2, b))
			ll += -math.Log(2*math.Pi) - 0.5*ch.LogDet() - 0.5*q
		}
		return post.LogDensity(sig) - w.LogDensity(sig) - ll
	}
	d1 := diff(mat.NewSymDense(2, []float64{1, 0.2, 0.2, 2}))
	d2 := diff(mat.NewSymDense(2, []float64{0.3, -0.1, -0.1, 0.5}))
	closeRel(t, "IW conjugacy", d1, d2, 1e-10)

	// Inverse-gamma conjugacy for a variance.
	g := InvGamma{Shape: 2, Scale: 1}
	x := []float64{0.3, -1.2, 2.2, 0.1}
	ss := 0.0
	for _, v := range x {
		ss += v * v
	}
	gp := g.Posterior(ss, len(x))
	dg := func(v float64) float64 {
		ll := 0.0
		for _, xi := range x {
			ll += Normal{Sigma: math.Sqrt(v)}.LogDensity(xi)
		}
		return gp.LogDensity(v) - g.LogDensity(v) - ll
	}
	closeRel(t, "IG conjugacy", dg(0.5), dg(3), 1e-12)
}

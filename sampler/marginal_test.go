package sampler

import (
	"math"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
	"gonum.org/v1/gonum/mat"
)

// bruteMarginal is log N(y; Xμ, σ²I + ZΣZᵀ + X S Xᵀ) computed densely
// (S = diag of the normal priors' variances), or, with flat priors on
// every β, the restricted form obtained by integrating β over R^p:
// log N(y; 0, V) evaluated via GLS, + (p/2) log 2π − ½ log det(XᵀV⁻¹X).
func bruteMarginal(d *model.Design, sigma float64, sigmas [][]float64, fixedVar, fixedMean []float64, flat bool) float64 {
	n, p := d.X.Dims()
	v := mat.NewSymDense(n, nil)
	for i := range n {
		v.SetSym(i, i, sigma*sigma)
	}
	for ti, t := range d.Terms {
		k := t.K
		for i := range n {
			for j := 0; j <= i; j++ {
				if t.Refs[i] != t.Refs[j] {
					continue
				}
				var s float64
				for a := range k {
					for b := range k {
						s += t.Z[a*n+i] * sigmas[ti][a*k+b] * t.Z[b*n+j]
					}
				}
				v.SetSym(i, j, v.At(i, j)+s)
			}
		}
	}
	mean := make([]float64, n)
	if !flat {
		for i := range n {
			for j := range p {
				mean[i] += d.X.At(i, j) * fixedMean[j]
			}
			for j := 0; j <= i; j++ {
				var s float64
				for c := range p {
					s += d.X.At(i, c) * fixedVar[c] * d.X.At(j, c)
				}
				v.SetSym(i, j, v.At(i, j)+s)
			}
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(v) {
		panic("not PD")
	}
	r := mat.NewVecDense(n, nil)
	for i := range n {
		r.SetVec(i, d.Y[i]-mean[i])
	}
	logdet := ch.LogDet()
	if !flat {
		var w mat.VecDense
		if err := ch.SolveVecTo(&w, r); err != nil {
			panic(err)
		}
		return -0.5*float64(n)*math.Log(2*math.Pi) - 0.5*logdet - 0.5*mat.Dot(r, &w)
	}
	// Flat: ∫ N(y; Xβ, V) dβ = N-part at the GLS estimate.
	var vix mat.Dense
	if err := ch.SolveTo(&vix, d.X); err != nil {
		panic(err)
	}
	var xvx mat.Dense
	xvx.Mul(d.X.T(), &vix)
	var viy mat.VecDense
	if err := ch.SolveVecTo(&viy, r); err != nil {
		panic(err)
	}
	var xvy mat.VecDense
	xvy.MulVec(d.X.T(), &viy)
	var bhat mat.VecDense
	if err := bhat.SolveVec(&xvx, &xvy); err != nil {
		panic(err)
	}
	var fit mat.VecDense
	fit.MulVec(d.X, &bhat)
	var res mat.VecDense
	res.SubVec(r, &fit)
	var vres mat.VecDense
	if err := ch.SolveVecTo(&vres, &res); err != nil {
		panic(err)
	}
	ld := mat.LogDet
	l2, _ := ld(&xvx)
	return -0.5*float64(n-p)*math.Log(2*math.Pi) - 0.5*logdet - 0.5*l2 - 0.5*mat.Dot(&res, &vres)
}

// TestMarginalIdentity checks the kernel-based marginal log likelihood
// of ψ against the dense Gaussian marginal, an exact identity: the
// difference between logTarget and log p(ψ) must equal bruteMarginal
// to rounding.
func TestMarginalIdentity(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	for _, flat := range []bool{false, true} {
		spec := refSpec(d)
		fixedVar := []float64{30 * 30, 7 * 7}
		fixedMean := []float64{200, 5}
		if flat {
			spec.Fixed = []priors.Univariate{priors.Flat{}, priors.Flat{}}
		} else {
			spec.Fixed = []priors.Univariate{priors.Normal{Mu: 200, Sigma: 30}, priors.Normal{Mu: 5, Sigma: 7}}
		}
		k, err := model.NewMixedModel(d)
		if err != nil {
			t.Fatal(err)
		}
		lay, err := newLayout(d, k, nil)
		if err != nil {
			t.Fatal(err)
		}
		fixed, err := classifyFixed(spec.Fixed, d.XNames)
		if err != nil {
			t.Fatal(err)
		}
		ev := newEvaluator(spec, lay, fixed)
		for _, psi := range [][]float64{
			{math.Log(25), math.Log(24), math.Log(6), 0.1},
			{math.Log(10), math.Log(50), math.Log(1), -1.5},
			{math.Log(40), math.Log(3), math.Log(12), 2},
		} {
			got := ev.logTarget(psi, k) - ev.fill(psi)
			sigma := math.Exp(psi[0])
			t1, t2 := math.Exp(psi[1]), math.Exp(psi[2])
			r := math.Tanh(psi[3])
			sig := [][]float64{{t1 * t1, r * t1 * t2, r * t1 * t2, t2 * t2}}
			want := bruteMarginal(d, sigma, sig, fixedVar, fixedMean, flat)
			if math.Abs(got-want) > 1e-8*math.Abs(want) {
				t.Errorf("flat=%v ψ=%v: kernel marginal %.12g, dense %.12g (diff %g)", flat, psi, got, want, got-want)
			}
		}
	}
}

// TestFastScale checks the cached truncation constant against the
// priors package's own half densities.
func TestFastScale(t *testing.T) {
	for _, p := range []priors.ScalePrior{
		priors.StudentT{Nu: 3, Mu: 0, Sigma: 50}, priors.StudentT{Nu: 4, Mu: 2, Sigma: 3},
		priors.Normal{Mu: 1, Sigma: 2}, priors.Cauchy{Mu: 0, Sigma: 5}, priors.Exponential{Rate: 0.5},
	} {
		f := newFastScale(p)
		for _, x := range []float64{1e-3, 0.5, 3, 40, 900} {
			got, want := f.logDensitySD(x), p.LogDensitySD(x)
			if math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
				t.Errorf("%s at %g: %g, want %g", p, x, got, want)
			}
		}
		if !math.IsInf(f.logDensitySD(-1), -1) {
			t.Errorf("%s: density at -1 is not -Inf", p)
		}
	}
}

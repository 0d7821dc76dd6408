package model

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestInvDiagSumsAgainstDense checks the selected inversion and the mode
// sums against the inverse and the solution of the dense system M built
// independently of the kernel, on every kernel case (crossed, nested,
// three terms, with and without a prior on β) and on a kernel whose
// second term is reordered by minimum degree.
func TestInvDiagSumsAgainstDense(t *testing.T) {
	type mk struct {
		name string
		kc   kernelCase
		min  int
	}
	var cases []mk
	for _, kc := range kernelCases {
		cases = append(cases, mk{kc.name, kc, reorderMinLevels})
	}
	cases = append(cases, mk{"penicillin reordered", kernelCases[2], 2})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := loadDesign(t, c.kc.csv, c.kc.formula, c.kc.factors...)
			m, err := newMixedModel(d, c.min)
			if err != nil {
				t.Fatal(err)
			}
			if c.min == 2 && m.terms[1].perm == nil {
				t.Fatal("the second term was not reordered")
			}
			for _, withPrior := range []bool{false, true} {
				var prec, mean []float64
				if withPrior {
					prec = make([]float64, m.P())
					mean = make([]float64, m.P())
					for j := range prec {
						prec[j] = 0.5 + float64(j)
						mean[j] = 3 - float64(j)
					}
				}
				m.SetFixedPrecision(prec, mean)
				if err := m.SetTheta(c.kc.theta); err != nil {
					t.Fatal(err)
				}
				S := denseSystem(m, prec, mean)
				q, p := m.Q(), m.P()
				Mzx := mat.NewSymDense(q+p, nil)
				rhs := mat.NewVecDense(q+p, nil)
				for i := range q + p {
					for j := i; j < q+p; j++ {
						Mzx.SetSym(i, j, S.At(i, j))
					}
					rhs.SetVec(i, S.At(i, q+p))
				}
				var ch mat.Cholesky
				if !ch.Factorize(Mzx) {
					t.Fatal("dense system not positive definite")
				}
				var inv mat.SymDense
				if err := ch.InverseTo(&inv); err != nil {
					t.Fatal(err)
				}
				var sol mat.VecDense
				if err := ch.SolveVecTo(&sol, rhs); err != nil {
					t.Fatal(err)
				}
				sums := make([][]float64, len(d.Terms))
				msums := make([][]float64, len(d.Terms))
				for i, tm := range d.Terms {
					sums[i] = make([]float64, tm.K*tm.K)
					msums[i] = make([]float64, tm.K*tm.K)
				}
				bd := make([]float64, p)
				beta := make([]float64, p)
				m.InvDiagSums(sums, bd)
				m.ModeSums(msums, beta)
				for _, kt := range m.terms {
					k := kt.k
					for a := range k {
						for b := range k {
							var want, wantM float64
							for lev := range kt.nl {
								ia, ib := kt.uoff+lev*k+a, kt.uoff+lev*k+b
								want += inv.At(ia, ib)
								wantM += sol.AtVec(ia) * sol.AtVec(ib)
							}
							if got := sums[kt.design][a*k+b]; !relClose(got, want, 1e-8) {
								t.Errorf("prior=%v term %s: inverse sum [%d,%d] = %.12g, dense %.12g", withPrior, kt.t.Group, a, b, got, want)
							}
							if got := msums[kt.design][a*k+b]; !relClose(got, wantM, 1e-8) {
								t.Errorf("prior=%v term %s: mode sum [%d,%d] = %.12g, dense %.12g", withPrior, kt.t.Group, a, b, got, wantM)
							}
						}
					}
				}
				for j := range p {
					if !relClose(bd[j], inv.At(q+j, q+j), 1e-8) {
						t.Errorf("prior=%v: β variance %d = %.12g, dense %.12g", withPrior, j, bd[j], inv.At(q+j, q+j))
					}
					if !relClose(beta[j], sol.AtVec(q+j), 1e-8) {
						t.Errorf("prior=%v: β̂ %d = %.12g, dense %.12g", withPrior, j, beta[j], sol.AtVec(q+j))
					}
				}
			}
		})
	}
}

// TestDenseFirstColumnChosen checks that the crossed-slopes kernel cases
// exercise the dense storage of the blocks below the first.
func TestDenseFirstColumnChosen(t *testing.T) {
	for _, kc := range kernelCases {
		d := loadDesign(t, kc.csv, kc.formula, kc.factors...)
		m, err := NewMixedModel(d)
		if err != nil {
			t.Fatal(err)
		}
		want := kc.name == "crossed slopes dense" || kc.name == "three crossed slope terms dense" || kc.name == "maximal 2x2 crossed"
		if got := len(m.terms) > 1 && m.l[1][0].kind == kindDense; got != want {
			t.Errorf("%s: L₁₀ dense = %v, want %v", kc.name, got, want)
		}
	}
}

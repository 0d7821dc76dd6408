package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// randSPD returns a row-major n × n symmetric positive definite matrix
// G Gᵀ/n + I with G standard normal (condition number about
// (1+√n... )²: a few tens), stored with stride ld; the upper triangle is
// filled with the sentinel 7 so that a write to it can be detected.
func randSPD(n, ld int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	g := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var s mat.Dense
	s.Mul(g, g.T())
	a := make([]float64, n*ld)
	for i := range n {
		for j := range ld {
			switch {
			case j <= i:
				a[i*ld+j] = s.At(i, j) / float64(n)
				if i == j {
					a[i*ld+j]++
				}
			default:
				a[i*ld+j] = 7
			}
		}
	}
	return a
}

// TestCholDenseAgainstPotrf checks cholDense against gonum's Potrf for
// orders around the block width and the parallel threshold, and that the
// strict upper triangle is left alone. Both are backward stable: the
// computed factor of an SPD matrix with condition number κ has relative
// error of order n·ε·κ (Higham, Accuracy and Stability of Numerical
// Algorithms, 2nd ed., Theorem 10.3 and §10.1.1), so two such factors
// differ, relative to the largest entry of L, by at most a small multiple
// of n·ε·κ; κ is computed here from the factor.
func TestCholDenseAgainstPotrf(t *testing.T) {
	for _, n := range []int{1, 3, 63, 64, 65, 130, 257, 300} {
		ld := n + 3
		a := randSPD(n, ld, uint64(n))
		ref := append([]float64(nil), a...)
		if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: ld, Data: ref}); !ok {
			t.Fatalf("n=%d: Potrf failed", n)
		}
		got := append([]float64(nil), a...)
		if !cholDense(got, n, ld, newCholWork(n, cholNB, nil), 2) {
			t.Fatalf("n=%d: cholDense reports not positive definite", n)
		}
		// κ₂(A) = (σmax(L)/σmin(L))².
		l := mat.NewDense(n, n, nil)
		var lmax, diff float64
		for i := range n {
			for j := 0; j <= i; j++ {
				l.Set(i, j, ref[i*ld+j])
				lmax = math.Max(lmax, math.Abs(ref[i*ld+j]))
				diff = math.Max(diff, math.Abs(got[i*ld+j]-ref[i*ld+j]))
			}
			for j := i + 1; j < ld; j++ {
				if got[i*ld+j] != 7 {
					t.Fatalf("n=%d: upper entry (%d,%d) changed to %g", n, i, j, got[i*ld+j])
				}
			}
		}
		var svd mat.SVD
		if !svd.Factorize(l, mat.SVDNone) {
			t.Fatal("SVD failed")
		}
		sv := svd.Values(nil)
		kappa := math.Pow(sv[0]/sv[len(sv)-1], 2)
		tol := 4 * float64(n) * 0x1p-52 * kappa
		if diff > tol*lmax {
			t.Errorf("n=%d: max |L - L_potrf| = %g, above %g·max|L| (κ = %.3g)", n, diff, tol, kappa)
		}
	}
}

// TestCholDenseWorkersBitIdentical checks that the factor is the same bit
// for bit with 1, 2 and 3 workers (the sampler's draws must not depend on
// GOMAXPROCS).
func TestCholDenseWorkersBitIdentical(t *testing.T) {
	n := 531
	a := randSPD(n, n, 11)
	var first []float64
	for _, w := range []int{1, 2, 3} {
		got := append([]float64(nil), a...)
		if !cholDense(got, n, n, newCholWork(n, cholNB, nil), w) {
			t.Fatalf("workers=%d: not positive definite", w)
		}
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(first[i]) {
				t.Fatalf("workers=%d: entry %d is %v, with 1 worker %v", w, i, got[i], first[i])
			}
		}
	}
}

// TestCholDenseNotPD checks that an indefinite matrix is reported.
func TestCholDenseNotPD(t *testing.T) {
	for _, n := range []int{5, 300} {
		a := randSPD(n, n, 5)
		a[(n-2)*n+n-2] = -1
		if cholDense(a, n, n, newCholWork(n, cholNB, nil), 2) {
			t.Errorf("n=%d: an indefinite matrix was factored", n)
		}
	}
}

// benchChol benchmarks a factorisation of the 1128 × 1128 matrix (the
// order of InstEval's lecturer block) with f.
func benchChol(b *testing.B, f func(a []float64, n int) bool) {
	const n = 1128
	a := randSPD(n, n, 1)
	w := make([]float64, len(a))
	b.ResetTimer()
	for range b.N {
		copy(w, a)
		if !f(w, n) {
			b.Fatal("not positive definite")
		}
	}
	b.ReportMetric(float64(n)*n*n/3/1e9/(b.Elapsed().Seconds()/float64(b.N)), "GFlop/s")
}

func BenchmarkDenseCholesky1128(b *testing.B) {
	ws := newCholWork(1128, cholNB, nil)
	benchChol(b, func(a []float64, n int) bool { return cholDense(a, n, n, ws, 2) })
}

func BenchmarkDenseCholesky1128Serial(b *testing.B) {
	ws := newCholWork(1128, cholNB, nil)
	benchChol(b, func(a []float64, n int) bool { return cholDense(a, n, n, ws, 1) })
}

func BenchmarkDenseCholesky1128Potrf(b *testing.B) {
	benchChol(b, func(a []float64, n int) bool {
		_, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: a})
		return ok
	})
}

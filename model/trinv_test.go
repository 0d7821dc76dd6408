package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// TestLowerInvTAgainstGonum checks lowerInvT against gonum's Trtri on
// random lower triangular matrices of orders 1 to 200, well conditioned
// (the Cholesky factor of n·I + GGᵀ/n) and, for every fourth order,
// with a block-diagonal leading part as the trailing part of L has in a
// nested model. The inverse of a triangular matrix computed by
// substitution has a normwise error of order n·κ(L)·ε (Higham 2002,
// §8.2, Theorem 8.5 and §14.2); the test allows 4n·κ·ε, κ being the
// 1-norm condition number LAPACK's Trcon estimates, in the max norm
// relative to the largest entry of L⁻¹, and the same for L·L⁻¹ − I.
// The strict upper triangle of the transposed result must be exactly
// zero.
func TestLowerInvTAgainstGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 2026))
	for n := 1; n <= 200; n++ {
		a := make([]float64, n*n)
		g := make([]float64, n*n)
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		blockDiag := n%4 == 0 && n >= 8
		for i := range n {
			for j := 0; j <= i; j++ {
				s := 0.0
				for c := range n {
					s += g[i*n+c] * g[j*n+c]
				}
				s /= float64(n)
				if i == j {
					s += float64(n)
				}
				// Leading half block-diagonal in 4 × 4 blocks.
				if blockDiag && i < n/2 && i/4 != j/4 {
					s = 0
				}
				a[i*n+j] = s
			}
		}
		ws := newCholWork(n, cholNB, nil)
		if !cholDense(a, n, n, ws, 1) {
			t.Fatalf("n=%d: not positive definite", n)
		}
		l := make([]float64, n*n)
		for i := range n {
			copy(l[i*n:i*n+i+1], a[i*n:i*n+i+1])
		}
		tri := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: n, Stride: n, Data: append([]float64(nil), l...)}
		rcond := lapack64.Trcon(lapack.MaxColumnSum, tri, make([]float64, 3*n), make([]int, n))
		tol := 4 * float64(n) * 2.220446049250313e-16 / rcond
		if !lapack64.Trtri(tri) {
			t.Fatalf("n=%d: gonum Trtri failed", n)
		}
		v := make([]float64, n*n)
		dinv := make([]float64, n)
		lowerDiagInv(l, n, dinv)
		lowerInvT(l, n, v, dinv)
		var tmax, dmax, rmax float64
		for i := range n {
			for j := range n {
				if j > i {
					continue
				}
				want := tri.Data[i*n+j]
				tmax = max(tmax, math.Abs(want))
				dmax = max(dmax, math.Abs(v[j*n+i]-want))
				if i > j && v[i*n+j] != 0 {
					t.Fatalf("n=%d: v[%d][%d] = %g below the diagonal, want 0", n, i, j, v[i*n+j])
				}
			}
		}
		// L·L⁻¹ − I, L⁻¹[c][j] = v[j][c].
		for i := range n {
			for j := 0; j <= i; j++ {
				s := 0.0
				for c := j; c <= i; c++ {
					s += l[i*n+c] * v[j*n+c]
				}
				if i == j {
					s--
				}
				rmax = max(rmax, math.Abs(s))
			}
		}
		if dmax > tol*tmax {
			t.Errorf("n=%d: max |lowerInvT − Trtri| = %.3g, allowed %.3g (κ ≈ %.3g)", n, dmax, tol*tmax, 1/rcond)
		}
		if rmax > tol {
			t.Errorf("n=%d: max |L·L⁻¹ − I| = %.3g, allowed %.3g", n, rmax, tol)
		}
	}
}

// BenchmarkLowerInvT132 and BenchmarkTrtriGonum132 time the inverse of
// the 132 × 132 trailing part of L on the maximal 2 × 2 model.
func BenchmarkLowerInvT132(b *testing.B) {
	l, n := benchLower(132)
	v := make([]float64, n*n)
	dinv := make([]float64, n)
	b.ResetTimer()
	for range b.N {
		lowerDiagInv(l, n, dinv)
		lowerInvT(l, n, v, dinv)
	}
}

// BenchmarkTrtriGonum132 is the gonum call lowerInvT replaced.
func BenchmarkTrtriGonum132(b *testing.B) {
	l, n := benchLower(132)
	c := make([]float64, n*n)
	b.ResetTimer()
	for range b.N {
		copy(c, l)
		lapack64.Trtri(blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: n, Stride: n, Data: c})
	}
}

// benchLower returns a well-conditioned dense n × n lower triangular matrix.
func benchLower(n int) ([]float64, int) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := make([]float64, n*n)
	for i := range n {
		for j := 0; j < i; j++ {
			l[i*n+j] = rng.NormFloat64() / float64(n)
		}
		l[i*n+i] = 1 + rng.Float64()
	}
	return l, n
}

// TestScaleInto4Identical checks that the unrolled 4 × 4 and 1 × 4
// scaleInto give bit for bit what the loops give (the same products in
// the same order), with and without λi.
func TestScaleInto4Identical(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	lower := func() []float64 {
		l := make([]float64, 16)
		for r := range 4 {
			for c := 0; c <= r; c++ {
				l[r*4+c] = rng.NormFloat64()
			}
		}
		return l
	}
	tmp := make([]float64, 16)
	for range 1000 {
		e := make([]float64, 16)
		for i := range e {
			e[i] = rng.NormFloat64()
		}
		li, lj := lower(), lower()
		for _, l := range [][]float64{li, nil} {
			want := make([]float64, 16)
			got := make([]float64, 16)
			scaleIntoLoops(want, e, l, lj, 4, 4, tmp)
			scaleInto4(got, 4, e, l, lj)
			// The same into rows of stride 7.
			wide := make([]float64, 3*7+4)
			scaleInto4(wide, 7, e, l, lj)
			for i := range got {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) || math.Float64bits(wide[i/4*7+i%4]) != math.Float64bits(want[i]) {
					t.Fatalf("entry %d: unrolled %v (stride 7: %v), loops %v", i, got[i], wide[i/4*7+i%4], want[i])
				}
			}
		}
		// A 1 × 4 row without λi.
		want, got := make([]float64, 4), make([]float64, 4)
		scaleIntoLoops(want, e[:4], nil, lj, 1, 4, tmp)
		scaleInto(got, e[:4], nil, lj, 1, 4, tmp)
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("1 × 4 entry %d: unrolled %v, loops %v", i, got[i], want[i])
			}
		}
	}
}

// TestForwardRow4Identical checks that the unrolled forwardRow for k = 4
// gives bit for bit what the loop gives.
func TestForwardRow4Identical(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 1000 {
		l := make([]float64, 16)
		for r := range 4 {
			for c := 0; c < r; c++ {
				l[r*4+c] = rng.NormFloat64()
			}
			l[r*4+r] = 0.5 + rng.Float64()
		}
		want := make([]float64, 4)
		for i := range want {
			want[i] = rng.NormFloat64()
		}
		got := append([]float64(nil), want...)
		for i := range 4 {
			s := want[i]
			for j := range i {
				s -= l[i*4+j] * want[j]
			}
			want[i] = s / l[i*4+i]
		}
		forwardRow(got, l, 4)
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("entry %d: unrolled %v, loop %v", i, got[i], want[i])
			}
		}
	}
}

// TestGramAddLowerIdentical checks that gramAddLower gives bit for bit
// the k(k+1)/2 dotAcc sums, for k = 1 .. 9, and leaves the strict upper
// triangle alone.
func TestGramAddLowerIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	const ld, c0, r0 = 37, 5, 2
	for k := 1; k <= 9; k++ {
		x := make([]float64, (r0+k)*ld)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		got := make([]float64, k*k)
		want := make([]float64, k*k)
		for i := range got {
			got[i] = float64(i)
			want[i] = float64(i)
		}
		gramAddLower(got, k, x, ld, r0, c0)
		for a := range k {
			for b := 0; b <= a; b++ {
				want[a*k+b] += dotAcc(x[(r0+a)*ld+c0:(r0+a+1)*ld], x[(r0+b)*ld+c0:(r0+b+1)*ld])
			}
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("k=%d entry %d: %v, dotAcc %v", k, i, got[i], want[i])
			}
		}
	}
}

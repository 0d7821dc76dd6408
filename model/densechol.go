package model

import (
	"math"
	"sync"
)

// cholNB is the block width of cholDense for a dense matrix: the panel
// of cholNB columns is factored, then applied to the trailing matrix as
// one rank-cholNB update.
const cholNB = 64

// cholNBSparse is the block width for a matrix reordered by minimum
// degree: narrower blocks follow the sparsity of the factor more closely
// (InstEval's lecturer block: the trailing updates cost 29 % of the dense
// ones with width 32, 37 % with 64).
const cholNBSparse = 32

// cholParallelMin is the order from which cholDense splits the panel
// solve and the trailing update between goroutines.
const cholParallelMin = 256

// cholSplitMinWork is the least trailing-update work (rows² × width)
// of a block column that cholDense splits between goroutines.
const cholSplitMinWork = 1 << 16

// cholWork is cholDense's scratch and the symbolic structure of the
// matrix it factors.
type cholWork struct {
	nb   int
	pack []float64 // n*nb
	all  []int32   // 0 .. n-1
	// rows[K] lists the rows at or after the end of block column K with
	// a structural nonzero in it (sorted); nil rows means every row.
	rows [][]int32
	// first[r] (nil: 0) is the first column of row r that may be nonzero
	// in the factor, for the triangular solves that use it.
	first []int32
}

// newCholWork returns the scratch for an n × n matrix with block width nb
// and block-column row structure rows (nil: dense).
func newCholWork(n, nb int, rows [][]int32) *cholWork {
	w := &cholWork{nb: nb, pack: make([]float64, n*nb), all: make([]int32, n), rows: rows}
	for i := range w.all {
		w.all[i] = int32(i)
	}
	return w
}

// cholDense overwrites the lower triangle of the row-major n × n
// symmetric positive definite matrix a (stride ld) with its lower
// Cholesky factor, leaving the strict upper triangle untouched; it
// returns false if a is not positive definite. ws is the scratch from
// newCholWork(n, …); when it has a row structure, the entries of a
// outside it must be zero (they stay zero). workers (≥ 1) is the number of
// goroutines the panel solve and trailing update are split over when
// n ≥ cholParallelMin.
//
// It is the right-looking blocked algorithm (LAPACK's dpotrf with the
// loops reordered for row-major storage): for each block column, factor
// its diagonal block, solve the rows below it that have a structural
// nonzero against that factor (packing them contiguously), and subtract
// the packed panel's P Pᵀ from those rows and columns of the trailing
// lower triangle with a 3 × 2 register-blocked kernel.
//
// The result does not depend on workers or on goroutine timing: every
// entry is computed by the same sequence of floating-point operations
// however the rows are divided (each dot product over a panel is the
// fixed-order four-lane fused multiply-add sum of dotkern.go, whether it
// is computed in the 3 × 2 kernel or by dotAcc at a tile's edge, and then
// subtracted), and the division of work only decides which goroutine
// computes an entry. Nor does it depend on the machine: the kernels are
// AVX2 assembly where available and Go with the same operations
// elsewhere.
func cholDense(a []float64, n, ld int, ws *cholWork, workers int) bool {
	if n >= cholParallelMin {
		workers = max(workers, 1)
	} else {
		workers = 1
	}
	nb := ws.nb
	for k0 := 0; k0 < n; k0 += nb {
		k1 := min(k0+nb, n)
		w := k1 - k0
		if !cholUnblocked(a[k0*ld+k0:], w, ld) {
			return false
		}
		rows := ws.all[k1:n]
		if ws.rows != nil {
			rows = ws.rows[k0/nb]
		}
		m := len(rows)
		if m == 0 {
			continue
		}
		p := ws.pack[:m*w]
		if workers == 1 || m*m*w < cholSplitMinWork {
			// Direct calls (the closures below escape and would allocate);
			// also when the update is too small to be worth a goroutine.
			panelSolve(a, ld, k0, k1, p, rows, 0, m)
			trailingUpdate(a, ld, w, p, rows, 0, m)
			continue
		}
		// Panel solve: split evenly.
		runSplit(workers, m, func(r int) int { return r }, func(lo, hi int) {
			panelSolve(a, ld, k0, k1, p, rows, lo, hi)
		})
		// Trailing update: the r-th row costs r+1 entries, so the first r
		// rows cost about r²/2.
		runSplit(workers, m, func(r int) int { return r * r }, func(lo, hi int) {
			trailingUpdate(a, ld, w, p, rows, lo, hi)
		})
	}
	return true
}

// runSplit calls f(lo, hi) on workers contiguous ranges covering [0, m)
// whose boundaries (multiples of 6) divide the cumulative cost cum(r) of
// rows [0, r) about equally, the last range on the calling goroutine.
func runSplit(workers, m int, cum func(r int) int, f func(lo, hi int)) {
	if workers <= 1 || m < 8 {
		f(0, m)
		return
	}
	total := cum(m)
	var wg sync.WaitGroup
	lo := 0
	for w := 1; w < workers; w++ {
		target := total / workers * w
		hi := lo
		for hi < m && cum(hi) < target {
			hi += 6
		}
		hi = min(hi, m)
		if hi > lo {
			wg.Add(1)
			go func(lo, hi int) {
				defer wg.Done()
				f(lo, hi)
			}(lo, hi)
		}
		lo = hi
	}
	if lo < m {
		f(lo, m)
	}
	wg.Wait()
}

// cholUnblocked factors the w × w lower triangle at a (stride ld) in
// place (left-looking, row by row, the dot products by dotAcc); it
// returns false if it is not positive definite.
func cholUnblocked(a []float64, w, ld int) bool {
	for i := range w {
		ri := a[i*ld : i*ld+i+1]
		for j := 0; j < i; j++ {
			ri[j] = (ri[j] - dotAcc(ri[:j], a[j*ld:j*ld+j])) / a[j*ld+j]
		}
		d := ri[i] - dotAcc(ri[:i], ri[:i])
		if !(d > 0) {
			return false
		}
		ri[i] = math.Sqrt(d)
	}
	return true
}

// panelSolve sets rows rows[lo:hi] of columns [k0, k1) of a to
// themselves times L_kk⁻ᵀ, L_kk the factored diagonal block at (k0, k0),
// and copies them to p (the r-th row at p[r*w:], w = k1 − k0): x_j =
// (a_j − Σ_{l<j} x_l L_jl)·(1/L_jj), three rows at a time, the sums
// accumulated as dotAcc does.
func panelSolve(a []float64, ld, k0, k1 int, p []float64, rows []int32, lo, hi int) {
	w := k1 - k0
	var inv [cholNB]float64
	for j := range w {
		inv[j] = 1 / a[(k0+j)*ld+k0+j]
	}
	r := lo
	for ; r+3 <= hi; r += 3 {
		x0 := p[r*w : r*w+w]
		x1 := p[(r+1)*w : (r+1)*w+w]
		x2 := p[(r+2)*w : (r+2)*w+w]
		i0, i1, i2 := int(rows[r]), int(rows[r+1]), int(rows[r+2])
		s0 := a[i0*ld+k0 : i0*ld+k1]
		s1 := a[i1*ld+k0 : i1*ld+k1]
		s2 := a[i2*ld+k0 : i2*ld+k1]
		for j := range w {
			lj := a[(k0+j)*ld+k0 : (k0+j)*ld+k0+j]
			t0, t1, t2 := kern3x1(x0[:j], x1[:j], x2[:j], lj)
			x0[j] = (s0[j] - t0) * inv[j]
			x1[j] = (s1[j] - t1) * inv[j]
			x2[j] = (s2[j] - t2) * inv[j]
		}
		copy(s0, x0)
		copy(s1, x1)
		copy(s2, x2)
	}
	for ; r < hi; r++ {
		i := int(rows[r])
		src := a[i*ld+k0 : i*ld+k1]
		x := p[r*w : r*w+w]
		for j := range w {
			x[j] = (src[j] - dotAcc(x[:j], a[(k0+j)*ld+k0:(k0+j)*ld+k0+j])) * inv[j]
		}
		copy(src, x)
	}
}

// trailingUpdate subtracts p pᵀ from the entries (rows[i], rows[j]),
// j ≤ i, of a for i in [lo, hi); p holds the solved panel, w entries per
// row, in the order of rows.
func trailingUpdate(a []float64, ld, w int, p []float64, rows []int32, lo, hi int) {
	i := lo
	for ; i+3 <= hi; i += 3 {
		a0 := p[i*w : i*w+w]
		a1 := p[(i+1)*w : (i+1)*w+w]
		a2 := p[(i+2)*w : (i+2)*w+w]
		r0, r1, r2 := int(rows[i]), int(rows[i+1]), int(rows[i+2])
		c0 := a[r0*ld : r0*ld+r0+1]
		c1 := a[r1*ld : r1*ld+r1+1]
		c2 := a[r2*ld : r2*ld+r2+1]
		j := 0
		for ; j+2 <= i; j += 2 {
			b0 := p[j*w : j*w+w]
			b1 := p[(j+1)*w : (j+1)*w+w]
			s00, s01, s10, s11, s20, s21 := kern3x2(a0, a1, a2, b0, b1)
			q0, q1 := rows[j], rows[j+1]
			c0[q0] -= s00
			c0[q1] -= s01
			c1[q0] -= s10
			c1[q1] -= s11
			c2[q0] -= s20
			c2[q1] -= s21
		}
		// The columns j .. i+2 that remain (two or three) meet the
		// diagonal: entry by entry, with the same operations.
		for ; j <= i+2; j++ {
			b := p[j*w : j*w+w]
			q := rows[j]
			if j <= i {
				c0[q] -= dotAcc(a0, b)
			}
			if j <= i+1 {
				c1[q] -= dotAcc(a1, b)
			}
			c2[q] -= dotAcc(a2, b)
		}
	}
	for ; i < hi; i++ {
		ai := p[i*w : i*w+w]
		r := int(rows[i])
		c := a[r*ld : r*ld+r+1]
		for j := 0; j <= i; j++ {
			c[rows[j]] -= dotAcc(ai, p[j*w:j*w+w])
		}
	}
}

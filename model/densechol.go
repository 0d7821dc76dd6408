package model

import (
	"math"
	"sync"
)

// cholNB is the block width of cholDense: the panel of cholNB columns is
// factored, then applied to the trailing matrix as one rank-cholNB update.
const cholNB = 64

// cholParallelMin is the order from which cholDense splits the panel
// solve and the trailing update between goroutines.
const cholParallelMin = 256

// cholPackLen returns the length of the scratch slice cholDense needs for
// an n × n matrix.
func cholPackLen(n int) int { return n * cholNB }

// cholDense overwrites the lower triangle of the row-major n × n
// symmetric positive definite matrix a (stride ld) with its lower
// Cholesky factor, leaving the strict upper triangle untouched; it
// returns false if a is not positive definite. pack is scratch of at
// least cholPackLen(n) entries; workers (≥ 1) is the number of goroutines
// the panel solve and trailing update are split over when n ≥
// cholParallelMin.
//
// It is the right-looking blocked algorithm (LAPACK's dpotrf with the
// loops reordered for row-major storage): for each block column of width
// cholNB, factor its diagonal block, solve the rows below it against that
// factor (packing them contiguously), and subtract the packed panel's
// P Pᵀ from the trailing lower triangle with a 3 × 2 register-blocked
// kernel.
//
// The result does not depend on workers or on goroutine timing: every
// entry is computed by the same sequence of floating-point operations
// however the rows are divided (each dot product over a panel is
// accumulated from zero in increasing column order, each product rounded
// before it is added, and then subtracted, whether it is computed in the
// 3 × 2 kernel or in the scalar edge loops), and the division of work only decides which goroutine
// computes an entry.
func cholDense(a []float64, n, ld int, pack []float64, workers int) bool {
	if n >= cholParallelMin {
		workers = max(workers, 1)
	} else {
		workers = 1
	}
	for k0 := 0; k0 < n; k0 += cholNB {
		k1 := min(k0+cholNB, n)
		w := k1 - k0
		if !cholUnblocked(a[k0*ld+k0:], w, ld) {
			return false
		}
		m := n - k1
		if m == 0 {
			break
		}
		p := pack[:m*w]
		if workers == 1 {
			// Direct calls: the closures below escape and would allocate.
			panelSolve(a, ld, k0, k1, w, p, 0, m)
			trailingUpdate(a, ld, k1, w, p, 0, m)
			continue
		}
		// Panel solve: rows k1..n-1, split evenly.
		runSplit(workers, m, func(r int) int { return r }, func(lo, hi int) {
			panelSolve(a, ld, k0, k1, w, p, lo, hi)
		})
		// Trailing update: row r (relative to k1) costs r+1 entries, so
		// rows [0, r) cost about r²/2.
		runSplit(workers, m, func(r int) int { return r * r }, func(lo, hi int) {
			trailingUpdate(a, ld, k1, w, p, lo, hi)
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
// place (left-looking, row by row); it returns false if it is not
// positive definite.
func cholUnblocked(a []float64, w, ld int) bool {
	for i := range w {
		ri := a[i*ld : i*ld+i+1]
		for j := 0; j < i; j++ {
			rj := a[j*ld : j*ld+j]
			var s float64
			for l, v := range rj {
				s += float64(ri[l] * v)
			}
			ri[j] = (ri[j] - s) / a[j*ld+j]
		}
		var s float64
		for _, v := range ri[:i] {
			s += float64(v * v)
		}
		d := ri[i] - s
		if !(d > 0) {
			return false
		}
		ri[i] = math.Sqrt(d)
	}
	return true
}

// panelSolve sets rows k1+lo .. k1+hi-1 of columns [k0, k1) of a to
// themselves times L_kk⁻ᵀ, L_kk the factored diagonal block at (k0, k0),
// and copies them to p (row r at p[r*w:]): x_j = (a_j − Σ_{l<j} x_l
// L_jl)·(1/L_jj), three rows at a time, the sums accumulated as dotAcc
// does.
func panelSolve(a []float64, ld, k0, k1, w int, p []float64, lo, hi int) {
	var inv [cholNB]float64
	for j := range w {
		inv[j] = 1 / a[(k0+j)*ld+k0+j]
	}
	r := lo
	for ; r+3 <= hi; r += 3 {
		x0 := p[r*w : r*w+w]
		x1 := p[(r+1)*w : (r+1)*w+w]
		x2 := p[(r+2)*w : (r+2)*w+w]
		s0 := a[(k1+r)*ld+k0 : (k1+r)*ld+k1]
		s1 := a[(k1+r+1)*ld+k0 : (k1+r+1)*ld+k1]
		s2 := a[(k1+r+2)*ld+k0 : (k1+r+2)*ld+k1]
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
		src := a[(k1+r)*ld+k0 : (k1+r)*ld+k1]
		x := p[r*w : r*w+w]
		for j := range w {
			x[j] = (src[j] - dotAcc(x[:j], a[(k0+j)*ld+k0:(k0+j)*ld+k0+j])) * inv[j]
		}
		copy(src, x)
	}
}

// kern3x1 returns the dot products of a0, a1, a2 with b (all of length
// len(b)), each accumulated as dotAcc does.
func kern3x1(a0, a1, a2, b []float64) (s0, s1, s2 float64) {
	n := len(b)
	a0, a1, a2 = a0[:n], a1[:n], a2[:n]
	for l, y := range b {
		s0 += float64(a0[l] * y)
		s1 += float64(a1[l] * y)
		s2 += float64(a2[l] * y)
	}
	return
}

// trailingUpdate subtracts p pᵀ from the lower triangle of the trailing
// block of a at (k1, k1), rows lo .. hi-1 (relative to k1); p holds the
// solved panel, w entries per row.
func trailingUpdate(a []float64, ld, k1, w int, p []float64, lo, hi int) {
	i := lo
	for ; i+3 <= hi; i += 3 {
		a0 := p[i*w : i*w+w]
		a1 := p[(i+1)*w : (i+1)*w+w]
		a2 := p[(i+2)*w : (i+2)*w+w]
		c0 := a[(k1+i)*ld+k1 : (k1+i)*ld+k1+i+1]
		c1 := a[(k1+i+1)*ld+k1 : (k1+i+1)*ld+k1+i+2]
		c2 := a[(k1+i+2)*ld+k1 : (k1+i+2)*ld+k1+i+3]
		j := 0
		for ; j+2 <= i; j += 2 {
			b0 := p[j*w : j*w+w]
			b1 := p[(j+1)*w : (j+1)*w+w]
			s00, s01, s10, s11, s20, s21 := kern3x2(a0, a1, a2, b0, b1)
			c0[j] -= s00
			c0[j+1] -= s01
			c1[j] -= s10
			c1[j+1] -= s11
			c2[j] -= s20
			c2[j+1] -= s21
		}
		// The columns j .. i+2 that remain (two or three) meet the
		// diagonal: entry by entry, with the same operations.
		for ; j <= i+2; j++ {
			b := p[j*w : j*w+w]
			if j <= i {
				c0[j] -= dotAcc(a0, b)
			}
			if j <= i+1 {
				c1[j] -= dotAcc(a1, b)
			}
			c2[j] -= dotAcc(a2, b)
		}
	}
	for ; i < hi; i++ {
		ai := p[i*w : i*w+w]
		c := a[(k1+i)*ld+k1:]
		for j := 0; j <= i; j++ {
			c[j] -= dotAcc(ai, p[j*w:j*w+w])
		}
	}
}

// dotAcc returns Σ x[l]·y[l] accumulated from zero in increasing l, each
// product rounded before it is added (the operations of kern3x2).
func dotAcc(x, y []float64) float64 {
	y = y[:len(x)]
	var s float64
	for l, v := range x {
		s += float64(v * y[l])
	}
	return s
}

// kern3x2 returns the 6 dot products of a0, a1, a2 with b0, b1 (all of
// length len(a0)), each accumulated as dotAcc does. Three rows by two
// columns is the largest tile the compiler keeps in registers without
// spilling: it schedules all the products of an iteration before the
// additions that feed the loop, so the tile needs twice its size in
// registers, and amd64 has 15 usable.
func kern3x2(a0, a1, a2, b0, b1 []float64) (s00, s01, s10, s11, s20, s21 float64) {
	n := len(a0)
	a1, a2, b0, b1 = a1[:n], a2[:n], b0[:n], b1[:n]
	for l := range a0 {
		y0, y1 := b0[l], b1[l]
		x := a0[l]
		s00 += float64(x * y0)
		s01 += float64(x * y1)
		x = a1[l]
		s10 += float64(x * y0)
		s11 += float64(x * y1)
		x = a2[l]
		s20 += float64(x * y0)
		s21 += float64(x * y1)
	}
	return
}

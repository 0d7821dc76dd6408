package model

import (
	"math"
	"unsafe"
)

// The dot-product kernels of the blocked Cholesky (cholDense,
// trailingUpdate, rankUpdate) and of the selected inversion
// (forwardRowsLower, InvDiagSums).
//
// Every dot product Σ_l x[l]·y[l] of length n they return is computed by
// one fixed sequence of floating-point operations, on every machine:
//
//  1. four lane accumulators c₀ … c₃ start at +0; for each full group of
//     four, l = 4g … 4g+3 (4g+3 < n), c_r ← fma(x[4g+r], y[4g+r], c_r),
//     groups in increasing g;
//  2. s ← (c₀ + c₂) + (c₁ + c₃);
//  3. for the tail l = 4⌊n/4⌋ … n−1 in increasing l, s ← fma(x[l], y[l], s).
//
// fma(a, b, c) is a·b + c rounded once (math.FMA). On amd64 with AVX2 and
// FMA the kernels are the assembly in dotkern_amd64.s, where the four
// lanes are one 256-bit register (VFMADD231PD) and step 2 is the
// horizontal sum of its halves; elsewhere, and with the purego build tag,
// they are the Go functions below, which perform the same operations
// (math.FMA is exact everywhere, and a single instruction on amd64 with
// FMA and on arm64). So a result does not depend on the machine, nor on
// whether it came from kern3x2, kern3x1 or dotAcc: cholDense relies on
// the last, because which entries of a tile's edge go through which
// kernel depends on how the rows are divided between goroutines.

// dotAcc returns Σ x[l]·y[l] over l < len(x) (len(y) ≥ len(x)) by the
// operations described above.
func dotAcc(x, y []float64) float64 {
	n := len(x)
	y = y[:n]
	if useAVX2FMA {
		return dotAccAVX(n, unsafe.SliceData(x), unsafe.SliceData(y))
	}
	return dotAccGo(x, y)
}

// kern3x1 returns the dot products of a0, a1, a2 with b (a0, a1, a2 at
// least as long as b, only their first len(b) entries used), each
// computed as dotAcc does.
func kern3x1(a0, a1, a2, b []float64) (s0, s1, s2 float64) {
	n := len(b)
	a0, a1, a2 = a0[:n], a1[:n], a2[:n]
	if useAVX2FMA {
		return kern3x1AVX(n, unsafe.SliceData(a0), unsafe.SliceData(a1), unsafe.SliceData(a2), unsafe.SliceData(b))
	}
	return kern3x1Go(a0, a1, a2, b)
}

// kern3x2 returns the 6 dot products of a0, a1, a2 with b0, b1 (all of
// length len(a0)), each computed as dotAcc does: a 3 × 2 register tile
// whose six accumulators share the loads of the five vectors.
func kern3x2(a0, a1, a2, b0, b1 []float64) (s00, s01, s10, s11, s20, s21 float64) {
	n := len(a0)
	a1, a2, b0, b1 = a1[:n], a2[:n], b0[:n], b1[:n]
	if useAVX2FMA {
		return kern3x2AVX(n, unsafe.SliceData(a0), unsafe.SliceData(a1), unsafe.SliceData(a2),
			unsafe.SliceData(b0), unsafe.SliceData(b1))
	}
	return kern3x2Go(a0, a1, a2, b0, b1)
}

// dotAccGo is dotAcc in Go.
func dotAccGo(x, y []float64) float64 {
	n := len(x)
	y = y[:n]
	var c0, c1, c2, c3 float64
	l := 0
	for ; l+4 <= n; l += 4 {
		u, v := x[l:l+4:l+4], y[l:l+4:l+4]
		c0 = math.FMA(u[0], v[0], c0)
		c1 = math.FMA(u[1], v[1], c1)
		c2 = math.FMA(u[2], v[2], c2)
		c3 = math.FMA(u[3], v[3], c3)
	}
	s := (c0 + c2) + (c1 + c3)
	for ; l < n; l++ {
		s = math.FMA(x[l], y[l], s)
	}
	return s
}

// dot2Go returns dotAccGo(x, y0) and dotAccGo(x, y1) (y0, y1 at least as
// long as x) in one pass: eight independent accumulator chains instead of
// four, and the loads of x shared.
func dot2Go(x, y0, y1 []float64) (s0, s1 float64) {
	n := len(x)
	y0, y1 = y0[:n], y1[:n]
	var c0, c1, c2, c3, d0, d1, d2, d3 float64
	l := 0
	for ; l+4 <= n; l += 4 {
		u, v, w := x[l:l+4:l+4], y0[l:l+4:l+4], y1[l:l+4:l+4]
		c0 = math.FMA(u[0], v[0], c0)
		d0 = math.FMA(u[0], w[0], d0)
		c1 = math.FMA(u[1], v[1], c1)
		d1 = math.FMA(u[1], w[1], d1)
		c2 = math.FMA(u[2], v[2], c2)
		d2 = math.FMA(u[2], w[2], d2)
		c3 = math.FMA(u[3], v[3], c3)
		d3 = math.FMA(u[3], w[3], d3)
	}
	s0 = (c0 + c2) + (c1 + c3)
	s1 = (d0 + d2) + (d1 + d3)
	for ; l < n; l++ {
		s0 = math.FMA(x[l], y0[l], s0)
		s1 = math.FMA(x[l], y1[l], s1)
	}
	return
}

// kern3x1Go is kern3x1 in Go: the dot products two and one at a time
// (each one's operations do not depend on the others; scalar
// accumulators stay in registers where a larger tile would spill).
func kern3x1Go(a0, a1, a2, b []float64) (s0, s1, s2 float64) {
	s0, s1 = dot2Go(b, a0, a1)
	return s0, s1, dotAccGo(b, a2)
}

// kern3x2Go is kern3x2 in Go, two dot products at a time.
func kern3x2Go(a0, a1, a2, b0, b1 []float64) (s00, s01, s10, s11, s20, s21 float64) {
	s00, s01 = dot2Go(a0, b0, b1)
	s10, s11 = dot2Go(a1, b0, b1)
	s20, s21 = dot2Go(a2, b0, b1)
	return
}

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
		c0 = math.FMA(x[l], y[l], c0)
		c1 = math.FMA(x[l+1], y[l+1], c1)
		c2 = math.FMA(x[l+2], y[l+2], c2)
		c3 = math.FMA(x[l+3], y[l+3], c3)
	}
	s := (c0 + c2) + (c1 + c3)
	for ; l < n; l++ {
		s = math.FMA(x[l], y[l], s)
	}
	return s
}

// lanes4 holds the four lane accumulators of one dot product.
type lanes4 [4]float64

// fma4 adds x[0:4]·y[0:4] into the lanes of c.
func (c *lanes4) fma4(x, y []float64) {
	x, y = x[:4], y[:4]
	c[0] = math.FMA(x[0], y[0], c[0])
	c[1] = math.FMA(x[1], y[1], c[1])
	c[2] = math.FMA(x[2], y[2], c[2])
	c[3] = math.FMA(x[3], y[3], c[3])
}

// sum returns (c₀ + c₂) + (c₁ + c₃).
func (c *lanes4) sum() float64 { return (c[0] + c[2]) + (c[1] + c[3]) }

// kern3x1Go is kern3x1 in Go.
func kern3x1Go(a0, a1, a2, b []float64) (s0, s1, s2 float64) {
	n := len(b)
	a0, a1, a2 = a0[:n], a1[:n], a2[:n]
	var c0, c1, c2 lanes4
	l := 0
	for ; l+4 <= n; l += 4 {
		y := b[l : l+4]
		c0.fma4(a0[l:], y)
		c1.fma4(a1[l:], y)
		c2.fma4(a2[l:], y)
	}
	s0, s1, s2 = c0.sum(), c1.sum(), c2.sum()
	for ; l < n; l++ {
		y := b[l]
		s0 = math.FMA(a0[l], y, s0)
		s1 = math.FMA(a1[l], y, s1)
		s2 = math.FMA(a2[l], y, s2)
	}
	return
}

// kern3x2Go is kern3x2 in Go.
func kern3x2Go(a0, a1, a2, b0, b1 []float64) (s00, s01, s10, s11, s20, s21 float64) {
	n := len(a0)
	a1, a2, b0, b1 = a1[:n], a2[:n], b0[:n], b1[:n]
	var c00, c01, c10, c11, c20, c21 lanes4
	l := 0
	for ; l+4 <= n; l += 4 {
		y0, y1 := b0[l:l+4], b1[l:l+4]
		c00.fma4(a0[l:], y0)
		c01.fma4(a0[l:], y1)
		c10.fma4(a1[l:], y0)
		c11.fma4(a1[l:], y1)
		c20.fma4(a2[l:], y0)
		c21.fma4(a2[l:], y1)
	}
	s00, s01, s10, s11, s20, s21 = c00.sum(), c01.sum(), c10.sum(), c11.sum(), c20.sum(), c21.sum()
	for ; l < n; l++ {
		y0, y1 := b0[l], b1[l]
		x := a0[l]
		s00 = math.FMA(x, y0, s00)
		s01 = math.FMA(x, y1, s01)
		x = a1[l]
		s10 = math.FMA(x, y0, s10)
		s11 = math.FMA(x, y1, s11)
		x = a2[l]
		s20 = math.FMA(x, y0, s20)
		s21 = math.FMA(x, y1, s21)
	}
	return
}

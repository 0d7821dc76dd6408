//go:build !amd64 || purego

package model

// useAVX2FMA is false: the kernels are the Go functions.
const useAVX2FMA = false

func dotAccAVX(n int, x, y *float64) float64 { panic("model: no assembly kernels") }

func kern3x1AVX(n int, a0, a1, a2, b *float64) (s0, s1, s2 float64) {
	panic("model: no assembly kernels")
}

func kern3x2AVX(n int, a0, a1, a2, b0, b1 *float64) (s00, s01, s10, s11, s20, s21 float64) {
	panic("model: no assembly kernels")
}

//go:build amd64 && !purego

package model

import "golang.org/x/sys/cpu"

// useAVX2FMA reports whether the kernels run as the assembly of
// dotkern_amd64.s (256-bit VFMADD231PD).
var useAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// dotAccAVX is dotAcc on the n entries at x and y.
//
//go:noescape
func dotAccAVX(n int, x, y *float64) float64

// kern3x1AVX is kern3x1 on the n entries at a0, a1, a2 and b.
//
//go:noescape
func kern3x1AVX(n int, a0, a1, a2, b *float64) (s0, s1, s2 float64)

// kern3x2AVX is kern3x2 on the n entries at a0, a1, a2, b0 and b1.
//
//go:noescape
func kern3x2AVX(n int, a0, a1, a2, b0, b1 *float64) (s00, s01, s10, s11, s20, s21 float64)

//go:build amd64 && !purego

#include "textflag.h"

// The operations are those described in dotkern.go: lane r of a 256-bit
// accumulator sums l ≡ r (mod 4) by VFMADD231PD over the full groups of
// four, HSUM forms (c0 + c2) + (c1 + c3), and the tail is added by
// VFMADD231SD in increasing l. Loads are unaligned (VMOVUPD).

// HSUM leaves (c0 + c2) + (c1 + c3) of the lanes of Y in the low lane of
// X (X the low half of Y), using X15.
#define HSUM(Y, X) \
	VEXTRACTF128 $1, Y, X15 \
	VADDPD       X15, X, X  \
	VUNPCKHPD    X, X, X15  \
	VADDSD       X15, X, X

// func dotAccAVX(n int, x, y *float64) float64
TEXT ·dotAccAVX(SB), NOSPLIT, $0-32
	MOVQ   n+0(FP), CX
	MOVQ   x+8(FP), SI
	MOVQ   y+16(FP), DI
	VXORPD Y0, Y0, Y0
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-4, DX

dot4:
	CMPQ        AX, DX
	JGE         dotsum
	VMOVUPD     (SI)(AX*8), Y1
	VFMADD231PD (DI)(AX*8), Y1, Y0
	ADDQ        $4, AX
	JMP         dot4

dotsum:
	HSUM(Y0, X0)

dottail:
	CMPQ        AX, CX
	JGE         dotdone
	VMOVSD      (SI)(AX*8), X1
	VFMADD231SD (DI)(AX*8), X1, X0
	INCQ        AX
	JMP         dottail

dotdone:
	VMOVSD     X0, ret+24(FP)
	VZEROUPPER
	RET

// func kern3x1AVX(n int, a0, a1, a2, b *float64) (s0, s1, s2 float64)
TEXT ·kern3x1AVX(SB), NOSPLIT, $0-64
	MOVQ   n+0(FP), CX
	MOVQ   a0+8(FP), R8
	MOVQ   a1+16(FP), R9
	MOVQ   a2+24(FP), R10
	MOVQ   b+32(FP), R11
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-4, DX

k31loop:
	CMPQ        AX, DX
	JGE         k31sum
	VMOVUPD     (R11)(AX*8), Y6
	VFMADD231PD (R8)(AX*8), Y6, Y0
	VFMADD231PD (R9)(AX*8), Y6, Y1
	VFMADD231PD (R10)(AX*8), Y6, Y2
	ADDQ        $4, AX
	JMP         k31loop

k31sum:
	HSUM(Y0, X0)
	HSUM(Y1, X1)
	HSUM(Y2, X2)

k31tail:
	CMPQ        AX, CX
	JGE         k31done
	VMOVSD      (R11)(AX*8), X6
	VFMADD231SD (R8)(AX*8), X6, X0
	VFMADD231SD (R9)(AX*8), X6, X1
	VFMADD231SD (R10)(AX*8), X6, X2
	INCQ        AX
	JMP         k31tail

k31done:
	VMOVSD     X0, s0+40(FP)
	VMOVSD     X1, s1+48(FP)
	VMOVSD     X2, s2+56(FP)
	VZEROUPPER
	RET

// func kern3x2AVX(n int, a0, a1, a2, b0, b1 *float64) (s00, s01, s10, s11, s20, s21 float64)
TEXT ·kern3x2AVX(SB), NOSPLIT, $0-96
	MOVQ   n+0(FP), CX
	MOVQ   a0+8(FP), R8
	MOVQ   a1+16(FP), R9
	MOVQ   a2+24(FP), R10
	MOVQ   b0+32(FP), R11
	MOVQ   b1+40(FP), R12
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-4, DX

k32loop:
	CMPQ        AX, DX
	JGE         k32sum
	VMOVUPD     (R11)(AX*8), Y6
	VMOVUPD     (R12)(AX*8), Y7
	VMOVUPD     (R8)(AX*8), Y8
	VFMADD231PD Y6, Y8, Y0
	VFMADD231PD Y7, Y8, Y1
	VMOVUPD     (R9)(AX*8), Y9
	VFMADD231PD Y6, Y9, Y2
	VFMADD231PD Y7, Y9, Y3
	VMOVUPD     (R10)(AX*8), Y10
	VFMADD231PD Y6, Y10, Y4
	VFMADD231PD Y7, Y10, Y5
	ADDQ        $4, AX
	JMP         k32loop

k32sum:
	HSUM(Y0, X0)
	HSUM(Y1, X1)
	HSUM(Y2, X2)
	HSUM(Y3, X3)
	HSUM(Y4, X4)
	HSUM(Y5, X5)

k32tail:
	CMPQ        AX, CX
	JGE         k32done
	VMOVSD      (R11)(AX*8), X6
	VMOVSD      (R12)(AX*8), X7
	VMOVSD      (R8)(AX*8), X8
	VFMADD231SD X6, X8, X0
	VFMADD231SD X7, X8, X1
	VMOVSD      (R9)(AX*8), X8
	VFMADD231SD X6, X8, X2
	VFMADD231SD X7, X8, X3
	VMOVSD      (R10)(AX*8), X8
	VFMADD231SD X6, X8, X4
	VFMADD231SD X7, X8, X5
	INCQ        AX
	JMP         k32tail

k32done:
	VMOVSD     X0, s00+48(FP)
	VMOVSD     X1, s01+56(FP)
	VMOVSD     X2, s10+64(FP)
	VMOVSD     X3, s11+72(FP)
	VMOVSD     X4, s20+80(FP)
	VMOVSD     X5, s21+88(FP)
	VZEROUPPER
	RET

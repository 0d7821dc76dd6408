package model

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"
)

// BenchmarkKern3x2 times the 3 × 2 dot-product tile at the panel widths
// of cholDense (64) and of a slope term's 160 columns.
func BenchmarkKern3x2(b *testing.B) {
	for _, n := range []int{64, 160} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(uint64(n), 2))
			v := make([][]float64, 5)
			for i := range v {
				v[i] = make([]float64, n)
				for l := range v[i] {
					v[i][l] = rng.NormFloat64()
				}
			}
			var sink float64
			for b.Loop() {
				s00, s01, s10, s11, s20, s21 := kern3x2(v[0], v[1], v[2], v[3], v[4])
				sink += s00 + s01 + s10 + s11 + s20 + s21
			}
			b.ReportMetric(12*float64(n)/1e9/(b.Elapsed().Seconds()/float64(b.N)), "GFlop/s")
			_ = sink
		})
	}
}

// kernVectors returns five vectors of length n drawn from rng, each
// starting at its own offset 0 … 3 (in float64s) into a larger buffer so
// that the 32-byte alignment of the loads varies, with entries of
// magnitudes spread over 2⁻²⁰ … 2²⁰ and both signs (so that the
// accumulation order changes the rounding).
func kernVectors(rng *rand.Rand, n int) [5][]float64 {
	var v [5][]float64
	for i := range v {
		off := rng.IntN(4)
		buf := make([]float64, n+off+4)
		for l := range buf {
			buf[l] = rng.NormFloat64() * math.Ldexp(1, rng.IntN(41)-20)
		}
		v[i] = buf[off : off+n]
	}
	return v
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// TestDotKernelsAsmMatchGo checks that the assembly kernels and their Go
// fallbacks give the same bits on lengths 0 … 300 with unaligned starts
// (the contract of dotkern.go: results must not depend on the machine).
func TestDotKernelsAsmMatchGo(t *testing.T) {
	if !useAVX2FMA {
		t.Skip("no assembly kernels on this machine or build (the Go ones are in use)")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 300; n++ {
		for rep := 0; rep < 3; rep++ {
			v := kernVectors(rng, n)
			p := func(i int) *float64 { return unsafe.SliceData(v[i]) }
			if got, want := dotAccAVX(n, p(0), p(1)), dotAccGo(v[0], v[1]); !sameBits(got, want) {
				t.Fatalf("n=%d: dotAcc asm %v, Go %v", n, got, want)
			}
			g0, g1, g2 := kern3x1AVX(n, p(0), p(1), p(2), p(3))
			w0, w1, w2 := kern3x1Go(v[0], v[1], v[2], v[3])
			if !sameBits(g0, w0) || !sameBits(g1, w1) || !sameBits(g2, w2) {
				t.Fatalf("n=%d: kern3x1 asm %v %v %v, Go %v %v %v", n, g0, g1, g2, w0, w1, w2)
			}
			var g, w [6]float64
			g[0], g[1], g[2], g[3], g[4], g[5] = kern3x2AVX(n, p(0), p(1), p(2), p(3), p(4))
			w[0], w[1], w[2], w[3], w[4], w[5] = kern3x2Go(v[0], v[1], v[2], v[3], v[4])
			for k := range g {
				if !sameBits(g[k], w[k]) {
					t.Fatalf("n=%d: kern3x2 entry %d: asm %v, Go %v", n, k, g[k], w[k])
				}
			}
		}
	}
}

// TestDotKernelsAgree checks that every entry of kern3x2 and kern3x1 is
// bit for bit the dotAcc of its two vectors (cholDense computes the edge
// of a tile with dotAcc, and which entries are on an edge depends on the
// worker partition), and that dotAcc is within the rounding-error bound
// of a dot product computed in any order, |fl − exact| ≤ γₙ Σ|x_l y_l|
// with γₙ = nε/(1 − nε), ε = 2⁻⁵³ (Higham, Accuracy and Stability of
// Numerical Algorithms, 2nd ed., §3.1), against the exact sum.
func TestDotKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 300; n++ {
		v := kernVectors(rng, n)
		var s [6]float64
		s[0], s[1], s[2], s[3], s[4], s[5] = kern3x2(v[0], v[1], v[2], v[3], v[4])
		for k := range s {
			if d := dotAcc(v[k/2], v[3+k%2]); !sameBits(s[k], d) {
				t.Fatalf("n=%d: kern3x2 entry %d is %v, dotAcc %v", n, k, s[k], d)
			}
		}
		r0, r1, r2 := kern3x1(v[0], v[1], v[2], v[4])
		for k, r := range []float64{r0, r1, r2} {
			if d := dotAcc(v[4], v[k]); !sameBits(r, d) {
				t.Fatalf("n=%d: kern3x1 entry %d is %v, dotAcc %v", n, k, r, d)
			}
		}
		exact, abs := new(big.Float).SetPrec(4096), 0.0
		for l := range n {
			exact.Add(exact, new(big.Float).SetPrec(4096).Mul(big.NewFloat(v[0][l]), big.NewFloat(v[1][l])))
			abs += math.Abs(v[0][l] * v[1][l])
		}
		ex, _ := exact.Float64()
		eps := 0x1p-53
		gamma := float64(n) * eps / (1 - float64(n)*eps)
		if got := dotAcc(v[0], v[1]); math.Abs(got-ex) > gamma*abs*(1+4*eps) {
			t.Errorf("n=%d: dotAcc %v, exact %v: error %g above γₙΣ|xy| = %g", n, got, ex, math.Abs(got-ex), gamma*abs)
		}
	}
}

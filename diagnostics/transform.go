package diagnostics

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mathext"
)

// blomOffset is the fractional offset c of the rank back-transformation
// (r − c)/(S − 2c + 1); posterior uses Blom's c = 3/8.
const blomOffset = 3.0 / 8.0

// shape checks that x is a non-empty matrix with chains of equal, non-zero
// length and returns the number of chains and iterations.
func shape(x [][]float64) (m, n int, ok bool) {
	m = len(x)
	if m == 0 || len(x[0]) == 0 {
		return 0, 0, false
	}
	n = len(x[0])
	for _, c := range x {
		if len(c) != n {
			return 0, 0, false
		}
	}
	return m, n, true
}

// allFinite reports whether every draw is finite.
func allFinite(x [][]float64) bool {
	for _, c := range x {
		for _, v := range c {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
	}
	return true
}

// isConstant reports whether max − min < machine epsilon, posterior's
// is_constant with its default tolerance.
func isConstant(x [][]float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range x {
		for _, v := range c {
			if v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
	}
	return math.Abs(hi-lo) < 0x1p-52
}

// shouldReturnNA is posterior's should_return_NA: non-finite or constant.
func shouldReturnNA(x [][]float64) bool {
	return !allFinite(x) || isConstant(x)
}

// splitBounds returns, for a chain of n draws, the end of the first half
// and the start of the second: the middle draw of an odd-length chain is
// dropped, as posterior's .split_chains does.
func splitBounds(n int) (end1, start2 int) {
	return n / 2, n - n/2
}

// SplitChains splits every chain into its first and second half, dropping
// the middle draw of an odd-length chain. A chain of one draw is kept
// whole. The halves share memory with x.
func SplitChains(x [][]float64) [][]float64 {
	_, n, ok := shape(x)
	if !ok || n == 1 {
		return x
	}
	e, s := splitBounds(n)
	out := make([][]float64, 0, 2*len(x))
	for _, c := range x {
		out = append(out, c[:e])
	}
	for _, c := range x {
		out = append(out, c[s:])
	}
	return out
}

// flatten returns the draws of all chains in one slice, chain by chain.
func flatten(x [][]float64) []float64 {
	var n int
	for _, c := range x {
		n += len(c)
	}
	out := make([]float64, 0, n)
	for _, c := range x {
		out = append(out, c...)
	}
	return out
}

// reshape cuts flat into chains of the lengths of like.
func reshape(flat []float64, like [][]float64) [][]float64 {
	out := make([][]float64, len(like))
	var k int
	for i, c := range like {
		out[i] = flat[k : k+len(c)]
		k += len(c)
	}
	return out
}

// Ranks returns the ranks (1-based) of x with ties given their average
// rank, as R's rank(ties.method = "average"). NaN sorts last.
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(x[a], x[b]) })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		avg := float64(i+1+j) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// cmpFloat orders floats ascending with NaN last.
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	default:
		return -1
	}
}

// rankToZ maps a rank among s values to the normal scale,
// Φ⁻¹((r − 3/8)/(s + 1/4)).
func rankToZ(r float64, s int) float64 {
	return mathext.NormalQuantile((r - blomOffset) / (float64(s) - 2*blomOffset + 1))
}

// ZScale rank-normalises x jointly over all chains: each draw is replaced
// by Φ⁻¹((r − 3/8)/(S + 1/4)) of its average rank r among the S draws
// (posterior's z_scale). Non-finite input gives all NaN.
func ZScale(x [][]float64) [][]float64 {
	flat := flatten(x)
	if !allFinite(x) {
		for i := range flat {
			flat[i] = math.NaN()
		}
		return reshape(flat, x)
	}
	r := Ranks(flat)
	for i, v := range r {
		flat[i] = rankToZ(v, len(r))
	}
	return reshape(flat, x)
}

// Fold returns |x − median(x)|, the draws folded around their median.
func Fold(x [][]float64) [][]float64 {
	flat := flatten(x)
	med := Median(flat)
	for i, v := range flat {
		flat[i] = math.Abs(v - med)
	}
	return reshape(flat, x)
}

// Mean returns the arithmetic mean of x, NaN for empty x.
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	var s float64
	for _, v := range x {
		s += v
	}
	m := s / float64(len(x))
	// R refines the mean with a second pass; so do we.
	var t float64
	for _, v := range x {
		t += v - m
	}
	return m + t/float64(len(x))
}

// Variance returns the sample variance of x (denominator n − 1).
func Variance(x []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	m := Mean(x)
	var s float64
	for _, v := range x {
		d := v - m
		s += d * d
	}
	return s / float64(len(x)-1)
}

// SD returns the sample standard deviation of x (denominator n − 1).
func SD(x []float64) float64 { return math.Sqrt(Variance(x)) }

// Quantile returns the type-7 quantile of x at probability p, R's default
// quantile(x, p): with h = (n − 1)p, (1 − f)·x₍⌊h⌋₎ + f·x₍⌊h⌋+1₎ on the
// sorted draws. NaN for empty x, any NaN draw, or p outside [0, 1].
func Quantile(x []float64, p float64) float64 {
	s := slices.Clone(x)
	for _, v := range s {
		if math.IsNaN(v) {
			return math.NaN()
		}
	}
	slices.Sort(s)
	return quantileSorted(s, p)
}

// quantileSorted is Quantile on ascending, NaN-free draws.
func quantileSorted(s []float64, p float64) float64 {
	n := len(s)
	if n == 0 || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	index := 1 + float64(n-1)*p // 1-based, as R computes it
	lo := math.Floor(index)
	hi := math.Ceil(index)
	q := s[int(lo)-1]
	xh := s[int(hi)-1]
	if index > lo && xh != q {
		h := index - lo
		q = (1-h)*q + h*xh
	}
	return q
}

// Median returns the median of x (the mean of the middle two draws when n
// is even); NaN for empty x or any NaN draw.
func Median(x []float64) float64 {
	s := slices.Clone(x)
	for _, v := range s {
		if math.IsNaN(v) {
			return math.NaN()
		}
	}
	slices.Sort(s)
	return medianSorted(s)
}

// medianSorted is Median on ascending, NaN-free draws.
func medianSorted(s []float64) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return Mean(s[n/2-1 : n/2+1])
}

// madConstant makes the MAD consistent for the normal SD, as R's mad.
const madConstant = 1.4826

// MAD returns 1.4826 · median(|x − median(x)|), R's mad(x).
func MAD(x []float64) float64 {
	med := Median(x)
	d := make([]float64, len(x))
	for i, v := range x {
		d[i] = math.Abs(v - med)
	}
	return madConstant * Median(d)
}

package plots

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// SilvermanBandwidth returns Silverman's rule-of-thumb bandwidth for a
// Gaussian kernel, as R's bw.nrd0: h = 0.9 · min(sd, IQR/1.34) · n^(−1/5),
// where sd is the sample standard deviation (n − 1 denominator) and IQR
// the interquartile range by R's default (type 7) quantiles. When that
// minimum is 0 it falls back, as R does, to sd, then |x₁|, then 1. It
// returns NaN for fewer than two values or a non-finite value.
func SilvermanBandwidth(x []float64) float64 {
	n := len(x)
	if n < 2 {
		return math.NaN()
	}
	var mean float64
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.NaN()
		}
		mean += v
	}
	mean /= float64(n)
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(n-1))
	s := slices.Clone(x)
	slices.Sort(s)
	iqr := quantile7(s, 0.75) - quantile7(s, 0.25)
	lo := math.Min(sd, iqr/1.34)
	if lo <= 0 {
		lo = sd
	}
	if lo <= 0 {
		lo = math.Abs(x[0])
	}
	if lo <= 0 {
		lo = 1
	}
	return 0.9 * lo * math.Pow(float64(n), -0.2)
}

// quantile7 is the type-7 quantile of sorted s.
func quantile7(s []float64, p float64) float64 {
	h := p * float64(len(s)-1)
	i := int(math.Floor(h))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (h-float64(i))*(s[i+1]-s[i])
}

// KDE is a Gaussian kernel density estimate
// f̂(t) = (1/(n h)) Σᵢ φ((t − xᵢ)/h).
type KDE struct {
	x []float64 // sorted
	h float64
}

// NewKDE returns the kernel density estimate of x with bandwidth h; h ≤ 0
// or NaN means SilvermanBandwidth(x). x must hold at least two finite
// values.
func NewKDE(x []float64, h float64) (*KDE, error) {
	if len(x) < 2 {
		return nil, fmt.Errorf("kde: %d values, need at least 2", len(x))
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("kde: value %d is %v", i+1, v)
		}
	}
	if !(h > 0) {
		h = SilvermanBandwidth(x)
	}
	if !(h > 0) || math.IsInf(h, 0) {
		return nil, errors.New("kde: no usable bandwidth")
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return &KDE{x: s, h: h}, nil
}

// Bandwidth returns h.
func (k *KDE) Bandwidth() float64 { return k.h }

// kdeCut is how many bandwidths from t a point still counts: φ(8) ≈ 5e-15.
const kdeCut = 8

// At returns f̂(t). Points farther than 8h from t are skipped (their
// kernel is below 5·10⁻¹⁵ of its peak).
func (k *KDE) At(t float64) float64 {
	lo, _ := slices.BinarySearch(k.x, t-kdeCut*k.h)
	hi, _ := slices.BinarySearch(k.x, t+kdeCut*k.h)
	var s float64
	for _, v := range k.x[lo:hi] {
		z := (t - v) / k.h
		s += math.Exp(-0.5 * z * z)
	}
	return s / (float64(len(k.x)) * k.h * math.Sqrt(2*math.Pi))
}

// Range returns the interval the curve is drawn on: the data range
// widened by 3h on each side, as R's density() does (cut = 3).
func (k *KDE) Range() (lo, hi float64) {
	return k.x[0] - 3*k.h, k.x[len(k.x)-1] + 3*k.h
}

// Curve returns f̂ at m ≥ 2 evenly spaced points of [lo, hi].
func (k *KDE) Curve(lo, hi float64, m int) (xs, ys []float64) {
	m = max(m, 2)
	xs = make([]float64, m)
	ys = make([]float64, m)
	for i := range m {
		t := lo + (hi-lo)*float64(i)/float64(m-1)
		xs[i], ys[i] = t, k.At(t)
	}
	return xs, ys
}

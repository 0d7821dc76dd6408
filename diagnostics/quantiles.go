package diagnostics

import (
	"math"
	"slices"
)

// Quantiles returns the type-7 quantiles of x at the probabilities ps, the
// same values as Quantile gives one at a time, in O(n) time per quantile
// by selection instead of sorting. ps must be ascending; NaN for empty x,
// any NaN draw, or a p outside [0, 1]. x is not modified.
func Quantiles(x []float64, ps []float64) []float64 {
	out := make([]float64, len(ps))
	s := slices.Clone(x)
	n := len(s)
	bad := n == 0 || slices.ContainsFunc(s, math.IsNaN)
	from := 0 // s[:from] holds the from smallest values, in place
	for i, p := range ps {
		if bad || !(p >= 0 && p <= 1) || (i > 0 && p < ps[i-1]) {
			out[i] = math.NaN()
			continue
		}
		index := 1 + float64(n-1)*p
		lo, hi := int(math.Floor(index))-1, int(math.Ceil(index))-1
		if lo >= from {
			selectKth(s[from:], lo-from)
		}
		q := s[lo]
		if hi > lo {
			xh := slices.Min(s[hi:])
			if xh != q {
				h := index - math.Floor(index)
				q = (1-h)*q + h*xh
			}
		}
		out[i] = q
		from = lo
	}
	return out
}

// selectKth reorders s so that s[k] is the value a sort would put there,
// with smaller-or-equal values before it and greater-or-equal after it
// (Hoare's quickselect with a median-of-three pivot; falls back to sorting
// after too many unbalanced rounds).
func selectKth(s []float64, k int) {
	lo, hi := 0, len(s)-1
	for rounds := 0; hi > lo; rounds++ {
		if rounds > 64 {
			slices.Sort(s[lo : hi+1])
			return
		}
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		pivot := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < pivot {
				i++
			}
			for s[j] > pivot {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

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
	return QuantilesInPlace(slices.Clone(x), ps)
}

// QuantilesInPlace is Quantiles reordering x instead of a copy of it (x
// then holds the same values in another order): for callers that
// summarise many long rows and no longer need their order.
func QuantilesInPlace(s []float64, ps []float64) []float64 {
	out := make([]float64, len(ps))
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
		// ps ascend, so lo ≥ from.
		var xh float64
		if hi > lo && hi-from < n-hi {
			// A lower quantile: select the hi-th value; the lo-th is the
			// largest before it, moved to lo (a short scan, where the
			// smallest after the lo-th would scan nearly all of s).
			selectKth(s[from:], hi-from)
			m := from
			for j := from + 1; j < hi; j++ {
				if s[j] > s[m] {
					m = j
				}
			}
			s[m], s[lo] = s[lo], s[m]
			xh = s[hi]
		} else {
			selectKth(s[from:], lo-from)
			if hi > lo {
				xh = slices.Min(s[hi:])
			}
		}
		q := s[lo]
		if hi > lo {
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
// with smaller-or-equal values before it and greater-or-equal after it.
// It is Floyd and Rivest's SELECT: on long slices a pivot range is first
// narrowed on a sample of about n^(2/3) values, so that one partition
// of the whole slice usually suffices (about n + min(k, n − k)
// comparisons, against 2n–3n for quickselect); it falls back to sorting
// after too many unbalanced rounds.
func selectKth(s []float64, k int) {
	floydRivest(s, 0, len(s)-1, k, 0)
}

func floydRivest(a []float64, left, right, k, depth int) {
	for rounds := 0; right > left; rounds++ {
		if rounds > 64 || depth > 32 {
			slices.Sort(a[left : right+1])
			return
		}
		if right-left > 600 {
			// Select within a sample range likely to hold the k-th value.
			n := float64(right - left + 1)
			i := float64(k - left + 1)
			z := math.Log(n)
			sm := 0.5 * math.Exp(2*z/3)
			sd := 0.5 * math.Sqrt(z*sm*(n-sm)/n)
			if i < n/2 {
				sd = -sd
			}
			newLeft := max(left, int(float64(k)-i*sm/n+sd))
			newRight := min(right, int(float64(k)+(n-i)*sm/n+sd))
			floydRivest(a, newLeft, newRight, k, depth+1)
		}
		// Partition a[left..right] around t = a[k].
		t := a[k]
		i, j := left, right
		a[left], a[k] = a[k], a[left]
		if a[right] > t {
			a[right], a[left] = a[left], a[right]
		}
		for i < j {
			a[i], a[j] = a[j], a[i]
			i++
			j--
			for a[i] < t {
				i++
			}
			for a[j] > t {
				j--
			}
		}
		if a[left] == t {
			a[left], a[j] = a[j], a[left]
		} else {
			j++
			a[j], a[right] = a[right], a[j]
		}
		if j <= k {
			left = j + 1
		}
		if k <= j {
			right = j - 1
		}
	}
}

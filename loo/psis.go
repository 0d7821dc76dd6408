package loo

import (
	"math"
	"slices"
)

// TailLength returns the number of largest importance ratios that PSIS fits
// a generalized Pareto distribution to, for S draws of relative efficiency
// rEff: ⌈min(0.2·S, 3·√(S/rEff))⌉ (loo's n_pareto).
func TailLength(S int, rEff float64) int {
	s := float64(S)
	return int(math.Ceil(math.Min(0.2*s, 3*math.Sqrt(s/rEff))))
}

// minTail is the smallest tail PSIS smooths (loo's enough_tail_samples).
const minTail = 5

// GPDFit estimates the shape k and scale σ of a generalized Pareto
// distribution from the sorted (ascending) exceedances x by the empirical
// Bayes method of Zhang & Stephens (2009), with loo's grid (30 + ⌊√N⌋ points,
// prior 3) and its weakly informative adjustment of k towards 0.5
// (k·N/(N+10) + 5/(N+10), loo's adjust_k_wip). A NaN k is returned as +Inf,
// as loo's gpdfit does.
func GPDFit(x []float64) (k, sigma float64) {
	n := len(x)
	nf := float64(n)
	const prior = 3.0
	m := 30 + int(math.Floor(math.Sqrt(nf)))
	xstar := x[int(math.Floor(nf/4+0.5))-1]
	theta := make([]float64, m)
	ltheta := make([]float64, m)
	for j := range theta {
		theta[j] = 1/x[n-1] + (1-math.Sqrt(float64(m)/(float64(j+1)-0.5)))/prior/xstar
		// loo's lx(a, x) with a = −θ: log(a/k) − k − 1, k = mean(log1p(a·x)).
		a := -theta[j]
		var s float64
		for _, v := range x {
			s += math.Log1p(a * v)
		}
		kk := s / nf
		ltheta[j] = nf * (math.Log(a/kk) - kk - 1)
	}
	lse := logSumExp(ltheta)
	var thetaHat float64
	for j := range theta {
		thetaHat += theta[j] * math.Exp(ltheta[j]-lse)
	}
	var s float64
	for _, v := range x {
		s += math.Log1p(-thetaHat * v)
	}
	k = s / nf
	sigma = -k / thetaHat
	const a = 10.0
	k = k*nf/(nf+a) + a*0.5/(nf+a)
	if math.IsNaN(k) {
		k = math.Inf(1)
	}
	return k, sigma
}

// qgpd is the generalized Pareto quantile function (loo's qgpd).
func qgpd(p, k, sigma float64) float64 {
	if math.IsNaN(sigma) || sigma <= 0 {
		return math.NaN()
	}
	return sigma * math.Expm1(-k*math.Log1p(-p)) / k
}

// PSIS smooths the log importance ratios lr of one observation (S draws) in
// place into log weights, as loo's do_psis_i: the TailLength(S, rEff) largest
// ratios are replaced by the expected order statistics of a generalized
// Pareto distribution fitted to them (GPDFit), and every weight is truncated
// at the largest raw ratio. It returns the Pareto shape estimate k̂ (+Inf
// when the tail is shorter than 5 draws or constant, in which case the ratios
// are only truncated). The weights are not normalised.
func PSIS(lr []float64, rEff float64) (k float64) {
	var w psisWork
	return w.psis(lr, rEff)
}

// psisWork holds PSIS's scratch buffers for reuse across observations.
type psisWork struct {
	idx  []int
	sel  []float64
	tail []float64
}

func (w *psisWork) psis(lr []float64, rEff float64) float64 {
	S := len(lr)
	maxLR := math.Inf(-1)
	for _, v := range lr {
		if v > maxLR {
			maxLR = v
		}
	}
	for i := range lr {
		lr[i] -= maxLR
	}
	k := math.Inf(1)
	tailLen := TailLength(S, rEff)
	if tailLen >= minTail && tailLen < S {
		// The tailLen+1 largest values (the tail and the cutoff below it) in
		// the order of R's stable sort.int: ascending value, ties by index.
		idx := w.topIndices(lr, tailLen+1)
		cutoff := lr[idx[0]]
		tidx := idx[1:]
		tail := w.tail[:0]
		for _, i := range tidx {
			tail = append(tail, lr[i])
		}
		w.tail = tail
		if math.Abs(tail[len(tail)-1]-tail[0]) >= 2.220446049250313e-16/100 {
			expCut := math.Exp(cutoff)
			for j := range tail {
				tail[j] = math.Exp(tail[j]) - expCut
			}
			kk, sigma := GPDFit(tail)
			k = kk
			if !math.IsInf(kk, 0) && !math.IsNaN(kk) {
				L := float64(len(tail))
				for j, i := range tidx {
					p := (float64(j+1) - 0.5) / L
					lr[i] = math.Log(qgpd(p, kk, sigma) + expCut)
				}
			}
		}
	}
	for i, v := range lr {
		if v > 0 {
			lr[i] = 0
		}
		lr[i] += maxLR
	}
	return k
}

// topIndices returns the indices of the m largest values of x in ascending
// order of (value, index), the order a stable ascending sort gives (ties
// broken by position, so that among equal values the later ones rank
// higher).
func (w *psisWork) topIndices(x []float64, m int) []int {
	n := len(x)
	// The m-th largest value, by quickselect on a copy.
	if cap(w.sel) < n {
		w.sel = make([]float64, n)
	}
	sel := w.sel[:n]
	copy(sel, x)
	thr := quickselect(sel, n-m)
	// Every value above it, and of the values equal to it the last ones.
	above := 0
	for _, v := range x {
		if v > thr {
			above++
		}
	}
	eq := m - above
	idx := w.idx[:0]
	for i := n - 1; i >= 0; i-- {
		v := x[i]
		if v > thr || v == thr && eq > 0 {
			if v == thr {
				eq--
			}
			idx = append(idx, i)
		}
	}
	w.idx = idx
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case x[a] < x[b]:
			return -1
		case x[a] > x[b]:
			return 1
		}
		return a - b
	})
	return idx
}

// quickselect rearranges a so that a[k] is the value a sorted copy would
// have there, and returns it.
func quickselect(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for p < a[j] {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
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
			return a[k]
		}
	}
	return a[k]
}

// logSumExp returns log Σ exp(x) as matrixStats::logSumExp computes it:
// the maximum plus log1p of the sum of the other terms' exp(x − max).
func logSumExp(x []float64) float64 {
	if len(x) == 0 {
		return math.Inf(-1)
	}
	im := 0
	for i, v := range x {
		if v > x[im] {
			im = i
		}
	}
	m := x[im]
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for i, v := range x {
		if i != im {
			s += math.Exp(v - m)
		}
	}
	return m + math.Log1p(s)
}

package model

import (
	"math"
	"slices"
)

// This file holds ns() and bs() of R's splines package: the B-spline
// basis (splineDesign), the knots at quantiles of x, the natural-spline
// constraints removed with LINPACK's Householder QR as R's qr() computes
// it, and the extrapolation outside the boundary knots, so that the
// columns are R's to rounding.

// bsplineBasis returns the values at x of the deriv-th derivative of the
// len(t)-k B-splines of order k on knots t, as R's splineDesign does: x
// must lie in [t[k-1], t[len(t)-k]]; at the right end the last interval
// is closed.
func bsplineBasis(t []float64, x float64, k, deriv int) []float64 {
	nb := len(t) - k
	out := make([]float64, nb)
	if deriv >= k {
		return out
	}
	// The interval [t[i], t[i+1]) holding x (order-1 B-spline i is 1).
	i := -1
	for j := k - 1; j < len(t)-k; j++ {
		if t[j] <= x && x < t[j+1] {
			i = j
		}
	}
	if i < 0 && x == t[len(t)-k] {
		for j := len(t) - k - 1; j >= k-1; j-- {
			if t[j] < t[j+1] {
				i = j
				break
			}
		}
	}
	if i < 0 {
		return out
	}
	// b[j] holds B_{j,m} for the current order m, over all j.
	b := make([]float64, len(t)-1)
	b[i] = 1
	for m := 2; m <= k-deriv; m++ {
		nb := make([]float64, len(t)-m)
		for j := range nb {
			var v float64
			if d := t[j+m-1] - t[j]; d > 0 {
				v += (x - t[j]) / d * b[j]
			}
			if d := t[j+m] - t[j+1]; d > 0 {
				v += (t[j+m] - x) / d * b[j+1]
			}
			nb[j] = v
		}
		b = nb
	}
	// Derivatives: D B_{j,m} = (m−1) (B_{j,m−1}/(t[j+m−1]−t[j]) − B_{j+1,m−1}/(t[j+m]−t[j+1])).
	for m := k - deriv + 1; m <= k; m++ {
		nb := make([]float64, len(t)-m)
		for j := range nb {
			var v float64
			if d := t[j+m-1] - t[j]; d > 0 {
				v += b[j] / d
			}
			if d := t[j+m] - t[j+1]; d > 0 {
				v -= b[j+1] / d
			}
			nb[j] = float64(m-1) * v
		}
		b = nb
	}
	copy(out, b)
	return out
}

// quantile7 is R's quantile(x, p, type = 7) of sorted values xs.
func quantile7(xs []float64, p float64) float64 {
	n := len(xs)
	index := 1 + float64(max(n-1, 0))*p
	lo := int(math.Floor(index))
	hi := int(math.Ceil(index))
	q := xs[lo-1]
	if index > float64(lo) && xs[hi-1] != q {
		h := index - float64(lo)
		q = (1-h)*q + h*xs[hi-1]
	}
	return q
}

// splineKnots returns the n interior knots at the quantiles
// seq(0, 1, length.out = n + 2)[-c(1, n + 2)] of x, as ns() and bs() place
// them.
func splineKnots(x []float64, n int) []float64 {
	if n <= 0 {
		return nil
	}
	xs := slices.Clone(x)
	slices.Sort(xs)
	by := 1 / float64(n+1)
	out := make([]float64, n)
	for i := range out {
		out[i] = quantile7(xs, float64(i+1)*by)
	}
	return out
}

// splineSpec is what an ns() or bs() call learned: its knots and how to
// build the basis.
type splineSpec struct {
	natural   bool
	degree    int // bs() only; ns() is cubic
	intercept bool
	knots     []float64
	boundary  [2]float64
}

// aknots returns the full knot sequence: the boundary knots ord times
// each, and the interior knots.
func (s *splineSpec) aknots() []float64 {
	ord := s.degree + 1
	a := make([]float64, 0, 2*ord+len(s.knots))
	for range ord {
		a = append(a, s.boundary[0])
	}
	a = append(a, s.knots...)
	for range ord {
		a = append(a, s.boundary[1])
	}
	slices.Sort(a)
	return a
}

// basis returns the row of the spline basis at x (before ns()'s
// constraints and the intercept column are removed), extrapolating
// outside the boundary knots as R does: bs() by the Taylor polynomial of
// degree `degree` at a point a quarter of the way to the nearest interior
// knot, ns() linearly from the boundary knot.
func (s *splineSpec) basis(a []float64, x float64) []float64 {
	ord := s.degree + 1
	lo, hi := s.boundary[0], s.boundary[1]
	if x >= lo && x <= hi {
		return bsplineBasis(a, x, ord, 0)
	}
	if s.natural {
		piv := lo
		if x > hi {
			piv = hi
		}
		v := bsplineBasis(a, piv, ord, 0)
		d := bsplineBasis(a, piv, ord, 1)
		for j := range v {
			v[j] += (x - piv) * d[j]
		}
		return v
	}
	const e = 0.25
	piv := (1-e)*lo + e*a[ord]
	if x > hi {
		piv = (1-e)*hi + e*a[len(a)-ord-1]
	}
	out := bsplineBasis(a, piv, ord, 0)
	fact := 1.0
	pow := 1.0
	for dv := 1; dv <= s.degree; dv++ {
		fact *= float64(dv)
		pow *= x - piv
		d := bsplineBasis(a, piv, ord, dv)
		for j := range out {
			out[j] += pow / fact * d[j]
		}
	}
	return out
}

// householder is a QR factorisation as LINPACK's dqrdc2 (R's qr() with
// LAPACK = FALSE) leaves it: column l's Householder vector is
// (qraux[l], x[l+1:, l]).
type householder struct {
	n     int
	x     [][]float64 // columns
	qraux []float64
}

// newHouseholder factors the n × len(cols) matrix with columns cols (no
// pivoting: the columns must be of full rank).
func newHouseholder(cols [][]float64) *householder {
	n := len(cols[0])
	h := &householder{n: n, qraux: make([]float64, len(cols))}
	for _, c := range cols {
		h.x = append(h.x, slices.Clone(c))
	}
	for l := range min(n-1, len(cols)) {
		xl := h.x[l]
		var nrm float64
		for i := l; i < n; i++ {
			nrm = math.Hypot(nrm, xl[i])
		}
		if nrm == 0 {
			continue
		}
		if xl[l] != 0 {
			nrm = math.Copysign(nrm, xl[l])
		}
		for i := l; i < n; i++ {
			xl[i] /= nrm
		}
		xl[l] += 1
		for j := l + 1; j < len(cols); j++ {
			xj := h.x[j]
			var t float64
			for i := l; i < n; i++ {
				t -= xl[i] * xj[i]
			}
			t /= xl[l]
			for i := l; i < n; i++ {
				xj[i] += t * xl[i]
			}
		}
		h.qraux[l] = xl[l]
		xl[l] = -nrm
	}
	return h
}

// qty overwrites y with Qᵀy, as R's qr.qty does.
func (h *householder) qty(y []float64) {
	for j := range min(len(h.x), h.n-1) {
		if h.qraux[j] == 0 {
			continue
		}
		xj := h.x[j]
		t := -h.qraux[j] * y[j]
		for i := j + 1; i < h.n; i++ {
			t -= xj[i] * y[i]
		}
		t /= h.qraux[j]
		y[j] += t * h.qraux[j]
		for i := j + 1; i < h.n; i++ {
			y[i] += t * xj[i]
		}
	}
}

// rows evaluates the spline's columns at every x (NaN rows stay NaN):
// out[c][i] is column c at row i.
func (s *splineSpec) rows(x []float64, na []bool, ncol int) [][]float64 {
	a := s.aknots()
	out := make([][]float64, ncol)
	for c := range out {
		out[c] = make([]float64, len(x))
	}
	var h *householder
	if s.natural {
		// The second derivatives at the boundary knots, to be zero.
		c0 := bsplineBasis(a, s.boundary[0], 4, 2)
		c1 := bsplineBasis(a, s.boundary[1], 4, 2)
		if !s.intercept {
			c0, c1 = c0[1:], c1[1:]
		}
		h = newHouseholder([][]float64{c0, c1})
	}
	for i, xi := range x {
		if na[i] {
			for c := range out {
				out[c][i] = math.NaN()
			}
			continue
		}
		v := s.basis(a, xi)
		if !s.intercept {
			v = v[1:]
		}
		if h != nil {
			h.qty(v)
			v = v[2:]
		}
		for c := range out {
			out[c][i] = v[c]
		}
	}
	return out
}

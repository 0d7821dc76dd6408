package model

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// selInvWork is the scratch of InvDiagSums, allocated on first use.
type selInvWork struct {
	mr   int       // rows of the trailing part: Σ_{t≥1} q_t + p
	q0   int       // columns of the first term
	lrr  []float64 // mr × mr: the trailing part of L (terms ≥ 1 and X), then its inverse
	r    []float64 // mr × q0: L_r0 L₀₀⁻¹, then L_rr⁻¹ L_r0 L₀₀⁻¹
	off  []int     // offset of each kernel term ≥ 1 (index t) in the trailing part
	tinv []float64 // k × k scratch
	u    []float64 // len q: the modes of ModeSums
}

// InvDiagSums computes the diagonal blocks of M⁻¹, where M = LLᵀ is the
// coefficient matrix of the mixed-model equations in (u, β) at the
// current θ (the y row and column left out): for each random-effect term
// it writes into sums[t] (t in Design.Terms order, k × k row-major) the
// sum over the term's levels j of the k × k blocks (M⁻¹)_jj, and into
// betaDiag (len P()) the diagonal of the β block of M⁻¹. Given θ and σ,
// (u, β) | y ~ N((ũ, β̂), σ²M⁻¹), so these are the posterior variances
// the gradient of the marginal likelihood needs (Fisher's identity).
//
// It is a selected inversion (after Takahashi, Fagan & Chin 1973) on the
// blocked factor: with L = [L₀₀ 0; L_r0 L_rr] (the first term against the
// rest), (M⁻¹)₀₀ = L₀₀⁻ᵀL₀₀⁻¹ + WᵀW with W = L_rr⁻¹L_r0L₀₀⁻¹, of which only
// the diagonal k × k blocks are formed, and (M⁻¹)_rr = L_rr⁻ᵀL_rr⁻¹. The
// trailing part (the terms after the first, and X) is handled densely,
// so the cost is O(m²(q₀ + m)) for m = Σ_{t≥1} q_t + p: cheap when the
// terms after the first have few levels. The last SetTheta must have
// succeeded.
func (m *MixedModel) InvDiagSums(sums [][]float64, betaDiag []float64) {
	w := m.selInv()
	nt := len(m.terms)
	mr, q0 := w.mr, w.q0
	p := m.p
	// Assemble L_rr (lower) and R = L_r0.
	clear(w.lrr)
	clear(w.r)
	for i := 1; i <= nt; i++ {
		ri, rlim := m.restOff(w, i)
		for j := 1; j <= i; j++ {
			cj, clim := m.restOff(w, j)
			scatter(w.lrr, mr, m.l[i][j], ri, cj, rlim, clim)
		}
		scatter(w.r, q0, m.l[i][0], ri, 0, rlim, q0)
	}
	// R ← R L₀₀⁻¹ (per level: x L_jj = row, i.e. L_jjᵀ xᵀ = rowᵀ).
	t0 := m.terms[0]
	k0 := t0.k
	d0 := m.l[0][0]
	for lev := range t0.nl {
		ljj := d0.val[lev*k0*k0 : (lev+1)*k0*k0]
		for r := range mr {
			backDiag(w.r[r*q0+lev*k0:r*q0+(lev+1)*k0], ljj, k0)
		}
	}
	tri := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: mr, Stride: mr, Data: w.lrr}
	if mr > 0 {
		// W = L_rr⁻¹ R.
		blas64.Trsm(blas.Left, blas.NoTrans, 1, tri, blas64.General{Rows: mr, Cols: q0, Stride: q0, Data: w.r})
	}
	// First term: Σ_j (L_jj L_jjᵀ)⁻¹ + W_jᵀW_j.
	s0 := sums[t0.design]
	clear(s0[:k0*k0])
	tinv := w.tinv
	for lev := range t0.nl {
		ljj := d0.val[lev*k0*k0 : (lev+1)*k0*k0]
		lowerInverse(ljj, k0, tinv)
		// (L⁻¹)ᵀL⁻¹: entry (a, b) = Σ_c T[c][a] T[c][b], c ≥ max(a, b).
		for a := range k0 {
			for b := 0; b <= a; b++ {
				var s float64
				for c := a; c < k0; c++ {
					s += tinv[c*k0+a] * tinv[c*k0+b]
				}
				s0[a*k0+b] += s
			}
		}
	}
	for r := range mr {
		row := w.r[r*q0 : (r+1)*q0]
		for lev := range t0.nl {
			wl := row[lev*k0 : (lev+1)*k0]
			for a := range k0 {
				va := wl[a]
				for b := 0; b <= a; b++ {
					s0[a*k0+b] += va * wl[b]
				}
			}
		}
	}
	symmetrize(s0, k0)
	if mr == 0 {
		return
	}
	// Trailing part: T = L_rr⁻¹, (M⁻¹)_rr = TᵀT.
	lapack64.Trtri(tri)
	colSumsBlock := func(c0, k int, out []float64) {
		for a := range k {
			for b := 0; b <= a; b++ {
				var s float64
				ca, cb := c0+a, c0+b
				for r := ca; r < mr; r++ {
					row := w.lrr[r*mr:]
					s += row[ca] * row[cb]
				}
				out[a*k+b] += s
			}
		}
	}
	for i := 1; i < nt; i++ {
		t := m.terms[i]
		st := sums[t.design]
		clear(st[:t.k*t.k])
		for lev := range t.nl {
			colSumsBlock(w.off[i]+lev*t.k, t.k, st)
		}
		symmetrize(st, t.k)
	}
	xoff := mr - p
	for c := range p {
		var s float64
		for r := xoff + c; r < mr; r++ {
			v := w.lrr[r*mr+xoff+c]
			s += v * v
		}
		betaDiag[c] = s
	}
}

// restOff returns the offset of block row i (≥ 1) in the trailing part
// and the number of its rows that belong there (the [X y] block loses y).
func (m *MixedModel) restOff(w *selInvWork, i int) (int, int) {
	if i == len(m.terms) {
		return w.mr - m.p, m.p
	}
	return w.off[i], m.terms[i].q
}

// selInv returns the scratch of InvDiagSums.
func (m *MixedModel) selInv() *selInvWork {
	if m.sel != nil {
		return m.sel
	}
	w := &selInvWork{q0: m.terms[0].q}
	w.off = make([]int, len(m.terms))
	kmax := 1
	for i, t := range m.terms {
		kmax = max(kmax, t.k)
		if i == 0 {
			continue
		}
		w.off[i] = w.mr
		w.mr += t.q
	}
	w.mr += m.p
	w.lrr = make([]float64, w.mr*w.mr)
	w.r = make([]float64, w.mr*w.q0)
	w.tinv = make([]float64, kmax*kmax)
	w.u = make([]float64, m.q)
	m.sel = w
	return w
}

// ModeSums writes, for each random-effect term (Design.Terms order), the
// sum over its levels j of ũ_j ũ_jᵀ (k × k row-major) into sums[t], and
// the conditional modes β̂ into beta, at the current θ.
func (m *MixedModel) ModeSums(sums [][]float64, beta []float64) {
	m.solve(nil, 0, m.selInv().u, beta)
	x := m.x
	for _, t := range m.terms {
		k := t.k
		st := sums[t.design]
		clear(st[:k*k])
		for lev := range t.nl {
			ul := x[t.uoff+lev*k : t.uoff+(lev+1)*k]
			for a := range k {
				for b := 0; b <= a; b++ {
					st[a*k+b] += ul[a] * ul[b]
				}
			}
		}
		symmetrize(st, k)
	}
}

// scatter adds the block b of L into the dense row-major matrix dst
// (leading dimension ld) at (r0, c0), keeping only its first rlim rows
// and clim columns.
func scatter(dst []float64, ld int, b *blk, r0, c0, rlim, clim int) {
	switch b.kind {
	case kindDense:
		for r := range min(b.rows, rlim) {
			src := b.val[r*b.cols : r*b.cols+min(b.cols, clim)]
			copy(dst[(r0+r)*ld+c0:], src)
		}
	case kindDiag:
		k := b.rk
		for lev := 0; lev*k < b.rows; lev++ {
			blk := b.val[lev*k*k : (lev+1)*k*k]
			for r := range k {
				for c := range k {
					dst[(r0+lev*k+r)*ld+c0+lev*k+c] = blk[r*k+c]
				}
			}
		}
	case kindSparse:
		rk, ck := b.rk, b.ck
		sz := rk * ck
		for col := 0; col+1 < len(b.colptr); col++ {
			for e := b.colptr[col]; e < b.colptr[col+1]; e++ {
				rl := int(b.rowlev[e]) * rk
				ev := b.val[int(e)*sz : int(e+1)*sz]
				for r := range rk {
					if rl+r >= rlim {
						continue
					}
					copy(dst[(r0+rl+r)*ld+c0+col*ck:(r0+rl+r)*ld+c0+col*ck+ck], ev[r*ck:(r+1)*ck])
				}
			}
		}
	}
}

// lowerInverse writes the inverse of the k × k row-major lower
// triangular l into out (lower triangular, zero above the diagonal).
func lowerInverse(l []float64, k int, out []float64) {
	clear(out[:k*k])
	for c := range k {
		out[c*k+c] = 1 / l[c*k+c]
		for r := c + 1; r < k; r++ {
			var s float64
			for j := c; j < r; j++ {
				s += l[r*k+j] * out[j*k+c]
			}
			out[r*k+c] = -s / l[r*k+r]
		}
	}
}

// symmetrize copies the lower triangle of the k × k row-major a to its
// upper triangle.
func symmetrize(a []float64, k int) {
	for r := range k {
		for c := r + 1; c < k; c++ {
			a[r*k+c] = a[c*k+r]
		}
	}
}

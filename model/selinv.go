package model

// selInvWork is the scratch of InvDiagSums, allocated on first use.
type selInvWork struct {
	mr   int       // rows of the trailing part: Σ_{t≥1} q_t + p
	q0   int       // columns of the first term
	lrr  []float64 // mr × mr: the trailing part of L (terms ≥ 1 and X)
	vrr  []float64 // mr × mr: L_rr⁻ᵀ (row c is column c of L_rr⁻¹)
	dinv []float64 // mr: reciprocals of L_rr's diagonal
	r    []float64 // q0 × mr: (L_r0 L₀₀⁻¹)ᵀ, then Wᵀ = (L_rr⁻¹ L_r0 L₀₀⁻¹)ᵀ
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
	// Assemble L_rr (lower) and Rᵀ = L_r0ᵀ (q₀ × m, row-major: each row a
	// column of L_r0, so that the solves below run along rows).
	clear(w.lrr)
	clear(w.r)
	for i := 1; i <= nt; i++ {
		ri, rlim := m.restOff(w, i)
		for j := 1; j <= i; j++ {
			cj, clim := m.restOff(w, j)
			scatter(w.lrr, mr, m.l[i][j], ri, cj, rlim, clim)
		}
		scatterT(w.r, mr, m.l[i][0], ri, rlim)
	}
	t0 := m.terms[0]
	k0 := t0.k
	d0 := m.l[0][0]
	s0 := sums[t0.design]
	clear(s0[:k0*k0])
	tinv := w.tinv
	rt := w.r
	for lev := range t0.nl {
		ljj := d0.val[lev*k0*k0 : (lev+1)*k0*k0]
		lowerInverse(ljj, k0, tinv)
		// (L_jj L_jjᵀ)⁻¹ = L_jj⁻ᵀL_jj⁻¹: entry (a, b) = Σ_c T[c][a] T[c][b], c ≥ max(a, b).
		for a := range k0 {
			for b := 0; b <= a; b++ {
				var s float64
				for c := a; c < k0; c++ {
					s += tinv[c*k0+a] * tinv[c*k0+b]
				}
				s0[a*k0+b] += s
			}
		}
		// Rᵀ_j ← L_jj⁻ᵀ Rᵀ_j (row a of the result is Σ_{b≥a} T[b][a] row b),
		// in place from the first row down.
		if mr == 0 {
			continue
		}
		base := lev * k0
		if k0 == 4 {
			lowerTApply4(rt[base*mr:(base+4)*mr], mr, tinv)
			continue
		}
		for a := range k0 {
			ra := rt[(base+a)*mr : (base+a+1)*mr]
			ta := tinv[a*k0+a]
			for c := range ra {
				ra[c] *= ta
			}
			for b := a + 1; b < k0; b++ {
				if tb := tinv[b*k0+a]; tb != 0 {
					rb := rt[(base+b)*mr : (base+b+1)*mr]
					for c, v := range rb {
						ra[c] += tb * v
					}
				}
			}
		}
	}
	// Wᵀ = Rᵀ L_rr⁻ᵀ: each row x solves L_rr xᵀ = rᵀ by forward
	// substitution, three rows at a time so that each row of L_rr is
	// loaded once per three.
	lowerDiagInv(w.lrr, mr, w.dinv)
	forwardRowsLower(rt, q0, mr, w.lrr, w.dinv)
	// Σ_j W_jᵀW_j.
	for lev := range t0.nl {
		gramAddLower(s0, k0, rt, mr, lev*k0, 0)
	}
	symmetrize(s0, k0)
	if mr == 0 {
		return
	}
	// Trailing part: T = L_rr⁻¹, (M⁻¹)_rr = TᵀT, whose entry (a, b) is
	// the dot product of columns a and b of T: rows a and b of V = Tᵀ,
	// both zero before min(a, b).
	lowerInvT(w.lrr, mr, w.vrr, w.dinv)
	v := w.vrr
	for i := 1; i < nt; i++ {
		t := m.terms[i]
		st := sums[t.design]
		clear(st[:t.k*t.k])
		for lev := range t.nl {
			// Rows c0 .. c0+k−1 of V are zero before their own index,
			// so the sums can all start at c0.
			c0 := w.off[i] + lev*t.k
			gramAddLower(st, t.k, v, mr, c0, c0)
		}
		symmetrize(st, t.k)
	}
	xoff := mr - p
	for c := range p {
		vc := v[(xoff+c)*mr+xoff+c : (xoff+c+1)*mr]
		betaDiag[c] = dotAcc(vc, vc)
	}
}

// lowerTApply4 replaces the 4 rows of x (length m each, row-major) by
// Tᵀx for the 4 × 4 row-major lower t, in one pass over the columns (the
// general loop of InvDiagSums makes ten): row a of the result is
// Σ_{b ≥ a} t[b][a] x_b, summed in increasing b.
func lowerTApply4(x []float64, m int, t []float64) {
	T := (*[16]float64)(t)
	x0, x1, x2, x3 := x[:m], x[m:2*m], x[2*m:3*m], x[3*m:4*m]
	for c := range x0 {
		v0, v1, v2, v3 := x0[c], x1[c], x2[c], x3[c]
		x0[c] = v0*T[0] + T[4]*v1 + T[8]*v2 + T[12]*v3
		x1[c] = v1*T[5] + T[9]*v2 + T[13]*v3
		x2[c] = v2*T[10] + T[14]*v3
		x3[c] = v3 * T[15]
	}
}

// gramAddLower adds to the lower triangle of the k × k row-major out the
// dot products of the rows r0 .. r0+k−1 of x (stride ld) over the columns
// [c0, ld): out[a][b] += x_{r0+a} · x_{r0+b}, b ≤ a. Each sum is
// accumulated as dotAcc does (so the result is the same as k(k+1)/2
// dotAcc calls), but three rows against two at a time (kern3x2, then
// kern3x1 at the edges): independent sums in flight instead of one
// dependent chain, and each row loaded once per tile.
func gramAddLower(out []float64, k int, x []float64, ld, r0, c0 int) {
	row := func(i int) []float64 { return x[(r0+i)*ld+c0 : (r0+i+1)*ld] }
	add := func(i, j int, v float64) {
		if j <= i {
			out[i*k+j] += v
		}
	}
	a := 0
	for ; a+3 <= k; a += 3 {
		x0, x1, x2 := row(a), row(a+1), row(a+2)
		b := 0
		for ; b+2 <= a+3; b += 2 {
			s00, s01, s10, s11, s20, s21 := kern3x2(x0, x1, x2, row(b), row(b+1))
			add(a, b, s00)
			add(a, b+1, s01)
			add(a+1, b, s10)
			add(a+1, b+1, s11)
			add(a+2, b, s20)
			add(a+2, b+1, s21)
		}
		if b <= a+2 {
			s0, s1, s2 := kern3x1(x0, x1, x2, row(b))
			add(a, b, s0)
			add(a+1, b, s1)
			add(a+2, b, s2)
		}
	}
	for ; a < k; a++ {
		xa := row(a)
		b := 0
		for ; b+3 <= a+1; b += 3 {
			s0, s1, s2 := kern3x1(row(b), row(b+1), row(b+2), xa)
			out[a*k+b] += s0
			out[a*k+b+1] += s1
			out[a*k+b+2] += s2
		}
		for ; b <= a; b++ {
			out[a*k+b] += dotAcc(xa, row(b))
		}
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
	w.vrr = make([]float64, w.mr*w.mr)
	w.dinv = make([]float64, w.mr)
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
		sparseRows(b, rlim, func(row, col int, v []float64) {
			copy(dst[(r0+row)*ld+c0+col:], v)
		})
	}
}

// sparseRows calls f for each scalar row (below rlim) of each entry of
// the sparse block b, with the row's index, its first column's index and
// its values.
func sparseRows(b *blk, rlim int, f func(row, col int, v []float64)) {
	rk, ck := b.rk, b.ck
	sz := rk * ck
	for col := 0; col+1 < len(b.colptr); col++ {
		for e := b.colptr[col]; e < b.colptr[col+1]; e++ {
			rl := int(b.rowlev[e]) * rk
			ev := b.val[int(e)*sz : int(e+1)*sz]
			for r := range min(rk, rlim-rl) {
				f(rl+r, col*ck, ev[r*ck:(r+1)*ck])
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

// scatterT writes the transpose of the block b of L (a block L_i0 below
// the first diagonal block) into the row-major dst with leading dimension
// ld, at column offset c0, keeping only the first rlim rows of b.
func scatterT(dst []float64, ld int, b *blk, c0, rlim int) {
	switch b.kind {
	case kindDense:
		for r := range min(b.rows, rlim) {
			for c, v := range b.val[r*b.cols : (r+1)*b.cols] {
				dst[c*ld+c0+r] = v
			}
		}
	case kindSparse:
		sparseRows(b, rlim, func(row, col int, v []float64) {
			for c, x := range v {
				dst[(col+c)*ld+c0+row] = x
			}
		})
	default:
		panic("model: scatterT: a block below the first is block-diagonal")
	}
}

// forwardRowsLower replaces each of the n rows x (length m, row-major in
// x) by the solution of l zᵀ = xᵀ for the m × m row-major lower l, whose
// diagonal's reciprocals are dinv (lowerDiagInv).
func forwardRowsLower(x []float64, n, m int, l, dinv []float64) {
	dinv = dinv[:m]
	i := 0
	for ; i+3 <= n; i += 3 {
		x0 := x[i*m : (i+1)*m]
		x1 := x[(i+1)*m : (i+2)*m]
		x2 := x[(i+2)*m : (i+3)*m]
		// Two rows of l at a time: the six dot products over [0, j)
		// share their loads (kern3x2), then x[j+1] takes l[j+1][j]x[j].
		j := 0
		for ; j+2 <= m; j += 2 {
			la, lb := l[j*m:j*m+j], l[(j+1)*m:(j+1)*m+j]
			s00, s01, s10, s11, s20, s21 := kern3x2(x0[:j], x1[:j], x2[:j], la, lb)
			d0, c, d1 := dinv[j], l[(j+1)*m+j], dinv[j+1]
			x0[j] = (x0[j] - s00) * d0
			x1[j] = (x1[j] - s10) * d0
			x2[j] = (x2[j] - s20) * d0
			x0[j+1] = (x0[j+1] - s01 - c*x0[j]) * d1
			x1[j+1] = (x1[j+1] - s11 - c*x1[j]) * d1
			x2[j+1] = (x2[j+1] - s21 - c*x2[j]) * d1
		}
		for ; j < m; j++ {
			lj := l[j*m : j*m+j]
			s0, s1, s2 := kern3x1(x0, x1, x2, lj)
			d := dinv[j]
			x0[j] = (x0[j] - s0) * d
			x1[j] = (x1[j] - s1) * d
			x2[j] = (x2[j] - s2) * d
		}
	}
	for ; i < n; i++ {
		xi := x[i*m : (i+1)*m]
		for j := range m {
			xi[j] = (xi[j] - dotAcc(l[j*m:j*m+j], xi[:j])) * dinv[j]
		}
	}
}

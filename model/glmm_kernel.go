package model

import (
	"fmt"
	"slices"
)

// glmWork is what Reweight keeps between calls: for each block A[i][j]
// (i > j) below the diagonal, the entry of each row.
type glmWork struct {
	entry [][][]int32
	row   []float64 // scratch: one row of [X z] and its weighted copy
}

// Reweight recomputes the crossproducts A = [Z X z]ᵀ W [Z X z] of the
// kernel for row weights w (W = diag(w), all w > 0) and the working
// response z in place of y, keeping the block layout (the pattern of
// each block depends only on the levels). It is how the penalised
// iteratively reweighted least squares of a GLMM and the Pólya-Gamma
// sampler re-form the mixed-model equations each iteration; the next
// SetTheta refactors L from the new A. The prior of SetFixedPrecision is
// unaffected. It allocates only on its first call.
func (m *MixedModel) Reweight(w, z []float64) error {
	n := m.n
	if len(w) != n || len(z) != n {
		return fmt.Errorf("model: Reweight: %d weights and %d responses for %d rows", len(w), len(z), n)
	}
	nt := len(m.terms)
	if m.glm == nil {
		m.glm = &glmWork{entry: make([][][]int32, nt)}
		for i := range nt {
			m.glm.entry[i] = make([][]int32, i)
			for j := range i {
				b := m.a[i][j]
				ti, tj := m.terms[i], m.terms[j]
				ent := make([]int32, n)
				for r := range n {
					c := int(tj.refs[r])
					lo, hi := int(b.colptr[c]), int(b.colptr[c+1])
					e, ok := slices.BinarySearch(b.rowlev[lo:hi], ti.refs[r])
					if !ok {
						return fmt.Errorf("model: Reweight: internal error locating Z'Z entry")
					}
					ent[r] = int32(lo + e)
				}
				m.glm.entry[i][j] = ent
			}
		}
	}
	d := m.d
	p := m.p
	for i, t := range m.terms {
		k := t.k
		dg := m.a[i][i]
		clear(dg.val)
		zt := t.t.Z
		if k == 1 {
			for r := range n {
				dg.val[t.refs[r]] += w[r] * zt[r] * zt[r]
			}
		} else {
			for r := range n {
				l := int(t.refs[r])
				b := dg.val[l*k*k : (l+1)*k*k]
				for e := range k {
					ze := w[r] * zt[e*n+r]
					for f := range k {
						b[e*k+f] += ze * zt[f*n+r]
					}
				}
			}
		}
		for j := range i {
			b := m.a[i][j]
			clear(b.val)
			tj := m.terms[j]
			ent := m.glm.entry[i][j]
			if k == 1 && tj.k == 1 {
				zj := tj.t.Z
				for r := range n {
					b.val[ent[r]] += w[r] * zt[r] * zj[r]
				}
				continue
			}
			sz := k * tj.k
			for r := range n {
				v := b.val[int(ent[r])*sz : int(ent[r]+1)*sz]
				for a := range k {
					za := w[r] * zt[a*n+r]
					for f := range tj.k {
						v[a*tj.k+f] += za * tj.t.Z[f*n+r]
					}
				}
			}
		}
	}
	// The [X z] block rows, one pass over the rows: row = (xᵣ, zᵣ),
	// wrow = wᵣ·row.
	xr := d.X.RawMatrix()
	for j := range m.terms {
		clear(m.a[nt][j].val)
	}
	xx := m.a[nt][nt]
	clear(xx.val)
	if len(m.glm.row) < 2*(p+1) {
		m.glm.row = make([]float64, 2*(p+1))
	}
	row, wrow := m.glm.row[:p+1], m.glm.row[p+1:2*(p+1)]
	for r := range n {
		copy(row, xr.Data[r*xr.Stride:r*xr.Stride+p])
		row[p] = z[r]
		wr := w[r]
		for c, v := range row {
			wrow[c] = wr * v
		}
		for c := 0; c <= p; c++ {
			xc := xx.val[c*(p+1) : c*(p+1)+c+1]
			v := wrow[c]
			for c2, rv := range row[:c+1] {
				xc[c2] += v * rv
			}
		}
		for j, t := range m.terms {
			b := m.a[nt][j]
			k := t.k
			l := int(t.refs[r])
			if k == 1 {
				zr := t.t.Z[r]
				for c, v := range wrow {
					b.val[c*t.q+l] += v * zr
				}
				continue
			}
			for c, v := range wrow {
				if v == 0 {
					continue
				}
				bc := b.val[c*t.q+l*k : c*t.q+l*k+k]
				for e := range k {
					bc[e] += v * t.t.Z[e*n+r]
				}
			}
		}
	}
	m.ok = false
	return nil
}

// CopyWeights copies the crossproducts A of src, a kernel of the same
// design (so with the same block layout), into m: after src.Reweight(w,
// z), m.CopyWeights(src) is m.Reweight(w, z) without the pass over the
// data. The next SetTheta refactors L.
func (m *MixedModel) CopyWeights(src *MixedModel) error {
	if src.d != m.d || len(src.a) != len(m.a) {
		return fmt.Errorf("model: CopyWeights: the kernels are of different designs")
	}
	for i := range m.a {
		for j := range m.a[i] {
			if len(m.a[i][j].val) != len(src.a[i][j].val) {
				return fmt.Errorf("model: CopyWeights: block (%d, %d) differs", i, j)
			}
			copy(m.a[i][j].val, src.a[i][j].val)
		}
	}
	m.ok = false
	return nil
}

// ModesU writes into u (kernel order, Design level order within a term,
// as Modes) the conditional modes of u with β held at 0: the solution of
// (ΛᵀZᵀWZΛ + I) u = ΛᵀZᵀW y, y being the response the kernel was built
// or last reweighted with. The fixed effects are left out by putting
// Xβ into the offset of that response.
func (m *MixedModel) ModesU(u []float64) {
	nt := len(m.terms)
	x := m.x
	p := m.p
	for j, t := range m.terms {
		b := m.l[nt][j]
		copy(x[t.uoff:t.uoff+t.q], b.val[p*b.cols:(p+1)*b.cols])
	}
	for j := nt - 1; j >= 0; j-- {
		t := m.terms[j]
		xj := x[t.uoff : t.uoff+t.q]
		for i := nt - 1; i > j; i-- {
			ti := m.terms[i]
			b := m.l[i][j]
			subTransMul(xj, b, x[ti.uoff:ti.uoff+ti.q], b.rows)
		}
		backSolveDiag(xj, m.l[j][j], t.q)
	}
	copy(u, x[:m.q])
	for _, t := range m.terms {
		if t.perm != nil {
			for lev, kl := range t.perm {
				u[t.uoff+lev] = x[t.uoff+int(kl)]
			}
		}
	}
}

// MulLT writes w = Lᵀ v for v = (u, β) (u in kernel order with Design
// level order within a term, as Modes and Draw use), with L the current
// factor of the mixed-model equations restricted to (u, β) (the y row
// left out): for Draw's x = x̂ + σL⁻ᵀz, MulLT(x − x̂) = σz. The result is
// in the kernel's numbering, as Draw's z (it differs from the Design's
// only for a term reordered by minimum degree). It allocates scratch on
// each call.
func (m *MixedModel) MulLT(u, beta, wu, wbeta []float64) {
	nt := len(m.terms)
	p := m.p
	x := make([]float64, m.q) // v_u in the kernel's numbering
	copy(x, u)
	for _, t := range m.terms {
		if t.perm != nil {
			for lev, kl := range t.perm {
				x[t.uoff+int(kl)] = u[t.uoff+lev]
			}
		}
	}
	out := make([]float64, m.q)
	// β block: L_XXᵀ β (upper triangular product of the p × p block).
	xx := m.l[nt][nt]
	ob := make([]float64, p)
	for c := range p {
		var s float64
		for r := c; r < p; r++ {
			s += xx.val[r*(p+1)+c] * beta[r]
		}
		ob[c] = s
	}
	neg := make([]float64, max(p, 1))
	for i := range p {
		neg[i] = -beta[i]
	}
	for j, t := range m.terms {
		oj := out[t.uoff : t.uoff+t.q]
		// Diagonal block: L_jjᵀ x_j.
		d := m.l[j][j]
		xj := x[t.uoff : t.uoff+t.q]
		switch d.kind {
		case kindDiag:
			k := t.k
			for lev := range t.nl {
				l := d.val[lev*k*k : (lev+1)*k*k]
				for c := range k {
					var s float64
					for r := c; r < k; r++ {
						s += l[r*k+c] * xj[lev*k+r]
					}
					oj[lev*k+c] = s
				}
			}
		default:
			n := t.q
			for c := range n {
				var s float64
				for r := c; r < n; r++ {
					s += d.val[r*d.cols+c] * xj[r]
				}
				oj[c] = s
			}
		}
		// Blocks below: + L_ijᵀ x_i (subTransMul subtracts, so pass −x_i).
		for i := j + 1; i < nt; i++ {
			ti := m.terms[i]
			b := m.l[i][j]
			xi := x[ti.uoff : ti.uoff+ti.q]
			nx := make([]float64, len(xi))
			for e, v := range xi {
				nx[e] = -v
			}
			subTransMul(oj, b, nx, b.rows)
		}
		subTransMul(oj, m.l[nt][j], neg, p)
	}
	copy(wu, out)
	copy(wbeta, ob)
}

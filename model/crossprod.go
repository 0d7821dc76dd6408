package model

import (
	"fmt"
	"slices"
)

// buildA computes the packed lower triangle of [Z X y]ᵀ[Z X y] in the
// blocked layout, once per Design: A[i][i] block-diagonal for each
// random-effect term, A[i][j] (i > j) block-sparse by level pairs, and the
// [X y] block row dense.
func (m *MixedModel) buildA() error {
	d := m.d
	nt := len(m.terms)
	n := d.N
	p := m.p
	m.a = make([][]*blk, nt+1)
	for i := range m.a {
		m.a[i] = make([]*blk, i+1)
	}
	for i, t := range m.terms {
		k := t.k
		dg := newDiag(t.nl, k)
		for r := range n {
			l := int(t.refs[r])
			b := dg.val[l*k*k : (l+1)*k*k]
			for e := range k {
				ze := t.t.Z[e*n+r]
				for f := range k {
					b[e*k+f] += ze * t.t.Z[f*n+r]
				}
			}
		}
		m.a[i][i] = dg
		for j := range i {
			sp, err := sparseCross(t, m.terms[j], n)
			if err != nil {
				return err
			}
			m.a[i][j] = sp
		}
	}
	// [X y] rows.
	xr := d.X.RawMatrix()
	xy := func(c, r int) float64 {
		if c == p {
			return d.Y[r]
		}
		return xr.Data[r*xr.Stride+c]
	}
	for j, t := range m.terms {
		b := newDense(p+1, t.q, 1, t.k)
		k := t.k
		for r := range n {
			l := int(t.refs[r])
			for c := 0; c <= p; c++ {
				v := xy(c, r)
				if v == 0 {
					continue
				}
				row := b.val[c*t.q+l*k:]
				for e := range k {
					row[e] += v * t.t.Z[e*n+r]
				}
			}
		}
		m.a[nt][j] = b
	}
	xx := newDense(p+1, p+1, 1, 1)
	row := make([]float64, p+1)
	for r := range n {
		for c := 0; c <= p; c++ {
			row[c] = xy(c, r)
		}
		for c := 0; c <= p; c++ {
			for c2 := 0; c2 <= c; c2++ {
				xx.val[c*(p+1)+c2] += row[c] * row[c2]
			}
		}
	}
	m.a[nt][nt] = xx
	return nil
}

// sparseCross returns Zᵢᵀ Zⱼ as a block-sparse matrix with one entry per
// (row level, column level) pair that occurs in the data.
func sparseCross(ti, tj *kterm, n int) (*blk, error) {
	keys := make([]int64, n)
	nli := int64(ti.nl)
	for r := range n {
		keys[r] = int64(tj.refs[r])*nli + int64(ti.refs[r])
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	b := &blk{kind: kindSparse, rows: ti.q, cols: tj.q, rk: ti.k, ck: tj.k}
	b.colptr = make([]int32, tj.nl+1)
	b.rowlev = make([]int32, len(keys))
	for e, key := range keys {
		c := key / nli
		b.colptr[c+1]++
		b.rowlev[e] = int32(key % nli)
	}
	for c := range tj.nl {
		b.colptr[c+1] += b.colptr[c]
	}
	if int(b.colptr[tj.nl]) != len(keys) {
		return nil, fmt.Errorf("model: internal error building Z'Z for %s × %s", ti.t.Group, tj.t.Group)
	}
	sz := ti.k * tj.k
	b.val = make([]float64, len(keys)*sz)
	for r := range n {
		c := int(tj.refs[r])
		rl := ti.refs[r]
		lo, hi := int(b.colptr[c]), int(b.colptr[c+1])
		e, ok := slices.BinarySearch(b.rowlev[lo:hi], rl)
		if !ok {
			return nil, fmt.Errorf("model: internal error locating Z'Z entry")
		}
		e += lo
		v := b.val[e*sz : (e+1)*sz]
		for a := range ti.k {
			za := ti.t.Z[a*n+r]
			for f := range tj.k {
				v[a*tj.k+f] += za * tj.t.Z[f*n+r]
			}
		}
	}
	return b, nil
}

package model

// scaleInto sets out = λiᵀ e λj for the ri × cj block e (λi ri × ri and
// λj cj × cj lower triangular, row-major; λi nil means the identity).
// tmp needs ri*cj entries.
func scaleInto(out, e, li, lj []float64, ri, cj int, tmp []float64) {
	if ri == 1 && cj == 1 {
		s := e[0] * lj[0]
		if li != nil {
			s *= li[0]
		}
		out[0] = s
		return
	}
	// tmp = e λj
	for r := range ri {
		for c := range cj {
			var s float64
			for k := c; k < cj; k++ {
				s += e[r*cj+k] * lj[k*cj+c]
			}
			tmp[r*cj+c] = s
		}
	}
	if li == nil {
		copy(out, tmp[:ri*cj])
		return
	}
	// out = λiᵀ tmp
	for r := range ri {
		for c := range cj {
			var s float64
			for k := r; k < ri; k++ {
				s += li[k*ri+r] * tmp[k*cj+c]
			}
			out[r*cj+c] = s
		}
	}
}

// updateL copies A into L scaled by Λθ and refactors the blocked
// Cholesky factor; it returns false if a diagonal block is not positive
// definite.
func (m *MixedModel) updateL() bool {
	nt := len(m.terms)
	var tmp [64]float64
	scratch := tmp[:]
	for _, t := range m.terms {
		// The diagonal blocks need 2k² (scaleInto's scratch and the
		// scaled block).
		if 2*t.k*t.k > len(scratch) {
			scratch = make([]float64, t.k*t.k*2)
		}
	}
	for i := 0; i <= nt; i++ {
		for j := 0; j <= i; j++ {
			a, l := m.a[i][j], m.l[i][j]
			switch {
			case i == nt && j == nt:
				copy(l.val, a.val)
				if m.prec != nil {
					p := m.p
					ld := p + 1
					for c := range p {
						l.val[c*ld+c] += m.prec[c]
						l.val[p*ld+c] += m.prec[c] * m.pmean[c]
						l.val[p*ld+p] += m.prec[c] * m.pmean[c] * m.pmean[c]
					}
				}
			case i == nt:
				t := m.terms[j]
				k := t.k
				for r := 0; r < a.rows; r++ {
					for lev := range t.nl {
						off := r*a.cols + lev*k
						scaleInto(l.val[off:off+k], a.val[off:off+k], nil, t.lambda, 1, k, scratch)
					}
				}
			case i == j:
				t := m.terms[i]
				k := t.k
				sz := k * k
				if l.kind == kindDense {
					clear(l.val)
				}
				blkOut := scratch[sz : 2*sz]
				for lev := range t.nl {
					ab := a.val[lev*sz : (lev+1)*sz]
					var out []float64
					if l.kind == kindDiag {
						out = l.val[lev*sz : (lev+1)*sz]
					} else {
						out = blkOut
					}
					scaleInto(out, ab, t.lambda, t.lambda, k, k, scratch)
					for e := range k {
						out[e*k+e]++
					}
					if l.kind == kindDense {
						base := lev * k
						for e := range k {
							copy(l.val[(base+e)*l.cols+base:(base+e)*l.cols+base+k], out[e*k:(e+1)*k])
						}
					}
				}
			default:
				ti, tj := m.terms[i], m.terms[j]
				ri, cj := ti.k, tj.k
				sz := ri * cj
				if len(scratch) < 2*sz {
					scratch = make([]float64, 2*sz)
				}
				if l.kind == kindSparse {
					for e := range a.rowlev {
						scaleInto(l.val[e*sz:(e+1)*sz], a.val[e*sz:(e+1)*sz], ti.lambda, tj.lambda, ri, cj, scratch)
					}
					continue
				}
				clear(l.val)
				out := scratch[sz : 2*sz]
				for c := 0; c+1 < len(a.colptr); c++ {
					for e := a.colptr[c]; e < a.colptr[c+1]; e++ {
						scaleInto(out, a.val[int(e)*sz:int(e+1)*sz], ti.lambda, tj.lambda, ri, cj, scratch)
						r0 := int(a.rowlev[e]) * ri
						for r := range ri {
							copy(l.val[(r0+r)*l.cols+c*cj:(r0+r)*l.cols+c*cj+cj], out[r*cj:(r+1)*cj])
						}
					}
				}
			}
		}
	}
	// Left-looking blocked Cholesky.
	for j := 0; j <= nt; j++ {
		ljj := m.l[j][j]
		for k := range j {
			rankUpdate(ljj, m.l[j][k])
		}
		if !cholBlock(ljj) {
			return false
		}
		for i := j + 1; i <= nt; i++ {
			lij := m.l[i][j]
			for k := range j {
				mulSub(lij, m.l[i][k], m.l[j][k])
			}
			rdivLt(lij, ljj)
		}
	}
	return true
}

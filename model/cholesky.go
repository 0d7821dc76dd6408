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
	if ri == 4 && cj == 4 {
		scaleInto4(out, 4, e, li, lj)
		return
	}
	if ri == 1 && cj == 4 && li == nil {
		// A row of the [X y] block against a 4 × 4 term: e λj.
		E, J := (*[4]float64)(e), (*[16]float64)(lj)
		out[0] = E[0]*J[0] + E[1]*J[4] + E[2]*J[8] + E[3]*J[12]
		out[1] = E[1]*J[5] + E[2]*J[9] + E[3]*J[13]
		out[2] = E[2]*J[10] + E[3]*J[14]
		out[3] = E[3] * J[15]
		return
	}
	scaleIntoLoops(out, e, li, lj, ri, cj, tmp)
}

// scaleIntoLoops is scaleInto for any block size: each entry a sum over
// increasing k, accumulated from zero.
func scaleIntoLoops(out, e, li, lj []float64, ri, cj int, tmp []float64) {
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

// scaleInto4 is scaleInto for 4 × 4 blocks (every block of a maximal
// 2 × 2 model), unrolled: the same products summed in the same order, so
// the result is bit-identical, without loop or bounds-check overhead. Row
// r of the result goes to out[r*ld : r*ld+4], so that it can be written
// straight into a dense block of L (ld = 4 for a contiguous 4 × 4).
func scaleInto4(out []float64, ld int, e, li, lj []float64) {
	o0 := (*[4]float64)(out[0:4])
	o1 := (*[4]float64)(out[ld : ld+4])
	o2 := (*[4]float64)(out[2*ld : 2*ld+4])
	o3 := (*[4]float64)(out[3*ld : 3*ld+4])
	E := (*[16]float64)(e)
	J := (*[16]float64)(lj)
	t00 := E[0]*J[0] + E[1]*J[4] + E[2]*J[8] + E[3]*J[12]
	t01 := E[1]*J[5] + E[2]*J[9] + E[3]*J[13]
	t02 := E[2]*J[10] + E[3]*J[14]
	t03 := E[3] * J[15]
	t10 := E[4]*J[0] + E[5]*J[4] + E[6]*J[8] + E[7]*J[12]
	t11 := E[5]*J[5] + E[6]*J[9] + E[7]*J[13]
	t12 := E[6]*J[10] + E[7]*J[14]
	t13 := E[7] * J[15]
	t20 := E[8]*J[0] + E[9]*J[4] + E[10]*J[8] + E[11]*J[12]
	t21 := E[9]*J[5] + E[10]*J[9] + E[11]*J[13]
	t22 := E[10]*J[10] + E[11]*J[14]
	t23 := E[11] * J[15]
	t30 := E[12]*J[0] + E[13]*J[4] + E[14]*J[8] + E[15]*J[12]
	t31 := E[13]*J[5] + E[14]*J[9] + E[15]*J[13]
	t32 := E[14]*J[10] + E[15]*J[14]
	t33 := E[15] * J[15]
	if li == nil {
		o0[0], o0[1], o0[2], o0[3] = t00, t01, t02, t03
		o1[0], o1[1], o1[2], o1[3] = t10, t11, t12, t13
		o2[0], o2[1], o2[2], o2[3] = t20, t21, t22, t23
		o3[0], o3[1], o3[2], o3[3] = t30, t31, t32, t33
		return
	}
	I := (*[16]float64)(li)
	o0[0] = I[0]*t00 + I[4]*t10 + I[8]*t20 + I[12]*t30
	o0[1] = I[0]*t01 + I[4]*t11 + I[8]*t21 + I[12]*t31
	o0[2] = I[0]*t02 + I[4]*t12 + I[8]*t22 + I[12]*t32
	o0[3] = I[0]*t03 + I[4]*t13 + I[8]*t23 + I[12]*t33
	o1[0] = I[5]*t10 + I[9]*t20 + I[13]*t30
	o1[1] = I[5]*t11 + I[9]*t21 + I[13]*t31
	o1[2] = I[5]*t12 + I[9]*t22 + I[13]*t32
	o1[3] = I[5]*t13 + I[9]*t23 + I[13]*t33
	o2[0] = I[10]*t20 + I[14]*t30
	o2[1] = I[10]*t21 + I[14]*t31
	o2[2] = I[10]*t22 + I[14]*t32
	o2[3] = I[10]*t23 + I[14]*t33
	o3[0] = I[15] * t30
	o3[1] = I[15] * t31
	o3[2] = I[15] * t32
	o3[3] = I[15] * t33
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
				if ri == 4 && cj == 4 {
					// Straight into L, without the copy through scratch.
					for c := 0; c+1 < len(a.colptr); c++ {
						for e := a.colptr[c]; e < a.colptr[c+1]; e++ {
							r0 := int(a.rowlev[e]) * 4
							scaleInto4(l.val[r0*l.cols+c*4:], l.cols, a.val[int(e)*16:int(e+1)*16], ti.lambda, tj.lambda)
						}
					}
					continue
				}
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

package model

import (
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// blockKind says how a block of the blocked matrices A and L is stored.
type blockKind uint8

const (
	// kindDense is a dense row-major rows × cols block.
	kindDense blockKind = iota
	// kindSparse is block-sparse by level: for each column level, a list
	// of row levels, each with a dense rk × ck entry.
	kindSparse
	// kindDiag is block-diagonal: one rk × rk block per level.
	kindDiag
)

// blk is one block of the blocked lower-triangular matrices A and L.
//
// Row and column dimensions are in scalars; rk and ck are the number of
// scalars per row level and column level (a random-effect term's K, or 1
// for the [X y] block, whose "levels" are its columns).
type blk struct {
	kind       blockKind
	rows, cols int
	rk, ck     int
	// colptr (len nColLevels+1) and rowlev index the entries of a sparse
	// block; entry e covers val[e*rk*ck:(e+1)*rk*ck] row-major.
	colptr []int32
	rowlev []int32
	// rowptr (len rows/rk+1) and rowent index a sparse block's entries by
	// row level (entries of row level r are rowent[rowptr[r]:rowptr[r+1]],
	// in column order); built by indexRows for the scalar downdate.
	rowptr []int32
	rowent []int32
	// colfirst[e] is the first entry of entry e's column.
	colfirst []int32
	// split is the row level at which the scalar downdate's work is
	// halved between two goroutines (0: run serially).
	split int
	// val holds the numbers: row-major dense, per-level blocks for diag,
	// per-entry blocks for sparse.
	val []float64
	// chol is cholDense's scratch and structure for a dense diagonal
	// block of L.
	chol *cholWork
	// ident is 0, 1, …, rows−1 for the tiled rank update.
	ident []int32
}

// syrkTileMin is the number of rows from which rankUpdate uses the tiled
// kernel instead of gonum's Syrk (the [X y] block keeps Syrk).
const syrkTileMin = 32

// general returns a dense block as a blas64.General.
func (b *blk) general() blas64.General {
	return blas64.General{Rows: b.rows, Cols: b.cols, Stride: b.cols, Data: b.val}
}

// newDense returns a zero dense block.
func newDense(rows, cols, rk, ck int) *blk {
	return &blk{kind: kindDense, rows: rows, cols: cols, rk: rk, ck: ck, val: make([]float64, rows*cols)}
}

// newDiag returns a zero block-diagonal block of nl levels of k × k.
func newDiag(nl, k int) *blk {
	return &blk{kind: kindDiag, rows: nl * k, cols: nl * k, rk: k, ck: k, val: make([]float64, nl*k*k)}
}

// cloneShape returns a zero block with b's kind, shape and pattern.
func (b *blk) cloneShape() *blk {
	c := *b
	c.val = make([]float64, len(b.val))
	return &c
}

// rankUpdate sets c -= a aᵀ (only the lower triangle of a dense c, the
// diagonal blocks of a block-diagonal c).
func rankUpdate(c, a *blk) {
	switch {
	case a.kind == kindDense && c.kind == kindDense && a.rows >= syrkTileMin:
		// Large blocks (the dense first-column blocks of crossed slope
		// terms): cholDense's register-tiled update, about twice gonum's
		// Syrk here.
		if len(c.ident) < a.rows {
			c.ident = make([]int32, a.rows)
			for i := range c.ident {
				c.ident[i] = int32(i)
			}
		}
		trailingUpdate(c.val, c.cols, a.cols, a.val, c.ident, 0, a.rows)
	case a.kind == kindDense && c.kind == kindDense:
		blas64.Syrk(blas.NoTrans, -1, a.general(), 1,
			blas64.Symmetric{Uplo: blas.Lower, N: c.rows, Stride: c.cols, Data: c.val})
	case a.kind == kindSparse && c.kind == kindDense && a.rk == 1 && a.ck == 1 && a.rowptr != nil:
		if a.split > 0 {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				scalarDowndate(c, a, a.split, len(a.rowptr)-1)
			}()
			scalarDowndate(c, a, 0, a.split)
			wg.Wait()
		} else {
			scalarDowndate(c, a, 0, len(a.rowptr)-1)
		}
	case a.kind == kindSparse && c.kind == kindDense:
		rk, ck := a.rk, a.ck
		sz := rk * ck
		ld := c.cols
		for col := 0; col+1 < len(a.colptr); col++ {
			lo, hi := int(a.colptr[col]), int(a.colptr[col+1])
			for e1 := lo; e1 < hi; e1++ {
				r1 := int(a.rowlev[e1]) * rk
				b1 := a.val[e1*sz : (e1+1)*sz]
				for e2 := lo; e2 <= e1; e2++ {
					r2 := int(a.rowlev[e2]) * rk
					b2 := a.val[e2*sz : (e2+1)*sz]
					if rk == 1 && ck == 1 {
						c.val[r1*ld+r2] -= b1[0] * b2[0]
						continue
					}
					for i := 0; i < rk; i++ {
						row := c.val[(r1+i)*ld+r2:]
						bi := b1[i*ck : (i+1)*ck]
						for j := 0; j < rk; j++ {
							bj := b2[j*ck : (j+1)*ck]
							var s float64
							for k := range ck {
								s += bi[k] * bj[k]
							}
							row[j] -= s
						}
					}
				}
			}
		}
	case a.kind == kindSparse && c.kind == kindDiag:
		// Every column level has at most one row level (checked when the
		// layout was chosen), so a aᵀ is block-diagonal.
		rk, ck := a.rk, a.ck
		sz := rk * ck
		for e := range a.rowlev {
			r := int(a.rowlev[e])
			b := a.val[e*sz : (e+1)*sz]
			d := c.val[r*rk*rk : (r+1)*rk*rk]
			for i := 0; i < rk; i++ {
				for j := 0; j <= i; j++ {
					var s float64
					for k := range ck {
						s += b[i*ck+k] * b[j*ck+k]
					}
					d[i*rk+j] -= s
				}
			}
		}
	default:
		panic("model: unsupported rank update")
	}
}

// indexRows builds the row index of the scalar sparse block b and the
// row level that halves the downdate's work, so that scalarDowndate can
// run over rows (each writing one row of the dense result) in parallel.
func (b *blk) indexRows() {
	nr := b.rows
	b.rowptr = make([]int32, nr+1)
	for _, r := range b.rowlev {
		b.rowptr[r+1]++
	}
	for r := range nr {
		b.rowptr[r+1] += b.rowptr[r]
	}
	b.rowent = make([]int32, len(b.rowlev))
	b.colfirst = make([]int32, len(b.rowlev))
	next := slices.Clone(b.rowptr[:nr])
	// Work per row level: for each of its entries, the entries of that
	// column with row level at most r.
	work := make([]int64, nr)
	for c := 0; c+1 < len(b.colptr); c++ {
		for e := b.colptr[c]; e < b.colptr[c+1]; e++ {
			r := b.rowlev[e]
			b.rowent[next[r]] = e
			b.colfirst[e] = b.colptr[c]
			next[r]++
			work[r] += int64(e-b.colptr[c]) + 1
		}
	}
	var total int64
	for _, w := range work {
		total += w
	}
	b.split = 0
	if total < 1<<16 {
		return
	}
	var acc int64
	for r, w := range work {
		acc += w
		if 2*acc >= total {
			b.split = r + 1
			break
		}
	}
	if b.split >= nr {
		b.split = 0
	}
}

// scalarDowndate sets c[r1][r2] -= Σ_col a[r1][col] a[r2][col] for the
// row levels r1 in [lo, hi) and r2 ≤ r1, for a scalar sparse a with a
// row index; each r1 writes only its own row of c.
func scalarDowndate(c, a *blk, lo, hi int) {
	ld := c.cols
	for r1 := lo; r1 < hi; r1++ {
		row := c.val[r1*ld : r1*ld+r1+1]
		for _, e1 := range a.rowent[a.rowptr[r1]:a.rowptr[r1+1]] {
			v1 := a.val[e1]
			// Entries of e1's column from its first to e1 have row
			// levels ≤ r1 (a column's entries are sorted by row level).
			for e2 := a.colfirst[e1]; e2 <= e1; e2++ {
				row[a.rowlev[e2]] -= v1 * a.val[e2]
			}
		}
	}
}

// mulSub sets the dense block c -= a bᵀ.
func mulSub(c, a, b *blk) {
	switch {
	case a.kind == kindDense && b.kind == kindDense && a.rows*b.rows*a.cols <= mulSubSmall:
		mulSubDense(c, a, b)
	case a.kind == kindDense && b.kind == kindDense:
		blas64.Gemm(blas.NoTrans, blas.Trans, -1, a.general(), b.general(), 1, c.general())
	case a.kind == kindSparse && b.kind == kindSparse && a.rk == 1 && b.rk == 1 && a.ck == 1:
		ld := c.cols
		for col := 0; col+1 < len(a.colptr); col++ {
			blo, bhi := b.colptr[col], b.colptr[col+1]
			if blo == bhi {
				continue
			}
			brow, bval := b.rowlev[blo:bhi], b.val[blo:bhi]
			for e1 := a.colptr[col]; e1 < a.colptr[col+1]; e1++ {
				v1 := a.val[e1]
				row := c.val[int(a.rowlev[e1])*ld:]
				for k, r2 := range brow {
					row[r2] -= v1 * bval[k]
				}
			}
		}
	case a.kind == kindSparse && b.kind == kindSparse:
		ark, bck := a.rk, b.rk
		ck := a.ck
		asz, bsz := ark*ck, bck*ck
		ld := c.cols
		for col := 0; col+1 < len(a.colptr); col++ {
			for e1 := a.colptr[col]; e1 < a.colptr[col+1]; e1++ {
				r1 := int(a.rowlev[e1]) * ark
				b1 := a.val[int(e1)*asz : int(e1+1)*asz]
				for e2 := b.colptr[col]; e2 < b.colptr[col+1]; e2++ {
					r2 := int(b.rowlev[e2]) * bck
					b2 := b.val[int(e2)*bsz : int(e2+1)*bsz]
					for i := 0; i < ark; i++ {
						row := c.val[(r1+i)*ld+r2:]
						for j := 0; j < bck; j++ {
							var s float64
							for k := range ck {
								s += b1[i*ck+k] * b2[j*ck+k]
							}
							row[j] -= s
						}
					}
				}
			}
		}
	case a.kind == kindDense && b.kind == kindSparse:
		ck := b.ck
		bk := b.rk
		bsz := bk * ck
		for col := 0; col+1 < len(b.colptr); col++ {
			for e := b.colptr[col]; e < b.colptr[col+1]; e++ {
				r2 := int(b.rowlev[e]) * bk
				bb := b.val[int(e)*bsz : int(e+1)*bsz]
				for i := 0; i < a.rows; i++ {
					ar := a.val[i*a.cols+col*ck : i*a.cols+col*ck+ck]
					crow := c.val[i*c.cols+r2 : i*c.cols+r2+bk]
					for j := range bk {
						var s float64
						for k := range ck {
							s += ar[k] * bb[j*ck+k]
						}
						crow[j] -= s
					}
				}
			}
		}
	default:
		panic("model: unsupported block product")
	}
}

// mulSubSmall is the largest product (rows of a × rows of b × depth) that
// mulSub computes with the dot kernels rather than gonum's Gemm (which
// splits larger products between goroutines).
const mulSubSmall = 1 << 21

// mulSubDense sets c −= a bᵀ for dense a and b: each entry one dot
// product of a row of a with a row of b (as dotAcc computes it), three
// rows of a against two of b at a time (kern3x2). On the maximal 2 × 2
// model (L_X1 −= L_X0 L_10ᵀ, 5 × 128 × 160) it replaces gonum's Gemm.
func mulSubDense(c, a, b *blk) {
	n := a.cols
	br := func(j int) []float64 { return b.val[j*b.cols : j*b.cols+n] }
	i := 0
	for ; i+3 <= a.rows; i += 3 {
		a0, a1, a2 := a.val[i*n:(i+1)*n], a.val[(i+1)*n:(i+2)*n], a.val[(i+2)*n:(i+3)*n]
		c0 := c.val[i*c.cols : i*c.cols+b.rows]
		c1 := c.val[(i+1)*c.cols : (i+1)*c.cols+b.rows]
		c2 := c.val[(i+2)*c.cols : (i+2)*c.cols+b.rows]
		j := 0
		for ; j+2 <= b.rows; j += 2 {
			s00, s01, s10, s11, s20, s21 := kern3x2(a0, a1, a2, br(j), br(j+1))
			c0[j] -= s00
			c0[j+1] -= s01
			c1[j] -= s10
			c1[j+1] -= s11
			c2[j] -= s20
			c2[j+1] -= s21
		}
		if j < b.rows {
			s0, s1, s2 := kern3x1(a0, a1, a2, br(j))
			c0[j] -= s0
			c1[j] -= s1
			c2[j] -= s2
		}
	}
	for ; i < a.rows; i++ {
		ai := a.val[i*n : (i+1)*n]
		ci := c.val[i*c.cols : i*c.cols+b.rows]
		j := 0
		for ; j+3 <= b.rows; j += 3 {
			s0, s1, s2 := kern3x1(br(j), br(j+1), br(j+2), ai)
			ci[j] -= s0
			ci[j+1] -= s1
			ci[j+2] -= s2
		}
		for ; j < b.rows; j++ {
			ci[j] -= dotAcc(ai, br(j))
		}
	}
}

// cholBlock factors a diagonal block in place (lower Cholesky factor); it
// returns false if the block is not positive definite.
func cholBlock(d *blk) bool {
	switch d.kind {
	case kindDiag:
		k := d.rk
		if k == 1 {
			for i, v := range d.val {
				if !(v > 0) {
					return false
				}
				d.val[i] = sqrt(v)
			}
			return true
		}
		for l := 0; l < len(d.val); l += k * k {
			if !smallChol(d.val[l:l+k*k], k) {
				return false
			}
		}
		return true
	default:
		if d.chol == nil {
			d.chol = newCholWork(d.rows, denseBlockNB(d.rows), nil)
		}
		return cholDense(d.val, d.rows, d.cols, d.chol, runtime.GOMAXPROCS(0))
	}
}

// smallChol factors the k × k row-major symmetric matrix a in place into
// its lower Cholesky factor, zeroing the strict upper triangle.
func smallChol(a []float64, k int) bool {
	for j := range k {
		s := a[j*k+j]
		for l := range j {
			s -= a[j*k+l] * a[j*k+l]
		}
		if !(s > 0) {
			return false
		}
		s = sqrt(s)
		a[j*k+j] = s
		for i := j + 1; i < k; i++ {
			t := a[i*k+j]
			for l := range j {
				t -= a[i*k+l] * a[j*k+l]
			}
			a[i*k+j] = t / s
			a[j*k+i] = 0
		}
	}
	return true
}

// rdivLt sets b := b d⁻ᵀ for a factored diagonal block d.
func rdivLt(b, d *blk) {
	switch {
	case d.kind == kindDense && b.kind == kindDense:
		// Rows of b are independent: solve the two halves in parallel
		// when the work is worth a goroutine.
		if h := b.rows / 2; h > 0 && b.rows*d.rows*d.rows >= 1<<22 {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				rdivLtRows(b, d, h, b.rows)
			}()
			rdivLtRows(b, d, 0, h)
			wg.Wait()
			return
		}
		rdivLtRows(b, d, 0, b.rows)
	case d.kind == kindDiag && b.kind == kindSparse:
		k := d.rk
		sz := b.rk * k
		for col := 0; col+1 < len(b.colptr); col++ {
			dl := d.val[col*k*k : (col+1)*k*k]
			for e := b.colptr[col]; e < b.colptr[col+1]; e++ {
				ev := b.val[int(e)*sz : int(e+1)*sz]
				for i := 0; i < b.rk; i++ {
					forwardRow(ev[i*k:(i+1)*k], dl, k)
				}
			}
		}
	case d.kind == kindDiag && b.kind == kindDense && d.rk == 4:
		rdivLtDiag4(b, d)
	case d.kind == kindDiag && b.kind == kindDense:
		k := d.rk
		for i := 0; i < b.rows; i++ {
			row := b.val[i*b.cols : (i+1)*b.cols]
			for l := 0; l*k < b.cols; l++ {
				forwardRow(row[l*k:(l+1)*k], d.val[l*k*k:(l+1)*k*k], k)
			}
		}
	default:
		panic("model: unsupported triangular solve")
	}
}

// rdivLtDiag4 is rdivLt for a dense b and a block-diagonal d of 4 × 4
// blocks: level by level, so that the level's factor and the reciprocals
// of its diagonal stay in registers while every row of b is solved
// against it; multiplying by the reciprocals cuts the chain of dependent
// divisions of forwardRow.
func rdivLtDiag4(b, d *blk) {
	for lev := 0; lev*4 < b.cols; lev++ {
		L := (*[16]float64)(d.val[lev*16:])
		i0, i1, i2, i3 := 1/L[0], 1/L[5], 1/L[10], 1/L[15]
		l10, l20, l21, l30, l31, l32 := L[4], L[8], L[9], L[12], L[13], L[14]
		for r := range b.rows {
			x := (*[4]float64)(b.val[r*b.cols+lev*4:])
			x0 := x[0] * i0
			x1 := (x[1] - l10*x0) * i1
			x2 := (x[2] - l20*x0 - l21*x1) * i2
			x3 := (x[3] - l30*x0 - l31*x1 - l32*x2) * i3
			x[0], x[1], x[2], x[3] = x0, x1, x2, x3
		}
	}
}

// rdivLtRowChunk is the number of rows of b that rdivLtRows solves
// together: each row of the factor is then read once per chunk.
const rdivLtRowChunk = 32

// rdivLtRows sets rows [lo, hi) of the dense block b to b d⁻ᵀ for the
// dense lower factor d: x_j = (b_j − Σ_{k<j} d_jk x_k) / d_jj, with the
// factor's row j applied to a chunk of rows of b at once, so that a
// factor much larger than the cache is streamed once per chunk rather
// than once per row (as a row-by-row triangular solve does). When d's
// rows have an envelope (d.chol.first), the sums start at it.
func rdivLtRows(b, d *blk, lo, hi int) {
	n := d.rows
	ld := d.cols
	bl := blas64.Implementation()
	var first []int32 // zeros before first[j] in row j of d
	if d.chol != nil {
		first = d.chol.first
	}
	for r0 := lo; r0 < hi; r0 += rdivLtRowChunk {
		r1 := min(r0+rdivLtRowChunk, hi)
		for j := range n {
			lj := d.val[j*ld : j*ld+j]
			djj := d.val[j*ld+j]
			f := 0
			if first != nil {
				f = int(first[j])
			}
			for r := r0; r < r1; r++ {
				row := b.val[r*b.cols : r*b.cols+n]
				row[j] = (row[j] - bl.Ddot(j-f, lj[f:], 1, row[f:], 1)) / djj
			}
		}
	}
}

// forwardRow solves x lᵀ = e in place (l lower k × k): l xᵀ = eᵀ.
func forwardRow(e, l []float64, k int) {
	if k == 1 {
		e[0] /= l[0]
		return
	}
	if k == 4 {
		forwardRow4(e, l)
		return
	}
	for i := range k {
		s := e[i]
		for j := range i {
			s -= l[i*k+j] * e[j]
		}
		e[i] = s / l[i*k+i]
	}
}

// forwardRow4 is forwardRow for k = 4, unrolled (the same operations in
// the same order).
func forwardRow4(e, l []float64) {
	x := (*[4]float64)(e)
	L := (*[16]float64)(l)
	x0 := x[0] / L[0]
	x1 := (x[1] - L[4]*x0) / L[5]
	x2 := (x[2] - L[8]*x0 - L[9]*x1) / L[10]
	x3 := (x[3] - L[12]*x0 - L[13]*x1 - L[14]*x2) / L[15]
	x[0], x[1], x[2], x[3] = x0, x1, x2, x3
}

// backDiag solves lᵀ x = v in place for a k × k lower l.
func backDiag(v, l []float64, k int) {
	if k == 1 {
		v[0] /= l[0]
		return
	}
	for i := k - 1; i >= 0; i-- {
		s := v[i]
		for j := i + 1; j < k; j++ {
			s -= l[j*k+i] * v[j]
		}
		v[i] = s / l[i*k+i]
	}
}

// subTransMul sets v -= bᵀ x for the block b (x has b.rows entries, v has
// b.cols), using only the first nrows rows of b.
func subTransMul(v []float64, b *blk, x []float64, nrows int) {
	switch b.kind {
	case kindDense:
		if nrows == 0 {
			return
		}
		blas64.Gemv(blas.Trans, -1, blas64.General{Rows: nrows, Cols: b.cols, Stride: b.cols, Data: b.val}, blas64.Vector{N: nrows, Inc: 1, Data: x}, 1, blas64.Vector{N: b.cols, Inc: 1, Data: v})
	case kindSparse:
		rk, ck := b.rk, b.ck
		sz := rk * ck
		for col := 0; col+1 < len(b.colptr); col++ {
			vc := v[col*ck : (col+1)*ck]
			for e := b.colptr[col]; e < b.colptr[col+1]; e++ {
				r := int(b.rowlev[e]) * rk
				ev := b.val[int(e)*sz : int(e+1)*sz]
				for i := 0; i < rk; i++ {
					xi := x[r+i]
					for j := range ck {
						vc[j] -= ev[i*ck+j] * xi
					}
				}
			}
		}
	}
}

// backSolveDiag solves dᵀ x = v in place for a factored diagonal block.
func backSolveDiag(v []float64, d *blk, n int) {
	switch d.kind {
	case kindDiag:
		k := d.rk
		for l := 0; l*k < n; l++ {
			backDiag(v[l*k:(l+1)*k], d.val[l*k*k:(l+1)*k*k], k)
		}
	default:
		blas64.Trsv(blas.Trans, blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: n, Stride: d.cols, Data: d.val}, blas64.Vector{N: n, Inc: 1, Data: v})
	}
}

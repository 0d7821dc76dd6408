package model

// lowerInvT writes into v (n × n, row-major) the transpose of the inverse
// of the n × n row-major lower triangular l: v[j][i] = (L⁻¹)[i][j] for
// i ≥ j, and zero for i < j. Row j of v is the solution z of L z = e_j,
// which is zero before j, so each row is found by forward substitution
// from its own diagonal on:
//
//	z[i] = (δ_ij − Σ_{j ≤ c < i} L[i][c] z[c]) / L[i][i],
//
// a dot product of a contiguous row of l with a contiguous row of v.
// Rows of v are solved three at a time against two rows of l at a time
// (kern3x2: six dot products that share their loads), as in
// forwardRowsLower; the rows then hold the columns of L⁻¹ contiguously,
// which is what the column sums of InvDiagSums read.
//
// It is LAPACK's dtrtri arranged as dot products (level 3 in the sense
// that each loaded element serves several products; gonum's Dtrti2 runs
// one triangular matrix-vector product per column). Single-threaded: the
// operations are the same whatever GOMAXPROCS. v must not overlap l;
// dinv holds the reciprocals of l's diagonal (lowerDiagInv), by which the
// substitution multiplies instead of dividing.
func lowerInvT(l []float64, n int, v, dinv []float64) {
	l, v, dinv = l[:n*n], v[:n*n], dinv[:n]
	clear(v)
	j0 := 0
	for ; j0+3 <= n; j0 += 3 {
		x0 := v[j0*n : (j0+1)*n]
		x1 := v[(j0+1)*n : (j0+2)*n]
		x2 := v[(j0+2)*n : (j0+3)*n]
		x0[j0], x1[j0+1], x2[j0+2] = 1, 1, 1
		i := j0
		for ; i+2 <= n; i += 2 {
			la := l[i*n+j0 : i*n+i]
			lb := l[(i+1)*n+j0 : (i+1)*n+i]
			s00, s01, s10, s11, s20, s21 := kern3x2(x0[j0:i], x1[j0:i], x2[j0:i], la, lb)
			d0, c, d1 := dinv[i], l[(i+1)*n+i], dinv[i+1]
			x0[i] = (x0[i] - s00) * d0
			x1[i] = (x1[i] - s10) * d0
			x2[i] = (x2[i] - s20) * d0
			x0[i+1] = (x0[i+1] - s01 - c*x0[i]) * d1
			x1[i+1] = (x1[i+1] - s11 - c*x1[i]) * d1
			x2[i+1] = (x2[i+1] - s21 - c*x2[i]) * d1
		}
		if i < n {
			s0, s1, s2 := kern3x1(x0[j0:i], x1[j0:i], x2[j0:i], l[i*n+j0:i*n+i])
			d := dinv[i]
			x0[i] = (x0[i] - s0) * d
			x1[i] = (x1[i] - s1) * d
			x2[i] = (x2[i] - s2) * d
		}
	}
	// The last one or two rows.
	for ; j0 < n; j0++ {
		x := v[j0*n : (j0+1)*n]
		x[j0] = 1
		for i := j0; i < n; i++ {
			x[i] = (x[i] - dotAcc(x[j0:i], l[i*n+j0:i*n+i])) * dinv[i]
		}
	}
}

// lowerDiagInv writes the reciprocals of the diagonal of the n × n
// row-major l into dinv.
func lowerDiagInv(l []float64, n int, dinv []float64) {
	for i := range dinv[:n] {
		dinv[i] = 1 / l[i*n+i]
	}
}

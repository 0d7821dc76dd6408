package sampler

import "math"

// corrCholesky fills the K × K row-major lower-triangular Cholesky factor
// L of a correlation matrix from the K(K−1)/2 unconstrained coordinates y
// (Stan's cholesky_corr_constrain): the canonical partial correlations
// are z = tanh(y), taken row by row of the strict lower triangle, and
//
//	L[i][0] = z[i,0],  L[i][j] = z[i,j]·√(1 − Σ_{l<j} L[i][l]²),
//	L[i][i] = √(1 − Σ_{l<i} L[i][l]²).
//
// It returns log|∂L/∂y| = Σ log(1 − z²) + ½ Σ_{i, 0<j<i} log(1 − Σ_{l<j} L[i][l]²).
func corrCholesky(y []float64, k int, l []float64) float64 {
	clear(l[:k*k])
	l[0] = 1
	var lj float64
	n := 0
	for i := 1; i < k; i++ {
		var ss float64
		for j := range i {
			z := math.Tanh(y[n])
			n++
			lj += math.Log1p(-z * z)
			if j == 0 {
				l[i*k] = z
			} else {
				lj += 0.5 * math.Log1p(-ss)
				l[i*k+j] = z * math.Sqrt(1-ss)
			}
			ss += l[i*k+j] * l[i*k+j]
		}
		l[i*k+i] = math.Sqrt(math.Max(1-ss, 0))
	}
	return lj
}

// lkjCholeskyLogDensity is the LKJ(η) log density of the Cholesky factor
// L of a K × K correlation matrix (Stan's lkj_corr_cholesky_lpdf without
// its normalising constant): Σ_{i=1}^{K−1} (K − i − 1 + 2η − 2) log L[i][i].
// It includes the Jacobian of Ω = LLᵀ, so that together with the
// Jacobian of corrCholesky it is the density of the unconstrained y.
func lkjCholeskyLogDensity(l []float64, k int, eta float64) float64 {
	var s float64
	for i := 1; i < k; i++ {
		s += (float64(k-i-1) + 2*eta - 2) * math.Log(l[i*k+i])
	}
	return s
}

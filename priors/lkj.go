package priors

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// LKJ is lkj(eta), the Lewandowski–Kurowicka–Joe (2009) prior on a K×K
// correlation matrix Ω (class cor): p(Ω) = c_K(η)⁻¹ det(Ω)^(η−1), η > 0.
// η = 1 is uniform over correlation matrices; η > 1 favours the identity.
// For K = 2 the one correlation r has (r+1)/2 ~ Beta(η, η); in general
// every off-diagonal element has (r+1)/2 ~ Beta(η−1+K/2, η−1+K/2).
type LKJ struct {
	// Eta is η > 0.
	Eta float64
}

// Family returns "lkj".
func (LKJ) Family() string { return "lkj" }

// String prints "lkj(eta)".
func (l LKJ) String() string { return fmt.Sprintf("lkj(%s)", fmtNum(l.Eta)) }

// Allows reports whether lkj may be used on c: cor only.
func (LKJ) Allows(c Class) bool { return c == ClassCor }

// LogNormalizer is log c_K(η), the log of the normalising constant
// (LKJ 2009, eq. 16):
//
//	c_K(η) = Πₖ₌₁^{K−1} [2^(2η−2+K−k) B(η+(K−k−1)/2, η+(K−k−1)/2)]^(K−k).
func (l LKJ) LogNormalizer(k int) float64 {
	s := 0.0
	for i := 1; i < k; i++ {
		ki := float64(k - i)
		a := l.Eta + (ki-1)/2
		s += ki * ((2*l.Eta-2+ki)*math.Ln2 + mathext.Lbeta(a, a))
	}
	return s
}

// LogDensity is the log density of the single correlation r of a 2×2
// correlation matrix: (η−1) log(1−r²) − log c₂(η).
func (l LKJ) LogDensity(r float64) float64 {
	if !(r > -1 && r < 1) {
		return math.Inf(-1)
	}
	return (l.Eta-1)*math.Log1p(-r*r) - l.LogNormalizer(2)
}

// LogDensityCorr is the log density of the correlation matrix omega; it
// is −Inf when omega is not positive definite or its diagonal is not 1
// (to 1e-10).
func (l LKJ) LogDensityCorr(omega mat.Symmetric) float64 {
	k := omega.SymmetricDim()
	for i := range k {
		if math.Abs(omega.At(i, i)-1) > 1e-10 {
			return math.Inf(-1)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(omega) {
		return math.Inf(-1)
	}
	return (l.Eta-1)*ch.LogDet() - l.LogNormalizer(k)
}

// LogDensityCholesky is the log density of the lower Cholesky factor L
// of Ω = LLᵀ, as Stan's lkj_corr_cholesky: with respect to the strictly
// lower elements of L,
//
//	log p(L) = Σᵢ₌₂^K (K − i + 2η − 2) log Lᵢᵢ − log c_K(η)
//
// (i 1-based), which is LogDensityCorr(LLᵀ) plus the log Jacobian
// Σᵢ (K−i) log Lᵢᵢ of L ↦ Ω. Rows of L must have unit length.
func (l LKJ) LogDensityCholesky(L mat.Triangular) float64 {
	k, _ := L.Dims()
	s := 0.0
	for i := range k {
		ss := 0.0
		for j := 0; j <= i; j++ {
			ss += L.At(i, j) * L.At(i, j)
		}
		if math.Abs(ss-1) > 1e-10 || !(L.At(i, i) > 0) {
			return math.Inf(-1)
		}
		if i > 0 {
			s += (float64(k-i-1) + 2*l.Eta - 2) * math.Log(L.At(i, i))
		}
	}
	return s - l.LogNormalizer(k)
}

// RandCholesky draws the lower Cholesky factor of a K×K LKJ(η)
// correlation matrix by the C-vine method (LKJ 2009, §2.4, as Stan's
// lkj_corr_cholesky_rng): canonical partial correlations zᵢⱼ, column
// j = 0..K−2, with (z+1)/2 ~ Beta(α_j, α_j), α_j = η + (K−2−j)/2, are
// mapped to L column by column.
func (l LKJ) RandCholesky(k int, rng *rand.Rand) *mat.TriDense {
	L := mat.NewTriDense(k, mat.Lower, nil)
	acc := make([]float64, k)
	for i := range acc {
		acc[i] = 1
	}
	for j := range k {
		L.SetTri(j, j, math.Sqrt(acc[j]))
		alpha := l.Eta + float64(k-2-j)/2
		for i := j + 1; i < k; i++ {
			z := 2*distuv.Beta{Alpha: alpha, Beta: alpha, Src: rng}.Rand() - 1
			L.SetTri(i, j, z*math.Sqrt(acc[i]))
			acc[i] *= 1 - z*z
		}
	}
	return L
}

// RandCorr draws a K×K correlation matrix from LKJ(η).
func (l LKJ) RandCorr(k int, rng *rand.Rand) *mat.SymDense {
	L := l.RandCholesky(k, rng)
	out := mat.NewSymDense(k, nil)
	for i := range k {
		for j := 0; j <= i; j++ {
			s := 0.0
			for m := 0; m <= j; m++ {
				s += L.At(i, m) * L.At(j, m)
			}
			if i == j {
				s = 1
			}
			out.SetSym(i, j, s)
		}
	}
	return out
}

// Rand draws the correlation of a 2×2 LKJ(η) matrix: 2·Beta(η, η) − 1.
func (l LKJ) Rand(rng *rand.Rand) float64 {
	return 2*distuv.Beta{Alpha: l.Eta, Beta: l.Eta, Src: rng}.Rand() - 1
}

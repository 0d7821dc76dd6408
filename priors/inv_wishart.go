package priors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// InvWishart is inv_wishart(nu, S), a conjugate prior on a whole K×K
// random-effect covariance matrix Σ (class cov):
//
//	p(Σ) = |S|^(ν/2) / (2^(νK/2) Γ_K(ν/2)) · |Σ|^(−(ν+K+1)/2) exp(−tr(SΣ⁻¹)/2),
//
// ν > K − 1. E[Σ] = S/(ν−K−1) for ν > K+1. S is written either as a
// scalar s (meaning s·I, for any K) or as a matrix literal
// [[a,b],[b,c]].
type InvWishart struct {
	// Nu is the degrees of freedom ν.
	Nu float64
	// S is the scale matrix; nil means Scalar·I of whatever dimension the
	// prior is used at.
	S *mat.SymDense
	// Scalar is s when S is nil.
	Scalar float64
}

// Family returns "inv_wishart".
func (InvWishart) Family() string { return "inv_wishart" }

// String prints "inv_wishart(nu, s)" or "inv_wishart(nu, [[a, b], [b, c]])".
func (w InvWishart) String() string {
	if w.S == nil {
		return fmt.Sprintf("inv_wishart(%s, %s)", fmtNum(w.Nu), fmtNum(w.Scalar))
	}
	k := w.S.SymmetricDim()
	rows := make([]string, k)
	for i := range k {
		cells := make([]string, k)
		for j := range k {
			cells[j] = fmtNum(w.S.At(i, j))
		}
		rows[i] = "[" + strings.Join(cells, ", ") + "]"
	}
	return fmt.Sprintf("inv_wishart(%s, [%s])", fmtNum(w.Nu), strings.Join(rows, ", "))
}

// Allows reports whether inv_wishart may be used on c: cov only.
func (InvWishart) Allows(c Class) bool { return c == ClassCov }

// CheckDim returns an error unless the prior can be used on a k×k
// covariance: ν > k − 1 and, for a matrix S, S is k×k.
func (w InvWishart) CheckDim(k int) error {
	if w.S != nil && w.S.SymmetricDim() != k {
		d := w.S.SymmetricDim()
		return fmt.Errorf("inv_wishart: S is %d×%d but the covariance is %d×%d", d, d, k, k)
	}
	if !(w.Nu > float64(k-1)) {
		return fmt.Errorf("inv_wishart: nu must be greater than K−1 = %d for a %d×%d covariance, got %s", k-1, k, k, fmtNum(w.Nu))
	}
	return nil
}

// ScaleMatrix returns S as a k×k matrix (a copy).
func (w InvWishart) ScaleMatrix(k int) *mat.SymDense {
	out := mat.NewSymDense(k, nil)
	if w.S != nil {
		out.CopySym(w.S)
		return out
	}
	for i := range k {
		out.SetSym(i, i, w.Scalar)
	}
	return out
}

// LogDensity is the inverse-Wishart log density of the covariance sigma
// (−Inf when sigma is not positive definite).
func (w InvWishart) LogDensity(sigma mat.Symmetric) float64 {
	k := sigma.SymmetricDim()
	var cs, cS mat.Cholesky
	if !cs.Factorize(sigma) {
		return math.Inf(-1)
	}
	S := w.ScaleMatrix(k)
	if !cS.Factorize(S) {
		return math.Inf(-1)
	}
	// tr(S Σ⁻¹)
	var inv mat.SymDense
	if err := cs.InverseTo(&inv); err != nil {
		return math.Inf(-1)
	}
	tr := 0.0
	for i := range k {
		for j := range k {
			tr += S.At(i, j) * inv.At(j, i)
		}
	}
	kf := float64(k)
	return w.Nu/2*cS.LogDet() - w.Nu*kf/2*math.Ln2 - mathext.MvLgamma(w.Nu/2, k) -
		(w.Nu+kf+1)/2*cs.LogDet() - tr/2
}

// RandCov draws a k×k covariance by the Bartlett decomposition: with
// S⁻¹ = CCᵀ and A lower triangular, Aᵢᵢ² ~ χ²(ν−i) (i 0-based),
// Aᵢⱼ ~ N(0,1) below the diagonal, W = CAAᵀCᵀ ~ Wishart(ν, S⁻¹) and
// Σ = W⁻¹. It returns nil when S is not positive definite.
func (w InvWishart) RandCov(k int, rng *rand.Rand) *mat.SymDense {
	S := w.ScaleMatrix(k)
	var cS mat.Cholesky
	if !cS.Factorize(S) {
		return nil
	}
	var sinv mat.SymDense
	if err := cS.InverseTo(&sinv); err != nil {
		return nil
	}
	var ci mat.Cholesky
	if !ci.Factorize(&sinv) {
		return nil
	}
	var C mat.TriDense
	ci.LTo(&C)
	A := mat.NewTriDense(k, mat.Lower, nil)
	for i := range k {
		A.SetTri(i, i, math.Sqrt(distuv.ChiSquared{K: w.Nu - float64(i), Src: rng}.Rand()))
		for j := range i {
			A.SetTri(i, j, rng.NormFloat64())
		}
	}
	// Σ = (CA (CA)ᵀ)⁻¹ = (CA)⁻ᵀ (CA)⁻¹; invert through the triangular
	// factor CA.
	var T mat.TriDense
	T.MulTri(&C, A)
	var Ti mat.TriDense
	if err := Ti.InverseTri(&T); err != nil {
		return nil
	}
	out := mat.NewSymDense(k, nil)
	for i := range k {
		for j := 0; j <= i; j++ {
			s := 0.0
			for m := range k {
				s += Ti.At(m, i) * Ti.At(m, j)
			}
			out.SetSym(i, j, s)
		}
	}
	return out
}

// Posterior is the conjugate update of Σ given the k×k scatter matrix
// BᵀB = Σⱼ bⱼbⱼᵀ of J level effects bⱼ ~ N(0, Σ):
// inv_wishart(ν + J, S + BᵀB).
func (w InvWishart) Posterior(scatter mat.Symmetric, j int) InvWishart {
	k := scatter.SymmetricDim()
	S := w.ScaleMatrix(k)
	S.AddSym(S, scatter)
	return InvWishart{Nu: w.Nu + float64(j), S: S}
}

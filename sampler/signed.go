package sampler

import "math"

// signedSD is the coordinate system NUTS moves in: ψ with every random-
// effect SD coordinate log τ replaced by a signed τ ∈ ℝ, and each CPC
// coordinate z_ij of a correlated term multiplied by sᵢsⱼ, where sᵢ is
// the sign of τᵢ.
//
// The model's covariance in these coordinates is Σ = D R(z) D with the
// signed D = diag(τ): the map (τ, z) → Σ is smooth (polynomial in τ)
// and 2ᵏ-to-one (flipping sᵢ and the signs of row i of R gives the same
// Σ, with the LKJ density and the CPC Jacobian unchanged), so the target
// is the posterior of Σ spread evenly over the 2ᵏ sign patterns. With the
// log scale, an SD whose posterior reaches down to zero has a long
// exponential left tail in log τ that NUTS explores with many leapfrog
// steps and poor ESS; in signed τ the same posterior is smooth and
// symmetric through zero, and a trajectory that crosses zero enters a
// mirror copy of the same posterior. The SD reported is |τ| and the
// correlation sᵢsⱼ R_ij, which is what ψ(φ) below gives.
//
// Density: with ψ_k = log|τ_k| the target in φ is p_ψ(ψ(φ)) / Π|τ_k| (up
// to the constant 2ᵏ); the evaluator's log target in ψ includes the
// Jacobian Σ log τ_k, so the two cancel and p_φ is smooth at τ_k = 0 for
// the half-normal, half-t and half-Cauchy SD priors (their densities are
// even and smooth). Inverse-Wishart terms are not in ψ and untouched.
type signedSD struct {
	sd  []int    // ψ indices of the SD coordinates
	cor [][3]int // per CPC coordinate: its ψ index and the ψ indices of τᵢ and τⱼ
	psi []float64
	g   []float64
}

// newSignedSD lays out the map for lay.
func newSignedSD(lay *layout) *signedSD {
	s := &signedSD{psi: make([]float64, lay.dim), g: make([]float64, lay.dim)}
	for _, t := range lay.terms {
		if t.iw {
			continue
		}
		for e := range t.k {
			s.sd = append(s.sd, t.sdOff+e)
		}
		if !t.corr {
			continue
		}
		n := t.corOff
		for i := 1; i < t.k; i++ {
			for j := range i {
				s.cor = append(s.cor, [3]int{n, t.sdOff + i, t.sdOff + j})
				n++
			}
		}
	}
	return s
}

// toPsi writes ψ(φ) into psi (which may not alias phi).
func (s *signedSD) toPsi(phi, psi []float64) {
	copy(psi, phi)
	for _, i := range s.sd {
		psi[i] = math.Log(math.Abs(phi[i]))
	}
	for _, c := range s.cor {
		if (phi[c[1]] < 0) != (phi[c[2]] < 0) {
			psi[c[0]] = -phi[c[0]]
		}
	}
}

// fromPsi writes the φ with positive signs that maps to psi.
func (s *signedSD) fromPsi(psi, phi []float64) {
	copy(phi, psi)
	for _, i := range s.sd {
		phi[i] = math.Exp(psi[i])
	}
}

// metric returns J cov Jᵀ, the covariance cov of ψ carried to φ at the
// point psi by the Jacobian J = ∂φ/∂ψ (τ_k on the SD coordinates, 1
// elsewhere, at positive signs).
func (s *signedSD) metric(cov, psi []float64) []float64 {
	d := len(psi)
	j := make([]float64, d)
	for i := range j {
		j[i] = 1
	}
	for _, i := range s.sd {
		j[i] = math.Exp(psi[i])
	}
	out := make([]float64, d*d)
	for a := range d {
		for b := range d {
			out[a*d+b] = j[a] * cov[a*d+b] * j[b]
		}
	}
	return out
}

// wrap returns the log target and gradient in φ of the ψ target f.
func (s *signedSD) wrap(f func(q, g []float64) float64) func(q, g []float64) float64 {
	return func(phi, g []float64) float64 {
		for _, i := range s.sd {
			if phi[i] == 0 {
				clear(g)
				return math.Inf(-1)
			}
		}
		s.toPsi(phi, s.psi)
		lp := f(s.psi, s.g)
		copy(g, s.g)
		for _, i := range s.sd {
			// ∂/∂τ = (∂/∂log|τ| − 1)/τ: the −1 is the Jacobian term.
			g[i] = (s.g[i] - 1) / phi[i]
			lp -= s.psi[i]
		}
		for _, c := range s.cor {
			if (phi[c[1]] < 0) != (phi[c[2]] < 0) {
				g[c[0]] = -s.g[c[0]]
			}
		}
		return lp
	}
}

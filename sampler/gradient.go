package sampler

import (
	"math"

	"github.com/lmmbayes/lmmbayes/priors"
)

// gradKernel is a Kernel that also gives the posterior moments of
// (u, β) that the gradient of the collapsed target needs; it is the
// method set of *model.MixedModel.
type gradKernel interface {
	Kernel
	// InvDiagSums writes per term (Design.Terms order) the sum over
	// levels of the diagonal blocks of M⁻¹ = (LLᵀ)⁻¹ and the diagonal
	// of its β block.
	InvDiagSums(sums [][]float64, betaDiag []float64)
	// ModeSums writes per term the sum over levels of ũ_j ũ_jᵀ, and β̂.
	ModeSums(sums [][]float64, beta []float64)
}

// gradWork is the scratch of logTargetGrad.
type gradWork struct {
	inv, mom    [][]float64 // per term, k × k
	bdiag, bhat []float64
	a, cinv, g  []float64 // k × k scratch
}

func newGradWork(lay *layout) *gradWork {
	w := &gradWork{bdiag: make([]float64, lay.p), bhat: make([]float64, lay.p)}
	kmax := 1
	for _, t := range lay.terms {
		w.inv = append(w.inv, make([]float64, t.k*t.k))
		w.mom = append(w.mom, make([]float64, t.k*t.k))
		kmax = max(kmax, t.k)
	}
	w.a = make([]float64, kmax*kmax)
	w.cinv = make([]float64, kmax*kmax)
	w.g = make([]float64, kmax*kmax)
	return w
}

// logTargetGrad returns logTarget(psi, k) and writes its gradient with
// respect to ψ into grad, leaving k factored at ψ.
//
// The gradient of log p(y | ψ) is Fisher's identity: the posterior mean,
// over (β, b) | ψ, y, of the gradient of the complete-data log density
// log N(y; Xβ + Zb, σ²I) + Σₖ Σⱼ log N(bₖⱼ; 0, CₖCₖᵀ) + log p(β | σ).
// With (u, β) | ψ, y ~ N((ũ, β̂), σ²M⁻¹) and bₖⱼ = Cₖuₖⱼ/σ, write
// Uₖ = Σⱼ E[uₖⱼuₖⱼᵀ] = Σⱼ ũₖⱼũₖⱼᵀ + σ² Σⱼ (M⁻¹)ₖⱼ,ₖⱼ (ModeSums and
// InvDiagSums). Then
//
//	∂/∂Cₖ = Cₖ⁻ᵀ (Uₖ/σ² − Jₖ I)   (lower triangle; Jₖ levels),
//	∂/∂log σ = −n + E[RSS]/σ² + Σ_horseshoe (E[βⱼ²]/(σ²τ²λⱼ²) − 1),
//
// where E[RSS] = r² + σ²(q + p) − Σₖ tr Uₖ − Σⱼ Pⱼ E[(βⱼ − μⱼ)²] follows from
// E[(x − x̂)ᵀM(x − x̂)] = σ²(q + p) for x = (u, β). The chain rule then
// runs through Cₖ = diag(τₖ) L_Ωₖ, the corr-Cholesky transform of L_Ωₖ and
// its Jacobian, the LKJ density and the priors on σ and τ.
// Inverse-Wishart terms are not in ψ; their Σₖ is fixed.
func (ev *evaluator) logTargetGrad(psi []float64, k gradKernel, grad []float64) float64 {
	lp := ev.logTarget(psi, k)
	clear(grad)
	if math.IsInf(lp, -1) {
		return lp
	}
	if ev.gw == nil {
		ev.gw = newGradWork(ev.lay)
	}
	w := ev.gw
	k.InvDiagSums(w.inv, w.bdiag)
	k.ModeSums(w.mom, w.bhat)
	lay := ev.lay
	sigma := math.Exp(psi[0])
	s2 := sigma * sigma
	// E[RSS].
	eRSS := k.PWRSS() + s2*float64(lay.q+lay.p)
	for ti, t := range lay.terms {
		kk := t.k
		for e := range kk {
			eRSS -= w.mom[ti][e*kk+e] + s2*w.inv[ti][e*kk+e]
		}
	}
	g0 := 0.0
	for j, f := range ev.fixed {
		if f.kind == fixedFlat {
			continue
		}
		d := w.bhat[j] - ev.pmean[j]
		e2 := d*d + s2*w.bdiag[j]
		eRSS -= ev.prec[j] * e2
		if f.kind == fixedHorseshoe {
			g0 += e2/(s2*ev.lvar[j]) - 1
		}
	}
	g0 += -float64(lay.n) + eRSS/s2
	g0 += sigma*ev.sigP.dLogDensitySD(sigma) + 1
	grad[0] = g0
	for ti, t := range lay.terms {
		if t.iw {
			continue
		}
		kk := t.k
		c := ev.c[ti]
		// A = U/σ² − J I.
		a := w.a[:kk*kk]
		for i := range kk * kk {
			a[i] = w.mom[ti][i]/s2 + w.inv[ti][i]
		}
		for e := range kk {
			a[e*kk+e] -= float64(t.nlev)
		}
		cinv := w.cinv[:kk*kk]
		lowerInv(c, kk, cinv)
		// G = C⁻ᵀA on the lower triangle: G[i][j] = Σ_{m≥i} C⁻¹[m][i] A[m][j].
		g := w.g[:kk*kk]
		clear(g)
		for i := range kk {
			for j := 0; j <= i; j++ {
				var s float64
				for m := i; m < kk; m++ {
					s += cinv[m*kk+i] * a[m*kk+j]
				}
				g[i*kk+j] = s
			}
		}
		for e := range kk {
			tau := math.Exp(psi[t.sdOff+e])
			var s float64
			for j := 0; j <= e; j++ {
				s += c[e*kk+j] * g[e*kk+j]
			}
			grad[t.sdOff+e] = s + tau*ev.sdP[ti][e].dLogDensitySD(tau) + 1
			// ∂/∂L_Ω[e][j] = τₑ G[e][j].
			for j := 0; j <= e; j++ {
				g[e*kk+j] *= tau
			}
		}
		if t.corr {
			corrCholeskyGrad(psi[t.corOff:t.corOff+t.ncor], kk, ev.lom[ti], g, ev.spec.CorEta[ti], grad[t.corOff:t.corOff+t.ncor])
		}
	}
	for _, v := range grad {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.Inf(-1)
		}
	}
	return lp
}

// corrCholeskyGrad adds to out (len K(K−1)/2) the gradient with respect
// to the unconstrained y of Σᵢⱼ gL[i][j]·L[i][j] (gL the gradient of the
// log target with respect to the Cholesky factor L of the correlation
// matrix, lower triangle, row-major k × k) plus the log-Jacobian of
// corrCholesky and the LKJ(η) log density, by reverse accumulation
// through corrCholesky's row recursion
//
//	s₀ = 1, L[i][j] = z_j √s_j, s_{j+1} = s_j − L[i][j]², L[i][i] = √s_i.
func corrCholeskyGrad(y []float64, k int, l, gL []float64, eta float64, out []float64) {
	n := 0
	for i := 1; i < k; i++ {
		base := n
		n += i
		// Recompute z and s_j for the row.
		var zb, sb [8]float64
		var z, s []float64
		if i <= 7 {
			z, s = zb[:i], sb[:i+1]
		} else {
			z, s = make([]float64, i), make([]float64, i+1)
		}
		s[0] = 1
		for j := range i {
			z[j] = math.Tanh(y[base+j])
			s[j+1] = s[j] - l[i*k+j]*l[i*k+j]
		}
		// d/ds_i of gL[i][i]·√s_i + LKJ coefficient · ½ log s_i.
		coef := float64(k-i-1) + 2*eta - 2
		si := math.Max(s[i], 1e-300)
		gs := gL[i*k+i]/(2*math.Sqrt(si)) + coef*0.5/si
		for j := i - 1; j >= 0; j-- {
			// s_{j+1} = s_j − L_j²: L_j gets −2L_j·gs.
			lj := l[i*k+j]
			gl := gL[i*k+j] - 2*lj*gs
			sq := math.Sqrt(math.Max(s[j], 1e-300))
			gz := gl * sq
			// ds_j: from s_{j+1} = s_j − …, and from L_j = z_j √s_j,
			// and the Jacobian term ½ log s_j (0 < j).
			gsj := gs + gl*z[j]/(2*sq)
			if j > 0 {
				gsj += 0.5 / math.Max(s[j], 1e-300)
			}
			gs = gsj
			// z = tanh y: dz/dy = 1 − z²; Jacobian log(1 − z²): d/dy = −2z.
			out[base+j] += gz*(1-z[j]*z[j]) - 2*z[j]
		}
	}
}

// lowerInv writes the inverse of the k × k row-major lower-triangular c
// into out.
func lowerInv(c []float64, k int, out []float64) {
	clear(out[:k*k])
	for col := range k {
		out[col*k+col] = 1 / c[col*k+col]
		for r := col + 1; r < k; r++ {
			var s float64
			for j := col; j < r; j++ {
				s += c[r*k+j] * out[j*k+col]
			}
			out[r*k+col] = -s / c[r*k+r]
		}
	}
}

// dLogDensitySD is the derivative of logDensitySD at x > 0: in closed
// form for the families lmmbayes offers on SDs, by a central difference
// for any other.
func (f fastScale) dLogDensitySD(x float64) float64 {
	switch q := f.p.(type) {
	case priors.StudentT:
		d := x - q.Mu
		return -(q.Nu + 1) * d / (q.Nu*q.Sigma*q.Sigma + d*d)
	case priors.Normal:
		return -(x - q.Mu) / (q.Sigma * q.Sigma)
	case priors.Cauchy:
		d := x - q.Mu
		return -2 * d / (q.Sigma*q.Sigma + d*d)
	case priors.Exponential:
		return -q.Rate
	case priors.InvGamma:
		v := x * x
		return (-(q.Shape+1)/v+q.Scale/(v*v))*2*x + 1/x
	}
	h := 1e-5 * x
	return (f.logDensitySD(x+h) - f.logDensitySD(x-h)) / (2 * h)
}

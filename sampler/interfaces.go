package sampler

import "time"

// Kernel is what the sampler needs of a mixed-model kernel; it is the
// method set of *model.MixedModel (see that type for the definitions).
type Kernel interface {
	// ThetaLen is the length of θ.
	ThetaLen() int
	// TermOrder maps kernel positions to Design.Terms indices.
	TermOrder() []int
	// SetTheta sets Λθ and refactors.
	SetTheta(theta []float64) error
	// SetFixedPrecision sets a Gaussian prior on β (σ²-relative
	// precisions and means), effective at the next SetTheta.
	SetFixedPrecision(prec, mean []float64)
	// PWRSS is the penalised residual sum of squares at the modes.
	PWRSS() float64
	// LogDetZ is log det(ΛᵀZᵀZΛ + I).
	LogDetZ() float64
	// LogDetX is log|R_X|² of the fixed-effects block.
	LogDetX() float64
	// Draw draws (u, β) ~ N(modes, σ²(LLᵀ)⁻¹) from standard normals z.
	Draw(z []float64, sigma float64, u, beta []float64)
	// ToB maps u (kernel order) to b (Design.Terms order).
	ToB(u []float64, b [][]float64)
	// Q is the number of random effects.
	Q() int
	// P is the number of fixed effects.
	P() int
	// N is the number of observations.
	N() int
}

// Logger receives progress reports from the chains. Implementations must
// be safe for concurrent use: chains run in parallel goroutines.
type Logger interface {
	// Progress reports that chain (its id) has completed iter of total
	// iterations (warmup included) after elapsed wall time.
	Progress(chain, iter, total int, elapsed time.Duration)
}

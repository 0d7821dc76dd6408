package sampler

import (
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// Spec is a model with its priors.
type Spec struct {
	// Design is the model's design.
	Design *model.Design
	// NewKernel returns a fresh kernel of Design; each chain makes two.
	// Nil means model.NewMixedModel.
	NewKernel func(d *model.Design) (Kernel, error)
	// Fixed holds the prior of each column of X (len P). Supported:
	// priors.Flat, priors.Normal, the scale mixtures priors.StudentT,
	// priors.Cauchy and priors.Laplace, and priors.Horseshoe (βⱼ ~
	// N(0, σ²τ²λⱼ²); the columns with the same horseshoe scale share one
	// global τ).
	Fixed []priors.Univariate
	// Sigma is the prior on the residual SD σ.
	Sigma priors.ScalePrior
	// SD holds, per Design.Terms entry, the prior of each of its K SDs
	// (ignored, and may be nil, for a term with a Cov prior).
	SD [][]priors.ScalePrior
	// CorEta holds, per Design.Terms entry, the LKJ shape η of its
	// correlation matrix (ignored when K = 1, the term is uncorrelated or
	// it has a Cov prior).
	CorEta []float64
	// Cov holds, per Design.Terms entry, an inverse-Wishart prior on the
	// term's whole covariance Σₖ, or nil (then SD and CorEta apply). Nil
	// or shorter than Design.Terms means none. Σₖ is updated by its
	// conjugate Gibbs step given b.
	Cov []*priors.InvWishart
	// ConjugateInvGamma asks for the conjugate Gibbs step on the variance
	// of σ and of the SDs of uncorrelated terms whose prior is
	// priors.InvGamma, in addition to the Metropolis step on ψ (see
	// docs/sampler.md: on sleepstudy it costs more than it gains, so it is
	// off by default).
	ConjugateInvGamma bool
}

// Options control a run.
type Options struct {
	// Chains is the number of chains.
	Chains int
	// FirstChain is the id of the first chain (default 1); chain c has id
	// FirstChain+c and its random stream depends only on (Seed, id).
	FirstChain int
	// Warmup is the number of warmup iterations per chain.
	Warmup int
	// Draws is the number of saved draws per chain (after thinning).
	Draws int
	// Thin keeps every Thin-th post-warmup iteration (default 1).
	Thin int
	// Seed seeds every chain's PCG stream.
	Seed uint64
	// RandomEffects keeps the r_ columns in the draws.
	RandomEffects bool
	// Parallel is the number of chains run at once (default: all).
	Parallel int
	// Logger receives progress reports (nil: none).
	Logger Logger
	// Method picks the algorithm: "collapsed" (the marginal Metropolis
	// update of the variance parameters with the joint draw of β and b),
	// "crossed" (for large crossed designs), or "auto" / "" (choose).
	Method string
	// Sink, when set, is called once per chain before the chain starts;
	// the chain's saved draws go to the returned DrawSink as they are
	// made and are not kept: ChainResult.Draws stays nil and NDraws counts
	// what the sink received (cut to the shortest chain when the run is
	// interrupted).
	Sink func(info ChainInfo) (DrawSink, error)
	// IndependenceWeight is the probability of the independence
	// proposal after warmup (default 0.95; negative means 0).
	IndependenceWeight float64

	// drawScale, when nonzero, multiplies σ in the (β, b) draw: a
	// deliberately wrong conditional for the calibration test to catch.
	drawScale float64
	// iwNuShift, when nonzero, is added to the degrees of freedom of the
	// inverse-Wishart full conditional: a deliberately wrong conditional
	// for the Geweke test to catch.
	iwNuShift float64
	// plainGibbs replaces the collapsed ψ step by Metropolis on
	// p(ψ | β, b, y) (plain, centred Gibbs), for measurement.
	plainGibbs bool
	// rwScales, when set, replaces the adaptive random walk by a fixed
	// isotropic one whose scale is drawn from rwScales at each iteration
	// (a mixture of fixed kernels, as the Geweke test needs).
	rwScales []float64
	// crossedSmall, when nonzero, replaces smallMax (the bound on the
	// length of β̃ in the crossed method); negative puts no term in β̃,
	// so that every term is updated on its own (for the tests).
	crossedSmall int
	// nutsKineticScale, when nonzero, multiplies the kinetic energy in
	// NUTS's Hamiltonian: a deliberately wrong sampler for the Geweke
	// test to catch.
	nutsKineticScale float64
	// nutsLogSD makes NUTS move in ψ itself (log τ) instead of the
	// signed-SD coordinates of signedSD (the comparison that chose them,
	// docs/sampler.md).
	nutsLogSD bool
	// noScaleStep turns off the crossed method's scale (interweaving)
	// step, for measurement.
	noScaleStep bool
}

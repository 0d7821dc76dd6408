// Package priors parses, evaluates, samples and resolves the prior
// distributions of lmmbayes's Bayesian linear mixed models
//
//	y = Xβ + Σₖ Zₖbₖ + ε,  ε ~ N(0, σ²I),  bₖⱼ ~ N(0, Σₖ),
//	Σₖ = diag(τₖ) Ωₖ diag(τₖ).
//
// Priors are written as brms-style strings ("normal(0, 10)",
// "student_t(3, 0, 2.5)", "lkj(2)", "inv_wishart(4, [[1,0],[0,1]])") and
// parsed by [Parse]. Each family is a concrete type (Normal, StudentT,
// Cauchy, Laplace, Horseshoe, Exponential, InvGamma, LKJ, InvWishart,
// Flat) with a normalised log density, a sampler taking an explicit
// *rand.Rand (math/rand/v2), a String method that prints the prior as a
// user would write it, and, where the sampler needs them, conjugate and
// scale-mixture conditional updates.
//
// Priors attach to parameter classes named as in brms: b (fixed-effect
// slopes), Intercept, sigma (residual SD), sd (random-effect SDs τ), cor
// (correlation matrices Ω) and, in lmmbayes only, cov (a whole covariance
// matrix Σₖ, for the conjugate inverse-Wishart). [Resolve] maps the keys
// of a [prior] table (b, b_Days, Intercept, sigma, sd, sd_Subject,
// sd_Subject__Days, cor, cor_Subject, cov, cov_Subject) onto every
// parameter of a model, more specific keys overriding less specific ones,
// and fills the rest from brms's defaults ([Defaults]).
//
// On a standard deviation (classes sigma and sd) the location-scale
// families normal, student_t and cauchy are HALF distributions: the
// density given is truncated to x > 0 and renormalised, with the location
// as given (as brms does). inv_gamma is a prior on a VARIANCE (σ² or τ²);
// [InvGamma.LogDensitySD] gives the density it implies on the SD scale,
// Jacobian included. See docs/priors.md for the formulas.
package priors

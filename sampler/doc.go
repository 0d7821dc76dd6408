// Package sampler draws from the posterior of a Bayesian linear mixed model
//
//	y = Xβ + Σₖ Zₖbₖ + ε,  ε ~ N(0, σ²I),  bₖⱼ ~ N(0, Σₖ),
//	Σₖ = diag(τₖ) Ωₖ diag(τₖ),
//
// by a collapsed (partially marginalised) Gibbs sampler:
//
//  1. the variance parameters ψ = (log σ, log τ, canonical partial
//     correlations of each Ωₖ on the tanh scale; terms with an
//     inverse-Wishart prior on Σₖ excluded) by Metropolis–Hastings on
//     their marginal posterior p(ψ | y, ·), with β and b integrated out
//     exactly by the blocked Cholesky kernel of package model;
//  2. (β, b) | ψ, y drawn jointly and exactly from their Gaussian full
//     conditional;
//  3. Gibbs steps given (β, b): the latent variances of scale-mixture
//     priors on β (student_t, cauchy, laplace), the horseshoe's local and
//     global variances and auxiliaries, each inverse-Wishart Σₖ from
//     IW(ν + J, S + Σⱼ bⱼbⱼᵀ), and (when Spec.ConjugateInvGamma is set)
//     the conjugate inverse-gamma variances.
//
// The random-walk proposal of step 1 is adapted during warmup only; after
// warmup it is fixed: a mixture of the adapted random walk and an
// independence multivariate-t proposal fitted to the warmup draws. Each
// chain has its own PCG stream seeded by (seed, chain id), so that output
// does not depend on scheduling. See docs/sampler.md for the derivations.
package sampler

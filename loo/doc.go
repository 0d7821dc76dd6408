// Package loo computes approximate leave-one-out cross-validation by Pareto
// smoothed importance sampling (PSIS-LOO), WAIC and model comparison from a
// pointwise log-likelihood matrix, as R's loo package (version 2.5.1) does:
// Vehtari, Gelman & Gabry (2017), "Practical Bayesian model evaluation using
// leave-one-out cross-validation and WAIC", Statistics and Computing 27,
// 1413–1432, and Vehtari, Simpson, Gelman, Yao & Gabry (2024), "Pareto
// smoothed importance sampling", JMLR 25(72).
//
// The log-likelihood of observation i is given as its S draws in chain order
// (chain 1's draws, then chain 2's, …), so that every observation can be
// processed on its own: memory need not hold the whole S × N matrix.
//
// It also holds the Bayesian R² of Gelman, Goodrich, Gabry & Vehtari (2019)
// as brms's bayes_R2 computes it, and the leave-one-group-out marginal
// log-likelihood of a Gaussian linear mixed model.
package loo

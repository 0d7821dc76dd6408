// Package diagnostics computes MCMC convergence diagnostics and posterior
// summaries exactly as R's posterior package (version 1.4.0) does, and
// reads CmdStan / rstan CSV output files.
//
// Draws of one variable are a chains × iterations matrix, [][]float64,
// every chain of the same length. The estimators follow Vehtari, Gelman,
// Simpson, Carpenter and Bürkner (2021), "Rank-normalization, folding, and
// localization: an improved R-hat for assessing convergence of MCMC",
// Bayesian Analysis 16(2):667–718:
//
//   - Rhat: the maximum of the rank-normalised split R-hat of the draws and
//     of the draws folded around their median; RhatBasic: split R-hat.
//   - ESSBulk, ESSTail, ESSBasic, ESSMean, ESSSD, ESSQuantile: effective
//     sample sizes from FFT autocovariances and Geyer's initial
//     monotone/positive sequence.
//   - MCSEMean, MCSESD, MCSEQuantile: Monte Carlo standard errors.
//
// Constant draws, non-finite draws, ragged chains and chains too short to
// split give NaN (R's NA), never a panic.
//
// Summarize computes the standard summary columns (Columns) of one
// variable with a single sort; SummarizeAll does it for many variables on
// a pool of workers; WriteCSV, WriteJSON and WriteTable print the result.
// ReadCmdStan reads one or more CmdStan CSV files (one chain each).
//
// See docs/diagnostics.md for the formulas.
package diagnostics

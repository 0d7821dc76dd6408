// Package draws holds the posterior draws of a run of lmmbayes and the
// run directory they live in.
//
// It is the one place that knows the draws' columns: ColumnNames names
// them for a design (lp__, b_, sd_, cor_, sigma, then the r_ columns of
// the random effects, as brms names them), and Layout maps a row back to
// the parameters of model.ParamDraw.
//
// Draws is the one container of draws: chains in order, each row-major.
// Read reads it from a run directory (draws_1.csv, draws_2.csv, …,
// CmdStan CSV files) and checks the columns against the design; SinkSet
// writes the files as the sampler makes the draws.
//
// The run directory also holds run.json, whose schema is RunMeta (read
// with ReadMeta), and random_effects.csv, which names the r_ columns
// (WriteREMap, ReadREMap).
//
// Errors caused by the caller's input (a missing run, a changed data
// file, draws that do not fit the model) are *InputError.
package draws

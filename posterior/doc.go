// Package posterior computes with the posterior draws of a run of
// lmmbayes (a draws.Draws and the model.Design it was fitted with):
//
//   - Predict draws the expected response and the posterior predictive of
//     new rows (model.NewData), as brms' posterior_epred and
//     posterior_predict; WritePredictions summarises them per row.
//   - WritePPC writes the posterior predictive check of the training
//     rows (ppc.csv, ppc_stats.csv, and for the count families the
//     rootogram's frequencies, ppc_rootogram.csv).
//   - Coef gives lme4's coef() per level: fixed plus random effect.
//   - Compare sets the posterior beside a maximum-likelihood fit.
//
// Errors caused by the caller's input are *draws.InputError.
package posterior

# Loads lmmbayes draws files with rstan::read_stan_csv, summarises them with
# posterior, and checks the result against lmmbayes's own summary.csv.
# Usage: Rscript scripts/check_r_interop.R RUN_DIR
suppressMessages({library(rstan); library(posterior)})
dir <- commandArgs(trailingOnly = TRUE)[1]
files <- Sys.glob(file.path(dir, "draws_*.csv"))
files <- files[order(as.integer(sub(".*draws_([0-9]+)\\.csv$", "\\1", files)))]
fit <- suppressWarnings(rstan::read_stan_csv(files))
draws <- posterior::as_draws_array(fit)
draws <- posterior::subset_draws(draws, variable = setdiff(posterior::variables(draws), "lp__"))
theirs <- as.data.frame(posterior::summarise_draws(draws,
  mean, sd, median, mad, ~quantile(.x, probs = c(0.025, 0.05, 0.95, 0.975)),
  rhat, ess_bulk, ess_tail, mcse_mean, mcse_sd))
ours <- read.csv(file.path(dir, "summary.csv"), check.names = FALSE)
stopifnot(nrow(ours) == nrow(theirs))
cols <- c("mean", "sd", "median", "mad", "2.5%", "5%", "95%", "97.5%", "rhat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd")
ourcols <- c("mean", "sd", "median", "mad", "q2.5", "q5", "q95", "q97.5", "rhat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd")
worst <- 0
for (k in seq_along(cols)) {
  a <- ours[[ourcols[k]]]; b <- theirs[[cols[k]]]
  rel <- abs(a - b) / pmax(abs(b), 1e-9)
  worst <- max(worst, rel, na.rm = TRUE)
  bad <- which(rel > 1e-6)
  if (length(bad) > 0) {
    cat(sprintf("MISMATCH %s: %s ours %.10g posterior %.10g\n", ourcols[k], ours$variable[bad], a[bad], b[bad]))
  }
}
cat(sprintf("rstan::read_stan_csv loaded %d chains x %d draws x %d variables; largest relative difference from posterior %.2e\n",
  dim(draws)[2], dim(draws)[1], dim(draws)[3], worst))
if (worst > 1e-6) quit(status = 1)

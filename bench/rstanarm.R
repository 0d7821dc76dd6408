# Posterior by rstanarm::stan_lmer (default priors) for bench/run.sh.
# Usage: Rscript bench/rstanarm.R DATA.csv 'FORMULA' 'factor1,factor2' CHAINS WARMUP DRAWS SEED
# Runs CHAINS chains of WARMUP + DRAWS iterations (cores = all), then computes
# bulk-ESS and R-hat (posterior::summarise_draws, the same definitions as
# lmmbayes' summary.csv) over the fixed effects, the random-effect SDs and
# correlations (derived per draw from rstanarm's Sigma[...] covariances) and
# sigma. Prints one line:
#   tool=rstanarm inner_s=<seconds in stan_lmer()> min_ess_bulk=... min_ess_var=... max_rhat=... max_rhat_var=...
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 7) stop("usage: rstanarm.R DATA FORMULA FACTORS CHAINS WARMUP DRAWS SEED")
suppressPackageStartupMessages({
  library(rstanarm)
  library(posterior)
})
d <- read.csv(args[1], stringsAsFactors = TRUE)
factors <- if (nzchar(args[3])) strsplit(args[3], ",")[[1]] else character()
for (f in factors) d[[f]] <- factor(d[[f]])
chains <- as.integer(args[4]); warmup <- as.integer(args[5]); draws <- as.integer(args[6])
seed <- as.integer(args[7])
form <- as.formula(args[2])
t <- system.time(fit <- stan_lmer(form, data = d, chains = chains, iter = warmup + draws,
  warmup = warmup, seed = seed, cores = min(chains, parallel::detectCores()), refresh = 0))[["elapsed"]]

a <- as.array(fit) # iterations x chains x parameters
pn <- dimnames(a)[[3]]
keep <- list()
for (p in pn) {
  if (p == "sigma") keep[["sigma"]] <- a[, , p]
  else if (!startsWith(p, "b[") && !startsWith(p, "Sigma[") && p != "log-posterior")
    keep[[paste0("b_", p)]] <- a[, , p]
}
# Sigma[g:e1,e2]: variances on the diagonal, covariances below it.
sig <- grep("^Sigma\\[", pn, value = TRUE)
parse <- function(p) {
  inner <- sub("^Sigma\\[(.*)\\]$", "\\1", p)
  g <- sub(":.*$", "", inner)
  rest <- sub("^[^:]*:", "", inner)
  # The group may itself contain ':' (dept:service); split at the last
  # ':' before the effect pair.
  m <- regmatches(inner, regexec("^(.*):([^,:]*),([^,]*)$", inner))[[1]]
  list(g = m[2], e1 = m[3], e2 = m[4])
}
info <- lapply(sig, parse)
for (i in seq_along(sig)) {
  s <- info[[i]]
  if (s$e1 == s$e2) keep[[sprintf("sd_%s__%s", s$g, s$e1)]] <- sqrt(a[, , sig[i]])
}
for (i in seq_along(sig)) {
  s <- info[[i]]
  if (s$e1 != s$e2) {
    v1 <- a[, , sprintf("Sigma[%s:%s,%s]", s$g, s$e1, s$e1)]
    v2 <- a[, , sprintf("Sigma[%s:%s,%s]", s$g, s$e2, s$e2)]
    keep[[sprintf("cor_%s__%s__%s", s$g, s$e2, s$e1)]] <- a[, , sig[i]] / sqrt(v1 * v2)
  }
}
# lmmbayes' names: "(Intercept)" is "Intercept".
names(keep) <- gsub("(Intercept)", "Intercept", names(keep), fixed = TRUE)
arr <- array(unlist(keep), dim = c(dim(a)[1], dim(a)[2], length(keep)),
  dimnames = list(NULL, NULL, names(keep)))
sm <- summarise_draws(as_draws_array(arr), "ess_bulk", "rhat")
i <- which.min(sm$ess_bulk); j <- which.max(sm$rhat)
cat(sprintf("tool=rstanarm inner_s=%.4f min_ess_bulk=%.1f min_ess_var=%s max_rhat=%.4f max_rhat_var=%s\n",
  t, sm$ess_bulk[i], sm$variable[i], sm$rhat[j], sm$variable[j]))

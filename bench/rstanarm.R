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
# Sigma[g:e1,e2]: variances on the diagonal, covariances below it (e1 the
# later effect). The names are built from the model's own grouping factors
# and effect names (lme4's cnms), since both may contain ':' (dept:service,
# A:B).
cnms <- fit$glmod$reTrms$cnms
for (g in names(cnms)) {
  es <- cnms[[g]]
  v <- function(e) a[, , sprintf("Sigma[%s:%s,%s]", g, e, e)]
  for (e in es) keep[[sprintf("sd_%s__%s", g, e)]] <- sqrt(v(e))
}
for (g in names(cnms)) {
  es <- cnms[[g]]
  if (length(es) < 2) next
  for (j in 1:(length(es) - 1)) for (i in (j + 1):length(es)) {
    cv <- a[, , sprintf("Sigma[%s:%s,%s]", g, es[i], es[j])]
    keep[[sprintf("cor_%s__%s__%s", g, es[j], es[i])]] <- cv / sqrt(a[, , sprintf("Sigma[%s:%s,%s]", g, es[i], es[i])] * a[, , sprintf("Sigma[%s:%s,%s]", g, es[j], es[j])])
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

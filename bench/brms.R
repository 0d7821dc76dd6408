# Posterior by brms (rstan backend) for bench/run.sh's GLMM models.
# Usage: Rscript bench/brms.R DATA.csv 'BRMS_FORMULA' 'factor1,factor2' FAMILY CHAINS WARMUP DRAWS SEED
# FAMILY is bernoulli, binomial, poisson or negbinomial. The priors are the
# shipped configs' (configs/cbpp.toml, configs/verbagg.toml): b and the
# intercept ~ normal(0, 10) (the formula must use `0 + Intercept + ...`, so
# that the prior is on the real intercept), sd ~ student_t(3, 0, 2.5).
# Runs CHAINS chains of WARMUP + DRAWS iterations (cores = all), then computes
# bulk-ESS and R-hat (posterior::summarise_draws, the same definitions as
# lmmbayes' summary.csv) over the b_, sd_, cor_ and shape parameters.
# Prints one line:
#   tool=brms inner_s=<summed sampling seconds> warmup_s=... compile_s=... min_ess_bulk=... min_ess_var=... max_rhat=... max_rhat_var=...
# inner_s is the sampling time (warmup excluded) summed over the chains, as
# rstan's get_elapsed_time reports it; compile_s the model's compilation.
#
# BOOST WORKAROUND: Debian's r-cran-bh ships no include/, so brms/rstan fail
# with "Boost not found". bh_workaround() makes a private library ~/.R-bh
# whose BH/include is a symlink to /usr/include (Debian's libboost-dev) and
# puts it first in .libPaths() (as testdata/glmm/glmm_brms.R does).
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 8) stop("usage: brms.R DATA FORMULA FACTORS FAMILY CHAINS WARMUP DRAWS SEED")
bh_workaround <- function() {
  lib <- file.path(Sys.getenv("HOME"), ".R-bh"); bh <- file.path(lib, "BH")
  if (!dir.exists(bh)) {
    dir.create(lib, recursive = TRUE, showWarnings = FALSE)
    src <- system.file(package = "BH")
    if (nzchar(src)) file.copy(src, lib, recursive = TRUE) else dir.create(bh)
    if (!file.exists(file.path(bh, "DESCRIPTION")))
      writeLines(c("Package: BH", "Version: 1.74.0-1", "Title: Boost C++ Header Files (symlink to /usr/include)",
        "Description: Boost headers from libboost-dev.", "License: BSL-1.0"), file.path(bh, "DESCRIPTION"))
  }
  inc <- file.path(bh, "include")
  if (!file.exists(inc)) file.symlink("/usr/include", inc)
  .libPaths(c(lib, .libPaths()))
  got <- system.file("include", package = "BH")
  if (normalizePath(got) != normalizePath(inc) || !file.exists(file.path(got, "boost", "version.hpp")))
    stop("Boost workaround failed: system.file('include', package='BH') = '", got, "'")
}
bh_workaround()
suppressPackageStartupMessages({ library(brms); library(rstan); library(posterior) })
d <- read.csv(args[1], stringsAsFactors = TRUE)
factors <- if (nzchar(args[3])) strsplit(args[3], ",")[[1]] else character()
for (f in factors) d[[f]] <- factor(d[[f]])
fam <- switch(args[4], bernoulli = bernoulli(), binomial = binomial(), poisson = poisson(),
  negbinomial = negbinomial(), stop("unknown family ", args[4]))
chains <- as.integer(args[5]); warmup <- as.integer(args[6]); draws <- as.integer(args[7])
seed <- as.integer(args[8])
pri <- c(set_prior("normal(0, 10)", class = "b"), set_prior("student_t(3, 0, 2.5)", class = "sd"))
t0 <- proc.time()[["elapsed"]]
fit0 <- brm(bf(as.formula(args[2])), data = d, family = fam, prior = pri, chains = 0, backend = "rstan")
compile_s <- proc.time()[["elapsed"]] - t0
fit <- update(fit0, recompile = FALSE, chains = chains, iter = warmup + draws, warmup = warmup,
  seed = seed, cores = min(chains, parallel::detectCores()), refresh = 0)
el <- get_elapsed_time(fit$fit)
dr <- as_draws_array(fit)
keep <- grep("^(b_|sd_|cor_|shape$)", variables(dr), value = TRUE)
sm <- summarise_draws(subset_draws(dr, variable = keep), "ess_bulk", "rhat")
i <- which.min(sm$ess_bulk); j <- which.max(sm$rhat)
cat(sprintf("tool=brms inner_s=%.4f warmup_s=%.4f compile_s=%.1f min_ess_bulk=%.1f min_ess_var=%s max_rhat=%.4f max_rhat_var=%s\n",
  sum(el[, "sample"]), sum(el[, "warmup"]), compile_s, sm$ess_bulk[i], sm$variable[i], sm$rhat[j], sm$variable[j]))

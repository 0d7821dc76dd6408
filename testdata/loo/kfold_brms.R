# kfold_brms.R: brms's grouped 10-fold cross-validation of sleepstudy, the
# reference for `lmmbayes kfold` (issue 16).
#
# Run from the repository root, at low priority (the machine is shared):
#   nice -n 19 Rscript testdata/loo/kfold_brms.R > testdata/loo/kfold_brms.log 2>&1
# R 4.2.2, brms 2.18.0, rstan 2.21, loo 2.5.1 (Debian packages). Debian's r-cran-bh has
# no include/ folder, so the BH package is pointed at /usr/include (libboost-dev) through a
# private library, as scripts/family_refs.R does.
#
# Model and priors are those of configs/sleepstudy.toml (and testdata/stan):
#   Reaction ~ Days + (Days | Subject); b, Intercept ~ normal(0, 1000);
#   sigma, sd ~ half-student_t(3, 0, 50); cor ~ lkj(2).
# brms puts the Intercept prior on the intercept of centred predictors; with a
# normal(0, 1000) prior that changes nothing measurable.
# Writes testdata/loo/kfold_brms.json: elpd_kfold, se_elpd_kfold, p_kfold, the
# pointwise elpd and the fold of every row.
suppressMessages(library(jsonlite))
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
suppressMessages({library(brms); library(rstan); library(loo)})
rstan_options(auto_write = FALSE)

d <- read.csv("testdata/sleepstudy.csv")
d$Subject <- factor(d$Subject)
pr <- c(prior(normal(0, 1000), class = b),
        prior(normal(0, 1000), class = Intercept),
        prior(student_t(3, 0, 50), class = sigma),
        prior(student_t(3, 0, 50), class = sd),
        prior(lkj(2), class = cor))
t0 <- Sys.time()
fit <- brm(Reaction ~ Days + (Days | Subject), data = d, prior = pr, chains = 4, cores = 1,
           iter = 2000, warmup = 1000, seed = 20261201, refresh = 0)
cat("fit:", format(Sys.time() - t0), "\n")
set.seed(20261201)
t0 <- Sys.time()
kf <- kfold(fit, folds = "grouped", group = "Subject", K = 10, chains = 4, cores = 1, seed = 20261201)
cat("kfold:", format(Sys.time() - t0), "\n")
print(kf)
est <- kf$estimates
out <- list(
  loo_version = as.character(packageVersion("loo")),
  brms_version = as.character(packageVersion("brms")),
  K = 10,
  elpd_kfold = est["elpd_kfold", "Estimate"], se_elpd_kfold = est["elpd_kfold", "SE"],
  p_kfold = est["p_kfold", "Estimate"], se_p_kfold = est["p_kfold", "SE"],
  kfoldic = est["kfoldic", "Estimate"], se_kfoldic = est["kfoldic", "SE"],
  pointwise_elpd_kfold = unname(kf$pointwise[, "elpd_kfold"]),   # brms assigns subjects to folds at random

  subject = as.character(d$Subject))
write_json(out, "testdata/loo/kfold_brms.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote testdata/loo/kfold_brms.json\n")

# glmm_brms.R: long brms/Stan reference posteriors for the GLMM sampler
# (issue 15), testdata/glmm/. Run from the repository root, at low priority:
#
#   nice -n 19 Rscript testdata/glmm/glmm_brms.R [NAME ...]
#
# NAME is one of cbpp, verbagg, grouseticks, grouseticks_nb, insurance
# (default: all, one after another). Each writes brms_NAME.csv (posterior::summarise_draws
# of the b_, sd_, shape and first three r_ levels per factor, columns as
# testdata/stan/ref_sleepstudy.csv) and brms_NAME.json (timings,
# divergences, versions, priors). The fits are saved outside the repository
# in ~/.cache/glmm_fits.
#
# brms with rstan, 4 chains x (1000 warmup + 5000 draws), adapt_delta 0.95
# (insurance: 0.99),
# cores 2, seed 20261207. Formulas use `0 + Intercept + ...` so the
# intercept's prior is on the real intercept (not brms's centred one).
# Priors (the program's config syntax): b and Intercept ~ normal(0, 10),
# sd ~ student_t(3, 0, 2.5) (half-t), shape ~ gamma(0.01, 0.01) (brms's
# default for the negative binomial).
#
# BOOST WORKAROUND (as scripts/family_refs.R): Debian's r-cran-bh ships no
# include/, so brms/rstan fail with "Boost not found"; bh_workaround()
# makes a private library ~/.R-bh whose BH/include is a symlink to
# /usr/include and puts it first in .libPaths().
#
# Run on 2026-12-07, R 4.2.2 (Debian), on a shared 2-core machine.
suppressMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
outdir <- "testdata/glmm"
fitdir <- file.path(Sys.getenv("HOME"), ".cache", "glmm_fits")

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
  got
}
bh_workaround()
suppressMessages({library(brms); library(rstan); library(posterior)})
rstan_options(auto_write = FALSE)

rd <- function(f, factors) { d <- read.csv(file.path(outdir, f), stringsAsFactors = TRUE); for (v in factors) d[[v]] <- factor(d[[v]]); d }
specs <- list(
  cbpp = list(file = "cbpp.csv", factors = c("herd", "period"), family = binomial(),
    bf = "incidence | trials(size) ~ 0 + Intercept + period + (1 | herd)", groups = "herd"),
  verbagg = list(file = "verbagg.csv", factors = c("id", "item"), family = bernoulli(),
    bf = "r2 ~ 0 + Intercept + Anger + Gender + btype + situ + (1 | id) + (1 | item)", groups = c("id", "item")),
  grouseticks = list(file = "grouseticks.csv", factors = c("YEAR", "BROOD", "LOCATION"), family = poisson(),
    bf = "TICKS ~ 0 + Intercept + YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)", groups = c("BROOD", "LOCATION")),
  grouseticks_nb = list(file = "grouseticks.csv", factors = c("YEAR", "BROOD", "LOCATION"), family = negbinomial(),
    bf = "TICKS ~ 0 + Intercept + YEAR + scale(HEIGHT) + (1 | LOCATION)", groups = "LOCATION"),
  # MASS's Insurance with the log exposure as an offset (see glmm_refs.R;
  # insurance: run 2026-12-07 as the others).
  # With only 4 districts the SD's posterior reaches down to 0 (a funnel):
  # adapt_delta 0.95 gave 66 divergent transitions of 20000, so 0.99.
  insurance = list(file = "insurance.csv", factors = c("District"), family = poisson(),
    bf = "Claims ~ 0 + Intercept + Age + Group + offset(log(Holders)) + (1 | District)", groups = "District",
    adapt_delta = 0.99)
)
pri <- c(b = "normal(0, 10)", sd = "student_t(3, 0, 2.5)", shape = "gamma(0.01, 0.01)")

csv_field <- function(x) ifelse(grepl('[,"]', x), paste0('"', gsub('"', '""', x), '"'), x)
for (nm in if (length(args)) args else names(specs)) {
  s <- specs[[nm]]; d <- rd(s$file, s$factors)
  if (nm == "verbagg") d$r2 <- as.integer(d$r2 == "Y")
  pr <- c(set_prior(pri[["b"]], class = "b"), set_prior(pri[["sd"]], class = "sd"))
  if (nm == "grouseticks_nb") pr <- c(pr, set_prior(pri[["shape"]], class = "shape"))
  ad <- if (is.null(s$adapt_delta)) 0.95 else s$adapt_delta
  cat(sprintf("== %s: %s, %d rows\n", nm, s$bf, nrow(d)))
  t0 <- proc.time()[["elapsed"]]
  fit <- brm(bf(as.formula(s$bf)), data = d, family = s$family, prior = pr, backend = "rstan",
    chains = 4, iter = 6000, warmup = 1000, cores = 2, seed = 20261207,
    control = list(adapt_delta = ad), refresh = 1000)
  wall <- proc.time()[["elapsed"]] - t0
  dir.create(fitdir, showWarnings = FALSE, recursive = TRUE)
  saveRDS(list(fit = fit, wall = wall), file.path(fitdir, paste0(nm, ".rds")))
  v <- variables(fit)
  keep <- grepl("^(b_|sd_)", v) | v == "shape"
  for (g in s$groups) {
    lv <- levels(d[[g]])[1:3]
    keep <- keep | grepl(sprintf("^r_%s\\[(%s),", g, paste(lv, collapse = "|")), v)
  }
  dr <- subset_draws(as_draws_df(fit), variable = v[keep])
  sm <- as.data.frame(summarise_draws(dr, mean = mean, sd = sd,
    ~quantile2(.x, probs = c(0.025, 0.5, 0.975)), "rhat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd",
    mcse_q2.5 = function(x) mcse_quantile(x, 0.025), mcse_q97.5 = function(x) mcse_quantile(x, 0.975)))
  cols <- c("variable", "mean", "sd", "q2.5", "q50", "q97.5", "rhat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd", "mcse_q2.5", "mcse_q97.5")
  lines <- apply(as.data.frame(lapply(sm[cols], function(c) if (is.numeric(c)) as.character(as.numeric(c)) else csv_field(as.character(c)))), 1, paste, collapse = ",")
  writeLines(c(paste(cols, collapse = ","), lines), file.path(outdir, sprintf("brms_%s.csv", nm)))
  sf <- fit$fit; et <- get_elapsed_time(sf)
  info <- list(name = nm, data = s$file, formula = s$bf, family = s$family$family, nobs = nrow(d),
    chains = 4, warmup = 1000, draws_per_chain = 5000, adapt_delta = ad, seed = 20261207, cores = 2,
    wall_seconds = wall, warmup_seconds = sum(et[, "warmup"]), sampling_seconds = sum(et[, "sample"]),
    divergent = get_num_divergent(sf), max_treedepth_hits = get_num_max_treedepth(sf),
    min_ess_bulk = min(sm$ess_bulk), min_ess_tail = min(sm$ess_tail), max_rhat = max(sm$rhat),
    priors = as.list(pri), brms_version = as.character(packageVersion("brms")),
    rstan_version = as.character(packageVersion("rstan")), stan_version = stan_version(),
    posterior_version = as.character(packageVersion("posterior")), R_version = paste(R.version$major, R.version$minor, sep = "."))
  writeLines(toJSON(info, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(outdir, sprintf("brms_%s.json", nm)))
  cat(sprintf("== %s done: wall %.0fs, sampling %.0fs, divergent %d, min ess_bulk %.0f, max rhat %.4f\n",
    nm, wall, info$sampling_seconds, info$divergent, info$min_ess_bulk, info$max_rhat))
}

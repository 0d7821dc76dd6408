# family_refs.R: reference fits for the maximal-model test family (issue 12),
# testdata/family/. Run from the repository root, best via scripts/family_refs.sh:
#
#   Rscript scripts/family_refs.R lme4 [NAME ...]   # lme4 ML + REML -> NAME_ml.json, NAME_reml.json
#   Rscript scripts/family_refs.R stan NAME [...]   # brms/Stan -> stan_NAME.csv, stan_NAME.json
#   Rscript scripts/family_refs.R summary NAME [...] # redo stan_NAME.{csv,json} from the saved fit
#   Rscript scripts/family_refs.R bh                # only set up and check the Boost workaround
#
# NAME is one of maximal, maximal_zero, threeway, factor4, politeness_slopes
# (lme4 and stan) and penicillin (stan only; its lme4 fit is in testdata/lme4).
# The data sets come from `go run ./bench/family -out testdata/family`.
#
# lme4 stage: the JSON format and code of /work/shared/reference/scripts/mljson.R
# (the same keys; "data" is the file relative to testdata/).
#
# stan stage: brms with rstan, 4 chains x (1000 warmup + 2500 draws; 10000 for threeway),
# adapt_delta 0.95, cores 2, seed 20261207. Formulas use `0 + Intercept + ...`
# so the Intercept prior is on the real intercept, not brms's centred one.
# Priors (the program's config syntax): b and Intercept ~ normal(0, 1000),
# sigma and sd ~ student_t(3, 0, 50) (half-t), cor ~ lkj(2) for the rt-scale
# data (maximal, maximal_zero) and politeness_slopes; b and Intercept ~
# normal(0, 100), sigma and sd ~ student_t(3, 0, 2.5) for the unit-scale data
# (threeway, factor4) and penicillin. stan_NAME.csv has the columns of
# testdata/stan/ref_sleepstudy.csv (posterior::summarise_draws), for b_, sd_,
# cor_, sigma and r_ of the first 3 levels of each grouping factor;
# stan_NAME.json holds the wall time, divergences, max-treedepth hits, versions
# and priors.
#
# BOOST WORKAROUND: Debian's r-cran-bh ships no include/ folder (the headers
# are in /usr/include/boost from libboost-dev), so brms/rstan fail to compile
# with "Boost not found". bh_workaround() below copies the BH package's
# metadata into a private library $HOME/.R-bh/BH, makes $HOME/.R-bh/BH/include
# a symlink to /usr/include, puts $HOME/.R-bh first in .libPaths() before
# brms is loaded, and stops unless system.file("include", package = "BH")
# then points there.

suppressMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: family_refs.R lme4|stan|bh [NAME ...]")
stage <- args[1]; names_arg <- args[-1]
outdir <- "testdata/family"
fitdir <- file.path(Sys.getenv("HOME"), ".cache", "family_fits")  # saved brmsfit objects, not committed

rd <- function(f, factors) { d <- read.csv(f, stringsAsFactors = TRUE); for (v in factors) d[[v]] <- factor(d[[v]]); d }

fam <- function(f) file.path("testdata/family", f)
specs <- list(
  maximal = list(file = fam("maximal.csv"), factors = c("subj", "item"),
    f = "rt ~ A * B + (1 + A * B | subj) + (1 + A * B | item)",
    bf = "rt ~ 0 + Intercept + A * B + (1 + A * B | subj) + (1 + A * B | item)", scale = "rt"),
  maximal_zero = list(file = fam("maximal_zero.csv"), factors = c("subj", "item"),
    f = "rt ~ A * B + (1 + A * B | subj) + (1 + A * B | item)",
    bf = "rt ~ 0 + Intercept + A * B + (1 + A * B | subj) + (1 + A * B | item)", scale = "rt"),
  threeway = list(file = fam("threeway.csv"), factors = "subj",
    f = "y ~ A * B * C + (1 + A * B * C | subj)",
    bf = "y ~ 0 + Intercept + A * B * C + (1 + A * B * C | subj)", scale = "unit",
    # 4 x 10000 draws (2026-12-07): with 4 x 2500, two tail statistics (the
    # 2.5 % quantile of r_subj[s03,C], the sd of cor_subj__Intercept__A:C)
    # sat 2-3 combined MCSE from two 4 x 10000 lmmbayes runs that agreed
    # with each other (docs/sampler.md, "Coordinates: signed SDs").
    draws = 10000),
  factor4 = list(file = fam("factor4.csv"), factors = c("g", "f"),
    f = "y ~ f + (0 + f | g)",
    bf = "y ~ 0 + Intercept + f + (0 + f | g)", scale = "unit"),
  politeness_slopes = list(file = "testdata/politeness.csv", factors = c("subject", "scenario"),
    f = "frequency ~ attitude + gender + (1 + attitude | subject) + (1 + attitude | scenario)",
    bf = "frequency ~ 0 + Intercept + attitude + gender + (1 + attitude | subject) + (1 + attitude | scenario)", scale = "rt"),
  penicillin = list(file = "testdata/penicillin.csv", factors = c("plate", "sample"),
    f = "diameter ~ 1 + (1|plate) + (1|sample)",
    bf = "diameter ~ 0 + Intercept + (1 | plate) + (1 | sample)", scale = "unit")
)
pick <- function(default) { w <- if (length(names_arg)) names_arg else default
  bad <- setdiff(w, names(specs)); if (length(bad)) stop("unknown data set: ", paste(bad, collapse = ", ")); w }

# ---- lme4: ML and REML fits, mljson.R's format --------------------------------
run_lme4 <- function(which) {
  for (nm in which) {
    s <- specs[[nm]]; d <- rd(s$file, s$factors)
    for (reml in c(FALSE, TRUE)) {
      msgs <- character(0)
      t <- system.time(m <- withCallingHandlers(lmer(as.formula(s$f), data = d, REML = reml),
        warning = function(w) { msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") }))[["elapsed"]]
      vc <- as.data.frame(VarCorr(m))
      out <- list(name = nm, data = sub("^testdata/", "", s$file), formula = s$f, reml = reml, nobs = nobs(m),
        objective = if (reml) REMLcrit(m) else deviance(m), logLik = as.numeric(logLik(m)),
        AIC = AIC(m), BIC = BIC(m), sigma = sigma(m), theta = unname(getME(m, "theta")), singular = isSingular(m),
        fixef = as.list(fixef(m)), fixef_se = as.list(sqrt(diag(as.matrix(vcov(m))))),
        varcorr = lapply(seq_len(nrow(vc)), function(i) list(group = vc$grp[i], var1 = vc$var1[i], var2 = if (is.na(vc$var2[i])) NULL else vc$var2[i], vcov = vc$vcov[i], sdcor = vc$sdcor[i])),
        lme4_seconds = t, lme4_version = as.character(packageVersion("lme4")))
      re <- ranef(m); out$ranef <- lapply(re, function(x) { x <- as.data.frame(x); list(levels = rownames(x), values = as.list(x)) })
      cf <- coef(m); out$coef <- lapply(cf, function(x) { x <- as.data.frame(x); list(levels = rownames(x), values = as.list(x)) })
      out$fitted <- unname(fitted(m))
      fn <- file.path(outdir, sprintf("%s_%s.json", nm, if (reml) "reml" else "ml"))
      writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), fn)
      cat(sprintf("%s: %s singular=%s sigma=%.6g seconds=%.2f%s\n", fn, if (reml) "REML" else "ML", isSingular(m), sigma(m), t,
        if (length(msgs)) paste0(" warnings: ", paste(unique(msgs), collapse = " | ")) else ""))
    }
  }
}

# ---- Boost workaround -----------------------------------------------------------
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
  cat("BH include:", got, "\n")
  got
}

# ---- brms/Stan reference runs -----------------------------------------------------
prior_strings <- function(s, has_cor) {
  p <- if (s$scale == "rt") c(b = "normal(0, 1000)", Intercept = "normal(0, 1000)", sigma = "student_t(3, 0, 50)", sd = "student_t(3, 0, 50)")
       else c(b = "normal(0, 100)", Intercept = "normal(0, 100)", sigma = "student_t(3, 0, 2.5)", sd = "student_t(3, 0, 2.5)")
  if (has_cor) p <- c(p, cor = "lkj(2)")
  p
}

csv_field <- function(x) ifelse(grepl('[,"]', x), paste0('"', gsub('"', '""', x), '"'), x)

write_summary <- function(sm, fn) {
  cols <- c("variable", "stan_name", "mean", "sd", "q2.5", "q50", "q97.5", "rhat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd")
  sm$stan_name <- sm$variable
  lines <- apply(as.data.frame(lapply(sm[cols], function(c) if (is.numeric(c)) as.character(as.numeric(c)) else csv_field(as.character(c)))),
    1, paste, collapse = ",")
  writeLines(c(paste(cols, collapse = ","), lines), fn)
}

# ndraws is a model's post-warmup draws per chain: 2500 unless its spec says.
ndraws <- function(s) if (is.null(s$draws)) 2500 else s$draws

run_stan <- function(nm, seed = 20261207) {
  s <- specs[[nm]]; d <- rd(s$file, s$factors)
  if (nm == "politeness_slopes") d <- d[!is.na(d$frequency), ]  # as lme4 does
  has_cor <- nm != "penicillin"
  p <- prior_strings(s, has_cor)
  # Intercept is a coefficient of class b in `0 + Intercept + ...`; give it its own prior explicitly.
  pr <- c(set_prior(p[["b"]], class = "b"), set_prior(p[["Intercept"]], class = "b", coef = "Intercept"),
          set_prior(p[["sd"]], class = "sd"), set_prior(p[["sigma"]], class = "sigma"))
  if (has_cor) pr <- c(pr, set_prior(p[["cor"]], class = "cor"))
  cat(sprintf("== %s: %s, %d rows\n", nm, s$bf, nrow(d))); print(pr)
  t0 <- proc.time()[["elapsed"]]
  fit <- brm(bf(as.formula(s$bf)), data = d, family = gaussian(), prior = pr, backend = "rstan",
             chains = 4, iter = 1000 + ndraws(s), warmup = 1000, cores = 2, seed = seed,
             control = list(adapt_delta = 0.95), refresh = 500)
  wall <- proc.time()[["elapsed"]] - t0
  # Keep the fit outside the repository so the summary can be redone
  # (`family_refs.R summary NAME`) without sampling again.
  dir.create(fitdir, showWarnings = FALSE, recursive = TRUE)
  saveRDS(list(fit = fit, wall = wall, seed = seed), file.path(fitdir, paste0(nm, ".rds")))
  summarise_fit(nm)
}

summarise_fit <- function(nm) {
  s <- specs[[nm]]; d <- rd(s$file, s$factors)
  if (nm == "politeness_slopes") d <- d[!is.na(d$frequency), ]
  saved <- readRDS(file.path(fitdir, paste0(nm, ".rds"))); fit <- saved$fit; wall <- saved$wall; seed <- saved$seed
  p <- prior_strings(s, nm != "penicillin")
  sf <- fit$fit
  v <- variables(fit)
  keep <- grepl("^(b_|sd_|cor_)", v) | v == "sigma"
  for (g in s$factors[s$factors %in% names(ranef(fit))]) {
    lv <- levels(d[[g]])[1:3]
    keep <- keep | grepl(sprintf("^r_%s\\[(%s),", g, paste(lv, collapse = "|")), v)
  }
  dr <- posterior::subset_draws(posterior::as_draws_df(fit), variable = v[keep])
  sm <- as.data.frame(posterior::summarise_draws(dr, mean = mean, sd = sd,
    ~posterior::quantile2(.x, probs = c(0.025, 0.5, 0.975)), "rhat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd"))
  write_summary(sm, file.path(outdir, sprintf("stan_%s.csv", nm)))
  et <- rstan::get_elapsed_time(sf)
  info <- list(name = nm, data = sub("^testdata/", "", s$file), formula = s$bf, nobs = nrow(d),
    chains = 4, warmup = 1000, draws_per_chain = ndraws(s), adapt_delta = 0.95, seed = seed, cores = 2,
    wall_seconds = wall, warmup_seconds = sum(et[, "warmup"]), sampling_seconds = sum(et[, "sample"]),
    divergent = rstan::get_num_divergent(sf), max_treedepth_hits = rstan::get_num_max_treedepth(sf),
    max_treedepth = 10, min_ess_bulk = min(sm$ess_bulk, na.rm = TRUE), min_ess_tail = min(sm$ess_tail, na.rm = TRUE),
    max_rhat = max(sm$rhat, na.rm = TRUE), priors = as.list(p),
    brms_version = as.character(packageVersion("brms")), rstan_version = as.character(packageVersion("rstan")),
    stan_version = rstan::stan_version(), posterior_version = as.character(packageVersion("posterior")),
    R_version = paste(R.version$major, R.version$minor, sep = "."))
  writeLines(toJSON(info, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(outdir, sprintf("stan_%s.json", nm)))
  cat(sprintf("== %s done: wall %.0fs, divergent %d, treedepth hits %d, min ess_bulk %.0f, min ess_tail %.0f, max rhat %.4f\n",
    nm, wall, info$divergent, info$max_treedepth_hits, info$min_ess_bulk, info$min_ess_tail, info$max_rhat))
}

if (stage == "lme4") {
  run_lme4(pick(c("maximal", "maximal_zero", "threeway", "factor4", "politeness_slopes")))
} else if (stage == "bh") {
  bh_workaround()
} else if (stage == "stan") {
  bh_workaround()
  suppressMessages({library(brms); library(rstan); library(posterior)})
  rstan_options(auto_write = FALSE)
  for (nm in pick(c("maximal", "maximal_zero", "politeness_slopes", "factor4", "threeway", "penicillin")))
    tryCatch(run_stan(nm), error = function(e) cat("== ", nm, " FAILED: ", conditionMessage(e), "\n", sep = ""))
} else if (stage == "summary") {
  bh_workaround()
  suppressMessages({library(brms); library(rstan); library(posterior)})
  for (nm in pick(character(0))) summarise_fit(nm)
} else stop("unknown stage: ", stage)

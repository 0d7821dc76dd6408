# glmm_refs.R: data sets and glmer / glmer.nb references for the GLMM fit
# (issue 15), testdata/glmm/. Run from the repository root:
#
#   nice -n 19 Rscript testdata/glmm/glmm_refs.R data   # write the CSVs from lme4's data sets
#   nice -n 19 Rscript testdata/glmm/glmm_refs.R lme4   # write NAME.json for every model below
#   nice -n 19 Rscript testdata/glmm/glmm_refs.R lme4 insurance insurance_tight insurance_agq10 insurance_agq10_tight insurance_nb  # some
#
# Run (2026-12-07) with R 4.2.2 and Debian's r-cran-lme4 1.1-31, on a shared
# 2-core machine (the timings in the JSONs are anchors only).
#
# insurance.csv is MASS's Insurance (claims of 64 district x car group x age
# cells, Holders the policy holders: the exposure of the offset). MASS
# stores Age and Group as ordered factors, which R codes by polynomial
# contrasts; the CSV holds their labels, read back as unordered factors
# (treatment contrasts, levels sorted as R sorts text: "<25" ">35" "25-29"
# "30-35"), as lmmbayes reads them.
#
# JSON keys (as testdata/lme4/*.json, plus the GLMM ones):
#   formula, family, link, nAGQ, nobs, data
#   objective   -2 * logLik: what glmer's final stage minimises (the Laplace or,
#               for nAGQ > 1, adaptive Gauss-Hermite approximation of the deviance)
#   deviance    deviance(fit) (lme4: sum of the conditional deviance residuals
#               plus ||u||^2 plus log|L|^2 for nAGQ = 1) -- kept for the record
#   logLik, AIC, BIC, df_resid, theta, singular
#   fixef, fixef_se       (vcov(fit): for nAGQ > 0 lme4 inverts the finite-difference
#                          Hessian of the deviance over (theta, beta), use.hessian = TRUE)
#   fixef_se_rx           (vcov(fit, use.hessian = FALSE): from R_X at the optimum)
#   varcorr, ranef, coef  (as testdata/lme4), fitted (response scale, mu)
#   nb_theta              (glmer.nb only: the shape, MASS's theta = brms's shape)
#   converged_warnings    lme4's warnings, if any
#   tight       TRUE for NAME_tight (see tightCtrl below)
suppressMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
stage <- if (length(args)) args[1] else "lme4"
outdir <- "testdata/glmm"

if (stage == "data") {
  data(cbpp, VerbAgg, grouseticks, package = "lme4")
  write.csv(cbpp[, c("herd", "incidence", "size", "period")], file.path(outdir, "cbpp.csv"), row.names = FALSE, quote = FALSE)
  va <- VerbAgg[, c("Anger", "Gender", "item", "resp", "id", "btype", "situ", "mode", "r2")]
  write.csv(va, file.path(outdir, "verbagg.csv"), row.names = FALSE, quote = FALSE)
  write.csv(grouseticks[, c("INDEX", "TICKS", "BROOD", "HEIGHT", "YEAR", "LOCATION", "cHEIGHT")],
            file.path(outdir, "grouseticks.csv"), row.names = FALSE, quote = FALSE)
  data(Insurance, package = "MASS")
  ins <- Insurance; ins$Age <- as.character(ins$Age); ins$Group <- as.character(ins$Group)
  write.csv(ins, file.path(outdir, "insurance.csv"), row.names = FALSE, quote = FALSE)
  quit(save = "no")
}

rd <- function(f, factors) { d <- read.csv(f, stringsAsFactors = TRUE); for (v in factors) d[[v]] <- factor(d[[v]]); d }
specs <- list(
  cbpp = list(file = "cbpp.csv", factors = c("herd", "period"), family = "binomial",
    f = "cbind(incidence, size - incidence) ~ period + (1 | herd)"),
  cbpp_agq10 = list(file = "cbpp.csv", factors = c("herd", "period"), family = "binomial", nAGQ = 10,
    f = "cbind(incidence, size - incidence) ~ period + (1 | herd)"),
  verbagg = list(file = "verbagg.csv", factors = c("id", "item"), family = "binomial",
    f = "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)"),
  verbagg_slope = list(file = "verbagg.csv", factors = c("id", "item"), family = "binomial",
    f = "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 + Gender | item)"),
  grouseticks = list(file = "grouseticks.csv", factors = c("YEAR", "BROOD", "LOCATION"), family = "poisson",
    f = "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | LOCATION)"),
  grouseticks_nb = list(file = "grouseticks.csv", factors = c("YEAR", "BROOD", "LOCATION"), family = "negbinomial",
    f = "TICKS ~ YEAR + HEIGHT + (1 | LOCATION)"),
  # The offset: log exposure (issue 15, "offset() for exposure").
  insurance = list(file = "insurance.csv", factors = c("District"), family = "poisson",
    f = "Claims ~ Age + Group + offset(log(Holders)) + (1 | District)"),
  insurance_agq10 = list(file = "insurance.csv", factors = c("District"), family = "poisson", nAGQ = 10,
    f = "Claims ~ Age + Group + offset(log(Holders)) + (1 | District)"),
  insurance_nb = list(file = "insurance.csv", factors = c("District"), family = "negbinomial",
    f = "Claims ~ Age + Group + offset(log(Holders)) + (1 | District)")
)
# NAME_tight: the same fits with tight convergence (PIRLS tolPwrss 1e-13 and
# Nelder-Mead's stage-two tolerances far below the defaults), to show where
# glmer's default answer stops short of its own optimum.
tightCtrl <- glmerControl(tolPwrss = 1e-13, optCtrl = list(FtolAbs = 1e-12, FtolRel = 1e-15, XtolRel = 1e-12, maxfun = 1e5))
# No grouseticks_nb_tight: glmer.nb's refits stop with "pwrssUpdate did not
# converge in (maxit) iterations" at tolPwrss 1e-13, 1e-11 and 1e-10.
for (nm in setdiff(names(specs), c("grouseticks_nb", "insurance_nb"))) { s <- specs[[nm]]; s$tight <- TRUE; specs[[paste0(nm, "_tight")]] <- s }
which <- if (length(args) > 1) args[-1] else names(specs)
for (nm in which) {
  s <- specs[[nm]]; d <- rd(file.path(outdir, s$file), s$factors)
  nagq <- if (is.null(s$nAGQ)) 1L else as.integer(s$nAGQ)
  msgs <- character(0)
  wh <- function(w) { msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") }
  t <- system.time(m <- withCallingHandlers(
    if (isTRUE(s$tight)) {
      glmer(as.formula(s$f), data = d, family = s$family, nAGQ = nagq, control = tightCtrl)
    } else if (s$family == "negbinomial") glmer.nb(as.formula(s$f), data = d)
    else glmer(as.formula(s$f), data = d, family = s$family, nAGQ = nagq), warning = wh))[["elapsed"]]
  vc <- as.data.frame(VarCorr(m))
  out <- list(name = nm, data = s$file, tight = isTRUE(s$tight), formula = s$f, family = s$family,
    link = family(m)$link, nAGQ = nagq, nobs = nobs(m),
    objective = -2 * as.numeric(logLik(m)), deviance = deviance(m), logLik = as.numeric(logLik(m)),
    AIC = AIC(m), BIC = BIC(m), df_resid = df.residual(m),
    theta = I(unname(getME(m, "theta"))), singular = isSingular(m),
    fixef = as.list(fixef(m)), fixef_se = as.list(sqrt(diag(as.matrix(vcov(m))))),
    fixef_se_rx = as.list(sqrt(diag(as.matrix(vcov(m, use.hessian = FALSE))))),
    varcorr = lapply(seq_len(nrow(vc)), function(i) list(group = vc$grp[i], var1 = vc$var1[i],
      var2 = vc$var2[i], vcov = vc$vcov[i], sdcor = vc$sdcor[i])),
    lme4_seconds = t, lme4_version = as.character(packageVersion("lme4")),
    converged_warnings = I(unique(msgs)))
  if (s$family == "negbinomial") out$nb_theta <- getME(m, "glmer.nb.theta")
  re <- ranef(m); out$ranef <- lapply(re, function(x) { x <- as.data.frame(x); list(levels = rownames(x), values = as.list(x)) })
  cf <- coef(m); out$coef <- lapply(cf, function(x) { x <- as.data.frame(x); list(levels = rownames(x), values = as.list(x)) })
  out$fitted <- unname(fitted(m))
  fn <- file.path(outdir, paste0(nm, ".json"))
  writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), fn)
  cat(sprintf("%s: objective %.8f deviance %.8f theta %s seconds %.2f%s\n", fn, out$objective, out$deviance,
    paste(format(out$theta, digits = 6), collapse = " "), t,
    if (length(msgs)) paste0(" warnings: ", paste(unique(msgs), collapse = " | ")) else ""))
}

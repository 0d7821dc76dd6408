# weights_ref.R: glmer with prior weights, for the GLMM fit's weights
# (TestFitGLMMWeightsGlmer, model/glmm_weights_test.go). Run from the
# repository root:
#
#   nice -n 19 Rscript testdata/glmm/weights_ref.R   # writes testdata/glmm/weights_ref.json
#
# Run (2026-12-07) with R 4.2.2 and Debian's r-cran-lme4 1.1-31. The weights
# are w = 1 + (row - 1) %% 3 (1, 2, 3, 1, 2, 3, ...), in the CSVs' row order;
# glmer's weights multiply each row's log-likelihood (for a binomial
# cbind() response glm's initialize makes the prior weights w * n with the
# proportion as response, which is the same likelihood). Both fits are
# converged tightly, with glmm_refs.R's control for its *_tight references
# (glmer's default PIRLS tolerance stops short of the optimum).
suppressMessages({library(lme4); library(jsonlite)})
# glmm_refs.R's tightCtrl (its NAME_tight references): PIRLS to 1e-13.
tight <- glmerControl(tolPwrss = 1e-13, optCtrl = list(FtolAbs = 1e-12, FtolRel = 1e-15, XtolRel = 1e-12, maxfun = 1e5))
fitted_ref <- function(f) {
  list(logLik = as.numeric(logLik(f)), theta = I(unname(getME(f, "theta"))),
       fixef = as.list(fixef(f)), fixef_se = as.list(sqrt(diag(as.matrix(vcov(f))))))
}
d <- read.csv("testdata/glmm/cbpp.csv")
d$herd <- factor(d$herd); d$period <- factor(d$period)
d$w <- 1 + (seq_len(nrow(d)) - 1) %% 3
cb <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = d, family = binomial,
            weights = w, control = tight)
g <- read.csv("testdata/glmm/grouseticks.csv")
g$YEAR <- factor(g$YEAR); g$BROOD <- factor(g$BROOD); g$LOCATION <- factor(g$LOCATION)
g$w <- 1 + (seq_len(nrow(g)) - 1) %% 3
gt <- glmer(TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | LOCATION), data = g, family = poisson,
            weights = w, control = tight)
out <- list(cbpp = fitted_ref(cb), grouseticks = fitted_ref(gt))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "testdata/glmm/weights_ref.json")

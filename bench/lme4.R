# ML fit by lme4::lmer for bench/run.sh.
# Usage: Rscript bench/lme4.R DATA.csv 'FORMULA' 'factor1,factor2'
# Prints one line: tool=lme4 inner_s=<seconds in lmer()> loglik=<logLik>
# (the process' own wall time and peak RSS are measured by the harness).
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: lme4.R DATA FORMULA [FACTORS]")
suppressPackageStartupMessages(library(lme4))
d <- read.csv(args[1], stringsAsFactors = TRUE)
factors <- if (length(args) >= 3 && nzchar(args[3])) strsplit(args[3], ",")[[1]] else character()
for (f in factors) d[[f]] <- factor(d[[f]])
form <- as.formula(args[2])
t <- system.time(fit <- lmer(form, data = d, REML = FALSE))[["elapsed"]]
cat(sprintf("tool=lme4 inner_s=%.4f loglik=%.4f\n", t, as.numeric(logLik(fit))))

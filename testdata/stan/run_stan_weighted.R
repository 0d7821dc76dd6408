# Long Stan run of a weighted model with lmer's weights (residual sd sigma/sqrt(w)) and the
# sampler tests' explicit priors (sampler/helpers_test.go refSpec): every fixed effect
# ~ Normal(0, 1000), sigma and each random-effect SD ~ half-Student-t(3, 0, 50), the
# correlation matrix ~ LKJ(2). Model: Reaction ~ Days + (Days | Subject) on
# testdata/formula/sleep_w.csv, weights w = 1/(1 + Days/3).
# 8 chains x 5000 draws after 1000 warmup: with 4 chains (the first version) the 2.5 % and
# 97.5 % quantiles of the correlation and of subject 337's effects moved by 1.3-1.5 combined
# MCSEs between two seeds, and every lmmbayes run (3 methods, 4 seeds) differed from the first
# seed's in the same direction (up to 4.0 MCSEs): the reference's own error, shared by every
# comparison, was too large a part of the tolerance. 8 chains halve its variance.
# Run from testdata/stan:  Rscript run_stan_weighted.R   (R 4.2.2, rstan 2.21, posterior 1.4)
# Writes ref_sleep_weighted.csv.
bh_workaround <- function() {  # Debian's r-cran-bh has no include/: see scripts/family_refs.R
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
}
bh_workaround()
suppressMessages({library(rstan); library(posterior)})
options(mc.cores = 2)
ss <- read.csv("../formula/sleep_w.csv"); ss$Subject <- factor(ss$Subject)
m <- stan_model("lmm_corr_weighted.stan")
X <- cbind(1, ss$Days)
d <- list(N=nrow(ss), P=2, K=2, J=nlevels(ss$Subject), X=X, Z=X, g=as.integer(ss$Subject), y=ss$Reaction, w=ss$w,
          beta_sd=1000, sigma_scale=50, tau_scale=50, nu=3, lkj_eta=2)
t <- system.time(f <- sampling(m, data=d, chains=8, iter=6000, warmup=1000, seed=20261207, refresh=0))[["elapsed"]]
pars <- c("beta[1]", "beta[2]", "sigma", "tau[1]", "tau[2]", "Omega[2,1]", "b[1,1]", "b[1,2]", "b[10,1]", "b[10,2]")
names <- c("b_Intercept", "b_Days", "sigma", "sd_Subject__Intercept", "sd_Subject__Days", "cor_Subject__Intercept__Days",
  sprintf("r_Subject[%s,Intercept]", levels(ss$Subject)[1]), sprintf("r_Subject[%s,Days]", levels(ss$Subject)[1]),
  sprintf("r_Subject[%s,Intercept]", levels(ss$Subject)[10]), sprintf("r_Subject[%s,Days]", levels(ss$Subject)[10]))
dr <- subset_draws(as_draws_df(as.array(f)), variable=pars)
sm <- summarise_draws(dr, mean=mean, sd=sd, q2.5=~quantile(.x,0.025), q50=median, q97.5=~quantile(.x,0.975), "rhat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd")
sm <- as.data.frame(lapply(as.data.frame(sm), function(c) if (is.numeric(c)) as.numeric(c) else as.character(c)))
out <- data.frame(variable=names[match(sm$variable, pars)], stan_name=sm$variable, sm[, -1], check.names=FALSE)
names(out)[names(out) == "X2.5."] <- "q2.5"; names(out)[names(out) == "X97.5."] <- "q97.5"
write.csv(out, "ref_sleep_weighted.csv", row.names=FALSE)
cat(sprintf("rstan time %.1f s, min ess_bulk %.0f, max rhat %.4f, divergent %d\n", t, min(out$ess_bulk), max(out$rhat),
  sum(get_sampler_params(f, inc_warmup=FALSE) |> sapply(function(x) sum(x[, "divergent__"])))))
print(out, digits=5)

# insurance_laplace.R: an independent check of the SD's posterior in
# brms_insurance (glmm_brms.R), testdata/glmm/. Run from the repository root:
#
#   nice -n 19 Rscript testdata/glmm/insurance_laplace.R
#
# Model: Claims ~ Poisson(Holders * exp(X beta + b[District])), X from
# ~ Age + Group (treatment contrasts, levels as read from insurance.csv),
# beta ~ N(0, 10^2) each, b ~ N(0, tau^2) (4 districts), tau ~ half-t(3, 0, 2.5):
# the priors of brms_insurance. For tau on a grid of 4000 points in log tau
# (1e-4 to 20), (beta, b) are integrated out by the Laplace approximation
# (Newton to the mode, Hessian [X Z]' diag(mu) [X Z] + prior precisions);
# the counts are large (4 to 400), so that approximation is close, but not
# exact. The result, the posterior mean, sd and quantiles of tau, is written
# to insurance_laplace.json. Why: brms at adapt_delta 0.95 (66 divergent
# transitions) gave the SD a lighter upper tail (mean 0.170, sd 0.146, 97.5 %
# 0.575) than lmmbayes's sampler (0.185, 0.203, 0.683); this computation
# sides with the sampler, and brms at adapt_delta 0.99 (9 divergent) moved
# towards it (0.181, 0.176, 0.661). Run 2026-12-07, R 4.2.2.
suppressMessages(library(jsonlite))
d <- read.csv("testdata/glmm/insurance.csv", stringsAsFactors = TRUE)
d$District <- factor(d$District)
X <- model.matrix(~ Age + Group, d); Z <- model.matrix(~ 0 + District, d)
y <- d$Claims; off <- log(d$Holders); M <- cbind(X, Z); p <- ncol(X); q <- ncol(Z)
logmarg <- function(tau) {
  prec <- c(rep(1/100, p), rep(1/tau^2, q))
  th <- c(log(sum(y)/sum(exp(off))), rep(0, p + q - 1))
  for (it in 1:100) {
    mu <- exp(off + drop(M %*% th))
    step <- solve(crossprod(M * sqrt(mu)) + diag(prec), drop(crossprod(M, y - mu)) - prec * th)
    th <- th + step
    if (max(abs(step)) < 1e-12) break
  }
  mu <- exp(off + drop(M %*% th))
  H <- crossprod(M * sqrt(mu)) + diag(prec)
  sum(dpois(y, mu, log = TRUE)) - 0.5 * sum(prec * th^2) - q * log(tau) - 0.5 * determinant(H)$modulus[1]
}
lprior <- function(tau) dt(tau / 2.5, 3, log = TRUE) - log(2.5)
lt <- seq(log(1e-4), log(20), length.out = 4000)
v <- sapply(exp(lt), function(t) logmarg(t) + lprior(t)) + lt  # density of log tau
w <- exp(v - max(v)); w <- w / sum(w); tau <- exp(lt); cw <- cumsum(w)
qu <- function(a) tau[which(cw >= a)[1]]
m <- sum(w * tau)
out <- list(variable = "sd_District__Intercept", method = "Laplace over (beta, b), quadrature over log tau (4000 points)",
  mean = m, sd = sqrt(sum(w * tau^2) - m^2), q2.5 = qu(0.025), q50 = qu(0.5), q97.5 = qu(0.975))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "testdata/glmm/insurance_laplace.json")
print(unlist(out[-(1:2)]))

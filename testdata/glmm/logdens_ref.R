# Reference log densities for model.Family.LogDensity (and so for the
# log_lik_K.csv files `lmmbayes run` writes for GLMM families):
# R's dbinom, dpois and dnbinom at a few (y, n, eta, shape), log = TRUE.
# Run from this directory: Rscript logdens_ref.R  (writes logdens_ref.csv;
# made with Debian's R 4.2).
rows <- list()
add <- function(family, y, n, eta, shape, v) {
  rows[[length(rows) + 1]] <<- data.frame(family = family, y = y, n = n, eta = eta, shape = shape, logd = v)
}
for (eta in c(-3.2, -0.4, 0, 1.7, 6)) {
  p <- plogis(eta); mu <- exp(eta)
  add("bernoulli", 0, 1, eta, NA, dbinom(0, 1, p, log = TRUE))
  add("bernoulli", 1, 1, eta, NA, dbinom(1, 1, p, log = TRUE))
  for (yn in list(c(0, 14), c(3, 12), c(9, 9), c(5, 22))) {
    add("binomial", yn[1], yn[2], eta, NA, dbinom(yn[1], yn[2], p, log = TRUE))
  }
  for (y in c(0, 1, 7, 48)) {
    add("poisson", y, NA, eta, NA, dpois(y, mu, log = TRUE))
    for (k in c(0.3, 1.9, 40)) {
      add("negbinomial", y, NA, eta, k, dnbinom(y, size = k, mu = mu, log = TRUE))
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, "logdens_ref.csv", row.names = FALSE, na = "")

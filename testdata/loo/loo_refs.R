# loo_refs.R: R loo 2.5.1 references for package loo (issue 16).
#
# Run from testdata/loo:   Rscript loo_refs.R
# (R 4.2.2, Debian's r-cran-loo 2.5.1, r-cran-jsonlite.) Reads the draws of five
# lmmbayes runs in runs/NAME/draws_K.csv (made by `lmmbayes run NAME.toml` from the
# configs beside this script; 4 chains x 500 draws), computes each model's
# pointwise log-likelihood conditional on the draw's random effects,
#   log_lik[s, i] = dnorm(y_i, x_i beta_s + z_i b_s, sigma_s, log = TRUE),
# and writes, with 17 significant digits:
#   NAME_loo.csv      loo's pointwise table, n_eff and r_eff per observation
#   NAME_waic.csv     waic's pointwise table
#   NAME_logo_SUBJECTCOL.csv   leave-one-group-out: loo on the group marginal log-likelihood
#   NAME_r2.csv       Bayesian R^2 per draw, conditional and marginal (brms's .bayes_R2)
#   refs.json         the estimates, Pareto k tables, loo_compare tables
#   *_print.txt       what print() shows for each loo, waic and loo_compare object
# Console output: loo_refs.out.
# r_eff = relative_eff(exp(log_lik), chain_id), as brms's loo does.
suppressMessages({library(loo); library(jsonlite)})
stopifnot(packageVersion("loo") == "2.5.1")

read_draws <- function(dir) {
  fs <- sort(Sys.glob(file.path(dir, "draws_*.csv")))
  ds <- lapply(fs, function(f) read.csv(f, comment.char = "#", check.names = FALSE))
  list(d = do.call(rbind, ds), chain = rep(seq_along(ds), sapply(ds, nrow)),
       re = read.csv(file.path(dir, "random_effects.csv"), stringsAsFactors = FALSE))
}
models <- list(
  sleep_int    = list(data = "../sleepstudy.csv", y = "Reaction", fixed = ~ Days, factors = "Subject"),
  sleep_uncorr = list(data = "../sleepstudy.csv", y = "Reaction", fixed = ~ Days, factors = "Subject"),
  sleep_corr   = list(data = "../sleepstudy.csv", y = "Reaction", fixed = ~ Days, factors = "Subject"),
  polite_int   = list(data = "../politeness.csv", y = "frequency", fixed = ~ attitude + gender, factors = c("subject", "scenario")),
  polite_slope = list(data = "../politeness.csv", y = "frequency", fixed = ~ attitude + gender, factors = c("subject", "scenario")))
logo_group <- c(sleep_int = "Subject", sleep_uncorr = "Subject", sleep_corr = "Subject",
                polite_int = "subject", polite_slope = "subject")

w17 <- function(x, f) write.csv(x, f, row.names = FALSE)   # write.csv uses 15 digits; see fmt below
fmt <- function(df) { for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]]); df }

out <- list(loo_version = as.character(packageVersion("loo")), models = list())
loos <- list(); waics <- list(); logos <- list()
for (nm in names(models)) {
  m <- models[[nm]]
  dat <- read.csv(m$data, stringsAsFactors = FALSE)
  used <- unique(c(m$y, all.vars(m$fixed), m$factors))
  dat <- dat[complete.cases(dat[, used]), ]
  for (f in m$factors) dat[[f]] <- as.character(dat[[f]])
  dr <- read_draws(file.path("runs", nm))
  d <- dr$d; S <- nrow(d); y <- dat[[m$y]]; n <- length(y)
  X <- model.matrix(m$fixed, dat)
  bn <- paste0("b_", gsub("[()]", "", colnames(X)))
  B <- as.matrix(d[, bn])
  fix <- B %*% t(X)                                      # S x n
  ran <- matrix(0, S, n)
  # r_ columns: random_effects.csv maps each column to group, level, effect
  re <- dr$re
  for (r in seq_len(nrow(re))) {
    g <- re$group[r]; lev <- as.character(re$level[r]); eff <- re$effect[r]
    z <- (dat[[g]] == lev) * (if (eff == "(Intercept)") 1 else X[, eff])
    cn <- gsub("\\.", ".", re$column[r])
    ran <- ran + outer(d[[cn]], z)
  }
  mu <- fix + ran
  sig <- d$sigma
  ll <- dnorm(matrix(y, S, n, byrow = TRUE), mu, sig, log = TRUE)
  chain <- dr$chain
  reff <- relative_eff(exp(ll), chain_id = chain)
  lo <- loo(ll, r_eff = reff)
  wa <- suppressWarnings(waic(ll))
  loos[[nm]] <- lo; waics[[nm]] <- wa
  pw <- as.data.frame(lo$pointwise); pw$n_eff <- lo$diagnostics$n_eff; pw$r_eff <- reff
  write.csv(fmt(pw), paste0(nm, "_loo.csv"), row.names = FALSE, quote = FALSE)
  write.csv(fmt(as.data.frame(wa$pointwise)), paste0(nm, "_waic.csv"), row.names = FALSE, quote = FALSE)
  kt <- pareto_k_table(lo)
  # Bayesian R^2 (brms's .bayes_R2): var(ypred) / (var(ypred) + var(y - ypred)), per draw
  r2 <- function(ypred) { e <- -1 * sweep(ypred, 2, y); vp <- apply(ypred, 1, var); ve <- apply(e, 1, var); vp / (vp + ve) }
  R2c <- r2(mu); R2m <- r2(fix)
  write.csv(fmt(data.frame(R2_conditional = R2c, R2_marginal = R2m)), paste0(nm, "_r2.csv"), row.names = FALSE, quote = FALSE)
  summ <- function(x) list(Estimate = mean(x), Est.Error = sd(x), Q2.5 = unname(quantile(x, 0.025)), Q97.5 = unname(quantile(x, 0.975)))

  # leave-one-group-out: the group's log marginal likelihood with its own
  # effects integrated out (every term of that grouping factor); the other
  # factors' effects stay conditional on the draw.
  gname <- logo_group[[nm]]
  levs <- sort(unique(dat[[gname]]))   # the design's level order
  reg <- re[re$group == gname, ]
  ranOther <- matrix(0, S, n)
  for (r in which(re$group != gname)) {
    g <- re$group[r]; lev <- as.character(re$level[r]); eff <- re$effect[r]
    z <- (dat[[g]] == lev) * (if (eff == "(Intercept)") 1 else X[, eff])
    ranOther <- ranOther + outer(d[[re$column[r]]], z)
  }
  effs <- unique(reg$effect)   # in r_ column order
  # SD and correlation columns of this factor: sd_<g>__<eff>, cor_<g>__<e1>__<e2>
  ename <- function(e) gsub("[()]", "", e)
  K <- length(effs)
  llg <- matrix(0, S, length(levs))
  for (s in seq_len(S)) {
    sds <- sapply(effs, function(e) d[s, paste0("sd_", gname, "__", ename(e))])
    Om <- diag(K)
    if (K > 1) for (a in 1:(K - 1)) for (b in (a + 1):K) {
      cn <- paste0("cor_", gname, "__", ename(effs[a]), "__", ename(effs[b]))
      if (cn %in% names(d)) Om[a, b] <- Om[b, a] <- d[s, cn]
    }
    Sig <- diag(sds, K) %*% Om %*% diag(sds, K)
    for (j in seq_along(levs)) {
      rows <- which(dat[[gname]] == levs[j])
      Z <- sapply(effs, function(e) if (e == "(Intercept)") rep(1, length(rows)) else X[rows, e])
      Z <- matrix(Z, nrow = length(rows))
      V <- Z %*% Sig %*% t(Z) + diag(sig[s]^2, length(rows))
      r <- y[rows] - fix[s, rows] - ranOther[s, rows]
      L <- chol(V)
      a <- backsolve(L, r, transpose = TRUE)
      llg[s, j] <- -0.5 * length(rows) * log(2 * pi) - sum(log(diag(L))) - 0.5 * sum(a^2)
    }
  }
  reffg <- relative_eff(exp(llg), chain_id = chain)
  log_ <- suppressWarnings(loo(llg, r_eff = reffg))
  logos[[nm]] <- log_
  pg <- as.data.frame(log_$pointwise); pg$n_eff <- log_$diagnostics$n_eff; pg$r_eff <- reffg; pg$group <- levs
  write.csv(fmt(pg), paste0(nm, "_logo_", gname, ".csv"), row.names = FALSE, quote = FALSE)
  write.csv(fmt(as.data.frame(llg[1:5, , drop = FALSE])), paste0(nm, "_logo_ll_first5.csv"), row.names = FALSE, quote = FALSE)

  est <- function(e) setNames(lapply(rownames(e), function(r) list(Estimate = e[r, "Estimate"], SE = e[r, "SE"])), rownames(e))
  out$models[[nm]] <- list(
    S = S, N = n, loo = est(lo$estimates), mcse_loo = mcse_loo(lo),
    pareto_k_table = list(count = unname(kt[, "Count"]), proportion = unname(kt[, "Proportion"]),
                          min_n_eff = unname(kt[, "Min. n_eff"])),
    waic = est(wa$estimates), logo = est(log_$estimates), logo_group = gname,
    logo_k_max = max(log_$diagnostics$pareto_k),
    R2_conditional = summ(R2c), R2_marginal = summ(R2m),
    ll_first = ll[1, 1:3], ll_last = ll[S, (n - 2):n])
  cat(nm, ": elpd_loo", lo$estimates["elpd_loo", "Estimate"], "max k", max(lo$diagnostics$pareto_k), "\n")
}
cmp <- function(l) { c <- loo_compare(l); list(model = rownames(c), table = lapply(seq_len(nrow(c)), function(i) as.list(c[i, ]))) }
out$compare <- list(
  sleep_loo = cmp(loos[c("sleep_int", "sleep_uncorr", "sleep_corr")]),
  sleep_waic = cmp(waics[c("sleep_int", "sleep_uncorr", "sleep_corr")]),
  polite_loo = cmp(loos[c("polite_int", "polite_slope")]),
  polite_waic = cmp(waics[c("polite_int", "polite_slope")]),
  sleep_logo = cmp(logos[c("sleep_int", "sleep_uncorr", "sleep_corr")]))
# printed output, for the print format tests
for (nm in names(loos)) {
  writeLines(capture.output(print(loos[[nm]])), paste0(nm, "_loo_print.txt"))
  writeLines(capture.output(print(waics[[nm]])), paste0(nm, "_waic_print.txt"))
  writeLines(capture.output(print(logos[[nm]])), paste0(nm, "_logo_print.txt"))
}
writeLines(capture.output(print(loo_compare(loos[c("sleep_int", "sleep_uncorr", "sleep_corr")]))), "sleep_compare_print.txt")
writeLines(capture.output(print(loo_compare(loos[c("polite_int", "polite_slope")]))), "polite_compare_print.txt")
write_json(out, "refs.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
print(loos$sleep_corr)
print(loo_compare(loos[c("sleep_int", "sleep_uncorr", "sleep_corr")]))
print(logos$sleep_corr)
cat("wrote refs.json\n")

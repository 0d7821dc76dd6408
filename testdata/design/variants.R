# Writes the design-matrix references used by model/design_test.go:
# cake.csv (lme4's cake data), mixed.csv (a small synthetic data set built
# to exercise factor coding, level order, NA dropping) and variants.json
# (for each formula: lme4's fixed-effects column names, nobs, and per
# random term the group name, effect names and levels; xnames are lme4's
# columns after it drops aliased ones, mmnames R's full model.matrix).
# Run from this folder: Rscript variants.R   (R 4.2.2, lme4 1.1-31)
suppressMessages(library(lme4))
library(jsonlite)

cake2 <- data.frame(replicate = as.integer(as.character(cake$replicate)),
                    recipe = as.character(cake$recipe),
                    angle = cake$angle, temp = cake$temp)
write.csv(cake2, "cake.csv", row.names = FALSE)

set.seed(20240611)
n <- 60
mixed <- data.frame(
  y  = round(rnorm(n, 10, 2), 3),
  x  = round(runif(n, 0, 5), 3),
  z  = round(rnorm(n), 3),
  f  = rep(c("b", "B", "a", "A"), length.out = n),
  a  = rep(c("low", "High", "mid"), each = 20),
  b  = rep(c("u", "v"), times = 30),
  g  = rep(c(9, 10, 100, 11, 2, 20), length.out = n),
  h  = rep(c("s1", "s10", "s2", "S3", "_t"), length.out = n),
  stringsAsFactors = FALSE)
mixed$x[7] <- NA        # row dropped for NA
mixed$f[13] <- "unused"  # a level only on a row with NA ...
mixed$y[13] <- NA        # ... so it must not appear
write.csv(mixed, "mixed.csv", row.names = FALSE, na = "NA")

cake2 <- read.csv("cake.csv", stringsAsFactors = TRUE)
mixed <- read.csv("mixed.csv", stringsAsFactors = TRUE)
ss <- read.csv("../sleepstudy.csv")
ss$Subject <- factor(ss$Subject)

ref <- function(formula, data, file) {
  lf <- lFormula(as.formula(formula), data = data)
  rt <- lf$reTrms
  asg <- attr(rt$flist, "assign")
  terms <- lapply(seq_along(rt$cnms), function(i) list(
    group = names(rt$cnms)[i],
    names = rt$cnms[[i]],
    levels = levels(rt$flist[[asg[i]]])))
  full <- colnames(model.matrix(nobars(as.formula(formula)), lf$fr))
  list(formula = formula, data = file, nobs = nrow(lf$X),
       xnames = colnames(lf$X), mmnames = full,
       dropped = I(setdiff(full, colnames(lf$X))), terms = terms)
}

out <- list(
  ref("Reaction ~ Days + (Days || Subject)", ss, "sleepstudy.csv"),
  ref("angle ~ recipe * temp + (1 | recipe:replicate)", cake2, "design/cake.csv"),
  ref("angle ~ recipe + temp + (1 | replicate/recipe)", cake2, "design/cake.csv"),
  ref("y ~ 0 + x + (1 | g)", mixed, "design/mixed.csv"),
  ref("y ~ 0 + f + (1 | g)", mixed, "design/mixed.csv"),
  ref("y ~ 0 + x + f + (1 | g)", mixed, "design/mixed.csv"),
  ref("y ~ x + x:f + (1 | g)", mixed, "design/mixed.csv"),
  ref("y ~ f + f:x + (1 | g)", mixed, "design/mixed.csv"),
  ref("y ~ a * b + (1 | g)", mixed, "design/mixed.csv"),
  ref("y ~ a:b + (1 | g)", mixed, "design/mixed.csv"),
  ref("y ~ a + a:b + (1 | g)", mixed, "design/mixed.csv"),
  ref("y ~ x * z + (1 | h)", mixed, "design/mixed.csv"),
  ref("y ~ x * z * b + (1 | h)", mixed, "design/mixed.csv"),
  ref("y ~ b + x:a + (x | g)", mixed, "design/mixed.csv"),
  ref("y ~ x + (0 + b | g)", mixed, "design/mixed.csv"),
  ref("y ~ x + (1 | a/b)", mixed, "design/mixed.csv"),
  ref("y ~ x + (1 | a) + (1 | a:b)", mixed, "design/mixed.csv"),
  ref("y ~ x + (1 | f) + (1 | h)", mixed, "design/mixed.csv")
)
writeLines(toJSON(out, auto_unbox = FALSE, pretty = TRUE, digits = NA), "variants.json")

# Model matrices of a few formulas, to check X values and not only names.
mm <- function(formula, data, file) {
  lf <- lFormula(as.formula(formula), data = data)
  list(formula = formula, data = file, x = unname(lf$X), rows = as.integer(rownames(lf$X)))
}
mms <- list(
  mm("angle ~ recipe * temp + (1 | replicate)", cake2, "design/cake.csv"),
  mm("y ~ x + x:f + (1 | g)", mixed, "design/mixed.csv"),
  mm("y ~ a * b + (1 | g)", mixed, "design/mixed.csv"),
  mm("y ~ 0 + x + f + (1 | g)", mixed, "design/mixed.csv"),
  mm("y ~ x * z * b + (1 | h)", mixed, "design/mixed.csv")
)
writeLines(toJSON(mms, auto_unbox = TRUE, digits = NA), "matrices.json")

# Reference fits and predictions for formulas with function calls (issue 14).
# Writes data CSVs and lme4 JSON fits into testdata/formula/ (run from the repo root:
#   Rscript scripts/formula_refs.R testdata/formula
# ). The JSON layout and fitting code are those of scripts/mljson.R (../shared/reference).
suppressMessages({library(lme4); library(jsonlite); library(nlme); library(splines)})
args <- commandArgs(trailingOnly=TRUE); outdir <- if (length(args)) args[1] else "testdata/formula"
dir.create(outdir, showWarnings=FALSE, recursive=TRUE)

# Data sets, written once; every fit reads them back from the CSV, as the Go tests do.
sleep <- read.csv("testdata/sleepstudy.csv")
write.csv(sleep, file.path(outdir, "sleepstudy.csv"), row.names=FALSE)
# Prior weights for sleepstudy: residual variance growing with days of deprivation, w = 1/(1 + Days/3).
write.csv(cbind(sleep, w=1/(1 + sleep$Days/3)), file.path(outdir, "sleep_w.csv"), row.names=FALSE)
orth <- as.data.frame(nlme::Orthodont)
orth <- data.frame(distance=orth$distance, age=orth$age, Subject=as.character(orth$Subject), Sex=as.character(orth$Sex))
write.csv(orth, file.path(outdir, "orthodont.csv"), row.names=FALSE)
cw <- as.data.frame(datasets::ChickWeight)
cw <- data.frame(weight=cw$weight, Time=cw$Time, Chick=as.integer(as.character(cw$Chick)), Diet=as.integer(as.character(cw$Diet)))
write.csv(cw, file.path(outdir, "chickweight.csv"), row.names=FALSE)
bw <- as.data.frame(nlme::BodyWeight)
bw <- data.frame(weight=bw$weight, Time=bw$Time, Rat=as.integer(as.character(bw$Rat)), Diet=as.integer(as.character(bw$Diet)))
write.csv(bw, file.path(outdir, "bodyweight.csv"), row.names=FALSE)
# lme4's cbpp: contagious bovine pleuropneumonia, incidence of size cattle per herd and
# period; a weighted model of the proportion (weights = size) and an offset model of the
# log count (offset log(size)).
cb <- lme4::cbpp
cb <- data.frame(herd=as.integer(as.character(cb$herd)), period=as.integer(as.character(cb$period)),
  incidence=cb$incidence, size=cb$size, logsize=log(cb$size))
write.csv(cb, file.path(outdir, "cbpp.csv"), row.names=FALSE)
# Held-out rows for prediction: all of subject 372, and day 9 of subjects 308 and 309.
held <- sleep$Subject == 372 | (sleep$Days == 9 & sleep$Subject %in% c(308, 309))
write.csv(sleep[!held, ], file.path(outdir, "sleep_train.csv"), row.names=FALSE)
write.csv(sleep[held, ], file.path(outdir, "sleep_new.csv"), row.names=FALSE)
# Rows outside the training range of Days (0 to 9), for the splines' extrapolation.
out <- sleep[sleep$Subject %in% c(308, 372) & sleep$Days %in% c(0, 9), ]
out$Days <- c(-1, 10, -0.5, 12.5)
write.csv(out, file.path(outdir, "sleep_out.csv"), row.names=FALSE)

rd <- function(f, factors) { d <- read.csv(file.path(outdir, f), stringsAsFactors=TRUE); for (v in factors) d[[v]] <- factor(d[[v]]); d }
specs <- list(
 sleep_log = list(file="sleepstudy.csv", factors="Subject", f="log(Reaction) ~ Days + (Days | Subject)"),
 sleep_poly = list(file="sleepstudy.csv", factors="Subject", f="Reaction ~ poly(Days, 2) + (1 | Subject)"),
 sleep_polyraw = list(file="sleepstudy.csv", factors="Subject", f="Reaction ~ poly(Days, 2, raw = TRUE) + (1 | Subject)"),
 sleep_scale = list(file="sleepstudy.csv", factors="Subject", f="Reaction ~ scale(Days) + (scale(Days) | Subject)"),
 sleep_factor = list(file="sleepstudy.csv", factors="Subject", f="Reaction ~ factor(Days) + (1 | Subject)"),
 sleep_log2 = list(file="sleepstudy.csv", factors="Subject", f="log(Reaction, base = 2) ~ sqrt(Days) + I(Days^2) + (1 | Subject)"),
 orthodont = list(file="orthodont.csv", factors=c("Subject", "Sex"), f="distance ~ I(age - 11) * Sex + (I(age - 11) | Subject)"),
 chick_poly = list(file="chickweight.csv", factors="Chick", f="weight ~ poly(Time, 2) + (1 | Chick)"),
 chick_log = list(file="chickweight.csv", factors="Chick", f="log(weight) ~ Time + (Time | Chick)"),
 # lme4's default optimizer (nloptwrap) stops short on this one (convergence warnings, REML
 # criterion 0.0049 above the optimum); bobyqa and Nelder_Mead agree to 1e-9.
 bodyweight = list(file="bodyweight.csv", factors=c("Rat", "Diet"), f="log(weight) ~ Time * Diet + (Time | Rat)", optimizer="bobyqa"),
 # Prior weights (lmer's weights =), offsets (offset() and lmer's offset =), aliased columns
 # (lme4 drops I(age - 11)), and splines.
 cbpp_weights = list(file="cbpp.csv", factors=c("herd", "period"), f="I(incidence/size) ~ period + (1 | herd)", weights="size"),
 cbpp_offset = list(file="cbpp.csv", factors=c("herd", "period"), f="log1p(incidence) ~ period + (1 | herd)", offset="logsize"),
 cbpp_both = list(file="cbpp.csv", factors=c("herd", "period"), f="log1p(incidence) ~ period + offset(-log(size)) + (1 | herd)", weights="size", offset="logsize"),
 orthodont_offset = list(file="orthodont.csv", factors=c("Subject", "Sex"), f="distance ~ Sex + offset(0.5 * age) + offset(log(age)) + (1 | Subject)"),
 orthodont_rank = list(file="orthodont.csv", factors=c("Subject", "Sex"), f="distance ~ age + I(age - 11) + Sex + (1 | Subject)"),
 chick_ns = list(file="chickweight.csv", factors="Chick", f="log(weight) ~ ns(Time, df = 3) + (Time | Chick)"),
 chick_bs = list(file="chickweight.csv", factors="Chick", f="weight ~ bs(Time, degree = 2, knots = c(7, 14)) + (Time | Chick)"),
 sleep_bs = list(file="sleepstudy.csv", factors="Subject", f="Reaction ~ bs(Days, df = 4) + (1 | Subject)"),
 sleep_ns_weights = list(file="sleep_w.csv", factors="Subject", f="Reaction ~ ns(Days, 2, intercept = TRUE) - 1 + (Days | Subject)", weights="w")
)
for (nm in names(specs)) {
  s <- specs[[nm]]; d <- rd(s$file, s$factors)
  for (reml in c(FALSE, TRUE)) {
    ctl <- if (is.null(s$optimizer)) lmerControl() else lmerControl(optimizer=s$optimizer)
    a <- list(formula=as.formula(s$f), data=quote(d), REML=reml, control=ctl)
    if (!is.null(s$weights)) a$weights <- d[[s$weights]]
    if (!is.null(s$offset)) a$offset <- d[[s$offset]]
    t <- system.time(m <- do.call(lmer, a))[["elapsed"]]
    vc <- as.data.frame(VarCorr(m))
    out <- list(name=nm, data=s$file, formula=s$f, weights=s$weights, offset=s$offset, reml=reml, nobs=nobs(m),
      objective = if (reml) REMLcrit(m) else deviance(m), logLik=as.numeric(logLik(m)),
      AIC=AIC(m), BIC=BIC(m), sigma=sigma(m), theta=unname(getME(m,"theta")), singular=isSingular(m),
      fixef=as.list(fixef(m)), fixef_se=as.list(sqrt(diag(as.matrix(vcov(m))))),
      xnames=colnames(getME(m, "X")),
      varcorr=lapply(seq_len(nrow(vc)), function(i) list(group=vc$grp[i], var1=vc$var1[i], var2=if (is.na(vc$var2[i])) NULL else vc$var2[i], vcov=vc$vcov[i], sdcor=vc$sdcor[i])),
      lme4_seconds=t, lme4_version=as.character(packageVersion("lme4")))
    out <- Filter(Negate(is.null), out)
    if (!is.null(s$optimizer)) out$optimizer <- s$optimizer
    re <- ranef(m); out$ranef <- lapply(re, function(x) { x <- as.data.frame(x); list(levels=rownames(x), values=as.list(x)) })
    cf <- coef(m); out$coef <- lapply(cf, function(x) { x <- as.data.frame(x); list(levels=rownames(x), values=as.list(x)) })
    out$fitted <- unname(fitted(m))
    fn <- file.path(outdir, sprintf("%s_%s.json", nm, if (reml) "reml" else "ml"))
    writeLines(toJSON(out, auto_unbox=TRUE, digits=NA, pretty=TRUE), fn)
    cat(fn, t, "\n")
  }
}

# Predictions on held-out rows: fit (REML, lmer's default) on sleep_train.csv, predict
# sleep_new.csv with re.form = NA (population) and re.form = NULL (allow.new.levels = TRUE:
# subject 372 gets random effects 0). makepredictcall makes scale() and poly() reuse the
# training centre/scale and alpha/norm2.
pspecs <- list(
 sleep_scale = "Reaction ~ scale(Days) + (scale(Days) | Subject)",
 sleep_poly = "Reaction ~ poly(Days, 2) + (1 | Subject)",
 sleep_poly3 = "log(Reaction) ~ poly(Days, 3) + (scale(Days, center = FALSE) | Subject)",
 sleep_ns = "Reaction ~ ns(Days, df = 3) + (Days | Subject)",
 # sleep_out.csv: Days outside the training range, where ns() extrapolates linearly and bs()
 # by its Taylor polynomial at a point inside the boundary (R warns, and computes them).
 sleep_ns_out = list(f="Reaction ~ ns(Days, df = 3) + (Days | Subject)", newdata="sleep_out.csv"),
 sleep_bs_out = list(f="Reaction ~ bs(Days, df = 5) + (1 | Subject)", newdata="sleep_out.csv"),
 sleep_ns_offset = list(f="Reaction ~ ns(Days, knots = 4.5) + offset(log1p(Days + 1)) + (1 | Subject)", newdata="sleep_out.csv")
)
for (nm in names(pspecs)) {
  ps <- pspecs[[nm]]; if (is.character(ps)) ps <- list(f=ps, newdata="sleep_new.csv")
  tr <- rd("sleep_train.csv", "Subject"); nw <- read.csv(file.path(outdir, ps$newdata))
  m <- lmer(as.formula(ps$f), data=tr)
  re <- ranef(m)
  out <- list(name=nm, train="sleep_train.csv", newdata=ps$newdata, formula=ps$f, reml=TRUE,
    fixef=as.list(fixef(m)), xnames=colnames(getME(m, "X")),
    ranef=lapply(re, function(x) { x <- as.data.frame(x); list(levels=rownames(x), values=as.list(x)) }),
    pred_na=unname(suppressWarnings(predict(m, newdata=nw, re.form=NA))),
    pred_full=unname(suppressWarnings(predict(m, newdata=nw, re.form=NULL, allow.new.levels=TRUE))),
    lme4_version=as.character(packageVersion("lme4")))
  fn <- file.path(outdir, sprintf("%s_predict.json", nm))
  writeLines(toJSON(out, auto_unbox=TRUE, digits=NA, pretty=TRUE), fn)
  cat(fn, "\n")
}

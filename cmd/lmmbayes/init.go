package main

import "fmt"

// initTemplate is the config "lmmbayes init" prints: every key with its
// default and a comment saying what it does.
const initTemplate = `# lmmbayes config. Paths are relative to this file.
# Every key below shows its default; delete what you do not need.

[data]
path = "data.csv"        # CSV file with a header row (required)
factors = []             # columns to treat as categorical even if numeric
na = ["NA", ""]          # cell values that mean "missing"
# weights = "w"          # prior weights: residual variance sigma^2/w, as lmer's weights= (default: none)
# offset = "o"           # a column added to the linear predictor, as lmer's offset= (default: none)
# [data.reference]       # reference (baseline) level of a factor
# attitude = "inf"

[model]
formula = "y ~ x + (1 | group)"   # lme4 syntax (required)
rank_deficient = "drop"  # aliased fixed-effects columns: "drop" them as lme4 does, or "error"
family = "gaussian"      # or bernoulli, binomial, poisson, negbinomial (docs/config.md)

[priors]
# brms-style strings; more specific keys override general ones.
# b = "normal(0, 10)"              # every fixed effect but the intercept (default: flat)
# Intercept = "student_t(3, median(y), mad(y))"   # default, computed from y
# sigma = "student_t(3, 0, mad(y))"               # default (half-t), scale at least 2.5
# sd = "student_t(3, 0, mad(y))"                  # every random-effect SD (default, half-t)
# cor = "lkj(1)"                                  # every correlation matrix (default)

[sampler]
chains = 4               # independent chains, run in parallel
warmup = 1000            # warmup iterations per chain (adaptation; not saved)
draws = 1000             # saved draws per chain, after thinning
thin = 1                 # keep every thin-th iteration
# seed = 1               # default: a random seed, recorded in run.json
method = "auto"          # "collapsed", "nuts", "crossed", or "auto"; other families "pg" or "mh" (docs/sampler.md)
conjugate_inv_gamma = false  # inv_gamma variances by conjugate Gibbs instead of Metropolis

[output]
dir = "lmmbayes_out"     # where draws, summaries and run.json go
random_effects = true    # write the r_ columns of every level
log_lik = false          # write log_lik_K.csv, the pointwise log-likelihood for "lmmbayes loo"
plots = false            # write diagnostic plots and report.html
ml_fit = true            # write ml_fit.json, the ML fit that "compare" shows beside the posterior
ppc = true               # write ppc.csv, ppc_stats.csv (and ppc_rootogram.csv for counts); false skips the predictive draws: big data

[predict]
newdata = ""             # CSV of new rows for "lmmbayes predict"
out = ""                 # predictions file (default: predictions.csv in the output dir)
re_form = ""             # "NA" drops all random effects (population level)
new_levels = "gaussian"  # "gaussian" draws unseen levels from the population; "error" refuses them
`

func cmdInit(e *env, args []string) error {
	fs := newFlags("init", "\n\nPrints a config file with every key and its default; redirect it to a file.", e.stdout)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return inputErrorf("init: takes no arguments (redirect the output: lmmbayes init > config.toml)")
	}
	fmt.Fprint(e.stdout, initTemplate)
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/posterior"
	"github.com/lmmbayes/lmmbayes/priors"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// The gamma(a, b) prior (shape a, rate b) on the negative binomial's
// shape: brms's default gamma(0.01, 0.01). It cannot be changed yet.
const nbShapeA, nbShapeB = 0.01, 0.01

// gammaPrior is the shape's prior, for printing and run.json only.
type gammaPrior struct{ a, b float64 }

func (g gammaPrior) Family() string               { return "gamma" }
func (g gammaPrior) String() string               { return fmt.Sprintf("gamma(%g, %g)", g.a, g.b) }
func (g gammaPrior) Allows(c priors.Class) bool   { return false }
func (g gammaPrior) LogDensity(x float64) float64 { return math.NaN() }

// glmmMethod names the sampler run for design d under the configured
// method (auto, pg or mh): "mh" (Metropolis–Hastings in Laplace-whitened
// coordinates, sampler.RunLaplace) for the count families; for bernoulli
// and binomial "auto" picks "mh" when the model has one random-effect
// term or prior weights (which the Pólya-Gamma sampler does not take) and
// "pg" (Pólya-Gamma Gibbs, sampler.RunLogistic) otherwise
// (docs/sampler.md has the measurements behind the rule).
func glmmMethod(method string, d *model.Design) string {
	if !d.Family.Logistic() {
		return "mh"
	}
	if method == "pg" || method == "mh" {
		return method
	}
	if len(d.Terms) == 1 || d.Weights != nil {
		return "mh"
	}
	return "pg"
}

// runGLMM is `run` for a non-Gaussian family: chains of
// sampler.RunLogistic or sampler.RunCount, written as the Gaussian run
// writes its draws (draws_K.csv, summary.csv, run.json, …). cmdRun has
// checked the output dir (or, with --chain-id, the chain files).
func runGLMM(e *env, rf *runFlags, cfg *config, fam model.Family) error {
	chainMode := *rf.chain > 0
	switch m := cfg.Sampler.Method; {
	case m == "pg" && !fam.Logistic():
		return inputErrorf("%s: key \"sampler.method\" = \"pg\" (Pólya-Gamma) applies to bernoulli and binomial only; family %s is sampled by \"mh\"", cfg.where("sampler.method"), fam)
	case m != "auto" && m != "pg" && m != "mh":
		takes := `"auto" or "mh"`
		if fam.Logistic() {
			takes = `"auto", "pg" or "mh"`
		}
		return inputErrorf("%s: key \"sampler.method\" = %q is a method of the gaussian sampler; family %s takes %s", cfg.where("sampler.method"), m, fam, takes)
	}
	if cfg.Sampler.ConjugateInvGamma {
		return inputErrorf("%s: key \"sampler.conjugate_inv_gamma\" applies to the gaussian sampler only; family %s has no such step (remove the key)", cfg.where("sampler.conjugate_inv_gamma"), fam)
	}
	phases := newPhaseLog(e.stderr, *rf.quiet)
	d, dropped, err := buildDesignDropped(cfg)
	if err != nil {
		return err
	}
	phases.done("reading the data")
	if msg := dropped.Report(); msg != "" {
		fmt.Fprintln(e.stderr, msg)
	}
	if err := checkRunnable(cfg, d); err != nil {
		return err
	}
	method := glmmMethod(cfg.Sampler.Method, d)
	if method == "pg" && d.Weights != nil {
		return inputErrorf("%s: key \"sampler.method\" = \"pg\": the Pólya-Gamma sampler takes no prior weights (weights column %q); use \"mh\" or \"auto\"", cfg.where("sampler.method"), d.WeightsColumn)
	}
	spec, asg, err := buildGLMMSpec(cfg, d)
	if err != nil {
		return err
	}
	thin := int(max(cfg.Sampler.Thin, 1))
	opt := sampler.Options{
		Chains: int(cfg.Sampler.Chains), Warmup: int(cfg.Sampler.Warmup), Draws: int(cfg.Sampler.Draws),
		Thin: thin, Seed: uint64(cfg.Sampler.Seed), FirstChain: int(max(*rf.chain, 1)), RandomEffects: cfg.Output.RandomEffects,
	}
	// The sampler always keeps the effects: lp__, log_lik and the
	// posterior predictive need them; the r_ columns are written only
	// when asked for.
	gopt := sampler.GLMMOptions{Chains: opt.Chains, Warmup: opt.Warmup, Draws: opt.Draws * thin, Seed: opt.Seed, FirstChain: opt.FirstChain, RandomEffects: true}
	if !*rf.quiet {
		phases.progress(true, "sampling %d chains of %d iterations (%s)", opt.Chains, gopt.Warmup+gopt.Draws, method)
	}
	// The ML fit for ml_fit.json needs only the design: it runs beside
	// the sampling, as in the Gaussian run.
	var ml *model.GLMMFitResult
	mlWait := startML(nil)
	if cfg.Output.MLFit && !chainMode {
		mlWait = startML(func() []string {
			var warn []string
			ml, warn = fitGLMMML(d)
			return warn
		})
	}
	start := time.Now()
	var gr *sampler.GLMMResult
	if method == "pg" {
		gr, err = sampler.RunLogistic(e.ctx, spec, gopt)
	} else {
		gr, err = sampler.RunLaplace(e.ctx, spec, gopt)
	}
	wall := time.Since(start)
	interrupted := false
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			return samplerInputError(cfg, fmt.Errorf("run: %w", err))
		}
		if gr == nil || gr.NDraws/thin < 4 {
			return fmt.Errorf("%w before any draws were saved: nothing written", errInterrupted)
		}
		// As the Gaussian run: write and summarise the draws made so
		// far, marked incomplete, then exit 130.
		interrupted = true
		fmt.Fprintf(e.stderr, "lmmbayes: interrupted: writing the %d draws per chain finished so far (a second signal stops at once)\n", gr.NDraws/thin)
	}
	phases.done(fmt.Sprintf("sampling (%.3f s)", wall.Seconds()))
	names := draws.ColumnNames(d, cfg.Output.RandomEffects)
	res := &sampler.Result{Names: names, Method: method}
	if method == "pg" {
		res.MethodReason = "family " + fam.String() + ": Pólya-Gamma Gibbs (joint draw of β and b given ω, Metropolis on the SDs)"
	} else {
		res.MethodReason = "family " + fam.String() + ": Metropolis–Hastings in Laplace-whitened coordinates"
	}
	out := &runOutput{cfg: cfg, d: d, asg: asg, opt: opt, dropped: dropped, phases: phases, family: fam}
	if err := out.begin(chainMode, e.stderr); err != nil {
		return err
	}
	defer out.discard()
	defer e.cleanup.add(out.discard)()
	// Each chain's file (lp__, the formatting, log_lik) in parallel: the
	// sinks are independent (SinkSet.Open is safe from several
	// goroutines) and every chain is written whole before any error is
	// returned, so a failure still leaves nothing behind (out.discard).
	chains := make([]*sampler.ChainResult, opt.Chains)
	errs := make([]error, opt.Chains)
	var wg sync.WaitGroup
	for ci := range opt.Chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chains[ci], errs[ci] = out.writeGLMMChain(gr, ci, thin, wall, method)
		}()
	}
	wg.Wait()
	for ci := range opt.Chains {
		if errs[ci] != nil {
			return errs[ci]
		}
		res.Chains = append(res.Chains, chains[ci])
	}
	out.res, out.wall, out.incomplete = res, wall, interrupted
	if interrupted {
		out.warnings = append(out.warnings, fmt.Sprintf("the run was interrupted: %d of %d draws per chain were made", gr.NDraws/thin, opt.Draws))
	}
	if err := out.finishDraws(); err != nil {
		return err
	}
	if chainMode {
		return out.finishChainMode(e.stdout, interrupted)
	}
	out.startPPCEarly()
	if err := out.summarizeBesideML(func() []string {
		warn := mlWait()
		out.mlGLMM = ml
		return warn
	}); err != nil {
		return err
	}
	phases.done("summaries, ML fit")
	if err := out.write(*rf.force); err != nil {
		return err
	}
	phases.done("files in place")
	out.printSummary(e.stdout)
	if interrupted {
		return fmt.Errorf("%w: the output in %s holds the draws made before the signal (run.json: \"incomplete\": true)", errInterrupted, out.outDir())
	}
	return nil
}

// buildGLMMSpec resolves the config's priors for the GLMM design d. The
// defaults are flat on every fixed effect (the samplers take normal or
// flat priors there), brms's student_t(3, 0, 2.5) on the SDs, lkj(1) on
// correlations and gamma(0.01, 0.01) on a negative binomial's shape. A
// key the samplers cannot use is refused, naming it.
func buildGLMMSpec(cfg *config, d *model.Design) (*sampler.GLMMSpec, *priors.Assignment, error) {
	def := priors.DefaultPriors{
		Intercept: priors.Flat{}, B: priors.Flat{},
		Sigma: priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5},
		SD:    priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5},
		Cor:   priors.LKJ{Eta: 1},
	}
	if _, ok := cfg.Priors["shape"]; ok {
		what := "family " + d.Family.String() + " has no shape"
		if d.Family == model.NegBinomial {
			what = fmt.Sprintf("the negative binomial's shape has brms's default gamma(%g, %g) prior, which cannot be changed yet (remove the key)", nbShapeA, nbShapeB)
		}
		return nil, nil, inputErrorf("%s: key \"priors.shape\": %s", cfg.where("priors.shape"), what)
	}
	asg, err := priors.Resolve(cfg.Priors, sampler.ParamSetOf(d), def)
	if err != nil {
		var ke *priors.KeyError
		if errors.As(err, &ke) {
			return nil, nil, inputErrorf("%s: key \"priors.%s\": %v", cfg.where("priors."+ke.Key), ke.Key, ke.Err)
		}
		return nil, nil, asInput(fmt.Errorf("priors: %w", err))
	}
	if k := asg.Sigma.Key; k != "" {
		return nil, nil, inputErrorf("%s: key \"priors.%s\": family %s has no residual SD sigma (remove the key)", cfg.where("priors."+k), k, d.Family)
	}
	for _, e := range asg.Entries() {
		if e.Param == asg.Sigma.Param {
			continue
		}
		if err := checkPriorScale(cfg, e); err != nil {
			return nil, nil, err
		}
	}
	refuse := func(e priors.Entry, what string) error {
		return inputErrorf("%s: key \"priors.%s\": prior %s on %s: %s", cfg.where("priors."+e.Key), e.Key, e.Prior, e.Param, what)
	}
	spec := &sampler.GLMMSpec{Design: d, ShapeA: nbShapeA, ShapeB: nbShapeB}
	for _, e := range asg.Fixed {
		switch p := e.Prior.(type) {
		case priors.Normal, priors.Flat, priors.StudentT, priors.Cauchy, priors.Laplace:
			spec.Fixed = append(spec.Fixed, p.(priors.Univariate))
		default:
			return nil, nil, refuse(e, "the "+d.Family.String()+" samplers take flat, normal, student_t, cauchy or laplace priors on fixed effects")
		}
	}
	for ti, t := range asg.Terms {
		if t.Cov != nil {
			return nil, nil, refuse(*t.Cov, "the "+d.Family.String()+" sampler takes SD and lkj priors, not a covariance prior")
		}
		// All effects of a term share one SD prior in the GLMM samplers.
		var sp priors.ScalePrior
		for i, e := range t.SD {
			p, ok := e.Prior.(priors.ScalePrior)
			if !ok {
				return nil, nil, refuse(e, "not a prior on an SD")
			}
			if i > 0 && e.Prior.String() != t.SD[0].Prior.String() {
				return nil, nil, refuse(e, fmt.Sprintf("the %s sampler takes one SD prior per term, and (… | %s) has %s on %s", d.Family, d.Terms[ti].Group, t.SD[0].Prior, t.SD[0].Param))
			}
			sp = p
		}
		spec.SD = append(spec.SD, sp)
		eta := 1.0
		if t.Cor != nil {
			l, ok := t.Cor.Prior.(priors.LKJ)
			if !ok {
				return nil, nil, refuse(*t.Cor, "not an lkj prior")
			}
			eta = l.Eta
			if d.Family.Count() && eta != 1 {
				return nil, nil, refuse(*t.Cor, "the count sampler takes lkj(1) only so far")
			}
		}
		spec.CorEta = append(spec.CorEta, eta)
	}
	return spec, asg, nil
}

// priorEntries lists the priors of the run, as printed and in run.json:
// the assignment's, without sigma for a non-Gaussian family and with the
// negative binomial's shape.
func (o *runOutput) priorEntries() []priors.Entry {
	all := o.asg.Entries()
	if o.family == model.Gaussian {
		return all
	}
	var out []priors.Entry
	for _, e := range all {
		if e.Class == priors.ClassSigma {
			continue
		}
		out = append(out, e)
	}
	if o.family == model.NegBinomial {
		out = append(out, priors.Entry{Param: "shape", Prior: gammaPrior{nbShapeA, nbShapeB}})
	}
	return out
}

// writeGLMMChain writes chain ci of gr (thinned by thin) to its draws
// file: lp__ (the log-likelihood given the draw's effects, see
// docs/sampler.md), then the sampler's columns in draws.ColumnNames'
// order; the r_ columns only when kept. method is the sampler run
// (glmmMethod), for the file's header.
func (o *runOutput) writeGLMMChain(gr *sampler.GLMMResult, ci, thin int, wall time.Duration, method string) (*sampler.ChainResult, error) {
	d := o.d
	names := draws.ColumnNames(d, o.cfg.Output.RandomEffects)
	sink, err := o.sinks.Open(o.opt.FirstChain+ci, method, names)
	if err != nil {
		return nil, err
	}
	chain := make([]float64, 0, gr.NDraws/thin*len(names.Columns))
	ndraws, err := posterior.GLMMChainRows(d, gr, ci, thin, o.cfg.Output.RandomEffects, func(r draws.Row) error {
		if err := sink.WriteDraw(r); err != nil {
			return err
		}
		chain = r.AppendTo(chain)
		return nil
	})
	if err != nil {
		sink.Abort()
		return nil, fmt.Errorf("run: %w", err)
	}
	return &sampler.ChainResult{ID: o.opt.FirstChain + ci, Draws: chain, NDraws: ndraws, Wall: wall,
		Accept: gr.Accept[ci], AcceptWarmup: math.NaN(), AcceptRW: math.NaN(), AcceptIndep: math.NaN()}, nil
}

// fitGLMMML fits the model as glmer does (Laplace) for ml_fit.json; a
// failed fit is a warning.
func fitGLMMML(d *model.Design) (*model.GLMMFitResult, []string) {
	ml, err := model.FitGLMM(d, model.GLMMOptions{NAGQ: 1})
	if err != nil {
		return nil, []string{fmt.Sprintf("the ML fit for ml_fit.json failed: %v", err)}
	}
	return ml, nil
}

// printGLMMFamily prints the family lines of the summary's head.
func printGLMMFamily(w io.Writer, f model.Family) {
	fmt.Fprintf(w, " Family: %s\n  Links: mu = %s", f, f.Link())
	if f == model.NegBinomial {
		fmt.Fprint(w, "; shape = identity")
	}
	fmt.Fprintln(w)
}

// posteriorGLMMPPC is true once ppc.csv is written for GLMM families.
const posteriorGLMMPPC = true

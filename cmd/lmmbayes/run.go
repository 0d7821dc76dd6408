package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/posterior"
	"github.com/lmmbayes/lmmbayes/priors"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// runFlags are the flags of "run" that override [sampler] and [output].
type runFlags struct {
	model  *modelFlags
	out    *string
	chains *int64
	warmup *int64
	draws  *int64
	thin   *int64
	seed   *int64
	quiet  *bool
	prog   *bool
	force  *bool
	chain  *int64
	memMB  *int64
	fs     *flagSet
	logLik *bool
}

func addRunFlags(fs *flagSet) *runFlags {
	return &runFlags{
		model:  addModelFlagsWeights(fs),
		out:    fs.String("out", "", "output `dir` (overrides [output] dir)"),
		chains: fs.Int64("chains", 0, "number of `chains` (overrides [sampler] chains)"),
		warmup: fs.Int64("warmup", 0, "warmup `iterations` per chain (overrides [sampler] warmup)"),
		draws:  fs.Int64("draws", 0, "post-warmup `draws` per chain (overrides [sampler] draws)"),
		thin:   fs.Int64("thin", 0, "keep every `k`-th draw (overrides [sampler] thin)"),
		seed:   fs.Int64("seed", 0, "random `seed` (overrides [sampler] seed)"),
		quiet:  fs.Bool("quiet", false, "no progress lines on stderr"),
		prog:   fs.Bool("progress", false, "progress lines on stderr even when it is not a terminal (for programs that drive lmmbayes, such as the Python package)"),
		force:  fs.Bool("force", false, "replace an output dir that an earlier run made (never one holding files lmmbayes did not write, the working dir, or the config's or data's dir)"),
		chain:  fs.Int64("chain-id", 0, "run only chain `K` of the full run (with --chains, chains K, K+1, …): writes draws_K.csv into the output dir, to be merged by \"lmmbayes summarize DIR\""),
		logLik: fs.Bool("log-lik", false, "write the pointwise log-likelihood of every data row to log_lik_K.csv (overrides [output] log_lik; for lmmbayes loo)"),
		memMB:  fs.Int64("memory-mb", 0, "most `MiB` of draws the summaries, ppc, coef and plots hold at once (overrides [output] memory_mb)"),
		fs:     fs,
	}
}

// config loads the config and applies the flags that were given.
func (r *runFlags) config(pos []string) (*config, error) {
	cfg, err := r.model.config(pos)
	if err != nil {
		return nil, err
	}
	set := r.fs.setFlags()
	ints := []struct {
		flag string
		key  string
		dst  *int64
		v    int64
	}{
		{"chains", "sampler.chains", &cfg.Sampler.Chains, *r.chains},
		{"warmup", "sampler.warmup", &cfg.Sampler.Warmup, *r.warmup},
		{"draws", "sampler.draws", &cfg.Sampler.Draws, *r.draws},
		{"thin", "sampler.thin", &cfg.Sampler.Thin, *r.thin},
		{"seed", "sampler.seed", &cfg.Sampler.Seed, *r.seed},
		{"memory-mb", "output.memory_mb", &cfg.Output.MemoryMB, *r.memMB},
	}
	for _, f := range ints {
		if set[f.flag] {
			*f.dst = f.v
			cfg.flagKeys[f.key] = "--" + f.flag
		}
	}
	if set["log-lik"] {
		cfg.Output.LogLik = *r.logLik
		cfg.flagKeys["output.log_lik"] = "--log-lik"
	}
	if set["seed"] {
		cfg.seedSet = true
	}
	if set["chain-id"] {
		if *r.chain < 1 {
			return nil, inputErrorf("--chain-id must be positive, got %d", *r.chain)
		}
		if !set["chains"] {
			cfg.Sampler.Chains = 1
		}
		if !cfg.seedSet {
			return nil, inputErrorf("--chain-id needs a seed shared by all chains: set [sampler] seed or --seed")
		}
	}
	if set["out"] {
		if strings.TrimSpace(*r.out) == "" {
			return nil, inputErrorf("--out: key \"output.dir\" is empty: name a directory of its own for the run's files")
		}
		abs, err := absPath(*r.out)
		if err != nil {
			return nil, err
		}
		cfg.Output.Dir = abs
		cfg.flagKeys["output.dir"] = "--out"
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func cmdRun(e *env, args []string) error {
	fs := newFlags("run", "CONFIG [flags]\n\nSamples the posterior of the model that CONFIG describes.", e.stdout)
	rf := addRunFlags(fs)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	cfg, err := rf.config(pos)
	if err != nil {
		return err
	}
	cfg.ensureSeed()
	chainMode := *rf.chain > 0
	if chainMode {
		if err := checkChainFiles(cfg, int(*rf.chain), int(cfg.Sampler.Chains), *rf.force); err != nil {
			return err
		}
	} else if err := checkOutputDir(cfg, *rf.force); err != nil {
		return err
	}
	if fam, _ := model.ParseFamily(cfg.Model.Family); fam != model.Gaussian {
		return runGLMM(e, rf, cfg, fam)
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
	if msg := d.RankMessage(); msg != "" {
		fmt.Fprintln(e.stderr, "lmmbayes: "+msg)
	}
	if err := checkRunnable(cfg, d); err != nil {
		return err
	}
	if m := cfg.Sampler.Method; m == "pg" || m == "mh" {
		return inputErrorf("%s: key \"sampler.method\" = %q is a method of the non-gaussian families; the gaussian model takes \"auto\", \"collapsed\", \"nuts\" or \"crossed\"", cfg.where("sampler.method"), m)
	}
	spec, asg, err := buildSpec(cfg, d)
	if err != nil {
		return err
	}
	var logger sampler.Logger
	if !*rf.quiet && (*rf.prog || isTerminal(e.stderr)) {
		logger = newProgress(e.stderr, int(cfg.Sampler.Chains))
	}
	opt := sampler.Options{
		Chains:        int(cfg.Sampler.Chains),
		Warmup:        int(cfg.Sampler.Warmup),
		Draws:         int(cfg.Sampler.Draws),
		Thin:          int(cfg.Sampler.Thin),
		Seed:          uint64(cfg.Sampler.Seed),
		FirstChain:    int(max(*rf.chain, 1)),
		Method:        cfg.Sampler.Method,
		RandomEffects: cfg.Output.RandomEffects,
		Logger:        logger,
	}
	// The draws stream to disk as they are made: into a staging dir put
	// in place once every file is written (or, in chain mode, under
	// temporary names in the output dir); a failure leaves nothing.
	phases.done("priors, spec")
	out := &runOutput{cfg: cfg, d: d, asg: asg, opt: opt, dropped: dropped, phases: phases}
	if err := out.begin(chainMode, e.stderr); err != nil {
		return err
	}
	defer out.discard()
	defer e.cleanup.add(out.discard)()
	out.opt.Sink = out.openSink
	// The ML fit for ml_fit.json (compare fits the model itself when the
	// file is absent: [output] ml_fit = false) needs only the design: it
	// runs beside the sampling (a core is idle while auto's pilot chain
	// runs) and the summaries; its warnings follow theirs.
	mlWait := startML(nil)
	if cfg.Output.MLFit && !chainMode {
		mlWait = startML(out.fitML)
	}
	start := time.Now()
	res, err := sampler.Run(e.ctx, spec, out.opt)
	if logger != nil {
		fmt.Fprintln(e.stderr)
	}
	interrupted := false
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			return samplerInputError(cfg, fmt.Errorf("run: %w", err))
		}
		if res == nil || len(res.Chains) == 0 || res.Chains[0].NDraws < 4 {
			return fmt.Errorf("%w before any draws were saved: nothing written", errInterrupted)
		}
		// Interrupted after some draws: write and summarise them, marked
		// incomplete, then exit 130.
		interrupted = true
		fmt.Fprintf(e.stderr, "lmmbayes: interrupted: writing the %d draws per chain finished so far (a second signal stops at once)\n", res.Chains[0].NDraws)
	}
	out.res, out.wall, out.incomplete = res, time.Since(start), interrupted
	if interrupted {
		out.warnings = append(out.warnings, fmt.Sprintf("the run was interrupted: %d of %d draws per chain were made", res.Chains[0].NDraws, opt.Draws))
	}
	if res != nil {
		var chainWall time.Duration
		for _, ch := range res.Chains {
			chainWall = max(chainWall, ch.Wall)
		}
		phases.done(fmt.Sprintf("sampling (chains %.3f s)", chainWall.Seconds()))
	}
	if err := out.finishDraws(); err != nil {
		return err
	}
	if chainMode {
		return out.finishChainMode(e.stdout, interrupted)
	}
	if bigPost(d.N, min(out.totalDraws(), posterior.PPCMaxDraws)) {
		phases.progress(true, "sampling done in %.0f s; summarising %d columns", out.wall.Seconds(), len(res.Names.Columns))
	}
	out.startPPCEarly()
	if err := out.summarizeBesideML(mlWait); err != nil {
		return err
	}
	phases.done("summaries, ML fit")
	if err := out.write(*rf.force); err != nil {
		return err
	}
	phases.done("files in place")
	out.printSummary(e.stdout)
	phases.done("printed summary")
	if interrupted {
		return fmt.Errorf("%w: the output in %s holds the draws made before the signal (run.json: \"incomplete\": true)", errInterrupted, out.outDir())
	}
	return nil
}

// buildSpec resolves the config's priors for design d and returns the
// sampler's model spec.
func buildSpec(cfg *config, d *model.Design) (*sampler.Spec, *priors.Assignment, error) {
	ps := sampler.ParamSetOf(d)
	asg, err := priors.Resolve(cfg.Priors, ps, priors.Defaults(d.Y))
	if err != nil {
		var ke *priors.KeyError
		if errors.As(err, &ke) {
			return nil, nil, inputErrorf("%s: key \"priors.%s\": %v", cfg.where("priors."+ke.Key), ke.Key, ke.Err)
		}
		return nil, nil, asInput(fmt.Errorf("priors: %w", err))
	}
	for _, e := range asg.Entries() {
		if err := checkPriorScale(cfg, e); err != nil {
			return nil, nil, err
		}
	}
	spec, err := sampler.NewSpec(d, asg, cfg.Sampler.ConjugateInvGamma)
	var pe *sampler.PriorError
	if errors.As(err, &pe) {
		where := cfg.path
		if pe.Entry.Key != "" {
			where = cfg.where("priors." + pe.Entry.Key)
		}
		return nil, nil, inputErrorf("%s: %v", where, pe)
	}
	if err != nil {
		return nil, nil, err
	}
	return spec, asg, nil
}

// fitML fits the model by ML for ml_fit.json, and warns when the fit says
// the model reproduces the response exactly (the posterior of σ is then
// degenerate). A failed fit is a warning, not an error: the posterior
// stands without it. It returns the warnings (the caller adds them).
func (o *runOutput) fitML() []string {
	ml, err := model.Fit(o.d, model.FitOptions{})
	if err != nil {
		return []string{fmt.Sprintf("the ML fit for ml_fit.json failed: %v", err)}
	}
	o.ml = ml
	if sy := stat.StdDev(o.d.Y, nil); ml.Sigma < 1e-5*sy {
		return []string{fmt.Sprintf(
			"the model fits the response exactly (ML residual SD %.3g against SD(y) %.3g): the posterior of sigma piles up at zero and the chains cannot mix; check the formula for a term that reproduces y", ml.Sigma, sy)}
	}
	return nil
}

package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/internal/outfile"
	"github.com/lmmbayes/lmmbayes/internal/safejson"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/posterior"
	"github.com/lmmbayes/lmmbayes/priors"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// runOutput writes the files and the printed summary of a run.
type runOutput struct {
	cfg  *config
	d    *model.Design
	asg  *priors.Assignment
	res  *sampler.Result
	opt  sampler.Options
	wall time.Duration
	// incomplete marks a run interrupted by a signal.
	incomplete bool
	// dropped are the data rows left out for a missing value.
	dropped *droppedRows
	// ml is the ML fit written to ml_fit.json (nil when it failed; the
	// failure is among warnings).
	ml *model.FitResult
	// family is the model's family; mlGLMM the glmer-style ML fit of a
	// non-Gaussian family for ml_fit.json (nil when it failed).
	family model.Family
	mlGLMM *model.GLMMFitResult
	// stage is the directory the run's files are written into before
	// they are put in place (the output dir itself in chain mode), and
	// files the draws files there, in chain order, once finished.
	stage string
	files []string
	// dir is the output dir the files go into: the configured one, or
	// the target of a symbolic link (set by begin; "" before).
	dir   string
	sinks *draws.SinkSet
	// ppcWait, when set, waits for the posterior predictive check and
	// coef.csv started early (startPPCEarly).
	ppcWait func() error
	// mem holds the draws in memory as well, when they fit in half the
	// memory budget (nil: read them back from files).
	mem *draws.Draws
	// thinPost is the thinning of the draws read back for ppc.csv,
	// coef.csv and the plots (1: all; more when they exceed memory_mb).
	thinPost int
	// phases times the post-processing and prints its progress (nil:
	// silent).
	phases *phaseLog
	// filled by summarize
	names    []string // summary names (b, sd, cor, sigma, r)
	cols     []int    // their columns in the draws
	sums     []diagnostics.Summary
	warnings []string
}

// budget is the memory, in bytes, that post-processing may hold draws in.
func (o *runOutput) budget() int64 { return o.cfg.Output.MemoryMB << 20 }

// startML starts fit (when not nil: the ML fit) on a goroutine of its
// own and returns a function that waits for it and returns its warnings.
func startML(fit func() []string) func() []string {
	if fit == nil {
		return func() []string { return nil }
	}
	var warnings []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		warnings = fit()
	}()
	return func() []string {
		<-done
		return warnings
	}
}

// summarizeBesideML runs summarize while the ML fit started by startML
// (wait waits for it) runs on another goroutine; the fit's warnings
// follow the summaries'.
func (o *runOutput) summarizeBesideML(wait func() []string) error {
	err := o.summarize()
	mlWarnings := wait()
	if err != nil {
		return err
	}
	o.warnings = append(o.warnings, mlWarnings...)
	return nil
}

// summarize computes the posterior summary of every parameter from the
// draws files, as many columns at a time as the memory budget allows.
func (o *runOutput) summarize() error {
	if o.sums != nil {
		return nil
	}
	n := o.res.Names
	idx := map[string]int{}
	for i, c := range n.Columns {
		idx[c] = i
	}
	add := func(name string, col int) {
		o.names = append(o.names, name)
		o.cols = append(o.cols, col)
	}
	var disp []string
	if n.Dispersion != "" {
		disp = []string{n.Dispersion}
	}
	for _, group := range [][]string{n.B, n.SD, n.Cor, disp} {
		for _, c := range group {
			add(c, idx[c])
		}
	}
	for _, re := range n.RE {
		add(re.Summary, idx[re.Column])
	}
	if o.mem != nil {
		o.sums = diagnostics.SummarizeEach(len(o.cols), func(i int) [][]float64 { return o.mem.ColumnAt(o.cols[i]) }, 0)
	} else {
		sums, _, err := draws.SummarizeFiles(o.files, o.cols, o.totalDraws(), o.budget())
		if err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		o.sums = sums
	}
	o.warnings = append(o.warnings, diagnostics.Warnings(o.names, o.sums)...)
	o.warnings = append(o.warnings, nutsWarnings(o.res.Chains)...)
	return nil
}

// nutsWarnings reports, as Stan does, post-warmup divergent transitions
// and transitions that hit the maximum tree depth, with the chains they
// happened in and a next step.
func nutsWarnings(chains []*sampler.ChainResult) []string {
	var div, depth, n int
	var divCh, depthCh []string
	maxDepth := 0
	for _, c := range chains {
		ns := c.NUTS
		if ns == nil {
			continue
		}
		n += c.NDraws
		maxDepth = ns.MaxDepth
		if ns.Divergent > 0 {
			div += ns.Divergent
			divCh = append(divCh, fmt.Sprintf("%d: %d", c.ID, ns.Divergent))
		}
		if ns.MaxTreeDepth > 0 {
			depth += ns.MaxTreeDepth
			depthCh = append(depthCh, fmt.Sprintf("%d: %d", c.ID, ns.MaxTreeDepth))
		}
	}
	var out []string
	if div > 0 {
		out = append(out, fmt.Sprintf("%d divergent transitions after warmup (by chain %s): the estimates may be biased; rerun with a longer warmup ([sampler] warmup = 2000) and, if they persist, with tighter priors on the SDs or correlations (docs/sampler.md, \"NUTS\")", div, strings.Join(divCh, ", ")))
	}
	if depth > 0 {
		out = append(out, fmt.Sprintf("%d transitions after warmup hit the maximum tree depth %d (by chain %s): the sampler is inefficient there, not wrong; a longer warmup usually adapts it better", depth, maxDepth, strings.Join(depthCh, ", ")))
	}
	return out
}

// begin prepares the draws files before sampling: a fresh staging
// directory beside the output dir (or, in chain mode, temporary names in
// the output dir itself), and the sinks the sampler streams into. On
// failure nothing is left behind. Staging dirs that a killed run left
// beside the output dir are removed first, saying so on stderr.
func (o *runOutput) begin(chainMode bool, stderr io.Writer) error {
	dir := o.outDir()
	hdr := draws.Header{Warmup: o.opt.Warmup, Thin: max(o.opt.Thin, 1), Draws: o.opt.Draws, Seed: o.opt.Seed, Formula: o.d.Formula.Text, Data: o.cfg.Data.Path, Version: version}
	if o.dropped != nil {
		hdr.DataSHA = o.dropped.SHA256
	}
	if o.asg != nil {
		var ps []string
		for _, e := range o.priorEntries() {
			ps = append(ps, e.Param+" ~ "+e.Prior.String())
		}
		hdr.Priors = strings.Join(ps, "; ")
	}
	if chainMode {
		_, statErr := os.Stat(dir)
		if err := os.MkdirAll(dir, outfile.DirMode); err != nil {
			return fmt.Errorf("%s: output dir: %w", o.cfg.where("output.dir"), err)
		}
		if os.IsNotExist(statErr) {
			if err := writeMarker(dir); err != nil {
				return fmt.Errorf("%s: output dir: %w", o.cfg.where("output.dir"), err)
			}
		}
		o.stage = dir
		o.sinks = &draws.SinkSet{Header: hdr, Path: func(id int) string {
			return filepath.Join(dir, fmt.Sprintf(".draws_%d.csv.tmp", id))
		}}
		if o.cfg.Output.LogLik {
			o.sinks.LogLik = logLikSpec(o.d)
		}
		return nil
	}
	// A symbolic link is written through, never replaced.
	real, err := resolveOutDir(o.cfg.where("output.dir"), dir)
	if err != nil {
		return err
	}
	o.dir = real
	dir = real
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, outfile.DirMode); err != nil {
		return fmt.Errorf("%s: output dir: %w", o.cfg.where("output.dir"), err)
	}
	removeStaleStages(dir, stderr)
	stage, err := makeStage(dir)
	if err != nil {
		return fmt.Errorf("%s: output dir: %w", o.cfg.where("output.dir"), err)
	}
	o.stage = stage
	if err := writeMarker(stage); err != nil {
		return fmt.Errorf("%s: output dir: %w", o.cfg.where("output.dir"), err)
	}
	// Draws that fit in half the budget are also kept in memory, so that
	// the summaries, ppc and coef need not read them back.
	o.sinks = &draws.SinkSet{Header: hdr, KeepBytes: o.budget() / 2, Chains: o.opt.Chains, Path: func(id int) string {
		return filepath.Join(stage, fmt.Sprintf("draws_%d.csv", id))
	}}
	if o.cfg.Output.LogLik {
		o.sinks.LogLik = logLikSpec(o.d)
	}
	return nil
}

// openSink is the sampler's Options.Sink: the draws file of one chain.
func (o *runOutput) openSink(info sampler.ChainInfo) (sampler.DrawSink, error) {
	s, err := o.sinks.Open(info.ID, info.Method, info.Names)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// finishDraws completes the draws files of the sampler's result, each
// ending with the chain's acceptance (or NUTS) statistics.
func (o *runOutput) finishDraws() error {
	var ends []draws.ChainEnd
	for _, ch := range o.res.Chains {
		tr := chainTrailer(ch)
		if o.family != model.Gaussian {
			tr = fmt.Sprintf("# %s: Metropolis acceptance of the variance parameters %s\n", o.res.Method, fmtRate(ch.Accept))
		}
		ends = append(ends, draws.ChainEnd{ID: ch.ID, NDraws: ch.NDraws, Trailer: tr})
	}
	mem, err := o.sinks.Finish(o.res.Names, ends)
	if err != nil {
		return err
	}
	o.mem = mem
	o.files = o.files[:0]
	for _, ch := range o.res.Chains {
		o.files = append(o.files, o.sinks.Path(ch.ID))
	}
	return nil
}

// chainTrailer is the comment that ends chain ch's draws file.
func chainTrailer(ch *sampler.ChainResult) string {
	if ns := ch.NUTS; ns != nil {
		return fmt.Sprintf("# NUTS on the variance parameters: step size %g, mean acceptance statistic %s (warmup %s), mean leapfrog steps %.1f, divergent %d (warmup %d), max tree depth %d hit %d times\n",
			ns.StepSize, fmtRate(ch.Accept), fmtRate(ch.AcceptWarmup), ns.MeanLeapfrog, ns.Divergent, ns.DivergentWarmup, ns.MaxDepth, ns.MaxTreeDepth)
	}
	return fmt.Sprintf("# Metropolis acceptance of the variance parameters: warmup %s, random walk %s, independence %s\n",
		fmtRate(ch.AcceptWarmup), fmtRate(ch.AcceptRW), fmtRate(ch.AcceptIndep))
}

// discard removes what begin and the sampler wrote (after a failure).
func (o *runOutput) discard() {
	if o.ppcWait != nil {
		o.ppcWait()
	}
	if o.sinks != nil {
		o.sinks.Abort()
	}
	if o.stage == "" {
		return
	}
	if o.stage == o.outDir() {
		for _, f := range o.sinks.Created() {
			os.Remove(f)
		}
		return
	}
	// On a hard exit (the second signal) the main goroutine may still be
	// writing into the stage while it is removed, so that the final rmdir
	// finds a new file: remove until the directory is gone (a writer's
	// next create then fails, as the directory no longer exists).
	for try := 0; try < 100; try++ {
		if err := os.RemoveAll(o.stage); err == nil {
			if _, err := os.Stat(o.stage); os.IsNotExist(err) {
				return
			}
		}
	}
}

// outDir returns the output directory: a --out flag is already absolute,
// a config value is relative to the config file.
func (o *runOutput) outDir() string {
	if o.dir != "" {
		return o.dir
	}
	return outputDir(o.cfg)
}

// outputDir returns the config's output directory resolved against the
// config file (a --out flag is already absolute).
func outputDir(cfg *config) string {
	dir := cfg.Output.Dir
	if !filepath.IsAbs(dir) && cfg.flagKeys["output.dir"] == "" {
		dir = cfg.resolve(dir)
	}
	return dir
}

// addRunDirFlag registers --run, the run directory that predict and
// compare read instead of the config's [output] dir.
func addRunDirFlag(fs *flagSet) *string {
	return fs.String("run", "", "run `dir` to read (overrides [output] dir, e.g. for a run made with --out)")
}

// runDir returns the run directory to read: the --run flag (relative to
// the working directory) or the config's output dir.
func runDir(cfg *config, flagValue string) (string, error) {
	if flagValue == "" {
		return outputDir(cfg), nil
	}
	return absPath(flagValue)
}

// checkOutputDir refuses an output directory that already holds files,
// unless force is set and lmmbayes made it (checkRunDir), so that a new
// run is never mixed with an old one and never deletes a user's files.
// It runs before sampling so that the user does not wait for a refusal.
func checkOutputDir(cfg *config, force bool) error {
	return checkRunDir(cfg, outputDir(cfg), force)
}

// checkChainFiles refuses, unless force is set, to overwrite the draws
// files of chains first … first+n−1 in the output dir (chain mode, where
// several processes share one dir).
func checkChainFiles(cfg *config, first, n int, force bool) error {
	dir := outputDir(cfg)
	for k := first; k < first+n; k++ {
		path := filepath.Join(dir, fmt.Sprintf("draws_%d.csv", k))
		if _, err := os.Stat(path); err == nil && !force {
			return inputErrorf("%s exists; use --force to replace it, or choose another --chain-id", path)
		}
	}
	return nil
}

// writeChains writes, in chain mode, each chain's draws_K.csv and
// run_K.json and the shared random_effects.csv into the output dir, each
// atomically; "lmmbayes summarize DIR" merges them.
func (o *runOutput) writeChains(stdout io.Writer) error {
	dir := o.outDir()
	if err := os.MkdirAll(dir, outfile.DirMode); err != nil {
		return fmt.Errorf("%s: output dir: %w", o.cfg.where("output.dir"), err)
	}
	all := o.res.Chains
	if len(o.res.Names.RE) > 0 {
		if err := outfile.SaveAtomically(filepath.Join(dir, "random_effects.csv"), o.writeREMap); err != nil {
			return err
		}
	}
	for c, ch := range all {
		// The chain's draws were streamed under a temporary name.
		if err := os.Rename(o.files[c], filepath.Join(dir, fmt.Sprintf("draws_%d.csv", ch.ID))); err != nil {
			return fmt.Errorf("output: %w", err)
		}
		if o.cfg.Output.LogLik {
			if err := os.Rename(draws.LogLikPath(o.files[c]), filepath.Join(dir, fmt.Sprintf("log_lik_%d.csv", ch.ID))); err != nil {
				return fmt.Errorf("output: %w", err)
			}
		}
		one := *o
		one.res = &sampler.Result{Names: o.res.Names, Chains: []*sampler.ChainResult{ch}, Mode: o.res.Mode, ModeCov: o.res.ModeCov, PsiNames: o.res.PsiNames}
		one.opt.Chains = 1
		if err := outfile.SaveAtomically(filepath.Join(dir, fmt.Sprintf("run_%d.json", ch.ID)), one.writeJSON); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "chain %d: %d draws written to %s\n", ch.ID, ch.NDraws, filepath.Join(dir, fmt.Sprintf("draws_%d.csv", ch.ID)))
	}
	fmt.Fprintf(stdout, "Merge the chains with: lmmbayes summarize %s\n", dir)
	return nil
}

// finishChainMode ends a `run --chain-id` run: draws_K.csv and run_K.json
// (and random_effects.csv) in place, for lmmbayes summarize to merge; an
// interrupted run's files are kept and the error says so.
func (o *runOutput) finishChainMode(stdout io.Writer, interrupted bool) error {
	if err := o.writeChains(stdout); err != nil {
		return err
	}
	o.stage = ""
	if interrupted {
		return fmt.Errorf("%w: the chain files are incomplete (see run_K.json)", errInterrupted)
	}
	return nil
}

// write writes every output file of the run (draws_*.csv, summary.csv,
// random_effects.csv, ppc.csv, ppc_stats.csv, ppc_rootogram.csv (count
// families), coef.csv, ml_fit.json, run.json) into a fresh staging directory beside the output directory,
// then puts it in place with renames: a failed run leaves nothing behind,
// and a replaced run (--force) is swapped whole.
func (o *runOutput) write(force bool) error {
	dir := o.outDir()
	stage := o.stage
	if err := o.writeAll(stage); err != nil {
		return err
	}
	// The dir may have changed while the chains ran: check it again.
	if err := checkRunDir(o.cfg, dir, force); err != nil {
		return err
	}
	if err := replaceDir(stage, dir, force); err != nil {
		return err
	}
	o.stage = ""
	return nil
}

// startPPC starts coef.csv and the posterior predictive check (ppc.csv,
// ppc_stats.csv and, for the count families, ppc_rootogram.csv) from the
// draws post into dir, and returns the function that waits for them
// (idempotent: later calls return the first result). What is skipped is
// decided, and its warning added, here on the caller's goroutine; with
// big false the work prints nothing, so it can run beside the summaries.
func (o *runOutput) startPPC(dir string, post *draws.Draws, big bool) func() error {
	// coef.csv is written beside the posterior predictive check (the
	// PPC's draws run on one core while a chunk is simulated).
	coefDone := make(chan error, 1)
	if len(o.res.Names.RE) > 0 {
		go func() {
			_, err := posterior.WriteCoef(dir, o.d, post)
			coefDone <- err
		}()
	} else {
		coefDone <- nil
	}
	// The posterior predictive of the training rows needs every level's
	// effects; without r_ columns it is skipped, and run.json says so.
	ppcDone := make(chan error, 1)
	switch {
	case !o.cfg.Output.PPC:
		ppcDone <- nil
	case o.family != model.Gaussian && !posteriorGLMMPPC:
		o.warnings = append(o.warnings, "ppc.csv was not written: the posterior predictive check of family "+o.family.String()+" is not implemented yet")
		ppcDone <- nil
	case len(o.res.Names.RE) > 0 || len(o.d.Terms) == 0:
		s := min(post.NumDraws(), posterior.PPCMaxDraws)
		o.phases.progress(big, "ppc.csv: simulating %d rows × %d draws (skip it with [output] ppc = false)", o.d.N, s)
		go func() {
			start, next := time.Now(), 0.25
			ppcDone <- posterior.WritePPCProgress(dir, o.d, post, o.opt.Seed, func(done, total int) {
				if f := float64(done) / float64(total); f >= next && done < total {
					o.phases.progress(big, "ppc.csv: %d of %d rows (%.0f s)", done, total, time.Since(start).Seconds())
					next += 0.25
				}
			})
		}()
	default:
		o.warnings = append(o.warnings, "ppc.csv and coef.csv were not written: they need [output] random_effects = true")
		ppcDone <- nil
	}
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			ppcErr, coefErr := <-ppcDone, <-coefDone
			err = ppcErr
			if err == nil {
				err = coefErr
			}
		})
		return err
	}
}

// startPPCEarly starts the posterior predictive check and coef.csv into
// the staging dir while the summaries and the ML fit are computed, when
// the draws are in memory and the job is small (no progress lines);
// writeAll then waits for it. discard waits for it too, so a failure
// never removes a dir it is writing into.
func (o *runOutput) startPPCEarly() {
	if o.mem == nil || o.stage == "" || bigPost(o.d.N, min(o.totalDraws(), posterior.PPCMaxDraws)) {
		return
	}
	o.ppcWait = o.startPPC(o.stage, o.mem, false)
}

// writeAll writes every output file but the draws (already streamed
// there) into dir.
func (o *runOutput) writeAll(dir string) error {
	if err := o.summarize(); err != nil {
		return err
	}
	big := bigPost(o.d.N, min(o.totalDraws(), posterior.PPCMaxDraws))
	type job struct {
		name string
		fill func(w *bufio.Writer) error
	}
	var jobs []job
	jobs = append(jobs, job{"summary.csv", func(w *bufio.Writer) error { return diagnostics.WriteCSV(w, o.names, o.sums) }})
	if len(o.res.Names.RE) > 0 {
		jobs = append(jobs, job{"random_effects.csv", func(w *bufio.Writer) error { return o.writeREMap(w) }})
	}
	if o.mlGLMM != nil {
		jobs = append(jobs, job{"ml_fit.json", func(w *bufio.Writer) error {
			return safejson.Encode(w, o.mlGLMM, "  ")
		}})
	}
	if o.ml != nil {
		jobs = append(jobs, job{"ml_fit.json", func(w *bufio.Writer) error {
			return safejson.Encode(w, o.ml, "  ")
		}})
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = outfile.WriteFile(filepath.Join(dir, j.name), j.fill)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	o.phases.done("summary.csv, ml_fit.json")
	// ppc.csv, coef.csv and the plots need whole draws: read them back,
	// every draw when they fit in memory_mb, else evenly thinned.
	post := o.mem
	if post == nil {
		o.thinPost = draws.ThinFor(o.totalDraws(), len(o.res.Names.Columns), o.budget())
		if o.thinPost > 1 {
			o.warnings = append(o.warnings, fmt.Sprintf("ppc.csv, coef.csv and the plots use one draw in %d of each chain: all draws at once exceed [output] memory_mb = %d (summary.csv uses every draw)", o.thinPost, o.cfg.Output.MemoryMB))
		}
		var err error
		if post, err = draws.Load(o.files, o.res.Names, o.thinPost, dir); err != nil {
			return fmt.Errorf("output: reading the draws back: %w", err)
		}
		o.phases.done("reading the draws back")
	}
	wait := o.ppcWait
	if wait == nil {
		wait = o.startPPC(dir, post, big)
	}
	if err := wait(); err != nil {
		return err
	}
	o.phases.done("ppc.csv, ppc_stats.csv, coef.csv")
	// run.json after every file it reports on; the report reads it.
	if err := outfile.WriteFile(filepath.Join(dir, "run.json"), func(w *bufio.Writer) error { return o.writeJSON(w) }); err != nil {
		return err
	}
	if o.cfg.Output.Plots {
		if err := writeReportPPC(dir, o.d, post, o.cfg.Output.PPC); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		o.phases.done("plots, report.html")
	}
	return nil
}

// replaceDir puts the finished directory stage in place as dir: renamed
// whole when dir does not exist; otherwise (an empty dir, or with force
// an earlier run's) its entries are moved into dir, so that the dir
// itself, its permissions and a symbolic link to it stay as they are.
func replaceDir(stage, dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case os.IsNotExist(err):
		if err := os.Rename(stage, dir); err != nil {
			return fmt.Errorf("output dir: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("output dir: %w", err)
	case len(entries) > 0 && !force:
		return inputErrorf("output dir %s already holds files; use --force to replace it", dir)
	}
	return moveInto(stage, dir, stage+".old")
}

// writeREMap writes random_effects.csv.
func (o *runOutput) writeREMap(w io.Writer) error { return draws.WriteREMap(w, o.res.Names) }

// fmtRate formats an acceptance rate with three decimals ("NA" for NaN).
func fmtRate(r float64) string {
	if math.IsNaN(r) {
		return "NA"
	}
	return strconv.FormatFloat(r, 'f', 3, 64)
}

// ptr returns a pointer to v for run.json's rates, nil (null) when v is
// not finite.
func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// writeJSON writes run.json (or, in chain mode, run_K.json).
func (o *runOutput) writeJSON(w io.Writer) error {
	cfgPath := o.cfg.path
	if abs, err := filepath.Abs(cfgPath); err == nil && cfgPath != "" {
		cfgPath = abs
	}
	j := draws.RunMeta{
		Version: version, Config: cfgPath, Data: o.cfg.Data.Path, Formula: o.d.Formula.Text, NObs: o.d.N,
		Priors: o.cfg.Priors, Seed: o.opt.Seed, Chains: o.opt.Chains, Warmup: o.opt.Warmup, Draws: o.opt.Draws,
		Thin: max(o.opt.Thin, 1), RE: o.opt.RandomEffects, Wall: o.wall.Seconds(), Warnings: o.warnings,
		Incomplete: o.incomplete, Method: o.res.Method, MethodReason: o.res.MethodReason,
		Family: o.family.String(),
	}
	if j.Warnings == nil {
		j.Warnings = []string{}
	}
	j.DroppedLines = []int{}
	if dr := o.dropped; dr != nil {
		j.DroppedRows, j.DroppedLines = dr.Dropped, dr.Lines
		if dr.SHA256 != "" {
			path := dr.Source
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			j.DataFile = &draws.DataFile{Path: path, Name: filepath.Base(dr.Source), Size: dr.Size, SHA256: dr.SHA256, RowsRead: dr.Rows, RowsDropped: dr.Dropped}
			j.CategoricalColumns = dr.Categorical
		}
	}
	j.Levels = o.d.LevelMap()
	for _, e := range o.priorEntries() {
		j.Used = append(j.Used, draws.PriorMeta{Param: e.Param, Prior: e.Prior.String(), Key: e.Key})
	}
	for _, c := range o.res.Chains {
		cj := draws.ChainMeta{ID: c.ID, Wall: c.Wall.Seconds(), AccWarmup: ptr(c.AcceptWarmup), AccRW: ptr(c.AcceptRW), AccIndep: ptr(c.AcceptIndep), AccOverall: ptr(c.Accept), InitialPsi: c.Init}
		if ns := c.NUTS; ns != nil {
			cj.NUTS = &draws.NUTSMeta{StepSize: ns.StepSize, Divergent: ns.Divergent, DivergentWarmup: ns.DivergentWarmup, MaxTreeDepth: ns.MaxTreeDepth, MaxDepth: ns.MaxDepth, MeanLeapfrog: ns.MeanLeapfrog}
		}
		j.PerChain = append(j.PerChain, cj)
	}
	return safejson.Encode(w, j, "  ")
}

// totalDraws is the number of saved draws over all chains.
func (o *runOutput) totalDraws() int {
	n := 0
	for _, c := range o.res.Chains {
		n += c.NDraws
	}
	return n
}

// printSummary prints a brms-like summary of the run.
func (o *runOutput) printSummary(w io.Writer) {
	o.summarize()
	n := o.res.Names
	byName := map[string]diagnostics.Summary{}
	for i, s := range o.sums {
		byName[o.names[i]] = s
	}
	thin := max(o.opt.Thin, 1)
	if o.family == model.Gaussian {
		fmt.Fprintf(w, " Family: gaussian\n  Links: mu = identity; sigma = identity\n")
	} else {
		printGLMMFamily(w, o.family)
	}
	fmt.Fprintf(w, "Formula: %s\n", o.d.Formula.Text)
	fmt.Fprintf(w, "   Data: %s (Number of observations: %d)\n", filepath.Base(o.cfg.Data.Path), o.d.N)
	fmt.Fprintf(w, "  Draws: %d chains, each with iter = %d; warmup = %d; thin = %d;\n         total post-warmup draws = %d\n",
		o.opt.Chains, o.opt.Warmup+o.opt.Draws*thin, o.opt.Warmup, thin, o.totalDraws())
	fmt.Fprintln(w, "\nPriors:")
	for _, e := range o.priorEntries() {
		fmt.Fprintf(w, "  %s\n", e)
	}
	header := func(width int) {
		fmt.Fprintf(w, "%-*s %9s %9s %9s %9s %5s %8s %8s\n", width, "", "Estimate", "Est.Error", "l-95% CI", "u-95% CI", "Rhat", "Bulk_ESS", "Tail_ESS")
	}
	row := func(width int, label string, s diagnostics.Summary) {
		fmt.Fprintf(w, "%-*s %9s %9s %9s %9s %5s %8s %8s\n", width, label, num2(s.Mean), num2(s.SD), num2(s.Q2_5), num2(s.Q97_5),
			fix2(s.Rhat), ess(s.ESSBulk), ess(s.ESSTail))
	}
	// Group-level effects, one block per grouping factor in first-seen order.
	var groups []string
	seen := map[string]bool{}
	for _, t := range o.d.Terms {
		if !seen[t.Group] {
			seen[t.Group] = true
			groups = append(groups, t.Group)
		}
	}
	fmt.Fprintln(w, "\nGroup-Level Effects:")
	for _, g := range groups {
		nl := 0
		for _, t := range o.d.Terms {
			if t.Group == g {
				nl = len(t.Levels)
			}
		}
		fmt.Fprintf(w, "~%s (Number of levels: %d)\n", g, nl)
		var labels []string
		var names []string
		for i := range n.SD {
			if n.SDGroup[i] == g {
				labels, names = append(labels, n.SDLabel[i]), append(names, n.SD[i])
			}
		}
		for i := range n.Cor {
			if n.CorGroup[i] == g {
				labels, names = append(labels, n.CorLabel[i]), append(names, n.Cor[i])
			}
		}
		width := labelWidth(labels)
		header(width)
		for i := range labels {
			row(width, labels[i], byName[names[i]])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Population-Level Effects:")
	labels := n.BLabel
	width := labelWidth(labels)
	header(width)
	for i, b := range n.B {
		row(width, labels[i], byName[b])
	}
	if n.Dispersion != "" {
		fmt.Fprintln(w, "\nFamily Specific Parameters:")
		header(5)
		row(5, n.Dispersion, byName[n.Dispersion])
	}
	switch o.res.Method {
	case "pg", "mh":
		fmt.Fprintf(w, "\nDraws were sampled by %s (see docs/sampler.md).\n", o.res.MethodReason)
	case "nuts":
		fmt.Fprintf(w, "\nDraws were sampled by collapsed Gibbs with NUTS on the variance parameters (see docs/sampler.md).\nMethod: %s.\n", o.res.MethodReason)
	default:
		fmt.Fprintf(w, "\nDraws were sampled by %s Gibbs (see docs/sampler.md).\nMethod: %s.\n", o.res.Method, o.res.MethodReason)
	}
	fmt.Fprintln(w, "For each parameter, Bulk_ESS and Tail_ESS are effective sample size measures,")
	fmt.Fprintln(w, "and Rhat is the potential scale reduction factor on split chains (at convergence, Rhat = 1).")
	if o.res.Method == "collapsed" || o.res.Method == "pg" || o.res.Method == "mh" {
		fmt.Fprintf(w, "Metropolis acceptance of the variance parameters by chain:")
		for _, c := range o.res.Chains {
			fmt.Fprintf(w, " %d: %s", c.ID, fmtRate(c.Accept))
		}
		fmt.Fprintln(w)
	}
	if o.res.Method == "nuts" {
		fmt.Fprintf(w, "NUTS by chain (step size, mean leapfrog steps, divergent, max tree depth hits):")
		for _, c := range o.res.Chains {
			if ns := c.NUTS; ns != nil {
				fmt.Fprintf(w, " %d: %.3g, %.1f, %d, %d;", c.ID, ns.StepSize, ns.MeanLeapfrog, ns.Divergent, ns.MaxTreeDepth)
			}
		}
		fmt.Fprintln(w)
	}
	for _, s := range o.warnings {
		fmt.Fprintf(w, "Warning: %s\n", s)
	}
	fmt.Fprintf(w, "Output written to %s\n", o.outDir())
}

func labelWidth(labels []string) int {
	w := 5
	for _, l := range labels {
		w = max(w, len(l))
	}
	return w
}

// num2 formats an estimate with two decimals, as brms prints them, or
// with two significant digits when two decimals would show only zeros.
func num2(v float64) string {
	if math.IsNaN(v) {
		return "NA"
	}
	if v != 0 && math.Abs(v) < 0.005 {
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func fix2(v float64) string {
	if math.IsNaN(v) {
		return "NA"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func ess(v float64) string {
	if math.IsNaN(v) {
		return "NA"
	}
	return strconv.FormatFloat(math.Floor(v), 'f', 0, 64)
}

// progress prints one line per chain on a terminal, rewritten in place.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	state []string
}

func newProgress(w io.Writer, chains int) *progress {
	return &progress{w: w, state: make([]string, chains)}
}

// Progress implements sampler.Logger.
func (p *progress) Progress(chain, iter, total int, elapsed time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := (chain - 1) % len(p.state)
	rate := float64(iter) / math.Max(elapsed.Seconds(), 1e-9)
	eta := time.Duration(float64(total-iter) / math.Max(rate, 1e-9) * float64(time.Second)).Round(time.Second)
	p.state[i] = fmt.Sprintf("chain %d: %d/%d (%.0f it/s, ETA %s)", chain, iter, total, rate, eta)
	fmt.Fprintf(p.w, "\r%s", strings.Join(p.state, " | "))
}

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

package main

import (
	"bufio"
	"encoding/json"
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
	"github.com/lmmbayes/lmmbayes/model"
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
	// stage is the directory the run's files are written into before
	// they are put in place (the output dir itself in chain mode), and
	// files the draws files there, in chain order, once finished.
	stage string
	files []string
	// dir is the output dir the files go into: the configured one, or
	// the target of a symbolic link (set by begin; "" before).
	dir   string
	sinks *sinkSet
	// mem holds the draws in memory as well, when they fit in half the
	// memory budget (nil: read them back from files).
	mem *postDraws
	// thinPost is the thinning of the draws read back for ppc.csv,
	// coef.csv and the plots (1: all; more when they exceed memory_mb).
	thinPost int
	// filled by summarize
	names    []string // summary names (b, sd, cor, sigma, r)
	cols     []int    // their columns in the draws
	sums     []diagnostics.Summary
	warnings []string
}

// budget is the memory, in bytes, that post-processing may hold draws in.
func (o *runOutput) budget() int64 { return o.cfg.Output.MemoryMB << 20 }

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
	for _, group := range [][]string{n.B, n.SD, n.Cor, {"sigma"}} {
		for _, c := range group {
			add(c, idx[c])
		}
	}
	for _, re := range n.RE {
		add(re.Summary, idx[re.Column])
	}
	if o.mem != nil {
		o.sums = diagnostics.SummarizeEach(len(o.cols), func(i int) [][]float64 { return o.mem.columnAt(o.cols[i]) }, 0)
	} else {
		sums, _, err := summarizeFiles(o.files, o.cols, o.totalDraws(), o.budget())
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
	hdr := drawsHeader{warmup: o.opt.Warmup, thin: max(o.opt.Thin, 1), draws: o.opt.Draws, seed: o.opt.Seed, formula: o.d.Formula.Text, data: o.cfg.Data.Path}
	if o.dropped != nil {
		hdr.dataSHA = o.dropped.sha256
	}
	if o.asg != nil {
		var ps []string
		for _, e := range o.asg.Entries() {
			ps = append(ps, e.Param+" ~ "+e.Prior.String())
		}
		hdr.priors = strings.Join(ps, "; ")
	}
	if chainMode {
		_, statErr := os.Stat(dir)
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return fmt.Errorf("%s: output dir: %w", o.cfg.where("output.dir"), err)
		}
		if os.IsNotExist(statErr) {
			if err := writeMarker(dir); err != nil {
				return fmt.Errorf("%s: output dir: %w", o.cfg.where("output.dir"), err)
			}
		}
		o.stage = dir
		o.sinks = &sinkSet{hdr: hdr, byID: map[int]*drawsSink{}, path: func(id int) string {
			return filepath.Join(dir, fmt.Sprintf(".draws_%d.csv.tmp", id))
		}}
		if o.cfg.Output.LogLik {
			o.sinks.logLik = o.d
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
	if err := os.MkdirAll(parent, dirMode); err != nil {
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
	o.sinks = &sinkSet{hdr: hdr, byID: map[int]*drawsSink{}, keepBytes: o.budget() / 2, chains: o.opt.Chains, path: func(id int) string {
		return filepath.Join(stage, fmt.Sprintf("draws_%d.csv", id))
	}}
	if o.cfg.Output.LogLik {
		o.sinks.logLik = o.d
	}
	return nil
}

// finishDraws completes the draws files of the sampler's result.
func (o *runOutput) finishDraws() error {
	mem, err := o.sinks.finish(o.res)
	if err != nil {
		return err
	}
	o.mem = mem
	o.files = o.files[:0]
	for _, ch := range o.res.Chains {
		o.files = append(o.files, o.sinks.path(ch.ID))
	}
	return nil
}

// discard removes what begin and the sampler wrote (after a failure).
func (o *runOutput) discard() {
	if o.sinks != nil {
		o.sinks.abort()
	}
	if o.stage == "" {
		return
	}
	if o.stage == o.outDir() {
		for _, f := range o.sinks.created {
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
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("%s: output dir: %w", o.cfg.where("output.dir"), err)
	}
	all := o.res.Chains
	if len(o.res.Names.RE) > 0 {
		if err := saveAtomically(filepath.Join(dir, "random_effects.csv"), bufferedFill(o.writeREMap)); err != nil {
			return err
		}
	}
	for c, ch := range all {
		// The chain's draws were streamed under a temporary name.
		if err := os.Rename(o.files[c], filepath.Join(dir, fmt.Sprintf("draws_%d.csv", ch.ID))); err != nil {
			return fmt.Errorf("output: %w", err)
		}
		if o.cfg.Output.LogLik {
			if err := os.Rename(logLikPath(o.files[c]), filepath.Join(dir, fmt.Sprintf("log_lik_%d.csv", ch.ID))); err != nil {
				return fmt.Errorf("output: %w", err)
			}
		}
		one := *o
		one.res = &sampler.Result{Names: o.res.Names, Chains: []*sampler.ChainResult{ch}, Mode: o.res.Mode, ModeCov: o.res.ModeCov, PsiNames: o.res.PsiNames}
		one.opt.Chains = 1
		if err := saveAtomically(filepath.Join(dir, fmt.Sprintf("run_%d.json", ch.ID)), bufferedFill(one.writeJSON)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "chain %d: %d draws written to %s\n", ch.ID, ch.NDraws, filepath.Join(dir, fmt.Sprintf("draws_%d.csv", ch.ID)))
	}
	fmt.Fprintf(stdout, "Merge the chains with: lmmbayes summarize %s\n", dir)
	return nil
}

// bufferedFill adapts a fill function on a *bufio.Writer to an io.Writer.
func bufferedFill(fill func(w *bufio.Writer) error) func(w io.Writer) error {
	return func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := fill(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
}

// write writes every output file of the run (draws_*.csv, summary.csv,
// random_effects.csv, ppc.csv, ppc_stats.csv, coef.csv, ml_fit.json,
// run.json) into a fresh staging directory beside the output directory,
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

// writeAll writes every output file but the draws (already streamed
// there) into dir.
func (o *runOutput) writeAll(dir string) error {
	if err := o.summarize(); err != nil {
		return err
	}
	type job struct {
		name string
		fill func(w *bufio.Writer) error
	}
	var jobs []job
	jobs = append(jobs, job{"summary.csv", func(w *bufio.Writer) error { return diagnostics.WriteCSV(w, o.names, o.sums) }})
	if len(o.res.Names.RE) > 0 {
		jobs = append(jobs, job{"random_effects.csv", o.writeREMap})
	}
	if o.ml != nil {
		jobs = append(jobs, job{"ml_fit.json", func(w *bufio.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(o.ml)
		}})
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = writeFile(filepath.Join(dir, j.name), j.fill)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	// ppc.csv, coef.csv and the plots need whole draws: read them back,
	// every draw when they fit in memory_mb, else evenly thinned.
	post := o.mem
	if post == nil {
		o.thinPost = postThin(o.totalDraws(), len(o.res.Names.Columns), o.budget())
		if o.thinPost > 1 {
			o.warnings = append(o.warnings, fmt.Sprintf("ppc.csv, coef.csv and the plots use one draw in %d of each chain: all draws at once exceed [output] memory_mb = %d (summary.csv uses every draw)", o.thinPost, o.cfg.Output.MemoryMB))
		}
		var err error
		if post, err = loadPost(o.files, o.res.Names, o.thinPost, dir); err != nil {
			return fmt.Errorf("output: reading the draws back: %w", err)
		}
	}
	// The posterior predictive of the training rows needs every level's
	// effects; without r_ columns it is skipped, and run.json says so.
	if len(o.res.Names.RE) > 0 || len(o.d.Terms) == 0 {
		if err := writePPC(dir, o.d, post, o.opt.Seed); err != nil {
			return err
		}
	} else {
		o.warnings = append(o.warnings, "ppc.csv and coef.csv were not written: they need [output] random_effects = true")
	}
	if len(o.res.Names.RE) > 0 {
		if _, err := writeCoef(dir, o.d, post); err != nil {
			return err
		}
	}
	// run.json after every file it reports on; the report reads it.
	if err := writeFile(filepath.Join(dir, "run.json"), o.writeJSON); err != nil {
		return err
	}
	if o.cfg.Output.Plots {
		if err := writeReport(dir, o.d, post); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
	}
	return nil
}

// writeFile creates path and fills it through a buffered writer.
func writeFile(path string, fill func(w *bufio.Writer) error) error {
	f, err := createFile(path)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("output: %s: %w", filepath.Base(path), err)
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

// writeREMap writes random_effects.csv: column,group,level,effect.
func (o *runOutput) writeREMap(w *bufio.Writer) error {
	w.WriteString("column,summary_name,group,level,effect\n")
	for _, re := range o.res.Names.RE {
		fmt.Fprintf(w, "%s,%s,%s,%s,%s\n", re.Column, csvField(re.Summary), csvField(re.Group), csvField(re.Level), csvField(re.Effect))
	}
	return nil
}

// csvField quotes s when it needs it.
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func oneLine(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "\r", " ") }

func fmtRate(r float64) string {
	if math.IsNaN(r) {
		return "NA"
	}
	return strconv.FormatFloat(r, 'f', 3, 64)
}

// runJSON is the content of run.json.
type runJSON struct {
	Version string `json:"lmmbayes_version"`
	Config  string `json:"config,omitempty"`
	Data    string `json:"data"`
	Formula string `json:"formula"`
	NObs    int    `json:"nobs"`
	// DroppedRows is the number of data rows left out for a missing
	// value, DroppedLines the file lines of the first 20 of them.
	DroppedRows  int               `json:"dropped_rows"`
	DroppedLines []int             `json:"dropped_lines"`
	Priors       map[string]string `json:"priors_given"`
	Used         []priorJSON       `json:"priors"`
	Seed         uint64            `json:"seed"`
	Chains       int               `json:"chains"`
	Warmup       int               `json:"warmup"`
	Draws        int               `json:"draws"`
	Thin         int               `json:"thin"`
	RE           bool              `json:"random_effects"`
	Wall         float64           `json:"wall_seconds"`
	// Method is the sampler that ran and MethodReason why it was chosen.
	Method       string `json:"method"`
	MethodReason string `json:"method_reason"`
	// Incomplete is true when a signal stopped the run early.
	Incomplete bool        `json:"incomplete"`
	PerChain   []chainJSON `json:"chain_stats"`
	Warnings   []string    `json:"warnings"`
	// DataFile fingerprints the data file the run read. Levels are the
	// factor and grouping-factor levels the design codes rows with, and
	// CategoricalColumns the data columns read as categorical: predict
	// codes new rows with them, without the data file.
	DataFile           *dataFileJSON   `json:"data_file,omitempty"`
	Levels             *model.LevelMap `json:"levels,omitempty"`
	CategoricalColumns []string        `json:"categorical_columns,omitempty"`
}

// dataFileJSON identifies the data file a run was fitted to.
type dataFileJSON struct {
	Path        string `json:"path"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	RowsRead    int    `json:"rows_read"`
	RowsDropped int    `json:"rows_dropped"`
}

type priorJSON struct {
	Param string `json:"param"`
	Prior string `json:"prior"`
	Key   string `json:"key,omitempty"`
}

type chainJSON struct {
	ID         int       `json:"chain_id"`
	Wall       float64   `json:"wall_seconds"`
	AccWarmup  *float64  `json:"accept_warmup"`
	AccRW      *float64  `json:"accept_random_walk"`
	AccIndep   *float64  `json:"accept_independence"`
	AccOverall *float64  `json:"accept_post_warmup"`
	InitialPsi []float64 `json:"init_psi"`
	// NUTS is present when method "nuts" ran (the accept_* figures are
	// then its mean acceptance statistic).
	NUTS *nutsJSON `json:"nuts,omitempty"`
}

// nutsJSON is one chain's No-U-Turn statistics, named as Stan's.
type nutsJSON struct {
	StepSize        float64 `json:"stepsize"`
	Divergent       int     `json:"divergent"`
	DivergentWarmup int     `json:"divergent_warmup"`
	MaxTreeDepth    int     `json:"max_treedepth_hits"`
	MaxDepth        int     `json:"max_treedepth"`
	MeanLeapfrog    float64 `json:"mean_n_leapfrog"`
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func (o *runOutput) writeJSON(w *bufio.Writer) error {
	cfgPath := o.cfg.path
	if abs, err := filepath.Abs(cfgPath); err == nil && cfgPath != "" {
		cfgPath = abs
	}
	j := runJSON{
		Version: version, Config: cfgPath, Data: o.cfg.Data.Path, Formula: o.d.Formula.Text, NObs: o.d.N,
		Priors: o.cfg.Priors, Seed: o.opt.Seed, Chains: o.opt.Chains, Warmup: o.opt.Warmup, Draws: o.opt.Draws,
		Thin: max(o.opt.Thin, 1), RE: o.opt.RandomEffects, Wall: o.wall.Seconds(), Warnings: o.warnings,
		Incomplete: o.incomplete, Method: o.res.Method, MethodReason: o.res.MethodReason,
	}
	if j.Warnings == nil {
		j.Warnings = []string{}
	}
	j.DroppedLines = []int{}
	if dr := o.dropped; dr != nil {
		j.DroppedRows, j.DroppedLines = dr.n, dr.lines
		if dr.sha256 != "" {
			path := dr.source
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			j.DataFile = &dataFileJSON{Path: path, Name: filepath.Base(dr.source), Size: dr.size, SHA256: dr.sha256, RowsRead: dr.rows, RowsDropped: dr.n}
			j.CategoricalColumns = dr.categorical
		}
	}
	j.Levels = o.d.LevelMap()
	for _, e := range o.asg.Entries() {
		j.Used = append(j.Used, priorJSON{e.Param, e.Prior.String(), e.Key})
	}
	for _, c := range o.res.Chains {
		cj := chainJSON{ID: c.ID, Wall: c.Wall.Seconds(), AccWarmup: ptr(c.AcceptWarmup), AccRW: ptr(c.AcceptRW), AccIndep: ptr(c.AcceptIndep), AccOverall: ptr(c.Accept), InitialPsi: c.Init}
		if ns := c.NUTS; ns != nil {
			cj.NUTS = &nutsJSON{ns.StepSize, ns.Divergent, ns.DivergentWarmup, ns.MaxTreeDepth, ns.MaxDepth, ns.MeanLeapfrog}
		}
		j.PerChain = append(j.PerChain, cj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
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
	fmt.Fprintf(w, " Family: gaussian\n  Links: mu = identity; sigma = identity\n")
	fmt.Fprintf(w, "Formula: %s\n", o.d.Formula.Text)
	fmt.Fprintf(w, "   Data: %s (Number of observations: %d)\n", filepath.Base(o.cfg.Data.Path), o.d.N)
	fmt.Fprintf(w, "  Draws: %d chains, each with iter = %d; warmup = %d; thin = %d;\n         total post-warmup draws = %d\n",
		o.opt.Chains, o.opt.Warmup+o.opt.Draws*thin, o.opt.Warmup, thin, o.totalDraws())
	fmt.Fprintln(w, "\nPriors:")
	for _, e := range o.asg.Entries() {
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
	var labels []string
	for _, b := range n.B {
		labels = append(labels, strings.TrimPrefix(b, "b_"))
	}
	width := labelWidth(labels)
	header(width)
	for i, b := range n.B {
		row(width, labels[i], byName[b])
	}
	fmt.Fprintln(w, "\nFamily Specific Parameters:")
	header(5)
	row(5, "sigma", byName["sigma"])
	if o.res.Method == "nuts" {
		fmt.Fprintf(w, "\nDraws were sampled by collapsed Gibbs with NUTS on the variance parameters (see docs/sampler.md).\nMethod: %s.\n", o.res.MethodReason)
	} else {
		fmt.Fprintf(w, "\nDraws were sampled by %s Gibbs (see docs/sampler.md).\nMethod: %s.\n", o.res.Method, o.res.MethodReason)
	}
	fmt.Fprintln(w, "For each parameter, Bulk_ESS and Tail_ESS are effective sample size measures,")
	fmt.Fprintln(w, "and Rhat is the potential scale reduction factor on split chains (at convergence, Rhat = 1).")
	if o.res.Method == "collapsed" {
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

package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/internal/outfile"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/plots"
	"github.com/lmmbayes/lmmbayes/posterior"
)

const plotSynopsis = `DIR [--vars REGEX] [--format png|svg] [--out PLOTDIR] [--report]

Draws the plots of the run in DIR (written by "lmmbayes run") into PLOTDIR
(default DIR/plots): trace_K, density_K and rank_K (pages of up to 9
variables), ppc_density (observed y against replicated data sets),
rootogram (poisson and negbinomial runs: observed against expected
frequency of each count, from ppc_rootogram.csv) and
caterpillar_GROUP_EFFECT (random effects with 95% intervals). --report
also writes DIR/report.html, one self-contained page with the run's
config, priors, summary, ML comparison and these plots. See docs/plots.md.`

// defaultPlotVars selects the variables plotted without --vars: fixed
// effects, group-level SDs and correlations, and sigma (not the r_ columns).
const defaultPlotVars = `^(b_|sd_|cor_|sigma$|shape$)`

// ppcPlotDraws is the number of replicated data sets of the PPC plot.
const ppcPlotDraws = 50

// ppcPlotStream is the PCG stream of the PPC plot's replicated data
// (apart from WritePPC's PredictStream+c+1).
const ppcPlotStream = posterior.PredictStream - 1

// Warning thresholds of the report's summary table.
const (
	rhatWarn = 1.01
	essWarn  = 400
)

// plotOptions are the settings of one plot job.
type plotOptions struct {
	vars   *regexp.Regexp
	format plots.Format
	out    string // plot dir
	report bool
}

// plotRun is what the plots and the report of a run dir are made from.
type plotRun struct {
	dir  string
	post *draws.Draws
	// d is the design, nil when the run's config could not be rebuilt
	// (then there is no PPC plot and no ML comparison).
	d    *model.Design
	meta *draws.RunMeta // run.json as run wrote it; nil without one
	// configText is the config file's text ("" when unreadable).
	configText string
	sumHeader  []string
	summary    [][]string          // summary.csv rows
	re         map[string][]string // r_ column → summary name, group, level, effect
	notes      []string
	// noPPC leaves the PPC plot out ([output] ppc = false).
	noPPC bool
}

func cmdPlot(e *env, args []string) error {
	fs := newFlags("plot", plotSynopsis, e.stdout)
	vars := fs.String("vars", "", "plot the variables whose names match this `regex` (default "+defaultPlotVars+")")
	format := fs.String("format", "png", "image `format`: png or svg")
	out := fs.String("out", "", "plot `dir` (default DIR/plots)")
	report := fs.Bool("report", false, "also write DIR/report.html")
	memMB := fs.Int("memory-mb", 1024, "most `MiB` of draws held in memory (beyond it, one draw in k of each chain is plotted)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return inputErrorf("plot: expected one run dir, got %d arguments (see \"lmmbayes plot -h\")", len(pos))
	}
	opt, err := parsePlotOptions(pos[0], *vars, *format, *out)
	if err != nil {
		return err
	}
	opt.report = *report
	dir := pos[0]
	if *memMB < 1 {
		return inputErrorf("plot: --memory-mb must be positive, got %d", *memMB)
	}
	run, err := loadPlotRunBudget(dir, nil, nil, int64(*memMB)<<20)
	if err != nil {
		return err
	}
	written, err := run.write(opt)
	if err != nil {
		return err
	}
	for _, n := range run.notes {
		fmt.Fprintf(e.stderr, "lmmbayes plot: note: %s\n", n)
	}
	fmt.Fprintf(e.stdout, "Wrote %d files:\n", len(written))
	for _, w := range written {
		fmt.Fprintf(e.stdout, "  %s\n", w)
	}
	return nil
}

// parsePlotOptions checks the flags of plot.
func parsePlotOptions(dir, vars, format, out string) (plotOptions, error) {
	var opt plotOptions
	f, err := plots.ParseFormat(format)
	if err != nil {
		return opt, inputErrorf("--format: %v%s", err, suggest(format, []string{"png", "svg"}))
	}
	opt.format = f
	if vars == "" {
		vars = defaultPlotVars
	}
	if opt.vars, err = regexp.Compile(vars); err != nil {
		return opt, inputErrorf("--vars %q: %v", vars, err)
	}
	opt.out = out
	if out == "" {
		opt.out = filepath.Join(dir, "plots")
	}
	return opt, nil
}

// writeReport writes the default plots (PNG) into dir/plots and
// dir/report.html for the run in dir. run calls it when [output] plots =
// true with the design and draws it holds (d and post may be nil: they
// are then read from dir and the config named in run.json).
func writeReport(dir string, d *model.Design, post *draws.Draws) error {
	return writeReportPPC(dir, d, post, true)
}

// writeReportPPC is writeReport with the PPC plot left out when ppc is
// false ([output] ppc = false).
func writeReportPPC(dir string, d *model.Design, post *draws.Draws, ppc bool) error {
	opt, err := parsePlotOptions(dir, "", "png", "")
	if err != nil {
		return err
	}
	opt.report = true
	run, err := loadPlotRun(dir, d, post)
	if err != nil {
		return err
	}
	if !ppc {
		run.noPPC = true
	}
	_, err = run.write(opt)
	return err
}

// loadPlotRun reads the run in dir. With d and post nil it rebuilds the
// design from the config named in run.json (when it can) and reads the
// draws files.
func loadPlotRun(dir string, d *model.Design, post *draws.Draws) (*plotRun, error) {
	return loadPlotRunBudget(dir, d, post, 1<<62)
}

// loadPlotRunBudget is loadPlotRun reading, when it reads the draws, one
// draw in k of each chain, the smallest k for which they fit in budget
// bytes.
func loadPlotRunBudget(dir string, d *model.Design, post *draws.Draws, budget int64) (*plotRun, error) {
	r := &plotRun{dir: dir, d: d, post: post}
	files, err := draws.Files(dir)
	if err != nil {
		return nil, err
	}
	thin := 1
	if post == nil {
		header, _, err := draws.ReadHeader(files[0])
		if err != nil {
			return nil, asInput(fmt.Errorf("reading the run in %s: %w", dir, err))
		}
		total, err := draws.CountAllRows(files)
		if err != nil {
			return nil, err
		}
		if thin = draws.ThinFor(total, len(header), budget); thin > 1 {
			r.note("the draws exceed --memory-mb: one draw in %d of each chain is plotted", thin)
		}
	}
	if path := filepath.Join(dir, "run.json"); fileExists(path) {
		if r.meta, err = draws.ReadMetaFile(path); err != nil {
			return nil, err
		}
	}
	if r.d == nil && r.post == nil {
		if r.d, err = r.rebuildDesign(); err != nil {
			return nil, err
		}
	} else if r.meta != nil && r.meta.Config != "" {
		if raw, err := os.ReadFile(r.meta.Config); err == nil {
			r.configText = string(raw)
		}
	}
	if r.post == nil {
		if r.d != nil {
			p, err := draws.Read(dir, r.d, draws.ReadOptions{Thin: thin})
			if err != nil {
				r.note("the draws do not match the model of the run's config (%v): no PPC plot", err)
				r.d = nil
			} else {
				r.post = p
			}
		}
		if r.post == nil {
			if r.post, err = draws.ReadColumns(dir, thin); err != nil {
				return nil, err
			}
		}
	}
	if err := r.readSummary(); err != nil {
		return nil, err
	}
	if err := r.readREMap(); err != nil {
		return nil, err
	}
	return r, nil
}

// note records something the plots or the report leave out.
func (r *plotRun) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// rebuildDesign loads the config named in run.json with the formula the
// run used, and builds the design; nil (with a note) when it cannot. A
// data file that is not the one the run was fitted to (its size or
// SHA-256 differ from run.json's) is an error: the PPC plot would compare
// the draws with other data.
func (r *plotRun) rebuildDesign() (*model.Design, error) {
	if r.meta == nil || r.meta.Config == "" {
		r.note("no config recorded in %s: no PPC plot", filepath.Join(r.dir, "run.json"))
		return nil, nil
	}
	raw, err := os.ReadFile(r.meta.Config)
	if err != nil {
		r.note("the run's config %s cannot be read (%v): no PPC plot", r.meta.Config, err)
		return nil, nil
	}
	r.configText = string(raw)
	cfg, err := parseConfig(raw, r.meta.Config)
	if err == nil {
		if r.meta.Formula != "" {
			cfg.Model.Formula = r.meta.Formula
		}
		if r.meta.Family != "" {
			cfg.Model.Family = r.meta.Family // as run --family set it
		}
		if r.meta.Data != "" && r.meta.Data != cfg.Data.Path {
			cfg.Data.Path = r.meta.Data
		}
		applyRunColumns(cfg, r.meta)
		path := cfg.resolve(cfg.Data.Path)
		if _, serr := os.Stat(path); serr == nil {
			if r.meta.DataFile == nil {
				r.note("%s records no fingerprint of the data file: the PPC plot uses %s as it is now", filepath.Join(r.dir, "run.json"), path)
			} else if _, cerr := draws.CheckData("plot (posterior predictive check)", path, r.dir, r.meta, filepath.Join(r.dir, "run.json")); cerr != nil {
				return nil, cerr
			}
		}
		var d *model.Design
		if d, err = buildDesign(cfg); err == nil {
			return d, nil
		}
	}
	r.note("the run's model cannot be rebuilt from %s (%v): no PPC plot", r.meta.Config, err)
	return nil, nil
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readSummary reads summary.csv, or summarises the draws when it is
// missing.
func (r *plotRun) readSummary() error {
	path := filepath.Join(r.dir, "summary.csv")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		names := r.variables(regexp.MustCompile(`.`))
		sums := diagnostics.SummarizeEach(len(names), func(i int) [][]float64 { return r.post.Column(names[i]) }, 0)
		r.sumHeader = append([]string{"variable"}, diagnostics.Columns()...)
		for i, s := range sums {
			row := []string{r.displayName(names[i])}
			for _, v := range s.Values() {
				row = append(row, formatNum(v))
			}
			r.summary = append(r.summary, row)
		}
		r.note("%s is missing: the summary was computed from the draws", path)
		return nil
	}
	if err != nil {
		return inputErrorf("%s: %v", path, err)
	}
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		return inputErrorf("%v", err)
	}
	if len(recs) == 0 || recs[0][0] != "variable" {
		return inputErrorf("%s: not a summary (no \"variable\" header)", path)
	}
	r.sumHeader, r.summary = recs[0], recs[1:]
	return nil
}

// readREMap reads random_effects.csv when present.
func (r *plotRun) readREMap() error {
	m, err := draws.ReadREMap(filepath.Join(r.dir, "random_effects.csv"))
	if err != nil {
		return err
	}
	if len(m) > 0 {
		r.re = m
	}
	return nil
}

// displayName is the name a column is shown with: r_ columns by their
// summary name ("r_Subject[308,Intercept]").
func (r *plotRun) displayName(col string) string {
	if m, ok := r.re[col]; ok {
		return m[0]
	}
	return col
}

// variables returns the draws columns (not sampler statistics) whose
// name or display name re matches, in file order.
func (r *plotRun) variables(re *regexp.Regexp) []string {
	var out []string
	for _, c := range r.post.Names.Columns {
		if diagnostics.IsSamplerStat(c) {
			continue
		}
		if re.MatchString(c) || re.MatchString(r.displayName(c)) {
			out = append(out, c)
		}
	}
	return out
}

// plotImage is one rendered plot.
type plotImage struct {
	file, title, caption string
	data                 []byte
}

// render draws every plot in memory.
func (r *plotRun) render(opt plotOptions) ([]plotImage, error) {
	names := r.variables(opt.vars)
	if len(names) == 0 {
		return nil, inputErrorf("--vars %q matches no variable of the run in %s (it has %s)", opt.vars, r.dir, strings.Join(firstN(r.variables(regexp.MustCompile(`.`)), 8), ", "))
	}
	ext := "." + string(opt.format)
	var imgs []plotImage
	pages := plots.Pages(len(names), plots.PanelsPerPage)
	for k, pg := range pages {
		var vars []plots.Variable
		for _, n := range names[pg[0]:pg[1]] {
			vars = append(vars, plots.Variable{Name: r.displayName(n), Chains: r.post.Column(n)})
		}
		what := fmt.Sprintf("%d–%d of %d variables", pg[0]+1, pg[1], len(names))
		for _, kind := range []struct {
			name, title, caption string
			draw                 func(w io.Writer) error
		}{
			{"trace", "Trace plots", "Post-warmup draws by iteration, one colour per chain: chains that mix overlap with no trend.",
				func(w io.Writer) error { return plots.Trace(w, opt.format, vars) }},
			{"density", "Marginal posterior densities", "Gaussian kernel density estimates (Silverman bandwidth) of all draws (black) and of each chain.",
				func(w io.Writer) error { return plots.Density(w, opt.format, vars) }},
			{"rank", "Rank plots", "Histogram of each chain's ranks among all draws (20 bins): flat near the dashed line when the chains mix.",
				func(w io.Writer) error { return plots.Rank(w, opt.format, vars, 0) }},
		} {
			var b bytes.Buffer
			if err := kind.draw(&b); err != nil {
				return nil, fmt.Errorf("plot %s: %w", kind.name, err)
			}
			imgs = append(imgs, plotImage{fmt.Sprintf("%s_%d%s", kind.name, k+1, ext), fmt.Sprintf("%s (%s)", kind.title, what), kind.caption, b.Bytes()})
		}
	}
	ppc, err := r.renderPPC(opt.format)
	if err != nil {
		return nil, err
	}
	if ppc != nil {
		ppc.file += ext
		imgs = append(imgs, *ppc)
	}
	root, err := r.renderRootogram(opt.format)
	if err != nil {
		return nil, err
	}
	if root != nil {
		root.file += ext
		imgs = append(imgs, *root)
	}
	cats, err := r.renderCaterpillars(opt.format)
	if err != nil {
		return nil, err
	}
	for _, c := range cats {
		c.file += ext
		imgs = append(imgs, c)
	}
	return imgs, nil
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(slices.Clone(s[:n]), "…")
	}
	return s
}

// renderPPC draws observed y against ppcPlotDraws replicated data sets,
// simulated from draws spread evenly over the chains, seeded by the
// run's seed; nil (with a note) when the design is not known.
func (r *plotRun) renderPPC(f plots.Format) (*plotImage, error) {
	if r.d == nil || r.noPPC {
		return nil, nil
	}
	if !r.post.HasRE {
		r.note("the run kept no random effects ([output] random_effects = false): no PPC plot")
		return nil, nil
	}
	seed := uint64(defaultPredictSeed)
	if sd, ok := draws.Seed(r.dir); ok {
		seed = sd
	}
	yrep, err := posterior.Replicate(r.d, r.post, ppcPlotDraws, seed, ppcPlotStream)
	if err != nil {
		return nil, fmt.Errorf("plot ppc: %w", err)
	}
	m := len(yrep)
	name := r.d.Formula.Response.Name
	var b bytes.Buffer
	if err := plots.PPC(&b, f, name, r.d.Y, yrep); err != nil {
		return nil, fmt.Errorf("plot ppc: %w", err)
	}
	return &plotImage{"ppc_density", "Posterior predictive check",
		fmt.Sprintf("Density of the observed %s (dark) and of %d data sets replicated from the posterior (y_rep = Xβ + Zb + ε, light): the observed curve should look like one of them.", name, m),
		b.Bytes()}, nil
}

// renderRootogram draws the hanging rootogram of a count run from its
// ppc_rootogram.csv; nil when the run is of another family, wrote no PPC
// ([output] ppc = false), or has no such file (with a note when the
// run's model is a count model).
func (r *plotRun) renderRootogram(f plots.Format) (*plotImage, error) {
	if r.noPPC || r.d != nil && !r.d.Family.Count() {
		return nil, nil
	}
	path := filepath.Join(r.dir, "ppc_rootogram.csv")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if r.d != nil {
			r.note("%s is missing (the run wrote no posterior predictive check, or predates it): no rootogram", path)
		}
		return nil, nil
	}
	if err != nil {
		return nil, inputErrorf("%s: %v", path, err)
	}
	bars, err := readRootogram(path, raw)
	if err != nil {
		return nil, err
	}
	name := "count"
	if r.d != nil {
		name = r.d.Formula.Response.Name
	}
	var b bytes.Buffer
	if err := plots.Rootogram(&b, f, name, bars); err != nil {
		return nil, fmt.Errorf("plot rootogram: %w", err)
	}
	last := bars[len(bars)-1].Label
	return &plotImage{"rootogram", "Posterior predictive check: rootogram",
		fmt.Sprintf("Hanging rootogram of %s on the square-root scale: the curve is √(expected number of rows with each count) under the posterior predictive, with the 95%% band over draws; from it hangs a bar of height √(observed number). A bar ending above the zero line marks a count observed less often than the model expects, below it more often. The last bar (%s) pools the tail.", name, last),
		b.Bytes()}, nil
}

// readRootogram parses ppc_rootogram.csv (posterior.RootogramColumns,
// counts 0, 1, … and the tail "K+" last) into the plot's bars; a
// malformed file is an input error naming the line and column.
func readRootogram(path string, raw []byte) ([]plots.RootogramBar, error) {
	cr := csv.NewReader(bytes.NewReader(raw))
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, inputErrorf("%s: %v", path, err)
	}
	if len(recs) < 2 || !slices.Equal(recs[0], posterior.RootogramColumns) {
		return nil, inputErrorf("%s: not a rootogram (want the header %s and at least one row)", path, strings.Join(posterior.RootogramColumns, ","))
	}
	var bars []plots.RootogramBar
	for i, rec := range recs[1:] {
		line := i + 2
		want := strconv.Itoa(i)
		if i == len(recs)-2 {
			want += "+"
		}
		if rec[0] != want {
			return nil, inputErrorf("%s:%d: column count is %q, want %q", path, line, rec[0], want)
		}
		v := make([]float64, 4)
		for j := range v {
			x, err := strconv.ParseFloat(rec[j+1], 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				return nil, inputErrorf("%s:%d: column %s: %q is not a frequency", path, line, recs[0][j+1], rec[j+1])
			}
			v[j] = x
		}
		bars = append(bars, plots.RootogramBar{Label: rec[0], Observed: v[0], Expected: v[1], Lo: v[2], Hi: v[3]})
	}
	return bars, nil
}

var fileSafeRE = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// renderCaterpillars draws one caterpillar plot per grouping factor and
// effect from the r_ rows of the summary.
func (r *plotRun) renderCaterpillars(f plots.Format) ([]plotImage, error) {
	if len(r.re) == 0 {
		return nil, nil
	}
	col := map[string]int{}
	for i, h := range r.sumHeader {
		col[h] = i
	}
	for _, h := range []string{"mean", "q2.5", "q97.5"} {
		if _, ok := col[h]; !ok {
			return nil, inputErrorf("%s: no column %q", filepath.Join(r.dir, "summary.csv"), h)
		}
	}
	bySummary := map[string][]string{}
	for _, m := range r.re {
		bySummary[m[0]] = m[1:]
	}
	type key struct{ group, effect string }
	var order []key
	rows := map[key][]plots.Interval{}
	for _, rec := range r.summary {
		m, ok := bySummary[rec[0]]
		if !ok {
			continue
		}
		k := key{m[0], m[2]}
		get := func(h string) float64 {
			v, err := strconv.ParseFloat(rec[col[h]], 64)
			if err != nil {
				return math.NaN()
			}
			return v
		}
		if _, seen := rows[k]; !seen {
			order = append(order, k)
		}
		rows[k] = append(rows[k], plots.Interval{Label: m[1], Mid: get("mean"), Lo: get("q2.5"), Hi: get("q97.5")})
	}
	var out []plotImage
	for _, k := range order {
		var b bytes.Buffer
		title := fmt.Sprintf("Random effects of %s: %s", k.group, k.effect)
		if err := plots.Caterpillar(&b, f, title, "posterior mean and 95% interval", rows[k]); err != nil {
			return nil, fmt.Errorf("plot caterpillar: %w", err)
		}
		safe := func(s string) string { return strings.Trim(fileSafeRE.ReplaceAllString(s, "_"), "_") }
		file := "caterpillar_" + safe(k.group) + "_" + safe(k.effect)
		out = append(out, plotImage{file, title,
			fmt.Sprintf("Posterior mean (dot) and 95%% interval of each level's %s deviation, sorted; %d levels.", k.effect, len(rows[k])),
			b.Bytes()})
	}
	return out, nil
}

// write renders the plots, then writes them (and the report) and
// returns the files written. Nothing is written when rendering fails.
func (r *plotRun) write(opt plotOptions) ([]string, error) {
	imgs, err := r.render(opt)
	if err != nil {
		return nil, err
	}
	var html []byte
	if opt.report {
		var b bytes.Buffer
		if err := plots.WriteHTML(&b, r.buildReport(opt, imgs)); err != nil {
			return nil, err
		}
		html = b.Bytes()
	}
	if err := os.MkdirAll(opt.out, outfile.DirMode); err != nil {
		return nil, fmt.Errorf("plot dir: %w", err)
	}
	var written []string
	for _, im := range imgs {
		p := filepath.Join(opt.out, im.file)
		if err := outfile.SaveAtomically(p, func(w io.Writer) error { _, err := w.Write(im.data); return err }); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	if html != nil {
		p := filepath.Join(r.dir, "report.html")
		if err := outfile.SaveAtomically(p, func(w io.Writer) error { _, err := w.Write(html); return err }); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

// buildReport assembles the HTML report of the run.
func (r *plotRun) buildReport(opt plotOptions, imgs []plotImage) *plots.Report {
	rep := &plots.Report{Title: "lmmbayes run " + r.dir, Config: r.configText, Notes: r.notes}
	if m := r.meta; m != nil {
		rep.Title = "lmmbayes: " + m.Formula
		rep.Meta = [][2]string{
			{"Formula", m.Formula}, {"Data", fmt.Sprintf("%s (%d observations)", m.Data, m.NObs)},
			{"Config", m.Config}, {"Run dir", r.dir},
			{"Draws", fmt.Sprintf("%d chains × %d post-warmup draws (warmup %d, thin %d)", m.Chains, m.Draws, m.Warmup, m.Thin)},
			{"Seed", strconv.FormatUint(m.Seed, 10)},
			{"Random effects kept", strconv.FormatBool(m.RE)},
			{"Wall time", fmt.Sprintf("%.2f s", m.Wall)},
			{"lmmbayes", m.Version},
		}
		rep.Warnings = slices.Clone(m.Warnings)
		if len(m.Used) > 0 {
			t := &plots.Table{Title: "Priors", Header: []string{"parameter", "prior", "config key"}}
			for _, p := range m.Used {
				key := p.Key
				if key == "" {
					key = "(default)"
				}
				t.Rows = append(t.Rows, []plots.Cell{{Text: p.Param}, {Text: p.Prior}, {Text: key}})
			}
			rep.Tables = append(rep.Tables, t)
		}
	}
	main, re, nwarn := r.summaryTables(opt)
	if nwarn > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d summary cells are flagged: R-hat > %g or ESS < %d (highlighted below)", nwarn, rhatWarn, essWarn))
	}
	rep.Tables = append(rep.Tables, main)
	if re != nil {
		rep.Tables = append(rep.Tables, re)
	}
	if t := r.ppcStatsTable(); t != nil {
		rep.Tables = append(rep.Tables, t)
	}
	rep.Tables = append(rep.Tables, r.compareTables()...)
	for _, im := range imgs {
		rep.Figures = append(rep.Figures, plots.Figure{Title: im.title, Caption: im.caption, Format: opt.format, Data: im.data})
	}
	return rep
}

// summaryTables returns the summary of the plotted variables and,
// collapsed, of the random effects, with R-hat > rhatWarn and
// ESS < essWarn cells flagged, and the number of flagged cells.
func (r *plotRun) summaryTables(opt plotOptions) (main, re *plots.Table, nwarn int) {
	show := []string{"variable", "mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk", "ess_tail", "mcse_mean"}
	col := map[string]int{}
	for i, h := range r.sumHeader {
		col[h] = i
	}
	main = &plots.Table{Title: "Posterior summary", Header: show,
		Caption: fmt.Sprintf("From summary.csv. Flagged: R-hat > %g (chains disagree) or bulk/tail ESS < %d (too few effective draws).", rhatWarn, essWarn)}
	re = &plots.Table{Title: "Random effects summary", Header: show, Collapsed: true}
	reNames := map[string]bool{}
	for _, m := range r.re {
		reNames[m[0]] = true
	}
	for _, rec := range r.summary {
		var row []plots.Cell
		for _, h := range show {
			i, ok := col[h]
			if !ok || i >= len(rec) {
				row = append(row, plots.Cell{Text: ""})
				continue
			}
			v, err := strconv.ParseFloat(rec[i], 64)
			c := plots.Cell{Text: rec[i]}
			if h != "variable" && err == nil {
				c.Text = strconv.FormatFloat(v, 'g', 4, 64)
				switch h {
				case "rhat":
					c.Warn = v > rhatWarn
				case "ess_bulk", "ess_tail":
					c.Text = strconv.FormatFloat(math.Floor(v), 'f', 0, 64)
					c.Warn = v < essWarn
				}
			}
			if c.Warn {
				nwarn++
			}
			row = append(row, c)
		}
		switch {
		case reNames[rec[0]] || draws.IsREColumn(rec[0]):
			re.Rows = append(re.Rows, row)
		case opt.vars.MatchString(rec[0]):
			main.Rows = append(main.Rows, row)
		}
	}
	if len(re.Rows) == 0 {
		re = nil
	}
	return main, re, nwarn
}

// ppcStatsTable shows ppc_stats.csv when the run wrote it.
func (r *plotRun) ppcStatsTable() *plots.Table {
	raw, err := os.ReadFile(filepath.Join(r.dir, "ppc_stats.csv"))
	if err != nil {
		return nil
	}
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(recs) < 2 {
		r.note("ppc_stats.csv is unreadable: not shown")
		return nil
	}
	t := &plots.Table{Title: "Posterior predictive statistics", Header: recs[0],
		Caption: "T(y) of the observed data against T(y_rep) of replicated data; p_value = P(T(y_rep) ≥ T(y)), worrying near 0 or 1."}
	for _, rec := range recs[1:] {
		var row []plots.Cell
		for i, s := range rec {
			c := plots.Cell{Text: s}
			if v, err := strconv.ParseFloat(s, 64); err == nil && i > 0 {
				c.Text = strconv.FormatFloat(v, 'g', 4, 64)
				if recs[0][i] == "p_value" {
					c.Warn = v < 0.01 || v > 0.99
				}
			}
			row = append(row, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// compareTables shows the ML comparison when the run dir holds
// ml_fit.json and the design is known.
func (r *plotRun) compareTables() []*plots.Table {
	path := filepath.Join(r.dir, "ml_fit.json")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	if r.d == nil {
		r.note("%s is present but the run's model is unknown: no ML comparison", path)
		return nil
	}
	if _, err := r.post.Layout(r.d); err != nil {
		r.note("%s is present but the draws lack parameters of the model (%v): no ML comparison", path, err)
		return nil
	}
	ml, err := posterior.ReadMLFit(path)
	if err != nil {
		r.note("%v: no ML comparison", err)
		return nil
	}
	rows, corrs := posterior.Compare(r.d, r.post, ml, nil)
	t := &plots.Table{Title: "Posterior against the ML fit", Header: posterior.CompareColumns,
		Caption: "ML estimates from ml_fit.json; diff_sd = (posterior mean − ML estimate) / posterior SD."}
	for _, row := range rows {
		cells := []plots.Cell{{Text: row.Variable}}
		for _, v := range row.Values() {
			txt := ""
			if !math.IsNaN(v) {
				txt = strconv.FormatFloat(v, 'g', 4, 64)
			}
			cells = append(cells, plots.Cell{Text: txt})
		}
		t.Rows = append(t.Rows, cells)
	}
	out := []*plots.Table{t}
	if len(corrs) > 0 {
		c := &plots.Table{Title: "Random effects: ML modes against posterior means", Header: []string{"group", "effect", "levels", "correlation"}}
		for _, rc := range corrs {
			c.Rows = append(c.Rows, []plots.Cell{{Text: rc.Group}, {Text: rc.Effect}, {Text: strconv.Itoa(rc.Levels)}, {Text: strconv.FormatFloat(rc.Corr, 'f', 4, 64)}})
		}
		out = append(out, c)
	}
	return out
}

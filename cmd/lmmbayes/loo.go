package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/internal/outfile"
	"github.com/lmmbayes/lmmbayes/loo"
)

const looSynopsis = `RUN_DIR [RUN_DIR ...] [flags]

Approximate leave-one-out cross-validation (PSIS-LOO, as R's loo package) of
the runs in RUN_DIR, from the pointwise log-likelihood the run wrote
([output] log_lik = true, or run --log-lik). With several run dirs, the
models are compared as loo_compare does; they must be fitted to the same
data. --group NAME leaves out whole levels of a grouping factor instead
(from the draws; no log_lik needed). See docs/loo.md.`

// looFlags are loo's flags.
type looFlags struct {
	waic    *bool
	group   *string
	out     *string
	memMB   *int64
	kTable  *string
	workers *int
	format  *string
}

func cmdLoo(e *env, args []string) error {
	fs := newFlags("loo", looSynopsis, e.stdout)
	f := &looFlags{
		waic:    fs.Bool("waic", false, "also compute WAIC (elpd_waic, p_waic, waic) and write waic.csv"),
		group:   fs.String("group", "", "leave out each level of grouping factor `NAME` (as the formula writes it) instead of each row: its effects integrated out in closed form"),
		out:     fs.String("out", "", "pointwise CSV `FILE` (one run dir only; default loo.csv, or loo_group_NAME.csv, in the run dir)"),
		memMB:   fs.Int64("memory-mb", 1024, "most `MiB` of log-likelihood draws held in memory at once"),
		kTable:  fs.String("k-table", "2.7", "Pareto k thresholds of the printed table: `2.7` (loo ≥ 2.7: good below min(1 − 1/log10(S), 0.7)) or 2.5.1 (good ≤ 0.5, ok ≤ 0.7)"),
		workers: fs.Int("workers", 0, "goroutines (default GOMAXPROCS)"),
		format:  fs.String("format", "table", "output `format`: table (as R's loo prints) or json"),
	}
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return inputErrorf("loo: expected at least one run dir (see \"lmmbayes loo -h\")")
	}
	if *f.memMB < 1 {
		return inputErrorf("loo: --memory-mb must be positive, got %d", *f.memMB)
	}
	if *f.kTable != "2.7" && *f.kTable != "2.5.1" {
		return inputErrorf("loo: --k-table must be 2.7 or 2.5.1, got %q", *f.kTable)
	}
	if *f.format != "table" && *f.format != "json" {
		return inputErrorf("loo: --format must be table or json, got %q", *f.format)
	}
	if *f.out != "" && len(pos) > 1 {
		return inputErrorf("loo: --out needs a single run dir (each of several run dirs gets its own loo.csv)")
	}
	if *f.workers <= 0 {
		*f.workers = loo.DefaultWorkers()
	}
	// The batches are sized to the budget; the limit makes the garbage
	// collector return freed memory to the system before exceeding it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(*f.memMB << 20)
	}
	// Every run is checked before anything is computed or written.
	runs := make([]*looRun, len(pos))
	for i, dir := range pos {
		if runs[i], err = openLooRun(dir, f); err != nil {
			return err
		}
	}
	if err := sameData(runs); err != nil {
		return err
	}
	var models, waicModels []loo.Model
	js := &looJSON{}
	for i, r := range runs {
		if len(runs) > 1 && *f.format == "table" {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprintf(e.stdout, "Model %s\n", r.name)
		}
		if err := r.compute(f); err != nil {
			return err
		}
		if *f.format == "table" {
			if err := r.print(e.stdout, f); err != nil {
				return err
			}
		}
		js.Models = append(js.Models, r.json(f))
		models = append(models, loo.Model{Name: r.name, Pointwise: r.res.ElpdPointwise(), Elpd: r.res.ElpdLoo, P: r.res.PLoo, IC: r.res.LooIC})
		if r.waic != nil {
			e := make([]float64, len(r.waic.Pointwise))
			for j, p := range r.waic.Pointwise {
				e[j] = p.ElpdWAIC
			}
			waicModels = append(waicModels, loo.Model{Name: r.name, Pointwise: e, Elpd: r.waic.ElpdWAIC, P: r.waic.PWAIC, IC: r.waic.WAIC})
		}
	}
	// The pointwise files are written once every run is computed, so that
	// a failure leaves none of them behind.
	for _, r := range runs {
		if err := r.write(f); err != nil {
			return err
		}
	}
	if len(runs) > 1 {
		rows, err := loo.Compare(models)
		if err != nil {
			return asInput(fmt.Errorf("loo: %w", err))
		}
		js.Compare = compareJSON(rows)
		var wrows []loo.CompareRow
		if len(waicModels) > 1 {
			if wrows, err = loo.Compare(waicModels); err != nil {
				return asInput(fmt.Errorf("loo: %w", err))
			}
			js.CompareWAIC = compareJSON(wrows)
		}
		if *f.format == "table" {
			printComparison(e.stdout, "loo", rows)
			if wrows != nil {
				printComparison(e.stdout, "waic", wrows)
			}
		}
	}
	if *f.format == "json" {
		b, err := json.MarshalIndent(js, "", "  ")
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(append(b, '\n'))
		return err
	}
	return nil
}

// looJSON is loo's --format json output.
type looJSON struct {
	Models      []looModelJSON   `json:"models"`
	Compare     []compareRowJSON `json:"loo_compare,omitempty"`
	CompareWAIC []compareRowJSON `json:"loo_compare_waic,omitempty"`
}

type estJSON struct {
	Estimate float64 `json:"estimate"`
	SE       float64 `json:"se"`
}

type kRowJSON struct {
	Interval   string   `json:"interval"`
	Label      string   `json:"label"`
	Count      int      `json:"count"`
	Proportion float64  `json:"proportion"`
	MinNEff    *float64 `json:"min_n_eff"`
}

type r2JSON struct {
	Estimate float64 `json:"estimate"`
	EstError float64 `json:"est_error"`
	Q2_5     float64 `json:"q2.5"`
	Q97_5    float64 `json:"q97.5"`
}

type looModelJSON struct {
	Dir       string             `json:"dir"`
	Group     string             `json:"group,omitempty"`
	S         int                `json:"draws"`
	N         int                `json:"nobs"`
	ElpdLoo   estJSON            `json:"elpd_loo"`
	PLoo      estJSON            `json:"p_loo"`
	LooIC     estJSON            `json:"looic"`
	MCSE      *float64           `json:"mcse_elpd_loo"`
	KTable    []kRowJSON         `json:"pareto_k_table"`
	WAIC      map[string]estJSON `json:"waic,omitempty"`
	R2        map[string]r2JSON  `json:"bayes_R2,omitempty"`
	Pointwise string             `json:"pointwise_file"`
}

type compareRowJSON struct {
	Model    string  `json:"model"`
	ElpdDiff float64 `json:"elpd_diff"`
	SEDiff   float64 `json:"se_diff"`
	Elpd     estJSON `json:"elpd"`
	P        estJSON `json:"p"`
	IC       estJSON `json:"ic"`
}

func finiteOrNil(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func compareJSON(rows []loo.CompareRow) []compareRowJSON {
	out := make([]compareRowJSON, len(rows))
	for i, r := range rows {
		out[i] = compareRowJSON{Model: r.Name, ElpdDiff: r.ElpdDiff, SEDiff: r.SEDiff,
			Elpd: estJSON{r.Elpd.Estimate, r.Elpd.SE}, P: estJSON{r.P.Estimate, r.P.SE}, IC: estJSON{r.IC.Estimate, r.IC.SE}}
	}
	return out
}

// json returns the run's results for --format json.
func (r *looRun) json(f *looFlags) looModelJSON {
	m := looModelJSON{Dir: r.dir, S: r.res.S, N: r.res.N,
		ElpdLoo: estJSON{r.res.ElpdLoo.Estimate, r.res.ElpdLoo.SE}, PLoo: estJSON{r.res.PLoo.Estimate, r.res.PLoo.SE},
		LooIC: estJSON{r.res.LooIC.Estimate, r.res.LooIC.SE}, MCSE: finiteOrNil(r.res.MCSE()), Pointwise: r.pointwisePath(f)}
	if r.group != nil {
		m.Group = r.group.name
	}
	for _, row := range r.res.KTable(f.thresholds(r.res.S)).Rows {
		hi := "Inf)"
		if !math.IsInf(row.Hi, 1) {
			hi = fmt.Sprintf("%.3g]", row.Hi)
		}
		lo := "-Inf"
		if !math.IsInf(row.Lo, -1) {
			lo = fmt.Sprintf("%.3g", row.Lo)
		}
		m.KTable = append(m.KTable, kRowJSON{Interval: "(" + lo + ", " + hi, Label: row.Label, Count: row.Count,
			Proportion: row.Proportion, MinNEff: finiteOrNil(row.MinNEff)})
	}
	if r.waic != nil {
		m.WAIC = map[string]estJSON{
			"elpd_waic": {r.waic.ElpdWAIC.Estimate, r.waic.ElpdWAIC.SE},
			"p_waic":    {r.waic.PWAIC.Estimate, r.waic.PWAIC.SE},
			"waic":      {r.waic.WAIC.Estimate, r.waic.WAIC.SE},
		}
	}
	if r.r2 != nil {
		m.R2 = map[string]r2JSON{"conditional": r2Of(r.r2.cond), "marginal": r2Of(r.r2.marg)}
	}
	return m
}

// printComparison prints loo_compare's table: the short form loo prints,
// then every column.
func printComparison(w io.Writer, crit string, rows []loo.CompareRow) error {
	fmt.Fprintf(w, "\nModel comparison (loo_compare, %s):\n", crit)
	if err := loo.PrintCompare(w, rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%-*s %10s %8s %10s %8s %8s %8s %10s %8s\n", nameWidth(rows), "", "elpd_diff", "se_diff",
		"elpd_"+crit, "se", "p_"+crit, "se", map[string]string{"loo": "looic", "waic": "waic"}[crit], "se")
	for _, r := range rows {
		fmt.Fprintf(w, "%-*s %10.1f %8.1f %10.1f %8.1f %8.1f %8.1f %10.1f %8.1f\n", nameWidth(rows), r.Name,
			r.ElpdDiff, r.SEDiff, r.Elpd.Estimate, r.Elpd.SE, r.P.Estimate, r.P.SE, r.IC.Estimate, r.IC.SE)
	}
	return nil
}

func nameWidth(rows []loo.CompareRow) int {
	w := 0
	for _, r := range rows {
		w = max(w, len(r.Name))
	}
	return w
}

// looRun is one run dir being evaluated.
type looRun struct {
	dir, name string
	meta      *draws.RunMeta
	metaPath  string
	src       *loo.Source // the log_lik columns (nil with --group)
	n         int         // observations (rows, or levels with --group)
	res       *loo.Result
	waic      *loo.WAICResult
	group     *groupLoo // with --group
	r2        *r2Summary
	r2Note    string // why R² was not computed
}

// openLooRun checks a run dir: its draws files and record, and the log_lik
// columns (unless --group).
func openLooRun(dir string, f *looFlags) (*looRun, error) {
	files, err := draws.Files(dir)
	if err != nil {
		return nil, err
	}
	meta, metaPath, err := draws.ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	r := &looRun{dir: dir, name: runName(dir), meta: meta, metaPath: metaPath}
	if *f.group != "" {
		if r.group, err = openGroupLoo(dir, meta, metaPath, *f.group); err != nil {
			return nil, err
		}
		r.n = r.group.levels()
		return r, nil
	}
	// lmmbayes writes log_lik_K.csv beside draws_K.csv; draws files that
	// hold log_lik columns themselves (CmdStan's) are read as they are.
	llFiles := make([]string, len(files))
	have := 0
	for i, f := range files {
		llFiles[i] = draws.LogLikPath(f)
		if _, err := os.Stat(llFiles[i]); err == nil {
			have++
		}
	}
	switch {
	case have == len(files):
		files = llFiles
	case have > 0:
		return nil, inputErrorf("loo: %s: only %d of the %d chains have a log_lik_K.csv", dir, have, len(files))
	}
	if r.src, err = loo.OpenSource(files, "log_lik"); err != nil {
		return nil, asInput(fmt.Errorf("loo: %w", err))
	}
	r.n = r.src.N
	if meta != nil && meta.NObs > 0 && meta.NObs != r.n {
		return nil, inputErrorf("loo: %s: the draws hold log_lik for %d rows, %s records %d rows used", dir, r.n, filepath.Base(metaPath), meta.NObs)
	}
	return r, nil
}

// runName is how a run dir is named in tables: its path as given, cleaned.
func runName(dir string) string {
	return filepath.Clean(dir)
}

// sameData refuses to compare runs fitted to different data: different
// data files (SHA-256 recorded in run.json), responses or numbers of rows.
func sameData(runs []*looRun) error {
	if len(runs) < 2 {
		return nil
	}
	r0 := runs[0]
	for _, r := range runs {
		if r.meta == nil || r.meta.DataFile == nil || r.meta.DataFile.SHA256 == "" {
			return inputErrorf("loo: %s records no fingerprint of its data file (a run made before lmmbayes recorded one), so it cannot be checked to share the data of the other runs; run it again", r.dir)
		}
	}
	for _, r := range runs[1:] {
		a, b := r0.meta.DataFile, r.meta.DataFile
		if a.SHA256 != b.SHA256 {
			return inputErrorf("loo: %s and %s were fitted to different data (%s, SHA-256 %.12s…; %s, SHA-256 %.12s…): models can only be compared on the same data",
				r0.dir, r.dir, a.Name, a.SHA256, b.Name, b.SHA256)
		}
		if ya, yb := response(r0.meta.Formula), response(r.meta.Formula); ya != yb {
			return inputErrorf("loo: %s and %s model different responses (%s; %s): models can only be compared on the same data", r0.dir, r.dir, ya, yb)
		}
		if r.n != r0.n {
			what := "rows"
			if r.group != nil {
				what = "levels of " + r.group.name
			}
			return inputErrorf("loo: %s has %d %s, %s %d (a different set of rows was dropped for missing values?): models can only be compared on the same data",
				r0.dir, r0.n, what, r.dir, r.n)
		}
		if r.group != nil && r0.group != nil && !sameStrings(r.group.levelNames(), r0.group.levelNames()) {
			return inputErrorf("loo: %s and %s have different levels of %s", r0.dir, r.dir, r.group.name)
		}
	}
	return nil
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// response returns the left-hand side of a formula as written.
func response(formula string) string {
	lhs, _, _ := strings.Cut(formula, "~")
	return strings.Join(strings.Fields(lhs), "")
}

// compute runs PSIS-LOO (and WAIC) over the run's log-likelihood.
func (r *looRun) compute(f *looFlags) error {
	if r.group != nil {
		return r.group.compute(r, f)
	}
	src := r.src
	pw := make([]loo.Pointwise, 0, src.N)
	var wp []loo.WAICPointwise
	batch := src.BatchSize(*f.memMB << 20)
	err := src.Stream(batch, *f.workers, os.TempDir(), func(first int, cols [][]float64) error {
		p, w, err := loo.LOOBatch(cols, src.Chains, *f.workers, first, *f.waic)
		if err != nil {
			return err
		}
		pw = append(pw, p...)
		wp = append(wp, w...)
		return nil
	})
	if err != nil {
		return asInput(fmt.Errorf("loo: %s: %w", r.dir, err))
	}
	r.res = loo.Summarize(pw, src.S())
	if *f.waic {
		r.waic = loo.SummarizeWAIC(wp, src.S())
	}
	// R² needs the parameters and the design: from the config the run
	// records. Without them loo still reports what the log_lik gives.
	rp, err := openRunPosterior(r.dir, r.meta, r.metaPath)
	if err != nil {
		r.r2Note = err.Error()
		return nil
	}
	if r.r2, err = rp.bayesR2(); err != nil {
		return err
	}
	return nil
}

// thresholds returns the k table's cut points for S draws.
func (f *looFlags) thresholds(S int) loo.Thresholds {
	if *f.kTable == "2.5.1" {
		return loo.Thresholds251
	}
	return loo.Thresholds27(S)
}

// print writes loo's printout of the run, the note on high k̂, and WAIC's.
func (r *looRun) print(w io.Writer, f *looFlags) error {
	th := f.thresholds(r.res.S)
	if err := r.res.Print(w, th); err != nil {
		return err
	}
	bad, veryBad := 0, 0
	for _, p := range r.res.Pointwise {
		switch {
		case p.ParetoK > 1:
			veryBad++
		case p.ParetoK > th.Cuts[len(th.Cuts)-2]:
			bad++
		}
	}
	what := "observations"
	if r.group != nil {
		what = "levels of " + r.group.name
	}
	if bad+veryBad > 0 {
		fmt.Fprintf(w, "Warning: %d of %d %s have Pareto k above %s: their PSIS estimates are unreliable",
			bad+veryBad, r.res.N, what, trimK(th.Cuts[len(th.Cuts)-2]))
		if r.group != nil {
			fmt.Fprintf(w, " (common when whole groups are left out); use exact cross-validation instead: lmmbayes kfold CONFIG --group %s --folds K\n", r.group.name)
		} else {
			fmt.Fprintf(w, "; refit without them (lmmbayes kfold), or use a model less sensitive to single rows\n")
		}
	}
	if r.waic != nil {
		if err := r.waic.Print(w); err != nil {
			return err
		}
	}
	if r.r2 != nil {
		r.r2.print(w)
	} else if r.r2Note != "" {
		fmt.Fprintf(w, "\nBayesian R2 not computed: %s\n", r.r2Note)
	}
	return nil
}

func trimK(x float64) string { return fmt.Sprintf("%.3g", x) }

// pointwisePath is where the pointwise CSV goes.
func (r *looRun) pointwisePath(f *looFlags) string {
	if *f.out != "" {
		return *f.out
	}
	name := "loo.csv"
	if r.group != nil {
		name = "loo_group_" + safeFileName(r.group.name) + ".csv"
	}
	return filepath.Join(r.dir, name)
}

// write writes the pointwise CSVs.
func (r *looRun) write(f *looFlags) error {
	path := r.pointwisePath(f)
	err := outfile.SaveAtomically(path, func(w io.Writer) error {
		hdr := "elpd_loo,mcse_elpd_loo,p_loo,looic,influence_pareto_k"
		if r.group != nil {
			hdr = r.group.name + "," + hdr
		}
		if _, err := io.WriteString(w, hdr+"\n"); err != nil {
			return err
		}
		for i, p := range r.res.Pointwise {
			var b strings.Builder
			if r.group != nil {
				b.WriteString(csvQuote(r.group.levelNames()[i]) + ",")
			}
			b.WriteString(formatNum(p.ElpdLoo) + "," + formatNum(p.MCSEElpdLoo) + "," + formatNum(p.PLoo) + "," +
				formatNum(p.LooIC) + "," + formatK(p.ParetoK) + "\n")
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if r.r2 != nil {
		// Per draw, as brms's bayes_R2(summary = FALSE).
		err := outfile.SaveAtomically(filepath.Join(filepath.Dir(path), "bayes_R2.csv"), func(w io.Writer) error {
			io.WriteString(w, "R2_conditional,R2_marginal\n")
			for s := range r.r2.cond {
				if _, err := io.WriteString(w, formatNum(r.r2.cond[s])+","+formatNum(r.r2.marg[s])+"\n"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if r.waic == nil {
		return nil
	}
	wpath := filepath.Join(filepath.Dir(path), "waic.csv")
	return outfile.SaveAtomically(wpath, func(w io.Writer) error {
		io.WriteString(w, "elpd_waic,p_waic,waic\n")
		for _, p := range r.waic.Pointwise {
			if _, err := io.WriteString(w, formatNum(p.ElpdWAIC)+","+formatNum(p.PWAIC)+","+formatNum(p.WAIC)+"\n"); err != nil {
				return err
			}
		}
		return nil
	})
}

// formatK writes k̂ (Inf when the tail was too short to fit).
func formatK(k float64) string {
	if math.IsInf(k, 1) {
		return "Inf"
	}
	return formatNum(k)
}

// safeFileName keeps letters, digits, '.', '-' and '_' of s.
func safeFileName(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// csvQuote quotes a CSV field when it needs it (RFC 4180).
func csvQuote(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

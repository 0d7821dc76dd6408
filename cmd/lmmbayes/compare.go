package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"text/tabwriter"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/sampler"
)

const compareSynopsis = `CONFIG [--format table|csv|json]

Compares the posterior of the run that CONFIG describes with the maximum
likelihood fit of the same model (read from ml_fit.json in the output dir
when present, fitted otherwise): one row per parameter in brms names with
the ML estimate (and standard error, fixed effects only), the posterior
mean, SD and 95% interval, and diff_sd = (post_mean − ml_estimate) /
post_sd. The table and JSON add, per grouping factor and effect, the
correlation between the ML conditional modes and the posterior means.`

// compareColumns is the header of compare's CSV output and the keys of
// its JSON rows.
var compareColumns = []string{"variable", "ml_estimate", "ml_se", "post_mean", "post_sd", "post_q2.5", "post_q97.5", "diff_sd"}

// compareRow is one parameter of the comparison.
type compareRow struct {
	Variable string
	ML, MLSE float64 // MLSE NaN when not reported
	Mean, SD float64
	Lo, Hi   float64
	DiffSD   float64
}

// ranefCorr is the correlation over levels of ML modes and posterior
// means of one effect of one grouping factor.
type ranefCorr struct {
	Group  string  `json:"group"`
	Effect string  `json:"effect"`
	Levels int     `json:"levels"`
	Corr   float64 `json:"correlation"`
}

// mlFit is the part of an ML fit that compare uses.
type mlFit struct {
	fixef, se map[string]float64
	varcorr   []model.VarCorrRow
	sigma     float64
	ranef     map[string]mlRanef // per group
}

type mlRanef struct {
	levels []string
	values map[string][]float64
}

// mlFromResult takes what compare needs from a FitResult.
func mlFromResult(r *model.FitResult) *mlFit {
	m := &mlFit{fixef: map[string]float64{}, se: map[string]float64{}, varcorr: r.VarCorr, sigma: r.Sigma, ranef: map[string]mlRanef{}}
	for i, n := range r.Fixef.Names {
		m.fixef[n] = r.Fixef.Values[i]
	}
	for i, n := range r.FixefSE.Names {
		m.se[n] = r.FixefSE.Values[i]
	}
	for _, g := range r.Ranef {
		re := mlRanef{levels: g.Levels, values: map[string][]float64{}}
		for j, n := range g.Names {
			re.values[n] = g.Values[j]
		}
		m.ranef[g.Group] = re
	}
	return m
}

// readMLFit reads ml_fit.json (FitResult's JSON form).
func readMLFit(path string) (*mlFit, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var j struct {
		Fixef   map[string]float64 `json:"fixef"`
		FixefSE map[string]float64 `json:"fixef_se"`
		Sigma   float64            `json:"sigma"`
		VarCorr []struct {
			Group string          `json:"group"`
			Var1  json.RawMessage `json:"var1"`
			Var2  json.RawMessage `json:"var2"`
			Vcov  float64         `json:"vcov"`
			SDCor float64         `json:"sdcor"`
		} `json:"varcorr"`
		Ranef map[string]struct {
			Levels []string             `json:"levels"`
			Values map[string][]float64 `json:"values"`
		} `json:"ranef"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, inputErrorf("%s: %v", path, err)
	}
	if j.Fixef == nil || j.Sigma <= 0 {
		return nil, inputErrorf("%s: not an ML fit (no fixef or sigma)", path)
	}
	m := &mlFit{fixef: j.Fixef, se: j.FixefSE, sigma: j.Sigma, ranef: map[string]mlRanef{}}
	for _, v := range j.VarCorr {
		r := model.VarCorrRow{Group: v.Group, Vcov: v.Vcov, SDCor: v.SDCor}
		// Names are strings; null, or {} as R's jsonlite writes NA, mean none.
		json.Unmarshal(v.Var1, &r.Var1)
		json.Unmarshal(v.Var2, &r.Var2)
		m.varcorr = append(m.varcorr, r)
	}
	for g, re := range j.Ranef {
		m.ranef[g] = mlRanef{levels: re.Levels, values: re.Values}
	}
	return m, nil
}

func cmdCompare(e *env, args []string) error {
	fs := newFlags("compare", compareSynopsis, e.stdout)
	format := addFormatFlag(fs, "output")
	run := addRunDirFlag(fs)
	memMB := fs.Int("memory-mb", 1024, "most `MiB` of draws held in memory at once (the r_ columns are read in batches)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if *memMB < 1 {
		return inputErrorf("compare: --memory-mb must be positive, got %d", *memMB)
	}
	if len(pos) != 1 {
		return inputErrorf("compare: expected one config file, got %d arguments (see \"lmmbayes compare -h\")", len(pos))
	}
	cfg, err := loadConfig(pos[0])
	if err != nil {
		return err
	}
	dir, err := runDir(cfg, *run)
	if err != nil {
		return err
	}
	// compare refits the model or reads the ML fit, and matches levels,
	// by the data file: it must be the one the run was fitted to.
	if err := checkRunData(e.stderr, "compare", cfg, dir); err != nil {
		return err
	}
	useRunColumns(cfg, dir)
	d, err := buildDesign(cfg)
	if err != nil {
		return err
	}
	// b, sd, cor and sigma whole; of the r_ columns only their means,
	// read a batch at a time, so that memory stays bounded.
	post, err := readPostDrawsFor(dir, d, func(sampler.REColumn) bool { return false }, 1)
	if err != nil {
		return err
	}
	if post.hasRE {
		if post.reMeans, err = readREMeans(dir, d, int64(*memMB)<<20); err != nil {
			return err
		}
	}
	ml, err := readMLFit(filepath.Join(dir, "ml_fit.json"))
	if errors.Is(err, os.ErrNotExist) {
		fit, ferr := model.Fit(d, model.FitOptions{REML: false})
		if ferr != nil {
			return fmt.Errorf("compare: ML fit: %w", ferr)
		}
		ml, err = mlFromResult(fit), nil
	}
	if err != nil {
		return err
	}
	rows, corrs := compareRows(d, post, ml)
	switch *format {
	case "csv":
		return writeCompareCSV(e.stdout, rows)
	case "json":
		return writeCompareJSON(e.stdout, rows, corrs)
	}
	return writeCompareTable(e.stdout, rows, corrs)
}

var uniqueSuffixRE = regexp.MustCompile(`^\.\d+$`)

// mlVarCorr finds the VarCorr row of group g (or g made unique, "g.1")
// with var1 and var2, skipping the first skip matches (for terms sharing
// a grouping factor and effect names).
func mlVarCorr(rows []model.VarCorrRow, g, v1, v2 string, skip int) (float64, bool) {
	for _, r := range rows {
		if r.Var1 != v1 || r.Var2 != v2 {
			continue
		}
		if r.Group != g && !(len(r.Group) > len(g) && r.Group[:len(g)] == g && uniqueSuffixRE.MatchString(r.Group[len(g):])) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		return r.SDCor, true
	}
	return math.NaN(), false
}

// compareRows builds the comparison rows: b_, sd_, cor_, sigma.
func compareRows(d *model.Design, post *postDraws, ml *mlFit) ([]compareRow, []ranefCorr) {
	n := post.names
	var rows []compareRow
	add := func(name string, est, se float64, ok bool) {
		x := post.column(name)
		var flat []float64
		for _, c := range x {
			flat = append(flat, c...)
		}
		s := diagnostics.Summarize(x)
		r := compareRow{Variable: name, ML: est, MLSE: se, Mean: diagnostics.Mean(flat), SD: diagnostics.SD(flat), Lo: s.Q2_5, Hi: s.Q97_5}
		r.DiffSD = (r.Mean - r.ML) / r.SD
		if !ok {
			r.ML, r.DiffSD = math.NaN(), math.NaN()
		}
		rows = append(rows, r)
	}
	for j, x := range d.XNames {
		est, ok := ml.fixef[x]
		se, sok := ml.se[x]
		if !sok {
			se = math.NaN()
		}
		add(n.B[j], est, se, ok)
	}
	sdi := 0
	seen := map[[3]string]int{}
	for _, t := range d.Terms {
		for _, e := range t.Names {
			key := [3]string{t.Group, e, ""}
			v, ok := mlVarCorr(ml.varcorr, t.Group, e, "", seen[key])
			seen[key]++
			add(n.SD[sdi], v, math.NaN(), ok)
			sdi++
		}
	}
	ci := 0
	for _, t := range d.Terms {
		if t.K < 2 || !t.Correlated {
			continue
		}
		for i := 1; i < t.K; i++ {
			for j := 0; j < i; j++ {
				key := [3]string{t.Group, t.Names[j], t.Names[i]}
				v, ok := mlVarCorr(ml.varcorr, t.Group, t.Names[j], t.Names[i], seen[key])
				seen[key]++
				add(n.Cor[ci], v, math.NaN(), ok)
				ci++
			}
		}
	}
	add("sigma", ml.sigma, math.NaN(), true)
	return rows, ranefCorrs(d, post, ml)
}

// ranefCorrs correlates, per grouping factor and effect, the ML modes
// with the posterior means of the r_ columns over the levels.
func ranefCorrs(d *model.Design, post *postDraws, ml *mlFit) []ranefCorr {
	if !post.hasRE {
		return nil
	}
	type key struct{ g, e string }
	means := map[key]map[string]float64{}
	var order []key
	add := func(rc sampler.REColumn, m float64) {
		k := key{rc.Group, rc.Effect}
		if means[k] == nil {
			means[k] = map[string]float64{}
			order = append(order, k)
		}
		means[k][rc.Level] = m
	}
	for _, rm := range post.reMeans {
		add(rm.col, rm.mean)
	}
	for _, rc := range post.names.RE {
		add(rc, drawsMean(post.column(rc.Column)))
	}
	var out []ranefCorr
	for _, k := range order {
		re, ok := ml.ranef[k.g]
		if !ok {
			continue
		}
		v, ok := re.values[k.e]
		if !ok || len(v) != len(re.levels) {
			continue
		}
		var a, b []float64
		for i, lev := range re.levels {
			if m, ok := means[k][lev]; ok {
				a = append(a, v[i])
				b = append(b, m)
			}
		}
		out = append(out, ranefCorr{Group: k.g, Effect: k.e, Levels: len(a), Corr: pearson(a, b)})
	}
	return out
}

// pearson is the sample correlation of a and b (NaN when either is
// constant or shorter than 2).
func pearson(a, b []float64) float64 {
	if len(a) < 2 || len(a) != len(b) {
		return math.NaN()
	}
	ma, mb := diagnostics.Mean(a), diagnostics.Mean(b)
	var sab, saa, sbb float64
	for i := range a {
		x, y := a[i]-ma, b[i]-mb
		sab += x * y
		saa += x * x
		sbb += y * y
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	return sab / math.Sqrt(saa*sbb)
}

// values returns the row's numbers in compareColumns order (after
// variable).
func (r compareRow) values() []float64 {
	return []float64{r.ML, r.MLSE, r.Mean, r.SD, r.Lo, r.Hi, r.DiffSD}
}

// writeCompareCSV writes the rows with compareColumns; missing values are
// empty cells.
func writeCompareCSV(w io.Writer, rows []compareRow) error {
	cw := csv.NewWriter(w)
	cw.Write(compareColumns)
	for _, r := range rows {
		rec := []string{r.Variable}
		for _, v := range r.values() {
			if math.IsNaN(v) {
				rec = append(rec, "")
			} else {
				rec = append(rec, formatNum(v))
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// writeCompareJSON writes {"parameters": [rows with compareColumns as
// keys, null for missing], "ranef": [per group and effect correlations]}.
func writeCompareJSON(w io.Writer, rows []compareRow, corrs []ranefCorr) error {
	var b []byte
	b = append(b, `{"parameters":[`...)
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		kb, _ := json.Marshal(r.Variable)
		b = append(b, `"variable":`...)
		b = append(b, kb...)
		for j, v := range r.values() {
			b = append(b, ',')
			b = append(b, '"')
			b = append(b, compareColumns[j+1]...)
			b = append(b, `":`...)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				b = append(b, "null"...)
			} else {
				b = append(b, formatNum(v)...)
			}
		}
		b = append(b, '}')
	}
	b = append(b, `],"ranef":[`...)
	for i, c := range corrs {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(c.Corr) {
			g, _ := json.Marshal(c.Group)
			e, _ := json.Marshal(c.Effect)
			b = append(b, fmt.Sprintf(`{"group":%s,"effect":%s,"levels":%d,"correlation":null}`, g, e, c.Levels)...)
			continue
		}
		cb, err := json.Marshal(c)
		if err != nil {
			return err
		}
		b = append(b, cb...)
	}
	b = append(b, "]}\n"...)
	_, err := w.Write(b)
	return err
}

// writeCompareTable prints the rows aligned, then the random-effect
// correlations.
func writeCompareTable(w io.Writer, rows []compareRow, corrs []ranefCorr) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "variable\t")
	for _, c := range compareColumns[1:] {
		fmt.Fprintf(tw, "%s\t", c)
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t", r.Variable)
		for j, v := range r.values() {
			switch {
			case math.IsNaN(v):
				fmt.Fprint(tw, "\t")
			case j == len(compareColumns)-2:
				fmt.Fprintf(tw, "%.2f\t", v)
			default:
				fmt.Fprintf(tw, "%.4g\t", v)
			}
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(corrs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nRandom effects: correlation of ML conditional modes with posterior means")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "group\teffect\tlevels\tcorrelation\t")
	for _, c := range slices.Clone(corrs) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.4f\t\n", c.Group, c.Effect, c.Levels, c.Corr)
	}
	return tw.Flush()
}

// drawsMean is the mean of the draws of all chains, in chain order.
func drawsMean(x [][]float64) float64 {
	var flat []float64
	for _, c := range x {
		flat = append(flat, c...)
	}
	return diagnostics.Mean(flat)
}

// readREMeans returns the posterior mean of every r_ column of the run in
// dir, reading as many columns at a time as fit in budget bytes.
func readREMeans(dir string, d *model.Design, budget int64) ([]reMean, error) {
	files, err := drawsFiles(dir)
	if err != nil {
		return nil, err
	}
	names := sampler.ColumnNames(d, true)
	nHead := len(names.Columns) - len(names.RE)
	total, err := countAllRows(files)
	if err != nil {
		return nil, err
	}
	cols := make([]int, len(names.RE))
	for i := range cols {
		cols[i] = nHead + i
	}
	out := make([]reMean, 0, len(names.RE))
	err = readColumnBatches(files, cols, total, budget, func(dr *diagnostics.Draws) {
		for i := range dr.Names {
			out = append(out, reMean{names.RE[len(out)], drawsMean(dr.Variable(i))})
		}
	})
	if err != nil {
		return nil, asInput(fmt.Errorf("reading the run in %s: %w", dir, err))
	}
	return out, nil
}

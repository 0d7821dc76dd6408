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
	"slices"
	"text/tabwriter"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/posterior"
)

const compareSynopsis = `CONFIG [--format table|csv|json]

Compares the posterior of the run that CONFIG describes with the maximum
likelihood fit of the same model (read from ml_fit.json in the output dir
when present, fitted otherwise): one row per parameter in brms names with
the ML estimate (and standard error, fixed effects only), the posterior
mean, SD and 95% interval, and diff_sd = (post_mean − ml_estimate) /
post_sd. The table and JSON add, per grouping factor and effect, the
correlation between the ML conditional modes and the posterior means.`

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
	post, err := draws.Read(dir, d, draws.ReadOptions{KeepRE: func(draws.REColumn) bool { return false }})
	if err != nil {
		return err
	}
	var reMeans []posterior.REMean
	if post.HasRE {
		if reMeans, err = posterior.ReadREMeans(dir, d, int64(*memMB)<<20); err != nil {
			return err
		}
	}
	ml, err := posterior.ReadMLFit(filepath.Join(dir, "ml_fit.json"))
	if errors.Is(err, os.ErrNotExist) && d.Family != model.Gaussian {
		fit, ferr := model.FitGLMM(d, model.GLMMOptions{NAGQ: 1})
		if ferr != nil {
			return fmt.Errorf("compare: ML fit: %w", ferr)
		}
		ml, err = posterior.MLFromGLMM(fit), nil
	}
	if errors.Is(err, os.ErrNotExist) {
		fit, ferr := model.Fit(d, model.FitOptions{REML: false})
		if ferr != nil {
			return fmt.Errorf("compare: ML fit: %w", ferr)
		}
		ml, err = posterior.MLFromResult(fit), nil
	}
	if err != nil {
		return err
	}
	rows, corrs := posterior.Compare(d, post, ml, reMeans)
	switch *format {
	case "csv":
		return writeCompareCSV(e.stdout, rows)
	case "json":
		return writeCompareJSON(e.stdout, rows, corrs)
	}
	return writeCompareTable(e.stdout, rows, corrs)
}

// writeCompareCSV writes the rows with posterior.CompareColumns; missing values are
// empty cells.
func writeCompareCSV(w io.Writer, rows []posterior.CompareRow) error {
	cw := csv.NewWriter(w)
	cw.Write(posterior.CompareColumns)
	for _, r := range rows {
		rec := []string{r.Variable}
		for _, v := range r.Values() {
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

// writeCompareJSON writes {"parameters": [rows with posterior.CompareColumns as
// keys, null for missing], "ranef": [per group and effect correlations]}.
func writeCompareJSON(w io.Writer, rows []posterior.CompareRow, corrs []posterior.RanefCorr) error {
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
		for j, v := range r.Values() {
			b = append(b, ',')
			b = append(b, '"')
			b = append(b, posterior.CompareColumns[j+1]...)
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
func writeCompareTable(w io.Writer, rows []posterior.CompareRow, corrs []posterior.RanefCorr) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "variable\t")
	for _, c := range posterior.CompareColumns[1:] {
		fmt.Fprintf(tw, "%s\t", c)
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t", r.Variable)
		for j, v := range r.Values() {
			switch {
			case math.IsNaN(v):
				fmt.Fprint(tw, "\t")
			case j == len(posterior.CompareColumns)-2:
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

// formatNum writes a number for the output CSVs (shortest exact form,
// "NA" for NaN).
func formatNum(v float64) string { return diagnostics.FormatValue(v, "NA") }

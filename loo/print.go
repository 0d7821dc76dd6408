package loo

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// fr formats x as loo's .fr(x, 1) does for the values it prints
// (format(round(x, 1), nsmall = 1)), each value on its own; NaN is "NA".
func fr(x float64) string {
	if math.IsNaN(x) {
		return "NA"
	}
	s := fmt.Sprintf("%.1f", x)
	if s == "-0.0" {
		s = "0.0"
	}
	return s
}

// padLeft right-justifies s in width w; padRight left-justifies it.
func padLeft(s string, w int) string  { return strings.Repeat(" ", max(0, w-len(s))) + s }
func padRight(s string, w int) string { return s + strings.Repeat(" ", max(0, w-len(s))) }

// commonWidth right-justifies every string to the widest one, as R's format
// does for a vector.
func commonWidth(xs []string) []string {
	w := 0
	for _, s := range xs {
		w = max(w, len(s))
	}
	out := make([]string, len(xs))
	for i, s := range xs {
		out[i] = padLeft(s, w)
	}
	return out
}

// printMatrix prints a character matrix as R's print(m, quote = FALSE):
// row names left-justified, each column left-justified (right-justified when
// right is true) to the widest of its header and cells, one space apart.
func printMatrix(w io.Writer, rownames, header []string, cells [][]string, right bool) error {
	rw := 0
	for _, r := range rownames {
		rw = max(rw, len(r))
	}
	cw := make([]int, len(header))
	for j, h := range header {
		cw[j] = len(h)
		for _, row := range cells {
			cw[j] = max(cw[j], len(row[j]))
		}
	}
	just := padRight
	if right {
		just = padLeft
	}
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", rw))
	for j, h := range header {
		b.WriteString(" " + just(h, cw[j]))
	}
	b.WriteString("\n")
	for i, row := range cells {
		b.WriteString(padRight(rownames[i], rw))
		for j, c := range row {
			b.WriteString(" " + just(c, cw[j]))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printEstimates prints an estimates table as loo's print.loo: a column of
// estimates and one of SEs, each formatted to one decimal and a common width.
func printEstimates(w io.Writer, names []string, est []Estimate) error {
	e, s := make([]string, len(est)), make([]string, len(est))
	for i, x := range est {
		e[i], s[i] = fr(x.Estimate), fr(x.SE)
	}
	e, s = commonWidth(e), commonWidth(s)
	cells := make([][]string, len(est))
	for i := range est {
		cells[i] = []string{e[i], s[i]}
	}
	return printMatrix(w, names, []string{"Estimate", "SE"}, cells, true)
}

// Print writes r as loo 2.5.1's print.psis_loo does, with the Pareto k table
// cut at th (Thresholds251 gives loo 2.5.1's table exactly; Thresholds27(S)
// the cut points of loo ≥ 2.7 in the same layout).
func (r *Result) Print(w io.Writer, th Thresholds) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nComputed from %d by %d log-likelihood matrix\n\n", r.S, r.N)
	if err := printEstimates(&b, []string{"elpd_loo", "p_loo", "looic"}, []Estimate{r.ElpdLoo, r.PLoo, r.LooIC}); err != nil {
		return err
	}
	b.WriteString("------\n")
	fmt.Fprintf(&b, "Monte Carlo SE of elpd_loo is %s.\n", fr(r.MCSE()))
	good := th.Cuts[0]
	anyAbove := false
	for _, p := range r.Pointwise {
		if p.ParetoK > good {
			anyAbove = true
		}
	}
	if anyAbove {
		b.WriteString("\n")
	}
	r.KTable(th).print(&b, good, th)
	b.WriteString("See help('pareto-k-diagnostic') for details.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// print writes the table as loo's print.pareto_k_table.
func (t KTable) print(b *strings.Builder, good float64, th Thresholds) {
	above := 0
	for _, row := range t.Rows[1:] {
		above += row.Count
	}
	if above == 0 {
		fmt.Fprintf(b, "\nAll Pareto k estimates are good (k < %s).\n", trimFloat(good))
		return
	}
	names := make([]string, len(t.Rows))
	counts := make([]string, len(t.Rows))
	pcts := make([]string, len(t.Rows))
	cells := make([][]string, len(t.Rows))
	for i, row := range t.Rows {
		names[i] = "(" + kBound(row.Lo) + ", " + kBound(row.Hi) + "]"
		if math.IsInf(row.Hi, 1) {
			names[i] = "(" + kBound(row.Lo) + ", Inf)"
		}
		counts[i] = fmt.Sprintf("%d", row.Count)
		pcts[i] = fr(100 * row.Proportion)
	}
	names, counts, pcts = commonWidth(names), commonWidth(counts), commonWidth(pcts)
	for i, row := range t.Rows {
		mn := "<NA>"
		if !math.IsNaN(row.MinNEff) {
			mn = fmt.Sprintf("%.0f", math.RoundToEven(row.MinNEff))
		}
		cells[i] = []string{"", th.Labels[i], counts[i], pcts[i] + "%", mn}
	}
	b.WriteString("Pareto k diagnostic values:\n")
	printMatrix(b, names, []string{" ", " ", "Count", "Pct.   ", "Min. n_eff"}, cells, false)
	// loo 2.5.1: "All Pareto k estimates are ok (k < 0.7)." when none is
	// bad or very bad; with two cut points that is when none is above the first.
	if len(th.Cuts) == 3 && t.Rows[2].Count+t.Rows[3].Count == 0 {
		fmt.Fprintf(b, "\nAll Pareto k estimates are ok (k < %s).\n", trimFloat(th.Cuts[1]))
	}
}

// kBound formats a cut point as R prints the breaks of cut (−Inf, 0.5, 0.7, 1).
func kBound(x float64) string {
	if math.IsInf(x, -1) {
		return "-Inf"
	}
	return trimFloat(x)
}

// trimFloat prints x with up to 3 significant decimals and no trailing zeros.
func trimFloat(x float64) string {
	s := fmt.Sprintf("%.3g", x)
	return s
}

// Print writes r as loo's print.waic, with its note on p_waic > 0.4.
func (r *WAICResult) Print(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nComputed from %d by %d log-likelihood matrix\n\n", r.S, r.N)
	if err := printEstimates(&b, []string{"elpd_waic", "p_waic", "waic"}, []Estimate{r.ElpdWAIC, r.PWAIC, r.WAIC}); err != nil {
		return err
	}
	if n := r.CountPWAICHigh(); n > 0 {
		fmt.Fprintf(&b, "\n%d (%s%%) p_waic estimates greater than 0.4. We recommend trying loo instead. \n",
			n, fr(100*float64(n)/float64(r.N)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// PrintCompare writes loo_compare's table as loo's print.compare.loo does
// (elpd_diff and se_diff, one decimal, a common width over the whole table).
func PrintCompare(w io.Writer, rows []CompareRow) error {
	vals := make([]string, 0, 2*len(rows))
	for _, r := range rows {
		vals = append(vals, fr(r.ElpdDiff))
	}
	for _, r := range rows {
		vals = append(vals, fr(r.SEDiff))
	}
	vals = commonWidth(vals)
	names := make([]string, len(rows))
	cells := make([][]string, len(rows))
	for i, r := range rows {
		names[i] = r.Name
		cells[i] = []string{vals[i], vals[len(rows)+i]}
	}
	return printMatrix(w, names, []string{"elpd_diff", "se_diff"}, cells, false)
}

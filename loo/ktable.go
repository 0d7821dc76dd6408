package loo

import "math"

// Thresholds are the Pareto k̂ cut points of a k table: each row holds the
// k̂ in (previous cut, cut], the last row those above the last cut.
type Thresholds struct {
	Cuts   []float64
	Labels []string // "(good)", "(ok)", …, one per row
}

// Thresholds251 are loo 2.5.1's: good ≤ 0.5 < ok ≤ 0.7 < bad ≤ 1 < very bad.
var Thresholds251 = Thresholds{Cuts: []float64{0.5, 0.7, 1}, Labels: []string{"(good)", "(ok)", "(bad)", "(very bad)"}}

// KThreshold returns loo ≥ 2.7's sample-size dependent threshold for a good
// k̂ from S draws: min(1 − 1/log10(S), 0.7).
func KThreshold(S int) float64 {
	return math.Min(1-1/math.Log10(float64(S)), 0.7)
}

// Thresholds27 returns loo ≥ 2.7's cut points for S draws: good ≤
// KThreshold(S) < bad ≤ 1 < very bad.
func Thresholds27(S int) Thresholds {
	return Thresholds{Cuts: []float64{KThreshold(S), 1}, Labels: []string{"(good)", "(bad)", "(very bad)"}}
}

// KRow is one row of a Pareto k table.
type KRow struct {
	Lo, Hi     float64 // the interval (Lo, Hi]
	Label      string
	Count      int
	Proportion float64
	MinNEff    float64 // smallest PSIS n_eff in the row; NaN when empty
}

// KTable is loo's pareto_k_table.
type KTable struct {
	Rows []KRow
}

// KTable tabulates the k̂ of r by th (loo's pareto_k_table with k_cut).
func (r *Result) KTable(th Thresholds) KTable {
	lo := math.Inf(-1)
	var t KTable
	for i := 0; i <= len(th.Cuts); i++ {
		hi := math.Inf(1)
		if i < len(th.Cuts) {
			hi = th.Cuts[i]
		}
		t.Rows = append(t.Rows, KRow{Lo: lo, Hi: hi, Label: th.Labels[i], MinNEff: math.NaN()})
		lo = hi
	}
	for _, p := range r.Pointwise {
		for i := range t.Rows {
			row := &t.Rows[i]
			if p.ParetoK > row.Lo && p.ParetoK <= row.Hi || i == len(t.Rows)-1 && p.ParetoK > row.Lo {
				row.Count++
				if math.IsNaN(row.MinNEff) || p.NEff < row.MinNEff {
					row.MinNEff = p.NEff
				}
				break
			}
		}
	}
	for i := range t.Rows {
		t.Rows[i].Proportion = float64(t.Rows[i].Count) / float64(len(r.Pointwise))
	}
	return t
}

package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// RankCounts bins the pooled ranks of chains' draws (Vehtari et al.
// 2021): all draws are ranked together (1 = smallest, ties get their
// average rank), and the ranks of chain c fall into bins equal-width bins
// of [1, S] (S draws in all): rank r goes to bin ⌊(r − 1)·bins/S⌋. Row c
// of the result counts chain c's draws per bin, so it sums to
// len(chains[c]). When the chains sample the same distribution, each
// count is about len(chains[c])/bins.
func RankCounts(chains [][]float64, bins int) ([][]int, error) {
	if bins < 1 {
		return nil, fmt.Errorf("rank: %d bins", bins)
	}
	type item struct {
		v    float64
		c, i int
	}
	var all []item
	for c, ch := range chains {
		for i, v := range ch {
			if math.IsNaN(v) {
				return nil, fmt.Errorf("rank: chain %d draw %d is NaN", c+1, i+1)
			}
			all = append(all, item{v, c, i})
		}
	}
	s := len(all)
	if s == 0 {
		return nil, fmt.Errorf("rank: no draws")
	}
	slices.SortFunc(all, func(a, b item) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	out := make([][]int, len(chains))
	for c := range out {
		out[c] = make([]int, bins)
	}
	for lo := 0; lo < s; {
		hi := lo + 1
		for hi < s && all[hi].v == all[lo].v {
			hi++
		}
		r := float64(lo+hi+1) / 2 // average of ranks lo+1 … hi
		b := min(bins-1, int(math.Floor((r-1)*float64(bins)/float64(s))))
		for _, it := range all[lo:hi] {
			out[it.c][b]++
		}
		lo = hi
	}
	return out, nil
}

// DefaultRankBins is the number of rank bins of Rank: 20, as bayesplot's
// mcmc_rank_overlay.
const DefaultRankBins = 20

// Rank writes the rank plots of vars (at most PanelsPerPage) as one grid
// image: per variable the histogram of each chain's pooled ranks
// (RankCounts with bins bins; bins < 1 means DefaultRankBins), drawn as a
// step outline in the chain's colour so that the chains overlay, with a
// dashed line at the count expected when all chains mix, the chain's
// draws divided by bins. x is the rank, scaled to [0, 1] of all draws.
func Rank(w io.Writer, f Format, vars []Variable, bins int) error {
	if err := checkVars(vars); err != nil {
		return err
	}
	if bins < 1 {
		bins = DefaultRankBins
	}
	ps := make([]*plot.Plot, 0, len(vars))
	var key []keyEntry
	for _, v := range vars {
		counts, err := RankCounts(v.Chains, bins)
		if err != nil {
			return fmt.Errorf("rank %s: %w", v.Name, err)
		}
		p := newPlot(v.Name, "rank of pooled draws (fraction)", "draws per bin")
		var exp float64
		for c, row := range counts {
			xy := make(plotter.XYs, bins+1)
			for b := range bins + 1 {
				xy[b].X = float64(b) / float64(bins)
				xy[b].Y = float64(row[min(b, bins-1)])
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return fmt.Errorf("rank %s: %w", v.Name, err)
			}
			l.StepStyle = plotter.PostStep
			l.Color = chainColor(c)
			l.Width = vg.Points(1.2)
			p.Add(l)
			if len(ps) == 0 {
				key = append(key, keyEntry{fmt.Sprintf("chain %d", c+1), l})
			}
			exp = max(exp, float64(len(v.Chains[c]))/float64(bins))
		}
		ref, err := plotter.NewLine(plotter.XYs{{X: 0, Y: exp}, {X: 1, Y: exp}})
		if err != nil {
			return err
		}
		ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		ref.Color = color.Gray{Y: 90}
		p.Add(ref)
		if len(ps) == 0 {
			key = append(key, keyEntry{"uniform", ref})
		}
		p.Y.Min = 0
		p.Y.Max = math.Max(p.Y.Max, 1.6*exp)
		ps = append(ps, p)
	}
	return writeGrid(w, f, ps, key)
}

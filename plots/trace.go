package plots

import (
	"fmt"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Trace writes the trace plots of vars (at most PanelsPerPage) as one
// grid image: per variable the draws against the iteration number
// (post-warmup, 1-based), one line per chain in the chain's colour, with
// a legend naming the chains.
func Trace(w io.Writer, f Format, vars []Variable) error {
	if err := checkVars(vars); err != nil {
		return err
	}
	ps := make([]*plot.Plot, 0, len(vars))
	var key []keyEntry
	for _, v := range vars {
		p := newPlot(v.Name, "iteration", v.Name)
		for c, ch := range v.Chains {
			xy := make(plotter.XYs, len(ch))
			for i, x := range ch {
				xy[i].X, xy[i].Y = float64(i+1), x
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return fmt.Errorf("trace %s: %w", v.Name, err)
			}
			l.Color = chainColor(c)
			l.Width = vg.Points(0.6)
			p.Add(l)
			if len(ps) == 0 {
				key = append(key, keyEntry{fmt.Sprintf("chain %d", c+1), l})
			}
		}
		ps = append(ps, p)
	}
	return writeGrid(w, f, ps, key)
}

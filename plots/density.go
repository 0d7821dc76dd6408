package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// curvePoints is the number of points a density curve is drawn with.
const curvePoints = 256

// Density writes the marginal posterior densities of vars (at most
// PanelsPerPage) as one grid image: per variable the kernel density
// estimate of all draws pooled (thick black) and of each chain (thin, in
// the chain's colour), each with its own Silverman bandwidth, drawn on
// the pooled draws' range widened by three pooled bandwidths.
func Density(w io.Writer, f Format, vars []Variable) error {
	if err := checkVars(vars); err != nil {
		return err
	}
	ps := make([]*plot.Plot, 0, len(vars))
	var key []keyEntry
	for _, v := range vars {
		var pooled []float64
		for _, ch := range v.Chains {
			pooled = append(pooled, ch...)
		}
		k, err := NewKDE(pooled, 0)
		if err != nil {
			return fmt.Errorf("density %s: %w", v.Name, err)
		}
		lo, hi := k.Range()
		p := newPlot(v.Name, v.Name, "density")
		for c, ch := range v.Chains {
			kc, err := NewKDE(ch, 0)
			if err != nil {
				continue // a chain too short or constant: the pooled curve stays
			}
			l, err := curveLine(kc, lo, hi)
			if err != nil {
				return fmt.Errorf("density %s: %w", v.Name, err)
			}
			l.Color = chainColor(c)
			l.Width = vg.Points(0.8)
			p.Add(l)
			if len(ps) == 0 {
				key = append(key, keyEntry{fmt.Sprintf("chain %d", c+1), l})
			}
		}
		l, err := curveLine(k, lo, hi)
		if err != nil {
			return fmt.Errorf("density %s: %w", v.Name, err)
		}
		l.Color = color.Black
		l.Width = vg.Points(1.8)
		p.Add(l)
		if len(ps) == 0 {
			key = append(key, keyEntry{"all chains", l})
		}
		p.Y.Min = 0
		ps = append(ps, p)
	}
	return writeGrid(w, f, ps, key)
}

// curveLine returns k's curve on [lo, hi] as a line.
func curveLine(k *KDE, lo, hi float64) (*plotter.Line, error) {
	xs, ys := k.Curve(lo, hi, curvePoints)
	xy := make(plotter.XYs, len(xs))
	for i := range xs {
		if math.IsNaN(ys[i]) {
			return nil, fmt.Errorf("density is NaN at %g", xs[i])
		}
		xy[i].X, xy[i].Y = xs[i], ys[i]
	}
	return plotter.NewLine(xy)
}

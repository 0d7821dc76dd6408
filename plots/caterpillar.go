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
	"gonum.org/v1/plot/vg/draw"
)

// Interval is one row of a caterpillar plot: a point estimate and an
// interval.
type Interval struct {
	Label       string
	Mid, Lo, Hi float64
}

// MaxLabelledRows is the most rows a caterpillar plot names on its y
// axis; longer plots draw the rows unlabelled.
const MaxLabelledRows = 80

// Caterpillar writes a caterpillar plot of rows: sorted by Mid (smallest
// at the bottom), each row a horizontal line from Lo to Hi with a dot at
// Mid, and a dashed vertical line at 0. The height grows with the number
// of rows (0.2 inch each, from 3 to 24 inches); up to MaxLabelledRows
// rows are labelled on the y axis. title heads the plot, xlabel names the
// axis.
func Caterpillar(w io.Writer, f Format, title, xlabel string, rows []Interval) error {
	if len(rows) == 0 {
		return fmt.Errorf("caterpillar %s: no rows", title)
	}
	rs := slices.Clone(rows)
	for _, r := range rs {
		for _, v := range []float64{r.Mid, r.Lo, r.Hi} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("caterpillar %s: row %q has the value %v", title, r.Label, v)
			}
		}
	}
	slices.SortStableFunc(rs, func(a, b Interval) int {
		switch {
		case a.Mid < b.Mid:
			return -1
		case a.Mid > b.Mid:
			return 1
		}
		return 0
	})
	p := newPlot(title, xlabel, "")
	pts := make(plotter.XYs, len(rs))
	var ticks []plot.Tick
	lo, hi := 0.0, 0.0
	for i, r := range rs {
		y := float64(i + 1)
		pts[i].X, pts[i].Y = r.Mid, y
		l, err := plotter.NewLine(plotter.XYs{{X: r.Lo, Y: y}, {X: r.Hi, Y: y}})
		if err != nil {
			return fmt.Errorf("caterpillar %s: %w", title, err)
		}
		l.Color = chainColor(0)
		l.Width = vg.Points(1.2)
		p.Add(l)
		if len(rs) <= MaxLabelledRows {
			ticks = append(ticks, plot.Tick{Value: y, Label: r.Label})
		}
		lo, hi = min(lo, r.Lo), max(hi, r.Hi)
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return fmt.Errorf("caterpillar %s: %w", title, err)
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
	p.Add(sc)
	zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0.5}, {X: 0, Y: float64(len(rs)) + 0.5}})
	if err != nil {
		return err
	}
	zero.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	zero.Color = color.Gray{Y: 110}
	p.Add(zero)
	if ticks != nil {
		p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	} else {
		p.Y.Label.Text = fmt.Sprintf("%d levels, sorted", len(rs))
	}
	p.Y.Min, p.Y.Max = 0.5, float64(len(rs))+0.5
	pad := 0.04 * (hi - lo)
	p.X.Min, p.X.Max = lo-pad, hi+pad
	h := vg.Length(math.Min(24, math.Max(3, 0.2*float64(len(rs))+1))) * vg.Inch
	return writeSingle(w, f, p, 6*vg.Inch, h)
}

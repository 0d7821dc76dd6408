package plots

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot/vg"
)

// PPC writes the posterior predictive density overlay: the kernel density
// estimate of each replicated data set in yrep (thin, light blue; one per
// posterior draw, each of len(y) values) under that of the observed y
// (thick, dark), each with its own Silverman bandwidth, on the range of
// all of them widened by three bandwidths of y. name labels the x axis
// (the response). When the model fits, y's curve looks like one of the
// replicated curves.
func PPC(w io.Writer, f Format, name string, y []float64, yrep [][]float64) error {
	if len(yrep) == 0 {
		return fmt.Errorf("ppc: no replicated data sets")
	}
	ky, err := NewKDE(y, 0)
	if err != nil {
		return fmt.Errorf("ppc: observed %s: %w", name, err)
	}
	lo, hi := ky.Range()
	reps := make([]*KDE, len(yrep))
	for i, r := range yrep {
		if len(r) != len(y) {
			return fmt.Errorf("ppc: replicated data set %d has %d values, the observed %d", i+1, len(r), len(y))
		}
		if reps[i], err = NewKDE(r, 0); err != nil {
			return fmt.Errorf("ppc: replicated data set %d: %w", i+1, err)
		}
		a, b := reps[i].Range()
		lo, hi = min(lo, a), max(hi, b)
	}
	p := newPlot(fmt.Sprintf("Posterior predictive check: density of %s", name), name, "density")
	for i, k := range reps {
		l, err := curveLine(k, lo, hi)
		if err != nil {
			return fmt.Errorf("ppc: %w", err)
		}
		l.Color = color.RGBA{R: 120, G: 170, B: 215, A: 255}
		l.Width = vg.Points(0.6)
		p.Add(l)
		if i == 0 {
			p.Legend.Add(fmt.Sprintf("y_rep (%d draws)", len(yrep)), l)
		}
	}
	l, err := curveLine(ky, lo, hi)
	if err != nil {
		return fmt.Errorf("ppc: %w", err)
	}
	l.Color = color.RGBA{R: 8, G: 40, B: 90, A: 255}
	l.Width = vg.Points(2.2)
	p.Add(l)
	p.Legend.Add("y (observed)", l)
	p.Legend.Top = true
	p.Y.Min = 0
	return writeSingle(w, f, p, 7*vg.Inch, 4.5*vg.Inch)
}

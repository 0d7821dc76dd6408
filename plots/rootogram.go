package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// RootogramBar is one count of a rootogram: its label ("3", or "12+" for
// a pooled tail), the observed number of rows with that count, and the
// expected number under the posterior predictive with its interval.
type RootogramBar struct {
	Label              string
	Observed, Expected float64
	Lo, Hi             float64
}

// Colours of the rootogram (bayesplot's default "blue" scheme).
var (
	rootBarFill = color.RGBA{R: 0xd1, G: 0xe1, B: 0xec, A: 255} // light
	rootBarLine = color.RGBA{R: 0x6d, G: 0x92, B: 0xb3, A: 255} // between light_highlight and mid
	rootCurve   = color.RGBA{R: 0x03, G: 0x39, B: 0x6c, A: 255} // dark_highlight
	rootBand    = color.NRGBA{R: 0x01, G: 0x1f, B: 0x4b, A: 60} // dark, translucent
)

// rootogramBarWidth is the width of a bar, in counts.
const rootogramBarWidth = 0.9

// Rootogram writes a hanging rootogram (Kleiber and Zeileis 2016,
// "Visualizing count data regressions using rootograms", The American
// Statistician 70(3)): on the square-root scale, a curve through √expected
// of each count with the band of its interval (√lo to √hi), and from it a
// bar of height √observed hanging down, so that the bar's bottom ends at
// √expected − √observed. Where the model fits, the bars end near the
// zero line; a bar ending above it marks a count observed less often
// than expected, one below it a count observed more often. Bar k is drawn
// at x = k; name labels the x axis (the response).
func Rootogram(w io.Writer, f Format, name string, bars []RootogramBar) error {
	if len(bars) == 0 {
		return fmt.Errorf("rootogram: no counts")
	}
	lo, hi := 0.0, 0.0
	band := make(plotter.XYs, 0, 2*len(bars))
	curve := make(plotter.XYs, len(bars))
	for k, b := range bars {
		for _, v := range []float64{b.Observed, b.Expected, b.Lo, b.Hi} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return fmt.Errorf("rootogram: count %s has the frequency %v", b.Label, v)
			}
		}
		if b.Lo > b.Hi {
			return fmt.Errorf("rootogram: count %s has the interval [%v, %v]", b.Label, b.Lo, b.Hi)
		}
		e := math.Sqrt(b.Expected)
		curve[k] = plotter.XY{X: float64(k), Y: e}
		band = append(band, plotter.XY{X: float64(k), Y: math.Sqrt(b.Hi)})
		lo = min(lo, e-math.Sqrt(b.Observed))
		hi = max(hi, e, math.Sqrt(b.Hi))
	}
	for k := len(bars) - 1; k >= 0; k-- {
		band = append(band, plotter.XY{X: float64(k), Y: math.Sqrt(bars[k].Lo)})
	}
	p := newPlot("Posterior predictive check: hanging rootogram of "+name, name, "√Count")
	hb := &hangingBars{bars: bars}
	p.Add(hb)
	zero, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 0}, {X: float64(len(bars)) - 0.5, Y: 0}})
	if err != nil {
		return fmt.Errorf("rootogram: %w", err)
	}
	zero.Color = color.Gray{Y: 90}
	zero.Width = vg.Points(0.8)
	p.Add(zero)
	if len(bars) > 1 {
		poly, err := plotter.NewPolygon(band)
		if err != nil {
			return fmt.Errorf("rootogram: %w", err)
		}
		poly.Color = rootBand
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
	l, err := plotter.NewLine(curve)
	if err != nil {
		return fmt.Errorf("rootogram: %w", err)
	}
	l.Color = rootCurve
	l.Width = vg.Points(1.4)
	p.Add(l)
	sc, err := plotter.NewScatter(curve)
	if err != nil {
		return fmt.Errorf("rootogram: %w", err)
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: rootCurve, Radius: vg.Points(1.6), Shape: draw.CircleGlyph{}}
	p.Add(sc)
	p.Legend.Add("Observed", hb)
	p.Legend.Add("Expected (95% interval)", bandThumb{}, l)
	p.Legend.Top = true
	p.X.Tick.Marker = plot.ConstantTicks(rootogramTicks(bars))
	p.X.Min, p.X.Max = -0.6, float64(len(bars))-0.4
	pad := 0.05 * (hi - lo)
	p.Y.Min, p.Y.Max = lo-pad, hi+3*pad // room for the legend
	p.Y.Tick.Marker = plot.ConstantTicks(stepTicks(p.Y.Min, p.Y.Max))
	width := vg.Length(min(14, max(7, 2+0.12*float64(len(bars))))) * vg.Inch
	return writeSingle(w, f, p, width, 4.5*vg.Inch)
}

// rootogramTicks labels the bars every 1, 2, 5, 10, 20, 50, … counts
// (at most about 20 labels), and always the last bar (the pooled tail,
// "K+"), dropping a regular label too close to it.
func rootogramTicks(bars []RootogramBar) []plot.Tick {
	n := len(bars)
	step := 1
	for _, s := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000} {
		step = s
		if n/s <= 20 {
			break
		}
	}
	var ticks []plot.Tick
	for k := 0; k < n-1; k++ {
		if k%step == 0 && (n-1-k)*2 > step {
			ticks = append(ticks, plot.Tick{Value: float64(k), Label: bars[k].Label})
		} else {
			ticks = append(ticks, plot.Tick{Value: float64(k)}) // minor
		}
	}
	return append(ticks, plot.Tick{Value: float64(n - 1), Label: bars[n-1].Label})
}

// stepTicks labels [lo, hi] every 0.5, 1, 2, 5, 10, 20, 50, … (the
// smallest step giving at most 8 labels), with unlabelled ticks halfway.
func stepTicks(lo, hi float64) []plot.Tick {
	step := tickStep(hi - lo)
	var ticks []plot.Tick
	for i := math.Ceil(2 * lo / step); i <= math.Floor(2*hi/step); i++ {
		v := i * step / 2
		if int(i)%2 == 0 {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// tickStep returns the smallest of 0.5, 1, 2, 5, 10, 20, 50, … that
// divides span into at most 8 steps.
func tickStep(span float64) float64 {
	if !(span > 0) || math.IsInf(span, 0) {
		return 1
	}
	for m := 1.0; ; m *= 10 {
		for _, s := range []float64{0.5, 1, 2} {
			if span/(s*m) <= 8 {
				return s * m
			}
		}
	}
}

// hangingBars draws the bars of a hanging rootogram: bar k spans
// √expected − √observed to √expected around x = k.
type hangingBars struct {
	bars []RootogramBar
}

// Plot implements plot.Plotter.
func (h *hangingBars) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	ls := draw.LineStyle{Color: rootBarLine, Width: vg.Points(0.5)}
	for k, b := range h.bars {
		top := math.Sqrt(b.Expected)
		bot := top - math.Sqrt(b.Observed)
		x0, x1 := tx(float64(k)-rootogramBarWidth/2), tx(float64(k)+rootogramBarWidth/2)
		y0, y1 := ty(bot), ty(top)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}}
		c.FillPolygon(rootBarFill, c.ClipPolygonXY(pts))
		c.StrokeLines(ls, c.ClipLinesXY(pts)...)
	}
}

// DataRange implements plot.DataRanger.
func (h *hangingBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(len(h.bars))-0.5
	for _, b := range h.bars {
		top := math.Sqrt(b.Expected)
		ymin = min(ymin, top-math.Sqrt(b.Observed))
		ymax = max(ymax, top)
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer: a bar.
func (h *hangingBars) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Min.Y}}
	c.FillPolygon(rootBarFill, pts)
	c.StrokeLines(draw.LineStyle{Color: rootBarLine, Width: vg.Points(0.5)}, pts)
}

// bandThumb draws the interval band behind the curve's legend entry.
type bandThumb struct{}

// Thumbnail implements plot.Thumbnailer.
func (bandThumb) Thumbnail(c *draw.Canvas) {
	mid := (c.Min.Y + c.Max.Y) / 2
	h := (c.Max.Y - c.Min.Y) / 3
	c.FillPolygon(rootBand, []vg.Point{{X: c.Min.X, Y: mid - h}, {X: c.Max.X, Y: mid - h}, {X: c.Max.X, Y: mid + h}, {X: c.Min.X, Y: mid + h}})
}

package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Format is an image format.
type Format string

// The image formats.
const (
	PNG Format = "png"
	SVG Format = "svg"
)

// ParseFormat returns the format named s ("png" or "svg").
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(s)) {
	case PNG:
		return PNG, nil
	case SVG:
		return SVG, nil
	}
	return "", fmt.Errorf("unknown image format %q: want png or svg", s)
}

// Variable is one parameter's draws, one slice per chain.
type Variable struct {
	Name   string
	Chains [][]float64
}

// PanelsPerPage is the most panels one page of a grid plot holds.
const PanelsPerPage = 9

// gridCols is the number of columns of a grid page.
const gridCols = 3

// Panel size of grid pages, and the resolution of PNGs.
const (
	panelW = 4.2 * vg.Inch
	panelH = 3 * vg.Inch
	pngDPI = 96
)

// Pages splits n items into pages of at most per items and returns the
// [lo, hi) index range of each page.
func Pages(n, per int) [][2]int {
	var out [][2]int
	for lo := 0; lo < n; lo += per {
		out = append(out, [2]int{lo, min(n, lo+per)})
	}
	return out
}

// chainColor returns the colour of chain c (0-based): the Okabe–Ito
// palette, readable by colour-blind viewers, cycled.
func chainColor(c int) color.Color {
	p := [...]color.RGBA{
		{0, 114, 178, 255},   // blue
		{213, 94, 0, 255},    // vermillion
		{0, 158, 115, 255},   // bluish green
		{204, 121, 167, 255}, // reddish purple
		{230, 159, 0, 255},   // orange
		{86, 180, 233, 255},  // sky blue
		{240, 228, 66, 255},  // yellow
		{0, 0, 0, 255},       // black
	}
	return p[c%len(p)]
}

// newPlot returns a plot with the package's fonts and labels.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(11)
		a.Tick.Label.Font.Size = vg.Points(9)
	}
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	return p
}

// newCanvas returns a canvas of format f and its writer.
func newCanvas(f Format, w, h vg.Length) (vg.CanvasWriterTo, error) {
	switch f {
	case PNG:
		c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
		return vgimg.PngCanvas{Canvas: c}, nil
	case SVG:
		return vgsvg.New(w, h), nil
	}
	return nil, fmt.Errorf("unknown image format %q", f)
}

// keyEntry is one entry of a page's key: a name and its line sample.
type keyEntry struct {
	name  string
	thumb plot.Thumbnailer
}

// keyStrip is the height of the key strip above a grid.
const keyStrip = 0.3 * vg.Inch

// keyEntryW is the width of one key entry.
const keyEntryW = 1.1 * vg.Inch

// drawKey draws the entries side by side from the left of strip c.
func drawKey(c draw.Canvas, key []keyEntry) {
	for i, e := range key {
		x := c.Min.X + vg.Points(8) + keyEntryW*vg.Length(i)
		if x+keyEntryW > c.Max.X {
			return
		}
		sub := c
		sub.Min.X, sub.Max.X = x, x+keyEntryW
		l := plot.NewLegend()
		l.TextStyle.Font.Size = vg.Points(10)
		l.Left, l.Top = true, true
		l.YOffs = -vg.Points(4)
		l.Add(e.name, e.thumb)
		l.Draw(sub)
	}
}

// writeGrid draws ps as a grid of at most gridCols columns onto one
// image of format f, under a strip holding key when it is not empty (one
// key for the page, since every panel draws the same series).
func writeGrid(w io.Writer, f Format, ps []*plot.Plot, key []keyEntry) error {
	if len(ps) == 0 {
		return fmt.Errorf("plots: nothing to draw")
	}
	cols := min(gridCols, len(ps))
	rows := (len(ps) + cols - 1) / cols
	strip := vg.Length(0)
	if len(key) > 0 {
		strip = keyStrip
	}
	c, err := newCanvas(f, panelW*vg.Length(cols), panelH*vg.Length(rows)+strip)
	if err != nil {
		return err
	}
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for k := range cols {
			if i := r*cols + k; i < len(ps) {
				grid[r][k] = ps[i]
			}
		}
	}
	page := draw.New(c)
	dc := draw.Crop(page, 0, 0, 0, -strip)
	if strip > 0 {
		drawKey(draw.Crop(page, 0, 0, page.Max.Y-page.Min.Y-strip, 0), key)
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(6), PadY: vg.Points(6),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	cv := plot.Align(grid, tiles, dc)
	for r := range grid {
		for k, p := range grid[r] {
			if p != nil {
				p.Draw(cv[r][k])
			}
		}
	}
	_, err = c.WriteTo(w)
	return err
}

// writeSingle draws one plot of size w×h.
func writeSingle(out io.Writer, f Format, p *plot.Plot, w, h vg.Length) error {
	c, err := newCanvas(f, w, h)
	if err != nil {
		return err
	}
	p.Draw(draw.New(c))
	_, err = c.WriteTo(out)
	return err
}

// checkVars checks that there are 1 to PanelsPerPage variables, each
// with finite draws, at least two in all.
func checkVars(vars []Variable) error {
	if len(vars) == 0 {
		return fmt.Errorf("plots: no variables")
	}
	if len(vars) > PanelsPerPage {
		return fmt.Errorf("plots: %d variables on one page, at most %d (split them with Pages)", len(vars), PanelsPerPage)
	}
	for _, v := range vars {
		n := 0
		for c, ch := range v.Chains {
			for i, x := range ch {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fmt.Errorf("plots: %s: chain %d draw %d is %v", v.Name, c+1, i+1, x)
				}
			}
			n += len(ch)
		}
		if n < 2 {
			return fmt.Errorf("plots: %s: %d draws, need at least 2", v.Name, n)
		}
	}
	return nil
}

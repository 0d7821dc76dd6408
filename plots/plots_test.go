package plots

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// normalDraws returns c chains of n N(mu, sd²) draws.
func normalDraws(seed uint64, c, n int, mu, sd float64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]float64, c)
	for k := range out {
		out[k] = make([]float64, n)
		for i := range out[k] {
			out[k][i] = mu + sd*rng.NormFloat64()
		}
	}
	return out
}

func normPDF(x, sd float64) float64 {
	return math.Exp(-0.5*x*x/(sd*sd)) / (sd * math.Sqrt(2*math.Pi))
}

// TestSilvermanBandwidth checks the rule against its formula computed
// by hand on a small sample (sd, type-7 IQR), and R's fallbacks.
func TestSilvermanBandwidth(t *testing.T) {
	x := []float64{1, 2, 3, 4, 10}
	// mean 4, sd = sqrt((9+4+1+0+36)/4) = sqrt(12.5); type-7 quartiles 2 and 4, IQR 2.
	want := 0.9 * math.Min(math.Sqrt(12.5), 2/1.34) * math.Pow(5, -0.2)
	if got := SilvermanBandwidth(x); math.Abs(got-want) > 1e-14 {
		t.Errorf("h = %.17g, want %.17g", got, want)
	}
	// IQR 0 but sd > 0: falls back to sd.
	y := []float64{5, 5, 5, 5, 5, 5, 9}
	m := 5 + 4.0/7
	var ss float64
	for _, v := range y {
		ss += (v - m) * (v - m)
	}
	want = 0.9 * math.Sqrt(ss/6) * math.Pow(7, -0.2)
	if got := SilvermanBandwidth(y); math.Abs(got-want) > 1e-14 {
		t.Errorf("IQR 0: h = %.17g, want %.17g", got, want)
	}
	// Constant: |x₁|.
	if got, want := SilvermanBandwidth([]float64{-3, -3, -3}), 0.9*3*math.Pow(3, -0.2); math.Abs(got-want) > 1e-14 {
		t.Errorf("constant: h = %g, want %g", got, want)
	}
	if h := SilvermanBandwidth([]float64{1}); !math.IsNaN(h) {
		t.Errorf("one value: h = %g, want NaN", h)
	}
	if h := SilvermanBandwidth([]float64{1, math.NaN()}); !math.IsNaN(h) {
		t.Errorf("NaN value: h = %g, want NaN", h)
	}
}

// TestKDEIntegratesToOne integrates the estimate by the trapezoid rule on
// a fine grid over ±(range + 10h): the truncation error is below φ(10)
// and the discretisation error O(Δ²/h²) ≈ 1e-6 at 4000 points per 40h.
func TestKDEIntegratesToOne(t *testing.T) {
	for _, x := range [][]float64{
		normalDraws(1, 1, 500, 3, 2)[0],
		{0, 0.1, 5, 5.2, 11}, // far-apart clumps
	} {
		k, err := NewKDE(x, 0)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := k.Range()
		lo, hi = lo-7*k.h, hi+7*k.h
		m := int(100*(hi-lo)/k.h) + 1
		xs, ys := k.Curve(lo, hi, m)
		var s float64
		for i := 1; i < m; i++ {
			s += 0.5 * (ys[i] + ys[i-1]) * (xs[i] - xs[i-1])
		}
		if math.Abs(s-1) > 1e-5 {
			t.Errorf("∫f̂ = %.8f, want 1", s)
		}
	}
}

// TestKDERecoversNormal checks f̂ from 20000 N(0,1) draws against its
// exact expectation, the N(0, 1 + h²) density (a Gaussian kernel convolved
// with the normal), within 5 standard errors of the estimate,
// sqrt(f(t) R(K)/(n h)) with R(K) = 1/(2√π); and against φ itself within
// that plus the smoothing bias.
func TestKDERecoversNormal(t *testing.T) {
	const n = 20000
	x := normalDraws(7, 1, n, 0, 1)[0]
	k, err := NewKDE(x, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := k.Bandwidth()
	if want := 0.9 * math.Pow(n, -0.2); math.Abs(h-want) > 0.05*want {
		t.Errorf("h = %g, want ≈ 0.9 n^(-1/5) = %g for N(0,1)", h, want)
	}
	for _, tt := range []float64{-2.5, -1.5, -0.5, 0, 0.7, 1.3, 2} {
		want := normPDF(tt, math.Sqrt(1+h*h))
		se := math.Sqrt(want / (2 * math.Sqrt(math.Pi) * n * h))
		got := k.At(tt)
		if math.Abs(got-want) > 5*se {
			t.Errorf("f̂(%g) = %.5f, E f̂ = %.5f (se %.5f)", tt, got, want, se)
		}
		if bias := math.Abs(want - normPDF(tt, 1)); math.Abs(got-normPDF(tt, 1)) > 5*se+bias {
			t.Errorf("f̂(%g) = %.5f, φ = %.5f", tt, got, normPDF(tt, 1))
		}
	}
}

// TestKDEErrors checks that unusable input is refused.
func TestKDEErrors(t *testing.T) {
	for _, x := range [][]float64{nil, {1}, {1, math.Inf(1)}, {math.NaN(), 2}} {
		if _, err := NewKDE(x, 0); err == nil {
			t.Errorf("NewKDE(%v) succeeded", x)
		}
	}
}

// TestRankCounts checks that each chain's counts sum to its draws, that
// the pooled counts are uniform (every bin holds S/bins ranks when bins
// divides S), and that a shifted chain piles up in the top bins.
func TestRankCounts(t *testing.T) {
	ch := normalDraws(3, 4, 250, 0, 1)
	for i := range ch[3] {
		ch[3][i] += 3
	}
	counts, err := RankCounts(ch, 20)
	if err != nil {
		t.Fatal(err)
	}
	pooled := make([]int, 20)
	for c, row := range counts {
		s := 0
		for b, v := range row {
			s += v
			pooled[b] += v
		}
		if s != len(ch[c]) {
			t.Errorf("chain %d: counts sum to %d, want %d", c+1, s, len(ch[c]))
		}
	}
	for b, v := range pooled {
		if v != 1000/20 {
			t.Errorf("bin %d holds %d ranks of all chains, want 50", b, v)
		}
	}
	top := 0
	for _, v := range counts[3][15:] {
		top += v
	}
	if top < 200 {
		t.Errorf("shifted chain: %d of 250 draws in the top quarter of ranks", top)
	}
	// Ties share their average rank, hence one bin.
	tied, err := RankCounts([][]float64{{1, 1, 1, 1}, {2, 2, 2, 2}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if tied[0][0] != 4 || tied[1][1] != 4 {
		t.Errorf("tied counts %v, want [[4 0] [0 4]]", tied)
	}
	if _, err := RankCounts(ch, 0); err == nil {
		t.Error("0 bins accepted")
	}
	if _, err := RankCounts([][]float64{{}}, 5); err == nil {
		t.Error("no draws accepted")
	}
}

func TestPages(t *testing.T) {
	got := Pages(20, 9)
	if len(got) != 3 || got[0] != [2]int{0, 9} || got[2] != [2]int{18, 20} {
		t.Errorf("Pages(20, 9) = %v", got)
	}
	if len(Pages(0, 9)) != 0 {
		t.Error("Pages(0) not empty")
	}
}

// checkImage decodes a PNG or parses an SVG and checks its size.
func checkImage(t *testing.T, name string, f Format, b []byte, minW, minH int) {
	t.Helper()
	if len(b) < 1000 {
		t.Fatalf("%s: %d bytes", name, len(b))
	}
	switch f {
	case PNG:
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := img.Bounds()
		if r.Dx() < minW || r.Dy() < minH || r.Dx() > 4000 || r.Dy() > 4000 {
			t.Errorf("%s: %d×%d pixels", name, r.Dx(), r.Dy())
		}
	case SVG:
		checkSVG(t, name, b)
	}
}

// checkSVG parses b as XML with an <svg> root.
func checkSVG(t *testing.T, name string, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not XML: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q, want svg", name, root)
	}
}

// TestPlotsRender draws every plot kind in both formats and, with
// PLOTS_KEEP=dir, keeps the images for looking at.
func TestPlotsRender(t *testing.T) {
	vars := []Variable{
		{"b_Intercept", normalDraws(1, 4, 300, 250, 7)},
		{"b_Days", normalDraws(2, 4, 300, 10, 1.5)},
		{"sigma", normalDraws(3, 4, 300, 25, 1)},
		{"sd_Subject__Intercept", normalDraws(4, 4, 300, 24, 6)},
	}
	y := normalDraws(5, 1, 180, 300, 50)[0]
	yrep := normalDraws(6, 40, 180, 300, 50)
	var rows []Interval
	for i, v := range normalDraws(8, 1, 18, 0, 20)[0] {
		rows = append(rows, Interval{Label: "3" + string(rune('0'+i/10)) + string(rune('0'+i%10)), Mid: v, Lo: v - 15, Hi: v + 15})
	}
	keep := os.Getenv("PLOTS_KEEP")
	for _, f := range []Format{PNG, SVG} {
		for _, c := range []struct {
			name       string
			minW, minH int
			draw       func(w io.Writer) error
		}{
			{"trace", 1000, 500, func(w io.Writer) error { return Trace(w, f, vars) }},
			{"density", 1000, 500, func(w io.Writer) error { return Density(w, f, vars) }},
			{"rank", 1000, 500, func(w io.Writer) error { return Rank(w, f, vars, 0) }},
			{"ppc", 600, 400, func(w io.Writer) error { return PPC(w, f, "Reaction", y, yrep) }},
			{"caterpillar", 500, 300, func(w io.Writer) error {
				return Caterpillar(w, f, "r_Subject: Intercept", "Intercept", rows)
			}},
		} {
			var b bytes.Buffer
			if err := c.draw(&b); err != nil {
				t.Fatalf("%s.%s: %v", c.name, f, err)
			}
			checkImage(t, c.name+"."+string(f), f, b.Bytes(), c.minW, c.minH)
			if keep != "" {
				os.WriteFile(filepath.Join(keep, c.name+"."+string(f)), b.Bytes(), 0o644)
			}
		}
	}
}

// TestPlotErrors checks that bad data is an error, not a panic or an
// empty image.
func TestPlotErrors(t *testing.T) {
	var b bytes.Buffer
	many := make([]Variable, PanelsPerPage+1)
	for i := range many {
		many[i] = Variable{"v", [][]float64{{1, 2, 3}}}
	}
	cases := map[string]error{
		"no vars":   Trace(&b, PNG, nil),
		"too many":  Density(&b, PNG, many),
		"NaN":       Rank(&b, PNG, []Variable{{"x", [][]float64{{1, math.NaN()}}}}, 0),
		"one draw":  Trace(&b, PNG, []Variable{{"x", [][]float64{{1}}}}),
		"bad fmt":   Trace(&b, Format("gif"), []Variable{{"x", [][]float64{{1, 2}}}}),
		"ppc empty": PPC(&b, PNG, "y", []float64{1, 2, 3}, nil),
		"ppc len":   PPC(&b, PNG, "y", []float64{1, 2, 3}, [][]float64{{1, 2}}),
		"cat empty": Caterpillar(&b, PNG, "t", "x", nil),
		"cat NaN":   Caterpillar(&b, PNG, "t", "x", []Interval{{"a", math.NaN(), 0, 1}}),
	}
	for name, err := range cases {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ParseFormat("jpeg"); err == nil || !strings.Contains(err.Error(), "jpeg") {
		t.Errorf("ParseFormat(jpeg) = %v", err)
	}
	if f, err := ParseFormat("SVG"); err != nil || f != SVG {
		t.Errorf("ParseFormat(SVG) = %v, %v", f, err)
	}
}

package plots

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// poissonBars returns the rootogram of n rows of Poisson(mu) counts
// (expected n·p(k), observed the expected rounded up, a ±2√ interval)
// for k = 0 … K−1 and the tail "K+".
func poissonBars(n, mu float64, K int) []RootogramBar {
	var bars []RootogramBar
	p, cum := math.Exp(-mu), 0.0
	for k := range K + 1 {
		e := n * p
		label := strconv.Itoa(k)
		if k == K {
			e, label = n*(1-cum), label+"+"
		}
		bars = append(bars, RootogramBar{Label: label, Observed: math.Ceil(e), Expected: e,
			Lo: math.Max(0, e-2*math.Sqrt(e)), Hi: e + 2*math.Sqrt(e)})
		cum += p
		p *= mu / float64(k+1)
	}
	return bars
}

// TestRootogramBars draws rootograms of 8 and 81 counts: PNGs decode at
// a sane size, SVGs parse, hold one bar (a path filled with the bar
// colour) per count besides the legend's, and label the tail bar "K+".
func TestRootogramBars(t *testing.T) {
	keep := os.Getenv("PLOTS_KEEP")
	for _, K := range []int{7, 80} {
		bars := poissonBars(400, float64(K)/2, K)
		for _, f := range []Format{PNG, SVG} {
			var b bytes.Buffer
			if err := Rootogram(&b, f, "TICKS", bars); err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("rootogram_%d.%s", K, f)
			checkImage(t, name, f, b.Bytes(), 600, 400)
			if keep != "" {
				os.WriteFile(filepath.Join(keep, name), b.Bytes(), 0o644)
			}
			if f != SVG {
				continue
			}
			svg := b.String()
			fill := fmt.Sprintf(`style="fill:#%02X%02X%02X"`, rootBarFill.R, rootBarFill.G, rootBarFill.B)
			if got := strings.Count(svg, fill); got != len(bars)+1 {
				t.Errorf("%s: %d paths filled as bars, want %d bars and the legend's", name, got, len(bars))
			}
			for _, s := range []string{fmt.Sprintf(">%d+<", K), ">0<", ">Observed<", ">TICKS<"} {
				if !strings.Contains(svg, s) {
					t.Errorf("%s: no text %s", name, s)
				}
			}
		}
	}
}

// TestRootogramTicks checks the x labels: every step counts with the
// tail always labelled, and the y steps.
func TestRootogramTicks(t *testing.T) {
	for _, c := range []struct {
		K    int
		want string
	}{
		{5, "0 1 2 3 4 5+"},
		{25, "0 2 4 6 8 10 12 14 16 18 20 22 25+"}, // 24 too close to 25+,
		{80, "0 5 10 15 20 25 30 35 40 45 50 55 60 65 70 75 80+"},
	} {
		var labels []string
		ticks := rootogramTicks(poissonBars(100, 3, c.K))
		if len(ticks) != c.K+1 {
			t.Errorf("K=%d: %d ticks, want one per bar", c.K, len(ticks))
		}
		for _, tk := range ticks {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != c.want {
			t.Errorf("K=%d: labels %q, want %q", c.K, got, c.want)
		}
	}
	for _, c := range []struct{ span, step float64 }{{3, 0.5}, {4.1, 1}, {12, 2}, {30, 5}, {170, 50}, {0, 1}, {math.NaN(), 1}} {
		if got := tickStep(c.span); got != c.step {
			t.Errorf("tickStep(%v) = %v, want %v", c.span, got, c.step)
		}
	}
}

// TestRootogramErrors checks that bad frequencies are errors.
func TestRootogramErrors(t *testing.T) {
	var b bytes.Buffer
	for name, bars := range map[string][]RootogramBar{
		"empty":    nil,
		"NaN":      {{Label: "0", Observed: math.NaN(), Expected: 1, Lo: 0, Hi: 2}},
		"negative": {{Label: "0", Observed: 1, Expected: -1, Lo: 0, Hi: 2}},
		"lo > hi":  {{Label: "0", Observed: 1, Expected: 1, Lo: 3, Hi: 2}},
	} {
		if err := Rootogram(&b, PNG, "y", bars); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

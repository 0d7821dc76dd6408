package model

import (
	"math"
	"testing"
)

// TestSplineBasisR checks ns() and bs() against R's splines package
// (R 4.2.2), values printed with digits = 17 by
//
//	x <- c(0, 0.7, 2, 3.3, 5, 9, 10); xn <- c(-1, 4, 11.5)
//	b <- bs(x, df = 5); predict(b, xn)
//	n <- ns(x, df = 3); predict(n, xn)
//	ns(x, knots = c(2, 6), intercept = TRUE)[3, ]
//	bs(x, degree = 2, knots = 4, Boundary.knots = c(-1, 12))[2, ]
//
// (inside, outside the boundary knots, with an intercept, with given
// knots); the lme4 fits and predictions of testdata/formula check them on
// data.
func TestSplineBasisR(t *testing.T) {
	x := []float64{0, 0.7, 2, 3.3, 5, 9, 10}
	xn := []float64{-1, 4, 11.5}
	cases := []struct {
		name string
		sp   *splineSpec
		nc   int
		at   []float64
		want [][]float64 // rows
	}{
		{"bs(x, df = 5)", &splineSpec{degree: 3, knots: splineKnots(x, 2), boundary: [2]float64{0, 10}}, 5, xn, rBsPredict},
		{"ns(x, df = 3)", &splineSpec{natural: true, degree: 3, knots: splineKnots(x, 2), boundary: [2]float64{0, 10}}, 3, xn, rNsPredict},
		{"ns(x, knots = c(2, 6), intercept = TRUE)", &splineSpec{natural: true, degree: 3, intercept: true, knots: []float64{2, 6}, boundary: [2]float64{0, 10}}, 4, []float64{2}, rNsIntercept},
		{"bs(x, degree = 2, knots = 4, Boundary.knots = c(-1, 12))", &splineSpec{degree: 2, knots: []float64{4}, boundary: [2]float64{-1, 12}}, 3, []float64{0.7}, rBsDeg2},
	}
	for _, c := range cases {
		na := make([]bool, len(c.at))
		got := c.sp.rows(c.at, na, c.nc)
		for i, row := range c.want {
			for j, w := range row {
				if g := got[j][i]; math.Abs(g-w) > 1e-12*math.Max(1, math.Abs(w)) {
					t.Errorf("%s: row %d column %d: %.17g, R %.17g", c.name, i+1, j+1, g, w)
				}
			}
		}
	}
}

var rBsPredict = [][]float64{
	{-2.7450000000000001, 0.38, -0.010000000000000002, 0, 0},
	{0.013333333333333332, 0.51333333333333331, 0.43166666666666664, 0.041666666666666664, 0},
	{0, -0.0084375000000000075, 0.20460937500000001, -1.3931718750000002, 2.1970000000000001},
}
var rNsPredict = [][]float64{
	{0.12827542767205771, -0.33351611194735009, 0.20524068427529235},
	{0.24555023458837855, 0.52556939007021575, -0.29778629132526097},
	{-0.52131782945736405, 0.45542635658914699, 1.0658914728682172},
}
var rNsIntercept = [][]float64{
	{0.5200990751450405, -0.023512919721989184, 0.27053875916596759, -0.1803591727773117},
}
var rBsDeg2 = [][]float64{
	{0.51993846153846157, 0.044461538461538462, 0},
}

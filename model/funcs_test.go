package model

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func frameOf(t *testing.T, csv string, factors ...string) *Frame {
	t.Helper()
	fr, err := ReadFrame(strings.NewReader(csv), "data.csv", FrameOptions{Factors: factors})
	if err != nil {
		t.Fatal(err)
	}
	return fr
}

const funcsCSV = `y,x,g,f
3,1,10,a
1,2,2,b
4,3,2,a
1,5,10,b
5,8,30,a
9,2,2,b
2,4,30,b
`

// TestFormulaFuncsModelMatrix compares the columns and values of a model
// matrix with every kind of function against R's model.matrix on the
// same data (values printed by R with 17 digits).
func TestFormulaFuncsModelMatrix(t *testing.T) {
	wantNames := []string{"(Intercept)", "log(x, base = 2)", "I((x - 1)^2)", "scale(x)", "poly(x, 2)1", "poly(x, 2)2", "factor(g)10", "factor(g)30", "sqrt(x):fa", "sqrt(x):fb"}
	want := []float64{1, 0, 0, -1.0847835949819156, -0.44286104817461069, 0.53741404061098896, 1, 0, 1, 0, 1, 1, 1, -0.66292330804450394, -0.27063730721781759, 0.054011461367938621, 0, 0, 0, 1.4142135623730951, 1, 1.5849625007211561, 4, -0.24106302110709241, -0.098413566261024543, -0.27005730683969315, 0, 0, 1.7320508075688772, 0, 1, 2.3219280948873622, 16, 0.6026575527677307, 0.24603391565256147, -0.44019341014869962, 1, 0, 0, 2.2360679774997898, 1, 3, 49, 1.8682384135799655, 0.76270513852294042, 0.49960601765343204, 0, 1, 2.8284271247461903, 0, 1, 1, 1, -0.66292330804450394, -0.27063730721781754, 0.054011461367938531, 0, 0, 0, 1.4142135623730951, 1, 2, 9, 0.18079726583031916, 0.073810174695768449, -0.43479226401190574, 0, 1, 0, 2}
	p := len(wantNames)
	// The R matrix (printed with 17 digits) is rank deficient; its
	// columns are checked in full-rank groups.
	var d *Design
	for _, formula := range []string{
		"y ~ log(x, base = 2) + I((x - 1)^2) + factor(g)",
		"y ~ 0 + sqrt(x):f",
		"y ~ 0 + scale(x)",
		"y ~ poly(x, 2)",
	} {
		f, err := ParseFormula(formula)
		if err != nil {
			t.Fatal(err)
		}
		d, err = Build(f, frameOf(t, funcsCSV), BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for j, name := range d.XNames {
			k := slices.Index(wantNames, name)
			if k < 0 {
				t.Errorf("%s: column %q is not among R's %q", formula, name, wantNames)
				continue
			}
			for i := range d.N {
				if got, w := d.X.At(i, j), want[i*p+k]; math.Abs(got-w) > 1e-13*math.Max(1, math.Abs(w)) {
					t.Errorf("row %d column %s = %.17g, R %.17g", i+1, name, got, w)
				}
			}
		}
	}
	f, _ := ParseFormula("y ~ factor(g) + poly(x, 2)")
	d, err := Build(f, frameOf(t, funcsCSV), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// poly's coefficients as R stores them in attr(, "coefs").
	lm := d.LevelMap()
	var pc *Transform
	for _, tr := range lm.Transforms {
		if tr.Term == "poly(x, 2)" {
			pc = tr
		}
	}
	if pc == nil {
		t.Fatalf("no stored coefficients for poly(x, 2): %+v", lm.Transforms)
	}
	for i, w := range []float64{3.5714285714285712, 5.4963680387409202} {
		if math.Abs(pc.Alpha[i]-w) > 1e-13*w {
			t.Errorf("alpha[%d] = %.17g, R %.17g", i, pc.Alpha[i], w)
		}
	}
	for i, w := range []float64{1, 7.0000000000000009, 33.7142857142857224, 157.5593220338983542} {
		if math.Abs(pc.Norm2[i]-w) > 1e-13*w {
			t.Errorf("norm2[%d] = %.17g, R %.17g", i, pc.Norm2[i], w)
		}
	}
	fl := lm.Factors[0]
	if fl.Column != "factor(g)" || !slices.Equal(fl.Levels, []string{"2", "10", "30"}) {
		t.Errorf("factor levels %+v, want factor(g) with 2, 10, 30 (sorted numerically)", fl)
	}
}

// TestFormulaFuncsErrors checks the errors found when a function is
// evaluated on the data: they are FormulaErrors with the caret on the
// call and name the data row and line.
func TestFormulaFuncsErrors(t *testing.T) {
	data := "y,x,g,f\n3,1,10,a\n1,-2,2,b\n4,0,2,a\n1,5,10,b\n"
	for _, tc := range []struct{ formula, want string }{
		{"y ~ log(x) + (1 | g)", "formula: log(x) is not a number at row 2 (line 3 of data.csv): log() of the negative value -2 at column 5 (drop or fix the row, or transform differently)"},
		{"y ~ sqrt(x)", "formula: sqrt(x) is not a number at row 2 (line 3 of data.csv): sqrt() of the negative value -2 at column 5 (drop or fix the row, or transform differently)"},
		{"y ~ I(1 + log(x + 2))", "formula: log(x + 2) is infinite at row 2 (line 3 of data.csv): log() of 0 at column 11 (drop or fix the row, or transform differently)"},
		{"y ~ I(y/x)", "formula: y/x is infinite at row 3 (line 4 of data.csv) (4 / 0) at column 7"},
		{"log(y, base = x) ~ g", "formula: log(y, base = x) is infinite at row 1 (line 2 of data.csv): log() with base 1 at column 1 (drop or fix the row, or transform differently)"},
		{"y ~ poly(x, 4)", "formula: the degree of poly(x, 4) must be less than the number of unique values of x (4) at column 5 (lower the degree)"},
		{"y ~ log(xx)", "formula: unknown column \"xx\" at column 9 (did you mean \"x\"?)"},
		{"y ~ I(f * 2)", "formula: column \"f\" is categorical: I() needs numbers, but row 1 (line 2 of data.csv) is \"a\" at column 7"},
		{"y ~ scale(g - g)", "formula: scale(g - g) divides by 0: the values are all 0 at column 5"},
	} {
		f, err := ParseFormula(tc.formula)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Build(f, frameOf(t, data), BuildOptions{})
		var fe *FormulaError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v is not a FormulaError", tc.formula, err)
			continue
		}
		if got := strings.TrimPrefix(err.Error(), "data.csv: "); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.formula, got, tc.want)
		}
	}
}

// TestFormulaFuncsNA: a call is NA where its column is, and the row is
// dropped; scale() learns from every non-NA value of its argument, as R's
// model.frame evaluates it before na.omit.
func TestFormulaFuncsNA(t *testing.T) {
	fr := frameOf(t, "y,x,z\n1,1,1\n2,NA,2\n3,3,NA\n5,4,4\n4,5,5\n")
	f, _ := ParseFormula("y ~ scale(x) + log(z)")
	d, err := Build(f, fr, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Rows, []int{0, 3, 4}) {
		t.Errorf("rows %v, want 0 3 4", d.Rows)
	}
	// mean(c(1,3,4,5)) = 3.25, sd = 1.707825127659933.
	if got, want := d.X.At(0, 1), (1-3.25)/1.707825127659933; math.Abs(got-want) > 1e-14 {
		t.Errorf("scale(x) at row 1 = %.17g, R %.17g", got, want)
	}
}

// TestNewDataFuncs: factor() levels come from training; a level not
// seen is refused as for any factor; log() of a negative new value is an
// error naming the new file's line.
func TestNewDataFuncs(t *testing.T) {
	f, _ := ParseFormula("y ~ factor(g) + log(x)")
	d, err := Build(f, frameOf(t, funcsCSV), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nd, err := d.NewData(frameOf(t, "x,g\n1,30.0\n2,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if nd.Y != nil || nd.X.At(0, 2) != 1 || nd.X.At(1, 1) != 0 || nd.X.At(1, 3) != math.Log(2) {
		t.Errorf("new rows coded wrongly: %v", nd.X)
	}
	if _, err := d.NewData(frameOf(t, "x,g\n1,7\n")); err == nil || !strings.Contains(err.Error(), `column "factor(g)": level "7" was not in the training data`) {
		t.Errorf("unseen level: %v", err)
	}
	if _, err := d.NewData(frameOf(t, "x,g\n1,2\n-1,2\n")); err == nil || !strings.Contains(err.Error(), "row 2 (line 3 of data.csv)") {
		t.Errorf("negative log: %v", err)
	}
}

// TestNewDataFuncsMissing: a column a call reads must be in the new data,
// except the response's.
func TestNewDataFuncsMissing(t *testing.T) {
	f, _ := ParseFormula("log(y) ~ sqrt(x)")
	d, err := Build(f, frameOf(t, funcsCSV), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nd, err := d.NewData(frameOf(t, "x\n4\n")); err != nil || nd.Y != nil || nd.X.At(0, 1) != 2 {
		t.Errorf("new data without the response: %v", err)
	}
	if nd, err := d.NewData(frameOf(t, "x,y\n4,1\n")); err != nil || nd.Y[0] != 0 {
		t.Errorf("new data with the response: %v %v", nd, err)
	}
	want := `data.csv: column "x" used by the model (in sqrt(x)) is not in the new data`
	if _, err := d.NewData(frameOf(t, "z\n4\n")); err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// TestRNumber: numbers are written as R's as.character() and deparse()
// write them (values printed by R 4.2).
func TestRNumber(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{123456789012345678, "123456789012345680"}, {1e15, "1e+15"}, {1e16, "1e+16"}, {100000, "1e+05"},
		{0.0001, "1e-04"}, {1234567.1, "1234567.1"}, {0.1 + 0.2, "0.3"}, {1.0 / 3, "0.333333333333333"},
		{2.0 / 3 * 1e-10, "6.66666666666667e-11"}, {123456.7, "123456.7"}, {1e5 + 0.1, "100000.1"},
		{314159.26535, "314159.26535"}, {-0.00012345, "-0.00012345"}, {1e-300, "1e-300"},
		{1152921504606846976, "1152921504606846976"}, {0, "0"}, {-2, "-2"}, {10, "10"},
		// R writes 1.79769313486232e+308, which reads back as Inf.
		{math.MaxFloat64, "1.7976931348623157e+308"},
	} {
		if got := rNumber(c.v); got != c.want {
			t.Errorf("rNumber(%v) = %s, R %s", c.v, got, c.want)
		}
	}
}

// TestFormulaFuncsGroup: a call may be a grouping factor, (1 | factor(g)),
// with levels in R's order and new rows matched to them through stored
// levels.
func TestFormulaFuncsGroup(t *testing.T) {
	f, err := ParseFormula("y ~ x + (1 | factor(g))")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Build(f, frameOf(t, funcsCSV), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tm := d.Terms[0]; tm.Group != "factor(g)" || !slices.Equal(tm.Levels, []string{"2", "10", "30"}) {
		t.Fatalf("group %s levels %v", tm.Group, tm.Levels)
	}
	stored, err := FromLevels(f, d.LevelMap())
	if err != nil {
		t.Fatal(err)
	}
	nd, err := stored.NewData(frameOf(t, "x,g\n1,10.0\n2,7\n"))
	if err != nil {
		t.Fatal(err)
	}
	if nt := nd.Terms[0]; nt.Refs[0] != 1 || nt.Refs[1] != 3 || !slices.Equal(nt.NewLevels, []string{"7"}) {
		t.Errorf("refs %v new levels %v", nt.Refs, nt.NewLevels)
	}
}

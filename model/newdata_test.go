package model

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestNewDataIdentity applies a design to its own training rows: X, Y, Z
// and Refs must be reproduced exactly, and no level is new.
func TestNewDataIdentity(t *testing.T) {
	cases := []struct{ data, formula string }{
		{"sleepstudy.csv", "Reaction ~ Days + (Days | Subject)"},
		{"design/cake.csv", "angle ~ recipe * temp + (1 | recipe:replicate) + (0 + temp | replicate)"},
		{"design/mixed.csv", "y ~ x + x:f + a*b + (1 + x | g) + (0 + b | h)"},
	}
	for _, c := range cases {
		fr := readTestFrame(t, c.data, FrameOptions{})
		d := mustBuild(t, c.formula, fr, BuildOptions{})
		// The training rows without the dropped ones.
		sub := subFrame(fr, d.Rows)
		nd, err := d.NewData(sub)
		if err != nil {
			t.Fatalf("%s: %v", c.formula, err)
		}
		if nd.N != d.N || !mat.Equal(nd.X, d.X) || !slices.Equal(nd.Y, d.Y) {
			t.Errorf("%s: new-data X or Y differ from training", c.formula)
		}
		for k, nt := range nd.Terms {
			tt := d.Terms[k]
			if len(nt.NewLevels) != 0 || !slices.Equal(nt.Refs, tt.Refs) || !slices.Equal(nt.Z, tt.Z) {
				t.Errorf("%s: term %s differs: %d new levels", c.formula, tt.Group, len(nt.NewLevels))
			}
		}
	}
}

// subFrame returns the given rows of fr as a new frame.
func subFrame(fr *Frame, rows []int) *Frame {
	out := &Frame{Source: fr.Source, NRows: len(rows)}
	for _, c := range fr.Columns {
		nc := &Column{Name: c.Name, Categorical: c.Categorical}
		for _, i := range rows {
			if c.Num != nil {
				nc.Num = append(nc.Num, c.Num[i])
			}
			nc.Str = append(nc.Str, c.Str[i])
			nc.NA = append(nc.NA, c.NA[i])
		}
		out.Columns = append(out.Columns, nc)
	}
	return out
}

func TestNewDataLevels(t *testing.T) {
	fr := readTestFrame(t, "design/mixed.csv", FrameOptions{})
	d := mustBuild(t, "y ~ x + f + (1 | g) + (1 | a:b)", fr, BuildOptions{})
	// No response column; g = 2 and 100 are training levels, 7 and 8 are
	// new; "mid:u" is a training combination, "zz:u" is not. "308.0"-style
	// spellings of a numeric level match by value.
	in := "x,f,g,a,b\n1.5,A,7,mid,u\n2,b,100.0,zz,u\n0,B,8,mid,u\n3,a,7,low,v\n"
	nfr := frameFromString(t, in, FrameOptions{})
	nd, err := d.NewData(nfr)
	if err != nil {
		t.Fatal(err)
	}
	if nd.Y != nil || nd.N != 4 {
		t.Errorf("Y %v, N %d", nd.Y, nd.N)
	}
	g, ab := d.Terms[0], d.Terms[1]
	lg := int32(len(g.Levels))
	if want := []int32{lg, int32(slices.Index(g.Levels, "100")), lg + 1, lg}; !slices.Equal(nd.Terms[0].Refs, want) {
		t.Errorf("g refs %v, want %v", nd.Terms[0].Refs, want)
	}
	if !slices.Equal(nd.Terms[0].NewLevels, []string{"7", "8"}) {
		t.Errorf("g new levels %q", nd.Terms[0].NewLevels)
	}
	lab := int32(len(ab.Levels))
	mid, low := int32(slices.Index(ab.Levels, "mid:u")), int32(slices.Index(ab.Levels, "low:v"))
	if want := []int32{mid, lab, mid, low}; !slices.Equal(nd.Terms[1].Refs, want) {
		t.Errorf("a:b refs %v, want %v", nd.Terms[1].Refs, want)
	}
	if !slices.Equal(nd.Terms[1].NewLevels, []string{"zz:u"}) {
		t.Errorf("a:b new levels %q", nd.Terms[1].NewLevels)
	}
	// X columns: (Intercept), x, fA, fb, fB.
	wantX := mat.NewDense(4, 5, []float64{
		1, 1.5, 1, 0, 0,
		1, 2, 0, 1, 0,
		1, 0, 0, 0, 1,
		1, 3, 0, 0, 0,
	})
	if !slices.Equal(d.XNames, []string{"(Intercept)", "x", "fA", "fb", "fB"}) || !mat.Equal(nd.X, wantX) {
		t.Errorf("XNames %q X\n%v", d.XNames, mat.Formatted(nd.X))
	}

	// A response that is present keeps its NA as NaN.
	nfr = frameFromString(t, "y,x,f,g,a,b\nNA,1,a,2,low,u\n4.5,1,a,2,low,u\n", FrameOptions{})
	nd, err = d.NewData(nfr)
	if err != nil {
		t.Fatal(err)
	}
	if len(nd.Y) != 2 || !math.IsNaN(nd.Y[0]) || nd.Y[1] != 4.5 {
		t.Errorf("Y %v", nd.Y)
	}
}

func TestNewDataErrors(t *testing.T) {
	fr := readTestFrame(t, "design/mixed.csv", FrameOptions{})
	d := mustBuild(t, "y ~ x + f + (1 | g)", fr, BuildOptions{})
	cases := []struct{ in, want string }{
		{"x,F,g\n1,a,2\n", `t.csv: column "f" used by the model is not in the new data (did you mean "F"?)`},
		{"x,f\n1,a\n", `t.csv: column "g" used by the model is not in the new data`},
		{"x,f,g\n1,a,2\nNA,a,2\n", `t.csv:3: column "x" is NA; new data needs every predictor and grouping value`},
		{"x,f,g\n1,a,2\n1,a,NA\n", `t.csv:3: column "g" is NA; new data needs every predictor and grouping value`},
		{"x,f,g\n1,a,2\n1,c,2\n", `t.csv:3: column "f": level "c" was not in the training data (levels: a, A, b, B)`},
		{"x,f,g\n1,a,2\n1,unused,2\n", `t.csv:3: column "f": level "unused" was not in the training data (levels: a, A, b, B)`},
		{"x,f,g\n1,a,2\nabc,a,2\n", `t.csv:3: column "x" is numeric in the model, but "abc" is not a finite number`},
		{"y,x,f,g\nhigh,1,a,2\n", `t.csv:2: response "y" must be numeric, but "high" is not a number`},
	}
	for _, c := range cases {
		nfr := frameFromString(t, c.in, FrameOptions{})
		_, err := d.NewData(nfr)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.in, err, c.want)
		}
	}
	if _, err := (&Design{}).NewData(fr); err == nil {
		t.Error("a Design not made by Build must be refused")
	}
}

// TestNewDataUnseenFactorInRandomTerm: a factor inside a random term's
// expression also needs a training level.
func TestNewDataUnseenFactorInRandomTerm(t *testing.T) {
	fr := readTestFrame(t, "design/mixed.csv", FrameOptions{})
	d := mustBuild(t, "y ~ x + (0 + b | g)", fr, BuildOptions{})
	_, err := d.NewData(frameFromString(t, "x,b,g\n1,w,2\n", FrameOptions{}))
	want := `t.csv:2: column "b": level "w" was not in the training data (levels: u, v)`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

package draws

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
)

// TestCheckColumnNames: names that brms's spelling and the CSV-safe
// replacement map to the same column are an input error naming both; a
// design whose names stay distinct passes.
func TestCheckColumnNames(t *testing.T) {
	build := func(a, g []string, formula string) *model.Design {
		var b strings.Builder
		b.WriteString("y,a,g\n")
		for i := range 60 {
			fmt.Fprintf(&b, "%d.5,%s,%s\n", i%7, a[i%len(a)], g[i%len(g)])
		}
		fr, err := model.ReadFrame(strings.NewReader(b.String()), "d.csv", model.FrameOptions{Factors: []string{"a", "g"}})
		if err != nil {
			t.Fatal(err)
		}
		f, err := model.ParseFormula(formula)
		if err != nil {
			t.Fatal(err)
		}
		d, err := model.Build(f, fr, model.BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	g := []string{"g1", "g2", "g3", "g4"}
	for _, tc := range []struct {
		a, g    []string
		formula string
		want    string // "" for no error
	}{
		{[]string{"a", "x<1", "x>1"}, g, "y ~ a + (1 | g)", `fixed effect "ax<1" and fixed effect "ax>1" both become "b_ax_1"`},
		{[]string{"a", "x-1", "xM1"}, g, "y ~ a + (1 | g)", `both become "b_axM1"`},
		{[]string{"a", "b", "c"}, []string{"s 1", "s1", "s2"}, "y ~ a + (1 | g)", `level of g "s 1" and level of g "s1" both become "r_g[s1,Intercept]"`},
		{[]string{"a", "x<1", "x>1"}, g, "y ~ 1 + (a | g)", `both become "sd_g__ax_1"`},
		{[]string{"a", "b", "c"}, g, "y ~ a + (a | g)", ""},
	} {
		err := CheckColumnNames(build(tc.a, tc.g, tc.formula))
		var in *InputError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v %s: unexpected %v", tc.a, tc.formula, err)
		case tc.want != "" && (err == nil || !errors.As(err, &in) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v %v %s: got %v, want an input error with %s", tc.a, tc.g, tc.formula, err, tc.want)
		}
	}
}

package draws

import (
	"strings"
	"testing"
)

func TestColumnNames(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	n := ColumnNames(d, true)
	want := []string{"lp__", "b_Intercept", "b_Days", "sd_Subject__Intercept", "sd_Subject__Days", "cor_Subject__Intercept__Days", "sigma", "r_Subject.1.1"}
	for i, w := range want {
		if n.Columns[i] != w {
			t.Errorf("column %d: %q, want %q", i, n.Columns[i], w)
		}
	}
	if got := n.Columns[7+18]; got != "r_Subject.1.2" {
		t.Errorf("first Days effect column: %q", got)
	}
	if n.RE[0].Summary != "r_Subject[308,Intercept]" || n.RE[18].Summary != "r_Subject[308,Days]" {
		t.Errorf("summary names %q, %q", n.RE[0].Summary, n.RE[18].Summary)
	}
	for _, s := range []string{`a,b`, `x"y`, "p q", "a+b", "I(x^2)"} {
		r := brmsRename(s)
		if strings.ContainsAny(r, `,"' `) {
			t.Errorf("brmsRename(%q) = %q holds a forbidden byte", s, r)
		}
	}
	if r := brmsRename("(Intercept)"); r != "Intercept" {
		t.Errorf("(Intercept) → %q", r)
	}
}

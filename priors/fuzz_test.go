package priors

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that its errors are one
// line, and that every accepted prior prints to a string that parses
// back to the same prior.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"flat", "normal(0, 1)", "student_t(3, 0, 2.5)", "lkj(2)",
		"inv_wishart(3, [[1,0],[0,1]])", "cauchy(0,", "horseshoe(1e-3)", "inv_gamma(.5, 1e2)", "(", "[[", "normal(0, [[1]])"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("Parse(%q): multi-line error %q", s, err)
			}
			return
		}
		out := p.String()
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) printed %q, which does not parse: %v", s, out, err)
		}
		if q.String() != out {
			t.Fatalf("round trip %q → %q → %q", s, out, q.String())
		}
	})
}

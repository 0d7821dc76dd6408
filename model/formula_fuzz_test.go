package model

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseFormula checks that ParseFormula never panics, that its errors
// are one-line *FormulaErrors with a column inside the text (or one past
// its end), and that a parsed formula re-parses from String() to the same
// structure and uses only its own Columns().
func FuzzParseFormula(f *testing.F) {
	for _, tc := range goodFormulas {
		f.Add(tc.in)
	}
	for _, tc := range badFormulas {
		f.Add(tc.in)
	}
	// Function calls (issue 14): nesting, named arguments, numbers,
	// backquotes and near misses.
	for _, s := range []string{
		"log(y, base = exp(1)) ~ I(-x^-2/3 + (x - .5e-3)*2) + (sqrt(abs(x)) || g)",
		"y ~ poly(x, degree = 3, raw = TRUE):factor(`a b`) + scale(x, FALSE, scale = TRUE)",
		"y ~ factor(x)*log1p(z) - factor(x) + (1 | factor(g):h)",
		"y ~ I(1e308 * 10) + log(x,) + f(x)(y)",
		"y ~ poly(x, 2)(1 | g) + I((((x))))",
		"`log(y)` ~ log(y) + I(TRUE) + as.numeric(`if`)",
		"y ~ I(x = 1, x = 2) + scale(center = TRUE, x) + log(base = 2)",
		"y ~ I(1.7976931348623157e308 * x) + I(4.9e-324 * x) + I(123456789012345678 * x)",
		// Splines, offsets (issue 14, part 2).
		"log(y) ~ ns(x, df = 3) * f + bs(x, knots = c(-1, 2.5e1), degree = 2, intercept = TRUE) + (ns(x, 2) | g)",
		"y ~ ns(x, Boundary.knots = c(0, 10), knots = (4)) + bs(x, 5, c(1, 2), 2, FALSE, c(-1, 3))",
		"y ~ offset(log(t)) + x + offset(2 * t) + offset(log(t)) + (1 | g) - 1",
		"y ~ (x + offset(o))^2 + x:offset(o) + (offset(o) | g) + (1 | offset(g))",
		"y ~ ns(x, df = 0) + bs(x, degree = 11) + ns(x, knots = c(1, y)) + ns(x, knots = c(a = 1))",
		"I(incidence/size) ~ period + offset(-log(size)) + (1 | herd)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fm, err := ParseFormula(text)
		if err != nil {
			var fe *FormulaError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFormula(%q) error %T is not a *FormulaError: %v", text, err, err)
			}
			n := utf8.RuneCountInString(text)
			if fe.Pos < 1 || fe.Pos > n+1 {
				t.Fatalf("ParseFormula(%q) error column %d outside 1..%d: %v", text, fe.Pos, n+1, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("ParseFormula(%q) error is not one line: %q", text, err.Error())
			}
			if lines := strings.Split(fe.Detail(), "\n"); len(lines) != 2 || !strings.HasSuffix(lines[1], "^") {
				t.Fatalf("ParseFormula(%q) Detail() is not two lines ending in a caret: %q", text, fe.Detail())
			}
			return
		}
		s := fm.String()
		again, err := ParseFormula(s)
		if err != nil {
			t.Fatalf("ParseFormula(%q).String() = %q does not parse: %v", text, s, err)
		}
		if !reflect.DeepEqual(formulaStrip(fm), formulaStrip(again)) {
			t.Fatalf("ParseFormula(%q).String() = %q parses to a different formula, %q", text, s, again.String())
		}
		if s2 := again.String(); s2 != s {
			t.Fatalf("String() is not stable for %q: %q then %q", text, s, s2)
		}
		if err := fm.CheckColumns(fm.Columns()); err != nil {
			t.Fatalf("ParseFormula(%q).CheckColumns(its Columns()): %v", text, err)
		}
		for _, rt := range fm.Random {
			if !rt.Expr.Intercept && len(rt.Expr.Terms) == 0 {
				t.Fatalf("ParseFormula(%q): random term with no effects", text)
			}
			if len(rt.Group) == 0 {
				t.Fatalf("ParseFormula(%q): random term with no group", text)
			}
		}
	})
}

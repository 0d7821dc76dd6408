package model

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// goodFormulas pairs formulas with their canonical rendering. The
// expected renderings follow R's terms() (degree, then first appearance;
// a term's variables by first appearance; "1"/"0" read left to right with
// "-" flipping them) and lme4's findbars ("||" splitting with the
// intercept first, "/" nesting).
var goodFormulas = []struct{ in, want string }{
	// lme4 reference models (testdata/lme4).
	{"Reaction ~ Days + (Days | Subject)", "Reaction ~ 1 + Days + (1 + Days | Subject)"},
	{"Reaction ~ Days + (1 | Subject)", "Reaction ~ 1 + Days + (1 | Subject)"},
	{"Reaction ~ Days + (Days || Subject)", "Reaction ~ 1 + Days + (1 || Subject) + (0 + Days || Subject)"},
	{"frequency ~ attitude + gender + (1|subject) + (1|scenario)", "frequency ~ 1 + attitude + gender + (1 | subject) + (1 | scenario)"},
	{"diameter ~ 1 + (1|plate) + (1|sample)", "diameter ~ 1 + (1 | plate) + (1 | sample)"},
	{"y ~ service + (1|s) + (1|d) + (1|dept:service)", "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept:service)"},
	// Splines: named as R deparses the call.
	{"y ~ ns(x,df=3) + bs(x, knots = c(1, -2.5), degree = 2) + (1|g)", "y ~ 1 + ns(x, df = 3) + bs(x, knots = c(1, -2.5), degree = 2) + (1 | g)"},
	// Offsets: not terms; each distinct offset once, as R's terms().
	{"y ~ x + offset(log(t)) + offset(log( t )) + (1|g)", "y ~ 1 + x + offset(log(t)) + (1 | g)"},
	{"y ~ offset(o) + 0 + offset(2*o)", "y ~ 0 + offset(o) + offset(2 * o)"},
	{"y ~ (x + offset(o))", "y ~ 1 + x + offset(o)"},
	// Intercept control.
	{"y ~ x", "y ~ 1 + x"},
	{"y ~ 1", "y ~ 1"},
	{"y ~ 0", "y ~ 0"},
	{"y ~ 0 + x", "y ~ 0 + x"},
	{"y ~ x - 1", "y ~ 0 + x"},
	{"y ~ -1 + x", "y ~ 0 + x"},
	{"y ~ x + 0", "y ~ 0 + x"},
	{"y ~ 0 + x + 1", "y ~ 1 + x"},
	{"y ~ x - 0", "y ~ 1 + x"},
	{"y ~ 1.0 + x - 0.0", "y ~ 1 + x"},
	{"y ~ 0 + (1 | g)", "y ~ 0 + (1 | g)"},
	// Crossing, interaction, removal, nesting, powers.
	{"y ~ a:b", "y ~ 1 + a:b"},
	{"y ~ a*b", "y ~ 1 + a + b + a:b"},
	{"y ~ a*b*c", "y ~ 1 + a + b + c + a:b + a:c + b:c + a:b:c"},
	{"y ~ a*b - a:b", "y ~ 1 + a + b"},
	{"y ~ a + b - a", "y ~ 1 + b"},
	{"y ~ a - a + a", "y ~ 1 + a"},
	{"y ~ a + b + a", "y ~ 1 + a + b"},
	{"y ~ a:b + b:a", "y ~ 1 + a:b"},
	{"y ~ (a+b+c)^2", "y ~ 1 + a + b + c + a:b + a:c + b:c"},
	{"y ~ (a+b+c)^2 - a:b", "y ~ 1 + a + b + c + a:c + b:c"},
	{"y ~ (a+b)^3", "y ~ 1 + a + b + a:b"},
	{"y ~ c:(a+b)", "y ~ 1 + c:a + c:b"},
	{"y ~ a/b", "y ~ 1 + a + a:b"},
	{"y ~ (a+b)/c", "y ~ 1 + a + b + a:b:c"},
	{"y ~ a:b:c + a", "y ~ 1 + a + a:b:c"},
	// Term ordering: main effects before interactions, whatever the
	// order written; the variables of b:a stay in first-appearance order.
	{"y ~ b:a + a", "y ~ 1 + b:a + a"},
	{"y ~ x:f + f", "y ~ 1 + x:f + f"},
	{"y ~ c + b:a + a + b", "y ~ 1 + b:a + c + a + b"},
	{"y ~ (a+b):c", "y ~ 1 + a + b + c - a - b - c + a:c + b:c"},
	// Random-effect terms.
	{"y ~ a + (1|g) + b", "y ~ 1 + a + b + (1 | g)"},
	{"y ~ (1 + x | g)", "y ~ 1 + (1 + x | g)"},
	{"y ~ (x | g)", "y ~ 1 + (1 + x | g)"},
	{"y ~ (0 + x | g)", "y ~ 1 + (0 + x | g)"},
	{"y ~ (x - 1 | g)", "y ~ 1 + (0 + x | g)"},
	{"y ~ (-1 + x | g)", "y ~ 1 + (0 + x | g)"},
	{"y ~ (1 + x*z | g)", "y ~ 1 + (1 + x + z + x:z | g)"},
	{"y ~ x + (x || g)", "y ~ 1 + x + (1 || g) + (0 + x || g)"},
	{"y ~ (0 + x + z || g)", "y ~ 1 + (0 + x || g) + (0 + z || g)"},
	{"y ~ (x - 1 || g)", "y ~ 1 + (0 + x || g)"},
	{"y ~ (1 || g)", "y ~ 1 + (1 || g)"},
	{"y ~ (x*z || g)", "y ~ 1 + (1 || g) + (0 + x || g) + (0 + z || g) + (0 + x:z || g)"},
	{"y ~ (1 | a:b)", "y ~ 1 + (1 | a:b)"},
	{"y ~ (1 | b:a) + (1 | a)", "y ~ 1 + (1 | b:a) + (1 | a)"},
	{"y ~ (1 | a:a)", "y ~ 1 + (1 | a)"},
	{"y ~ (1 | a/b)", "y ~ 1 + (1 | a) + (1 | a:b)"},
	{"y ~ (1 | (a/b))", "y ~ 1 + (1 | a) + (1 | a:b)"},
	{"y ~ (1 | a/b/c)", "y ~ 1 + (1 | a) + (1 | a:b) + (1 | a:b:c)"},
	{"y ~ (x || a/b)", "y ~ 1 + (1 || a) + (1 || a:b) + (0 + x || a) + (0 + x || a:b)"},
	{"y ~ x + (1|g) + (0 + x|g)", "y ~ 1 + x + (1 | g) + (0 + x | g)"},
	{"y ~ (x || g) + (1 | h)", "y ~ 1 + (1 || g) + (0 + x || g) + (1 | h)"},
	{"y ~ a*b + (a*b | g)", "y ~ 1 + a + b + a:b + (1 + a + b + a:b | g)"},
	// Each random term orders its own variables; the fixed part ignores
	// the bars, as lme4's nobars() and model.matrix(~ expr) do.
	{"y ~ z + x + (x:z | g)", "y ~ 1 + z + x + (1 + x:z | g)"},
	{"y ~ (z | g) + x:z + x", "y ~ 1 + x + x:z + (1 + z | g)"},
	// Parentheses, names, white space.
	{"(y) ~ ((x))", "y ~ 1 + x"},
	{"y ~ (x + (1|g))", "y ~ 1 + x + (1 | g)"},
	{"y ~ ((1|g))", "y ~ 1 + (1 | g)"},
	{"`my y` ~ `my var` + x.1 + .z + a_b", "`my y` ~ 1 + `my var` + x.1 + .z + a_b"},
	{"y ~ `NA` + `if` + `2x` + `.`", "y ~ 1 + `NA` + `if` + `2x` + `.`"},
	{"y ~ größe + 名前", "y ~ 1 + größe + 名前"},
	{"y~x+(1|g)", "y ~ 1 + x + (1 | g)"},
	{"y ~\n\tx +\r\n (1 | g)", "y ~ 1 + x + (1 | g)"},
	// Function calls (issue 14), named as R deparses them.
	{"log(Reaction) ~ Days + (Days | Subject)", "log(Reaction) ~ 1 + Days + (1 + Days | Subject)"},
	{"distance ~ I(age-11)*Sex + (I(age -11) | Subject)", "distance ~ 1 + I(age - 11) + Sex + I(age - 11):Sex + (1 + I(age - 11) | Subject)"},
	{"y ~ I(x^2) + I(x/2) + I(-x^2) + I((x - 1) * 1e5) + I(x*.1)", "y ~ 1 + I(x^2) + I(x/2) + I(-x^2) + I((x - 1) * 1e+05) + I(x * 0.1)"},
	{"y ~ I(2^-1 * x) + I(x - -1) + I(+x)", "y ~ 1 + I(2^-1 * x) + I(x - -1) + I(+x)"},
	{"y ~ log(x, base = 2) + log(x, 2) + log(base=10, x)", "y ~ 1 + log(x, base = 2) + log(x, 2) + log(base = 10, x)"},
	{"y ~ log2(x) + log10(x) + log1p(x) + exp(x) + sqrt(x) + abs(x) + as.numeric(x)", "y ~ 1 + log2(x) + log10(x) + log1p(x) + exp(x) + sqrt(x) + abs(x) + as.numeric(x)"},
	{"y ~ log (x)", "y ~ 1 + log(x)"},
	{"y ~ factor(x) + factor(x):z", "y ~ 1 + factor(x) + factor(x):z"},
	{"y ~ scale(x) + scale(x, center = FALSE) + scale(x, TRUE, FALSE)", "y ~ 1 + scale(x) + scale(x, center = FALSE) + scale(x, TRUE, FALSE)"},
	{"y ~ poly(x, 2) + poly(x, degree = 3, raw = TRUE) + poly(x)", "y ~ 1 + poly(x, 2) + poly(x, degree = 3, raw = TRUE) + poly(x)"},
	{"y ~ poly(x, 2) * f + (poly(x, 2) || g)", "y ~ 1 + poly(x, 2) + f + poly(x, 2):f + (1 || g) + (0 + poly(x, 2) || g)"},
	{"scale(y) ~ sqrt(abs(log(x + 1))) + (1 | factor(g))", "scale(y) ~ 1 + sqrt(abs(log(x + 1))) + (1 | factor(g))"},
	{"y ~ log(`my x`) + I(`if` * 2)", "y ~ 1 + log(`my x`) + I(`if` * 2)"},
	{"log(y) ~ y", "log(y) ~ 1 + y"},
	{"y ~ log(x) - log(x) + x", "y ~ 1 + x"},
	{"y ~ I(TRUE * x) + exp(-x)", "y ~ 1 + I(TRUE * x) + exp(-x)"},
}

func TestParseFormulaGood(t *testing.T) {
	for _, tc := range goodFormulas {
		f, err := ParseFormula(tc.in)
		if err != nil {
			t.Errorf("ParseFormula(%q): %v", tc.in, err)
			continue
		}
		if got := f.String(); got != tc.want {
			t.Errorf("ParseFormula(%q).String()\n got %s\nwant %s", tc.in, got, tc.want)
		}
		if f.Text != tc.in {
			t.Errorf("ParseFormula(%q).Text = %q", tc.in, f.Text)
		}
		checkFormulaPositions(t, f)
		g, err := ParseFormula(f.String())
		if err != nil {
			t.Errorf("re-parsing %q: %v", f.String(), err)
			continue
		}
		if !reflect.DeepEqual(formulaStrip(f), formulaStrip(g)) {
			t.Errorf("re-parsing %q from %q changed the structure", f.String(), tc.in)
		}
	}
}

// checkFormulaPositions checks that every Var.Pos points at the variable's name
// in the text (directly or inside backquotes) and every RandomTerm.Pos at
// a '('.
func checkFormulaPositions(t *testing.T, f *Formula) {
	t.Helper()
	runes := []rune(f.Text)
	at := func(v Var) {
		t.Helper()
		if v.Expr != nil {
			// A call is named as R deparses it; Pos is its function name.
			fn := []rune(v.Expr.name)
			if i := v.Pos - 1; i < 0 || i+len(fn) > len(runes) || string(runes[i:i+len(fn)]) != v.Expr.name {
				t.Errorf("%q: %s has Pos %d, which does not point at it", f.Text, v.Name, v.Pos)
			}
			return
		}
		i := v.Pos - 1
		if i >= 0 && i < len(runes) && runes[i] == '`' {
			i++
		}
		name := []rune(v.Name)
		if i < 0 || i+len(name) > len(runes) || string(runes[i:i+len(name)]) != v.Name {
			t.Errorf("%q: %s has Pos %d, which does not point at it", f.Text, v.Name, v.Pos)
		}
	}
	at(f.Response)
	terms := func(tl TermList) {
		for _, term := range tl.Terms {
			for _, v := range term.Vars {
				at(v)
			}
		}
	}
	terms(f.Fixed)
	for _, rt := range f.Random {
		terms(rt.Expr)
		for _, v := range rt.Group {
			at(v)
		}
		if rt.Pos < 1 || rt.Pos > len(runes) || runes[rt.Pos-1] != '(' {
			t.Errorf("%q: random term %s has Pos %d, not at a '('", f.Text, renderRandom(rt), rt.Pos)
		}
	}
}

// formulaStrip returns a copy of f without Text and positions, with empty
// slices made nil, for comparing structures.
func formulaStrip(f *Formula) *Formula {
	tl := func(in TermList) TermList {
		out := TermList{Intercept: in.Intercept}
		for _, t := range in.Terms {
			var vs []Var
			for _, v := range t.Vars {
				vs = append(vs, Var{Name: v.Name})
			}
			out.Terms = append(out.Terms, Term{Vars: vs})
		}
		return out
	}
	g := &Formula{Response: Var{Name: f.Response.Name}, Fixed: tl(f.Fixed)}
	for _, v := range f.Offsets {
		g.Offsets = append(g.Offsets, Var{Name: v.Name})
	}
	for _, rt := range f.Random {
		var gs []Var
		for _, v := range rt.Group {
			gs = append(gs, Var{Name: v.Name})
		}
		g.Random = append(g.Random, RandomTerm{Expr: tl(rt.Expr), Group: gs, Correlated: rt.Correlated})
	}
	return g
}

// TestParseFormulaStruct compares a whole parse, positions included.
func TestParseFormulaStruct(t *testing.T) {
	text := "Reaction ~ Days + (Days || Subject)"
	// columns:  1        10   15  19   24 27
	f, err := ParseFormula(text)
	if err != nil {
		t.Fatal(err)
	}
	days := Var{Name: "Days", Pos: 12}
	rdays := Var{Name: "Days", Pos: 20}
	subj := Var{Name: "Subject", Pos: 28}
	want := &Formula{
		Text:     text,
		Response: Var{Name: "Reaction", Pos: 1},
		Fixed:    TermList{Intercept: true, Terms: []Term{{Vars: []Var{days}}}},
		Random: []RandomTerm{
			{Expr: TermList{Intercept: true}, Group: []Var{subj}, Correlated: false, Pos: 19},
			{Expr: TermList{Terms: []Term{{Vars: []Var{rdays}}}}, Group: []Var{subj}, Correlated: false, Pos: 19},
		},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("ParseFormula(%q)\n got %+v\nwant %+v", text, f, want)
	}

	text = "y ~ b:a + a + (1 | s/t)"
	f, err = ParseFormula(text)
	if err != nil {
		t.Fatal(err)
	}
	b, a := Var{Name: "b", Pos: 5}, Var{Name: "a", Pos: 7}
	s, tt := Var{Name: "s", Pos: 20}, Var{Name: "t", Pos: 22}
	want = &Formula{
		Text:     text,
		Response: Var{Name: "y", Pos: 1},
		Fixed:    TermList{Intercept: true, Terms: []Term{{Vars: []Var{a}}, {Vars: []Var{b, a}}}},
		Random: []RandomTerm{
			{Expr: TermList{Intercept: true}, Group: []Var{s}, Correlated: true, Pos: 15},
			{Expr: TermList{Intercept: true}, Group: []Var{s, tt}, Correlated: true, Pos: 15},
		},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("ParseFormula(%q)\n got %+v\nwant %+v", text, f, want)
	}
	if got := f.Fixed.Terms[1].Label(); got != "b:a" {
		t.Errorf("label of b:a = %q", got)
	}
	if got := f.Random[1].GroupName(); got != "s:t" {
		t.Errorf("group name of s/t's second term = %q", got)
	}
}

var badFormulas = []struct{ in, want string }{
	{"Reaction Days", "formula: missing '~' at column 1 (write response ~ terms, as in Reaction ~ Days + (Days | Subject))"},
	{"~ Days", "formula: missing response before '~' at column 1 (write response ~ terms)"},
	{"Reaction ~", "formula: nothing after '~' at column 11 (write the terms after '~', or 1 for an intercept only)"},
	{"Reaction ~   ", "formula: nothing after '~' at column 14 (write the terms after '~', or 1 for an intercept only)"},
	{"Reaction ~ Days + (Days | Subject", "formula: '(' is never closed at column 19 (add the missing ')')"},
	{"y ~ (1 | g", "formula: '(' is never closed at column 5 (add the missing ')')"},
	{"y ~ x)", "formula: unexpected ')' at column 6 (no '(' matches it)"},
	{"Reaction ~ Days + Days | Subject", "formula: '|' outside parentheses at column 24 (write random effects in parentheses, as in (1 | g))"},
	{"y ~ (x | g) || h", "formula: '||' outside parentheses at column 13 (write random effects in parentheses, as in (1 | g))"},
	{"y ~ ( | g)", "formula: nothing before '|' at column 7 (write the effects before the bar, as in (1 | g))"},
	{"y ~ (1 | )", "formula: nothing after '|' at column 8 (name the grouping factor after the bar, as in (1 | g))"},
	{"y ~ (1 + | g)", "formula: missing term after '+' at column 10"},
	{"y ~ (1 | g | h)", "formula: a random-effect term has only one '|' or '||' at column 12"},
	{"y ~ 2 + x", "formula: number 2 is not allowed at column 5 (a term is a column name; 1 adds and 0 removes the intercept)"},
	{"y ~ x + 1e3", "formula: number 1e3 is not allowed at column 9 (a term is a column name; 1 adds and 0 removes the intercept)"},
	{"y ~ lg(x)", "formula: unknown function lg() at column 5 (supported: " + funcNames + "; or make a column with the values)"},
	{"y ~ ns(x, df = 2.5)", "formula: df of ns() must be a whole number at column 16 (write a whole number from 1 to 50)"},
	{"y ~ bs(x, degree = 0)", "formula: degree of bs() must be a whole number at column 20 (write a whole number from 1 to 10)"},
	{"y ~ ns(x, knots = c(1, y))", "formula: argument \"knots\" of ns() must be numbers at column 19 (write numbers, as in knots = c(2, 5))"},
	{"y ~ bs(x, Boundary.knots = 3)", "formula: Boundary.knots of bs() must be two different numbers at column 28 (write two different numbers, as in Boundary.knots = c(0, 10))"},
	{"y ~ ns(x, intercept = 1)", "formula: argument \"intercept\" of ns() must be TRUE or FALSE at column 23"},
	{"ns(y, 3) ~ x", "formula: the response must be numbers, one value per row: ns() cannot be the response at column 1"},
	{"y ~ sqrt(bs(x))", "formula: bs() cannot be used inside another function at column 10 (use it as a term of its own, as in y ~ bs(x))"},
	{"y ~ x + (offset(o) | g)", "formula: offset() cannot be inside a random-effect term at column 10 (write it in the fixed part, as in y ~ x + offset(o) + (1 | g))"},
	{"y ~ x:offset(o)", "formula: offset() cannot be part of ':' at column 7 (add it with '+', as in y ~ x + offset(o))"},
	{"y ~ x - offset(o)", "formula: offset() cannot be subtracted at column 9 (write offset(-x) to subtract x)"},
	{"y ~ x + (1 | offset(g))", "formula: offset() cannot be a grouping factor at column 14"},
	{"offset(y) ~ x", "formula: the response must be numbers, one value per row: offset() cannot be the response at column 1"},
	{"y ~ log(offset(x))", "formula: offset() cannot be used inside another function at column 9 (use it as a term of its own, as in y ~ offset(x))"},
	{"y ~ log(x, 2, 3)", "formula: too many arguments to log() at column 15 (log() takes x, base)"},
	{"y ~ log(x, bse = 2)", "formula: log() has no argument \"bse\" at column 18 (log() takes x, base)"},
	{"y ~ log(x, base = 2, base = 3)", "formula: argument \"base\" of log() given twice at column 29"},
	{"y ~ log()", "formula: log() needs argument \"x\" at column 5"},
	{"y ~ sqrt(x, 2)", "formula: too many arguments to sqrt() at column 13 (sqrt() takes x)"},
	{"y ~ scale(x, center = 1)", "formula: argument \"center\" of scale() must be TRUE or FALSE at column 23"},
	{"y ~ scale(x, TRUE, FALSE, TRUE)", "formula: too many arguments to scale() at column 27 (scale() takes x, center, scale)"},
	{"y ~ poly(x)3", "formula: unexpected number 3 at column 12 (missing '+' or another operator before it?)"},
	{"y ~ poly(x, 2, TRUE)", "formula: too many arguments to poly() at column 16 (write poly(x, degree) or poly(x, degree, raw = TRUE); poly() of several variables is not supported)"},
	{"y ~ poly(x, 0)", "formula: the degree of poly() must be a whole number at column 13 (write a whole number from 1 to 20, as in poly(x, 2))"},
	{"y ~ poly(x, 2.5)", "formula: the degree of poly() must be a whole number at column 13 (write a whole number from 1 to 20, as in poly(x, 2))"},
	{"y ~ poly(x, k)", "formula: the degree of poly() must be a whole number at column 13 (write a whole number from 1 to 20, as in poly(x, 2))"},
	{"y ~ poly(x, 2, raw = 1)", "formula: argument \"raw\" of poly() must be TRUE or FALSE at column 22"},
	{"y ~ I(scale(x))", "formula: scale() cannot be used inside another function at column 7 (use it as a term of its own, as in y ~ scale(x))"},
	{"y ~ log(poly(x, 2))", "formula: poly() cannot be used inside another function at column 9 (use it as a term of its own, as in y ~ poly(x))"},
	{"y ~ I(factor(x))", "formula: factor() cannot be used inside another function at column 7 (use it as a term of its own, as in y ~ factor(x))"},
	{"factor(y) ~ x", "formula: the response must be numbers, one value per row: factor() cannot be the response at column 1"},
	{"poly(y, 2) ~ x", "formula: the response must be numbers, one value per row: poly() cannot be the response at column 1"},
	{"y ~ I(x:z)", "formula: unexpected ':' in a call to I() at column 8 (inside a function call write arithmetic with + - * / ^)"},
	{"y ~ I(x | z)", "formula: unexpected '|' in a call to I() at column 9 (inside a function call write arithmetic with + - * / ^)"},
	{"y ~ I(x ~ z)", "formula: unexpected '~' in a call to I() at column 9 (inside a function call write arithmetic with + - * / ^)"},
	{"y ~ I(x,)", "formula: unexpected ')' in a function argument at column 9 (inside a function call write arithmetic with + - * / ^)"},
	{"y ~ I((x)", "formula: '(' is never closed at column 6 (add the missing ')')"},
	{"y ~ I(x + )", "formula: unexpected ')' in a function argument at column 11 (inside a function call write arithmetic with + - * / ^)"},
	{"y ~ I(NA)", "formula: NA is an R keyword or constant, not a column at column 7 (backquote it, as in `NA`, if it is a column name)"},
	{"y ~ I(1e999)", "formula: number 1e999 is out of range at column 7"},
	{"y ~ I(x = )", "formula: unexpected ')' in a function argument at column 11 (inside a function call write arithmetic with + - * / ^)"},
	{"y ~ x, z", "formula: unexpected ',' at column 6"},
	{"y ~ x = z", "formula: unexpected '=' at column 7"},
	{"y ~ (1 | poly(g, 2))", "formula: poly() cannot be a grouping factor at column 10"},
	{"y ~ x (1|g)", "formula: unexpected '(' at column 7 (missing '+' or another operator before it?)"},
	{"y ~ .", "formula: '.' (all other columns) is not supported at column 5 (name the columns)"},
	{"y ~ (0 | g)", "formula: random-effect term has no effects at column 5 (use (1 | g) for a random intercept)"},
	{"y ~ x + (0 + x - x | g)", "formula: random-effect term has no effects at column 9 (use (1 | g) for a random intercept)"},
	{"y ~ (1 | g + h)", "formula: the grouping factor after '|' must be a column or an interaction of columns at column 12 (write a column, an interaction such as a:b, or a nesting such as a/b)"},
	{"y ~ (1 | g*h)", "formula: the grouping factor after '|' must be a column or an interaction of columns at column 11 (write a column, an interaction such as a:b, or a nesting such as a/b)"},
	{"y ~ (1 | 1)", "formula: the grouping factor after '|' must be a column or an interaction of columns at column 10 (write a column, an interaction such as a:b, or a nesting such as a/b)"},
	{"y ~ x z", "formula: unexpected name \"z\" at column 7 (missing '+' or another operator before it?)"},
	{"y ~ x 1", "formula: unexpected number 1 at column 7 (missing '+' or another operator before it?)"},
	{"y ~~ x", "formula: unexpected '~' at column 4 (a formula has one '~')"},
	{"y ~ x ~ z", "formula: unexpected '~' at column 7 (a formula has one '~')"},
	{"a + b ~ x", "formula: the response must be a single column name at column 1 (write one column, or a function of one such as log(y))"},
	{"(1 | g) ~ x", "formula: the response must be a single column name at column 1 (write one column, or a function of one such as log(y))"},
	{"y ~ x:(1|g)", "formula: a random-effect term cannot be part of ':' at column 7 (add random-effect terms with '+' at the top level, as in y ~ x + (1 | g))"},
	{"y ~ x*(1|g)", "formula: a random-effect term cannot be part of '*' at column 7 (add random-effect terms with '+' at the top level, as in y ~ x + (1 | g))"},
	{"y ~ x - (1|g)", "formula: a random-effect term cannot be subtracted at column 9"},
	{"y ~ (1 + (x|h) | g)", "formula: a random-effect term cannot appear inside another at column 10"},
	{"y ~ x^2", "formula: '^' crosses a sum of terms with itself, as in (a + b)^2, and does nothing to a single term at column 6 (make a column with the squared values)"},
	{"y ~ (a+b)^x", "formula: the power after '^' must be a whole number at column 11 (write a whole number such as 2, as in (a + b + c)^2)"},
	{"y ~ (a+b)^1.5", "formula: the power after '^' must be a whole number at column 11 (write a whole number such as 2, as in (a + b + c)^2)"},
	{"y ~ 1:x", "formula: 1 cannot be used with ':' at column 5 (1 and 0 only add or remove the intercept)"},
	{"y ~ `x", "formula: unclosed backquote at column 5 (a quoted name ends with a second `)"},
	{"y ~ ``", "formula: empty backquoted name at column 5"},
	{"y ~ x + ", "formula: missing term after '+' at column 9"},
	{"y ~ x +\n+ z", "formula: unexpected '+' after '+' at column 9"},
	{"y ~ x + (1|g) + (1|g)", "formula: duplicate random-effect term (1 | g) at column 17 (the term at column 9 already gives it)"},
	{"y ~ (1|g) + (x||g)", "formula: duplicate random-effect term (1 || g) at column 13 (the term at column 5 already gives it)"},
	{"y ~ NA + x", "formula: NA is an R keyword or constant, not a column at column 5 (backquote it, as in `NA`, if it is a column name)"},
	{"y ~ x + y", "formula: the response \"y\" also appears on the right-hand side at column 9"},
	{"y ~ (1 | y)", "formula: the response \"y\" also appears on the right-hand side at column 10"},
	{"y ~ ()", "formula: empty parentheses at column 5"},
	{"y ~ x $ z", "formula: unexpected character '$' at column 7"},
	{"y ~ x %in% z", "formula: unexpected '%' at column 7 (operators such as %in% are not supported)"},
	{"y ~ \"x\"", "formula: unexpected quote \" at column 5 (write a column name with spaces in backquotes, as in `my var`)"},
	{"y ~ _x", "formula: unexpected '_' at column 5 (a name must start with a letter or a dot; backquote other names, as in `_x`)"},
	{"y ~ \xff", "formula: invalid UTF-8 byte at column 5"},
	{"y ~ größe $", "formula: unexpected character '$' at column 11"},
	{"y ~ x + -z", "formula: unexpected '-' after '+' at column 9"},
}

func TestParseFormulaBad(t *testing.T) {
	for _, tc := range badFormulas {
		f, err := ParseFormula(tc.in)
		if err == nil {
			t.Errorf("ParseFormula(%q) = %s, want error %s", tc.in, f, tc.want)
			continue
		}
		var fe *FormulaError
		if !errors.As(err, &fe) {
			t.Errorf("ParseFormula(%q) error %T is not a *FormulaError", tc.in, err)
			continue
		}
		if got := err.Error(); got != tc.want {
			t.Errorf("ParseFormula(%q) error\n got %s\nwant %s", tc.in, got, tc.want)
		}
		if fe.Text != tc.in {
			t.Errorf("ParseFormula(%q) error Text = %q", tc.in, fe.Text)
		}
	}
}

func TestParseFormulaLimits(t *testing.T) {
	deep := "y ~ " + strings.Repeat("(", 150) + "x" + strings.Repeat(")", 150)
	want := "formula: parentheses nested more than 100 deep at column 105"
	if _, err := ParseFormula(deep); err == nil || err.Error() != want {
		t.Errorf("deep nesting: got %v, want %s", err, want)
	}
	// 13 variables crossed to degree 13 give 2^13 - 1 = 8191 terms.
	vars := strings.Split("abcdefghijklm", "")
	big := "y ~ (" + strings.Join(vars, "+") + ")^13"
	want = "formula: the formula expands to more than 4096 terms at column 5"
	if _, err := ParseFormula(big); err == nil || err.Error() != want {
		t.Errorf("(a+...+m)^13: got %v, want %s", err, want)
	}
	// 12 variables give 4095 terms, which is allowed; degree 2 of 12
	// gives 12 + 66.
	f, err := ParseFormula("y ~ (" + strings.Join(vars[:12], "+") + ")^12")
	if err != nil || len(f.Fixed.Terms) != 4095 {
		t.Errorf("(a+...+l)^12: %v terms, error %v; want 4095", formulaTermCount(f), err)
	}
	f, err = ParseFormula("y ~ (" + strings.Join(vars[:12], "+") + ")^2")
	if err != nil || len(f.Fixed.Terms) != 12+66 {
		t.Errorf("(a+...+l)^2: %v terms, error %v; want 78", formulaTermCount(f), err)
	}
	// A huge power stops once nothing more can change.
	f, err = ParseFormula("y ~ (a+b+c)^1e300")
	if err != nil || f.String() != "y ~ 1 + a + b + c + a:b + a:c + b:c + a:b:c" {
		t.Errorf("(a+b+c)^1e300: %v, %v", f, err)
	}
}

func formulaTermCount(f *Formula) int {
	if f == nil {
		return -1
	}
	return len(f.Fixed.Terms)
}

func TestFormulaErrorDetail(t *testing.T) {
	_, err := ParseFormula("Reaction ~ Days +\t(Days | Subject")
	var fe *FormulaError
	if !errors.As(err, &fe) {
		t.Fatalf("want a *FormulaError, got %v", err)
	}
	want := "Reaction ~ Days + (Days | Subject\n" +
		"                  ^"
	if got := fe.Detail(); got != want {
		t.Errorf("Detail()\n got %q\nwant %q", got, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("Error() is not one line: %q", err.Error())
	}
	// The caret counts characters, not bytes.
	_, err = ParseFormula("größe ~ x)")
	errors.As(err, &fe)
	if want := "größe ~ x)\n         ^"; fe.Detail() != want {
		t.Errorf("Detail()\n got %q\nwant %q", fe.Detail(), want)
	}
	// One past the end for a formula that stops too early.
	_, err = ParseFormula("y ~ x +")
	errors.As(err, &fe)
	if want := "y ~ x +\n       ^"; fe.Detail() != want {
		t.Errorf("Detail()\n got %q\nwant %q", fe.Detail(), want)
	}
}

func TestCheckColumns(t *testing.T) {
	names := []string{"Reaction", "Days", "Subject"}
	cases := []struct{ in, want string }{
		{"Reaction ~ Days + (Days | Subject)", ""},
		{"Reaction ~ Dys + (Days | Subject)", `formula: unknown column "Dys" at column 12 (did you mean "Days"?)`},
		{"Reaction ~ Days + (Days | Subjet)", `formula: unknown column "Subjet" at column 27 (did you mean "Subject"?)`},
		{"Reaction ~ Days + (days | Subject)", `formula: unknown column "days" at column 20 (did you mean "Days"?)`},
		{"reaction ~ Days", `formula: unknown column "reaction" at column 1 (did you mean "Reaction"?)`},
		{"Reaction ~ Days + Temperature", `formula: unknown column "Temperature" at column 19`},
		{"Reaction ~ Days + (1 | Subject/Site)", `formula: unknown column "Site" at column 32`},
		// The first unknown column in the text is reported.
		{"Reaction ~ (1 | Zz) + Xx", `formula: unknown column "Zz" at column 17`},
	}
	for _, tc := range cases {
		f, err := ParseFormula(tc.in)
		if err != nil {
			t.Fatalf("ParseFormula(%q): %v", tc.in, err)
		}
		err = f.CheckColumns(names)
		got := ""
		if err != nil {
			got = err.Error()
			var fe *FormulaError
			if !errors.As(err, &fe) || fe.Text != tc.in {
				t.Errorf("CheckColumns error for %q is not a *FormulaError with the text: %#v", tc.in, err)
			}
		}
		if got != tc.want {
			t.Errorf("CheckColumns(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestColumns(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"Reaction ~ Days + (Days | Subject)", []string{"Reaction", "Days", "Subject"}},
		{"y ~ (x | g) + z", []string{"y", "x", "g", "z"}},
		{"y ~ b:a + a + (1 | s/t)", []string{"y", "b", "a", "s", "t"}},
		{"`my y` ~ `my var`", []string{"my y", "my var"}},
		// A term removed again uses no column.
		{"y ~ a*b - b - a:b", []string{"y", "a"}},
		{"y ~ 1", []string{"y"}},
	}
	for _, tc := range cases {
		f, err := ParseFormula(tc.in)
		if err != nil {
			t.Fatalf("ParseFormula(%q): %v", tc.in, err)
		}
		if got := f.Columns(); !slices.Equal(got, tc.want) {
			t.Errorf("Columns(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if err := f.CheckColumns(tc.want); err != nil {
			t.Errorf("CheckColumns(%q, its own columns): %v", tc.in, err)
		}
	}
}

// formulaRef is the part of a testdata/lme4 fit file that describes the
// model's structure.
type formulaRef struct {
	Formula string             `json:"formula"`
	Fixef   map[string]float64 `json:"fixef"`
	Varcorr []struct {
		Group string `json:"group"`
		Var1  any    `json:"var1"`
		Var2  any    `json:"var2"`
	} `json:"varcorr"`
}

// TestLme4References checks the parsed structure of every formula lme4
// fitted in testdata/lme4 against what lme4 reported: the intercept, the
// fixed-effect coefficient names (each starts with its term's label; a
// factor adds its level), and the random-effect terms as the standard
// deviations of VarCorr list them (group, with lme4's ".1" suffix for a
// second term on the same factor, and effect names).
func TestLme4References(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "lme4", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no lme4 reference files: %v", err)
	}
	suffix := regexp.MustCompile(`\.[0-9]+$`)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var ref formulaRef
		if err := json.Unmarshal(data, &ref); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		f, err := ParseFormula(ref.Formula)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		_, hasInt := ref.Fixef["(Intercept)"]
		if f.Fixed.Intercept != hasInt {
			t.Errorf("%s: Intercept %v, lme4 fixef %v", file, f.Fixed.Intercept, ref.Fixef)
		}
		for name := range ref.Fixef {
			if name == "(Intercept)" {
				continue
			}
			found := false
			for _, term := range f.Fixed.Terms {
				found = found || strings.HasPrefix(name, term.Label())
			}
			if !found {
				t.Errorf("%s: lme4 coefficient %s matches no fixed term of %s", file, name, f)
			}
		}
		// lme4's random terms: consecutive SD entries of one group name.
		var want []string
		uncorr := false
		for _, vc := range ref.Varcorr {
			if vc.Group == "Residual" {
				continue
			}
			if _, isCor := vc.Var2.(string); isCor {
				continue
			}
			v1, _ := vc.Var1.(string)
			if n := len(want); n > 0 && strings.HasPrefix(want[n-1], vc.Group+"|") {
				want[n-1] += "," + v1
				continue
			}
			if suffix.MatchString(vc.Group) {
				uncorr = true
			}
			want = append(want, suffix.ReplaceAllString(vc.Group, "")+"|"+v1)
		}
		var got []string
		for _, rt := range f.Random {
			var eff []string
			if rt.Expr.Intercept {
				eff = append(eff, "(Intercept)")
			}
			for _, term := range rt.Expr.Terms {
				eff = append(eff, term.Label())
			}
			got = append(got, rt.GroupName()+"|"+strings.Join(eff, ","))
			if rt.Correlated == uncorr {
				t.Errorf("%s: term %s has Correlated %v", file, renderRandom(rt), rt.Correlated)
			}
		}
		// lme4 orders its terms by number of levels; compare as sets.
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: random terms %q, lme4 %q", file, got, want)
		}
	}
}

// TestFormulaErrorOneLine checks that a name holding a line break does not
// break the one-line message.
func TestFormulaErrorOneLine(t *testing.T) {
	_, err := ParseFormula("y ~ (1|`\n`(x))")
	want := `formula: unknown function ` + "`\\n`" + `() at column 8 (supported: ` + funcNames + `; or make a column with the values)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

package model

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// This file holds the function calls a formula may use as a variable
// (log(Reaction), I(age - 11), scale(Days), poly(Days, 2), factor(x)):
// their syntax tree, R's deparsed name for them, checking the arguments
// as R matches them, evaluating them on a frame, and what they learn from
// the training data (Transform) for safe prediction, as R's
// makepredictcall does.

// exprKind is the kind of an expression node inside a function call.
type exprKind int

const (
	exNum exprKind = iota
	exName
	exBool
	exCall
	exBinary
	exUnary
	exParen
)

// Expr is an R expression inside a function call of a formula.
type Expr struct {
	kind exprKind
	// num is a number's value (exNum), or 1/0 for TRUE/FALSE (exBool).
	num float64
	// name is a column name (exName) or a function name (exCall).
	name string
	// op is the operator of exBinary ("+", "-", "*", "/", "^") and
	// exUnary ("-", "+").
	op string
	// args and argNames are a call's arguments ("" for positional);
	// l and r the operands of an operator or the inside of parentheses.
	args     []*Expr
	argNames []string
	l, r     *Expr
	// bound holds a call's arguments by formal, in funcSpec order (nil
	// where not given); set by checkCall.
	bound []*Expr
	// pos is the 1-based column where the node starts.
	pos int
}

// funcSpec describes one function a formula may call.
type funcSpec struct {
	// formals are the argument names in order, as R's function has them.
	formals []string
	// required is the number of leading formals that must be given.
	required int
	// stateful functions learn from the training data and may appear
	// only as a whole variable, not inside another call.
	stateful bool
}

var formulaFuncs = map[string]funcSpec{
	"I":          {formals: []string{"x"}, required: 1},
	"log":        {formals: []string{"x", "base"}, required: 1},
	"log2":       {formals: []string{"x"}, required: 1},
	"log10":      {formals: []string{"x"}, required: 1},
	"log1p":      {formals: []string{"x"}, required: 1},
	"exp":        {formals: []string{"x"}, required: 1},
	"sqrt":       {formals: []string{"x"}, required: 1},
	"abs":        {formals: []string{"x"}, required: 1},
	"as.numeric": {formals: []string{"x"}, required: 1},
	"factor":     {formals: []string{"x"}, required: 1, stateful: true},
	"scale":      {formals: []string{"x", "center", "scale"}, required: 1, stateful: true},
	// poly(x, ..., degree = 1, coefs = NULL, raw = FALSE): one argument
	// in ... is the degree.
	"poly": {formals: []string{"x", "degree", "raw"}, required: 1, stateful: true},
	// ns(x, df = NULL, knots = NULL, intercept = FALSE, Boundary.knots)
	// and bs(x, df, knots, degree = 3, intercept, Boundary.knots) of R's
	// splines package.
	"ns": {formals: []string{"x", "df", "knots", "intercept", "Boundary.knots"}, required: 1, stateful: true},
	"bs": {formals: []string{"x", "df", "knots", "degree", "intercept", "Boundary.knots"}, required: 1, stateful: true},
	// offset(object): added to the linear predictor, not a term.
	"offset": {formals: []string{"object"}, required: 1, stateful: true},
}

// funcNames lists the supported functions for error messages.
const funcNames = "I, log, log2, log10, log1p, exp, sqrt, abs, factor, as.numeric, scale, poly, ns, bs, offset"

// Deparse renders e as R's deparse() does, which is how R names the
// variable and its model-matrix columns.
func (e *Expr) Deparse() string {
	switch e.kind {
	case exNum:
		return rNumber(e.num)
	case exBool:
		if e.num != 0 {
			return "TRUE"
		}
		return "FALSE"
	case exName:
		return quoteName(e.name)
	case exParen:
		return "(" + e.l.Deparse() + ")"
	case exUnary:
		return e.op + e.l.Deparse()
	case exBinary:
		if e.op == "/" || e.op == "^" {
			return e.l.Deparse() + e.op + e.r.Deparse()
		}
		return e.l.Deparse() + " " + e.op + " " + e.r.Deparse()
	}
	if e.name == respTrials && len(e.args) == 2 {
		return deparseTrials(e)
	}
	parts := make([]string, len(e.args))
	for i, a := range e.args {
		parts[i] = a.Deparse()
		if e.argNames[i] != "" {
			parts[i] = quoteName(e.argNames[i]) + " = " + parts[i]
		}
	}
	return e.name + "(" + strings.Join(parts, ", ") + ")"
}

// rNumber formats v as R's as.character() and deparse() do: 15
// significant digits, in fixed notation unless scientific is shorter.
func rNumber(v float64) string {
	if v == 0 {
		return "0"
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	// Fewest significant digits (at most 15) that give v to 15 digits.
	s15 := strconv.FormatFloat(v, 'e', 14, 64)
	want, _ := strconv.ParseFloat(s15, 64)
	digits := 15
	for d := 1; d <= 15; d++ {
		x, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'e', d-1, 64), 64)
		if x == want {
			digits = d
			break
		}
	}
	prec := digits - 1
	if math.IsInf(want, 0) {
		// Within 15 digits of the largest double: R would write a number
		// that reads back as Inf; write all the digits instead.
		prec = -1
	}
	sci := strconv.FormatFloat(v, 'e', prec, 64)
	// R writes a two-digit exponent at least: 1e+05, 1.5e-10.
	if i := strings.IndexByte(sci, 'e'); i >= 0 {
		mant, exp := sci[:i], sci[i+1:]
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		for len(exp) < 2 {
			exp = "0" + exp
		}
		sci = mant + "e" + string(sign) + exp
	}
	if prec < 0 {
		return sci
	}
	e10 := int(math.Floor(math.Log10(math.Abs(want))))
	fixedDecimals := max(digits-1-e10, 0)
	// Fixed notation prints the digits of the double itself, as C's
	// sprintf("%.*f") does for R (123456789012345678 is 123456789012345680).
	fixed := strconv.FormatFloat(v, 'f', fixedDecimals, 64)
	if len(fixed) <= len(sci) {
		return fixed
	}
	return sci
}

// columns appends the column names e reads, with their positions.
func (e *Expr) columns(out []Var) []Var {
	if e == nil {
		return out
	}
	if e.kind == exName {
		return append(out, Var{Name: e.name, Pos: e.pos})
	}
	out = e.l.columns(out)
	out = e.r.columns(out)
	for _, a := range e.args {
		out = a.columns(out)
	}
	return out
}

// checkCall checks call e: a known function, its arguments bound to the
// formals as R binds them (named arguments first, then the others in
// order), the arguments that must be constants; nested is true inside
// another call.
func (p *formulaParser) checkCall(e *Expr, nested bool) error {
	spec, ok := formulaFuncs[e.name]
	if !ok {
		return p.errAt(e.pos, "supported: "+funcNames+"; or make a column with the values", "unknown function %s()", quoteName(e.name))
	}
	if spec.stateful && nested {
		return p.errAt(e.pos, "use it as a term of its own, as in y ~ "+e.name+"(x)", "%s() cannot be used inside another function", e.name)
	}
	bound := make([]*Expr, len(spec.formals))
	for i, n := range e.argNames {
		if n == "" {
			continue
		}
		k := -1
		for j, f := range spec.formals {
			if f == n {
				k = j
			}
		}
		if k < 0 {
			return p.errAt(e.args[i].pos, fmt.Sprintf("%s() takes %s", e.name, strings.Join(spec.formals, ", ")), "%s() has no argument %q", e.name, n)
		}
		if bound[k] != nil {
			return p.errAt(e.args[i].pos, "", "argument %q of %s() given twice", n, e.name)
		}
		bound[k] = e.args[i]
	}
	next := 0
	for i, n := range e.argNames {
		if n != "" {
			continue
		}
		for next < len(bound) && bound[next] != nil {
			next++
		}
		// poly's raw cannot be given by position: it follows "...".
		if next >= len(bound) || e.name == "poly" && next == 2 {
			hint := fmt.Sprintf("%s() takes %s", e.name, strings.Join(spec.formals, ", "))
			if e.name == "poly" {
				hint = "write poly(x, degree) or poly(x, degree, raw = TRUE); poly() of several variables is not supported"
			}
			return p.errAt(e.args[i].pos, hint, "too many arguments to %s()", e.name)
		}
		bound[next] = e.args[i]
		next++
	}
	for k := 0; k < spec.required; k++ {
		if bound[k] == nil {
			return p.errAt(e.pos, "", "%s() needs argument %q", e.name, spec.formals[k])
		}
	}
	isSpline := e.name == "ns" || e.name == "bs"
	for _, a := range e.args {
		if isSpline && (a == bound[2] || a == bound[len(bound)-1]) {
			continue // the knots: numbers, checked below
		}
		if err := p.checkExpr(a, true); err != nil {
			return err
		}
	}
	flag := func(name string) error {
		a := bound[slices.Index(spec.formals, name)]
		if a != nil && a.kind != exBool {
			return p.errAt(a.pos, "", "argument %q of %s() must be TRUE or FALSE", name, e.name)
		}
		return nil
	}
	switch e.name {
	case "scale":
		if err := flag("center"); err != nil {
			return err
		}
		if err := flag("scale"); err != nil {
			return err
		}
	case "ns", "bs":
		if err := flag("intercept"); err != nil {
			return err
		}
		whole := func(k int, what string, lo, hi float64) error {
			if d := bound[k]; d != nil && (d.kind != exNum || d.num != math.Trunc(d.num) || d.num < lo || d.num > hi) {
				return p.errAt(d.pos, fmt.Sprintf("write a whole number from %g to %g", lo, hi), "%s of %s() must be a whole number", what, e.name)
			}
			return nil
		}
		if err := whole(1, "df", 1, 50); err != nil {
			return err
		}
		if e.name == "bs" {
			if err := whole(3, "degree", 1, 10); err != nil {
				return err
			}
		}
		for _, k := range []int{2, len(spec.formals) - 1} {
			if a := bound[k]; a != nil {
				v, ok := constVector(a)
				if !ok || len(v) > 50 {
					return p.errAt(a.pos, "write numbers, as in knots = c(2, 5)", "argument %q of %s() must be numbers", spec.formals[k], e.name)
				}
				if k > 2 && (len(v) != 2 || !(v[0] < v[1] || v[1] < v[0])) {
					return p.errAt(a.pos, "write two different numbers, as in Boundary.knots = c(0, 10)", "Boundary.knots of %s() must be two different numbers", e.name)
				}
			}
		}
	case "poly":
		if err := flag("raw"); err != nil {
			return err
		}
		if d := bound[1]; d != nil && (d.kind != exNum || d.num != math.Trunc(d.num) || d.num < 1 || d.num > 20) {
			return p.errAt(d.pos, "write a whole number from 1 to 20, as in poly(x, 2)", "the degree of poly() must be a whole number")
		}
	}
	e.bound = bound
	return nil
}

// checkExpr checks every call inside e.
func (p *formulaParser) checkExpr(e *Expr, nested bool) error {
	switch e.kind {
	case exCall:
		return p.checkCall(e, nested)
	case exBinary:
		if err := p.checkExpr(e.l, nested); err != nil {
			return err
		}
		return p.checkExpr(e.r, nested)
	case exUnary, exParen:
		return p.checkExpr(e.l, nested)
	}
	return nil
}

// polyDegree returns the number of columns of a poly() call, or 0 for
// any other expression.
func (e *Expr) polyDegree() int {
	if e == nil || e.kind != exCall || e.name != "poly" {
		return 0
	}
	if d := e.bound[1]; d != nil {
		return int(d.num)
	}
	return 1
}

// matCols returns the number of columns of a matrix variable (poly(),
// ns(), bs()), or 0 for any other expression. For ns() and bs() it
// follows from the arguments as R computes it: ns() has df columns
// (len(knots) + 1 + intercept with knots), bs() len(knots) + degree +
// intercept, with len(knots) = max(df − degree − intercept, 0) from df.
func (e *Expr) matCols() int {
	if e == nil || e.kind != exCall {
		return 0
	}
	switch e.name {
	case "poly":
		return e.polyDegree()
	case "ns", "bs":
		sp := e.splineArgs()
		return sp.nKnots + sp.degree + sp.intercept
	}
	return 0
}

// splineCall holds an ns() or bs() call's arguments.
type splineCall struct {
	natural   bool
	degree    int // 3 for ns() (cubic), where its columns count 1 less
	intercept int
	df        int       // 0: not given
	knots     []float64 // nil: not given
	boundary  []float64 // nil: the range of x
	nKnots    int
}

// splineArgs reads the arguments of ns() or bs() call e (checked by
// checkCall).
func (e *Expr) splineArgs() splineCall {
	sc := splineCall{natural: e.name == "ns", degree: 3}
	kb := len(e.bound) - 1
	if e.flag(kb-1, false) {
		sc.intercept = 1
	}
	if d := e.bound[1]; d != nil {
		sc.df = int(d.num)
	}
	if !sc.natural && e.bound[3] != nil {
		sc.degree = int(e.bound[3].num)
	}
	if a := e.bound[2]; a != nil {
		sc.knots, _ = constVector(a)
		sc.knots = slices.Clone(sc.knots)
		slices.Sort(sc.knots)
	}
	if a := e.bound[kb]; a != nil {
		sc.boundary, _ = constVector(a)
		sc.boundary = slices.Clone(sc.boundary)
		slices.Sort(sc.boundary)
	}
	switch {
	case sc.knots != nil:
		sc.nKnots = len(sc.knots)
	case sc.df > 0 && sc.natural:
		sc.nKnots = max(sc.df-1-sc.intercept, 0)
	case sc.df > 0:
		sc.nKnots = max(sc.df-sc.degree-sc.intercept, 0)
	}
	if sc.natural {
		// A natural cubic spline: 4 + nKnots B-splines less 2
		// constraints, less the intercept column; counted as degree 1.
		sc.degree = 1
	}
	return sc
}

// constVector returns the numbers of a constant argument: a number, a
// negated number, or c() of such.
func constVector(a *Expr) ([]float64, bool) {
	switch {
	case a.kind == exNum:
		return []float64{a.num}, true
	case a.kind == exUnary && a.l.kind == exNum:
		if a.op == "-" {
			return []float64{-a.l.num}, true
		}
		return []float64{a.l.num}, true
	case a.kind == exParen:
		return constVector(a.l)
	case a.kind == exCall && a.name == "c":
		var out []float64
		for i, x := range a.args {
			if a.argNames[i] != "" {
				return nil, false
			}
			v, ok := constVector(x)
			if !ok {
				return nil, false
			}
			out = append(out, v...)
		}
		return out, len(out) > 0
	}
	return nil, false
}

func (e *Expr) flag(k int, def bool) bool {
	if a := e.bound[k]; a != nil {
		return a.num != 0
	}
	return def
}

// Transform is what a function of the formula learned from the training
// rows, reused for new rows as R's makepredictcall does: the centre and
// scale of scale(), and the alpha and norm2 coefficients of an orthogonal
// poly(). (A factor()'s levels are stored with the other factors.)
type Transform struct {
	// Term is the variable as the formula names it, "scale(Days)".
	Term string `json:"term"`
	// Center and Scale are scale()'s attributes "scaled:center" and
	// "scaled:scale" (absent when not applied).
	Center *float64 `json:"center,omitempty"`
	Scale  *float64 `json:"scale,omitempty"`
	// Alpha and Norm2 are poly()'s attr(, "coefs").
	Alpha []float64 `json:"alpha,omitempty"`
	Norm2 []float64 `json:"norm2,omitempty"`
	// Knots and BoundaryKnots are ns()'s and bs()'s attributes "knots"
	// (the interior knots, none for a spline without) and
	// "Boundary.knots".
	Knots         []float64 `json:"knots,omitempty"`
	BoundaryKnots []float64 `json:"boundary_knots,omitempty"`
}

// evalValue is the value of an expression on every row of a frame.
type evalValue struct {
	num []float64
	na  []bool
	// str holds a factor's cell text (factor()).
	str    []string
	factor bool
	// mat holds poly()'s columns.
	mat [][]float64
}

// evalCtx evaluates the variables of one formula on one frame.
type evalCtx struct {
	text string
	fr   *Frame
	// state holds what stateful variables learned (nil: learn now).
	state map[string]*Transform
	// learned collects the transforms learned while evaluating.
	learned []*Transform
}

func (c *evalCtx) errAt(pos int, hint, format string, args ...any) error {
	return &FormulaError{Text: c.text, Pos: pos, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// rowText names data row i in an error message.
func (c *evalCtx) rowText(i int) string {
	return fmt.Sprintf("row %d (line %d of %s)", i+1, i+2, c.fr.Source)
}

// column evaluates a column reference.
func (c *evalCtx) column(e *Expr, wantNumber bool, fn string) (*evalValue, error) {
	col := c.fr.Column(e.name)
	if col == nil {
		return nil, c.errAt(e.pos, strings.TrimPrefix(didYouMean(e.name, c.fr.ColumnNames()), " "), "unknown column %q", e.name)
	}
	v := &evalValue{na: col.NA}
	if !col.Categorical {
		v.num = col.Num
		return v, nil
	}
	if !wantNumber {
		v.str, v.factor = col.Str, true
		return v, nil
	}
	v.num = make([]float64, len(col.Str))
	for i, s := range col.Str {
		if col.NA[i] {
			v.num[i] = math.NaN()
			continue
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, c.errAt(e.pos, "", "column %q is categorical: %s() needs numbers, but %s is %q", e.name, fn, c.rowText(i), s)
		}
		v.num[i] = x
	}
	return v, nil
}

// numeric evaluates e as a numeric vector; fn names the function it is
// an argument of, for errors.
func (c *evalCtx) numeric(e *Expr, fn string) (*evalValue, error) {
	n := c.fr.NRows
	switch e.kind {
	case exNum, exBool:
		v := &evalValue{num: make([]float64, n), na: make([]bool, n)}
		for i := range v.num {
			v.num[i] = e.num
		}
		return v, nil
	case exName:
		return c.column(e, true, fn)
	case exParen:
		return c.numeric(e.l, fn)
	case exUnary:
		v, err := c.numeric(e.l, fn)
		if err != nil || e.op == "+" {
			return v, err
		}
		out := &evalValue{num: make([]float64, n), na: v.na}
		for i, x := range v.num {
			out.num[i] = -x
		}
		return out, nil
	case exBinary:
		l, err := c.numeric(e.l, fn)
		if err != nil {
			return nil, err
		}
		r, err := c.numeric(e.r, fn)
		if err != nil {
			return nil, err
		}
		out := &evalValue{num: make([]float64, n), na: orNA(l.na, r.na)}
		for i := range out.num {
			if out.na[i] {
				out.num[i] = math.NaN()
				continue
			}
			a, b := l.num[i], r.num[i]
			var x float64
			switch e.op {
			case "+":
				x = a + b
			case "-":
				x = a - b
			case "*":
				x = a * b
			case "/":
				x = a / b
			default:
				x = math.Pow(a, b)
			}
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, c.errAt(e.pos, "", "%s is %s at %s (%s %s %s)", e.Deparse(), nonFinite(x), c.rowText(i), rNumber(a), e.op, rNumber(b))
			}
			out.num[i] = x
		}
		return out, nil
	}
	v, err := c.call(e)
	if err != nil {
		return nil, err
	}
	if v.factor || v.mat != nil {
		return nil, c.errAt(e.pos, "", "%s() does not give numbers here", e.name)
	}
	return v, nil
}

func nonFinite(x float64) string {
	if math.IsNaN(x) {
		return "not a number"
	}
	return "infinite"
}

func orNA(a, b []bool) []bool {
	out := make([]bool, len(a))
	for i := range a {
		out[i] = a[i] || b[i]
	}
	return out
}

// call evaluates a function call.
func (c *evalCtx) call(e *Expr) (*evalValue, error) {
	n := c.fr.NRows
	x := e.bound[0]
	switch e.name {
	case "factor":
		if x.kind == exName {
			if col := c.fr.Column(x.name); col != nil && col.Categorical {
				return &evalValue{str: col.Str, na: col.NA, factor: true}, nil
			}
		}
		v, err := c.numeric(x, e.name)
		if err != nil {
			return nil, err
		}
		out := &evalValue{str: make([]string, n), na: v.na, factor: true}
		for i, a := range v.num {
			if !v.na[i] {
				out.str[i] = rNumber(a)
			}
		}
		return out, nil
	case "I", "as.numeric", "offset":
		return c.numeric(x, e.name)
	case "scale":
		return c.scale(e)
	case "poly":
		return c.poly(e)
	case "ns", "bs":
		return c.spline(e)
	case respCbind, respTrials:
		return c.binomialResponse(e)
	}
	v, err := c.numeric(x, e.name)
	if err != nil {
		return nil, err
	}
	var base *evalValue
	if e.name == "log" && e.bound[1] != nil {
		if base, err = c.numeric(e.bound[1], e.name); err != nil {
			return nil, err
		}
	}
	out := &evalValue{num: make([]float64, n), na: v.na}
	if base != nil {
		out.na = orNA(v.na, base.na)
	}
	for i, a := range v.num {
		if out.na[i] {
			out.num[i] = math.NaN()
			continue
		}
		var y float64
		switch e.name {
		case "log":
			y = math.Log(a)
			if base != nil {
				y /= math.Log(base.num[i])
			}
		case "log2":
			y = math.Log2(a)
		case "log10":
			y = math.Log10(a)
		case "log1p":
			y = math.Log1p(a)
		case "exp":
			y = math.Exp(a)
		case "sqrt":
			y = math.Sqrt(a)
		case "abs":
			y = math.Abs(a)
		}
		if math.IsNaN(y) || math.IsInf(y, 0) {
			var why string
			switch {
			case e.name == "exp":
				why = "exp() of " + rNumber(a) + " overflows"
			case base != nil && a > 0:
				why = "log() with base " + rNumber(base.num[i])
			case a == 0 || e.name == "log1p" && a == -1:
				why = e.name + "() of " + rNumber(a)
			default:
				why = e.name + "() of the negative value " + rNumber(a)
			}
			return nil, c.errAt(e.pos, "drop or fix the row, or transform differently", "%s is %s at %s: %s",
				e.Deparse(), nonFinite(y), c.rowText(i), why)
		}
		out.num[i] = y
	}
	return out, nil
}

// scale evaluates scale(x, center, scale): x minus its mean, divided by
// the root mean square sqrt(Σx²/(n-1)), over the non-NA values, as R's
// scale() does; with state, the stored centre and scale.
func (c *evalCtx) scale(e *Expr) (*evalValue, error) {
	v, err := c.numeric(e.bound[0], "scale")
	if err != nil {
		return nil, err
	}
	name := e.Deparse()
	st := c.state[name]
	if c.state != nil && st == nil {
		return nil, c.errAt(e.pos, "", "no stored centre and scale for %s", name)
	}
	if st == nil {
		st = &Transform{Term: name}
		cnt, sum := 0, 0.0
		for i, a := range v.num {
			if !v.na[i] {
				cnt++
				sum += a
			}
		}
		center := 0.0
		if e.flag(1, true) {
			if cnt == 0 {
				return nil, c.errAt(e.pos, "", "%s has no values", name)
			}
			center = sum / float64(cnt)
			st.Center = &center
		}
		if e.flag(2, true) {
			ss := 0.0
			for i, a := range v.num {
				if !v.na[i] {
					ss += (a - center) * (a - center)
				}
			}
			s := math.Sqrt(ss / float64(max(1, cnt-1)))
			if s == 0 || math.IsNaN(s) {
				return nil, c.errAt(e.pos, "", "%s divides by 0: the values are all %s", name, rNumber(center))
			}
			st.Scale = &s
		}
		c.learned = append(c.learned, st)
	}
	out := &evalValue{num: make([]float64, len(v.num)), na: v.na}
	for i, a := range v.num {
		if v.na[i] {
			out.num[i] = math.NaN()
			continue
		}
		if st.Center != nil {
			a -= *st.Center
		}
		if st.Scale != nil {
			a /= *st.Scale
		}
		out.num[i] = a
	}
	return out, nil
}

// poly evaluates poly(x, degree) (orthogonal polynomials, R's
// algorithm) or poly(x, degree, raw = TRUE) (powers of x).
func (c *evalCtx) poly(e *Expr) (*evalValue, error) {
	v, err := c.numeric(e.bound[0], "poly")
	if err != nil {
		return nil, err
	}
	deg := e.polyDegree()
	n := len(v.num)
	out := &evalValue{na: v.na, mat: make([][]float64, deg)}
	for k := range out.mat {
		out.mat[k] = make([]float64, n)
	}
	if e.flag(2, false) {
		for i, a := range v.num {
			p := 1.0
			for k := 0; k < deg; k++ {
				p *= a
				out.mat[k][i] = p
			}
		}
		out.num = out.mat[0]
		return out, nil
	}
	name := e.Deparse()
	st := c.state[name]
	if c.state != nil && st == nil {
		return nil, c.errAt(e.pos, "", "no stored coefficients for %s", name)
	}
	if st == nil {
		var xs []float64
		uniq := map[float64]bool{}
		for i, a := range v.num {
			if !v.na[i] {
				xs = append(xs, a)
				uniq[a] = true
			}
		}
		if deg >= len(uniq) {
			return nil, c.errAt(e.pos, "lower the degree", "the degree of %s must be less than the number of unique values of x (%d)", name, len(uniq))
		}
		alpha, norm2 := polyCoefs(xs, deg)
		st = &Transform{Term: name, Alpha: alpha, Norm2: norm2}
		c.learned = append(c.learned, st)
	}
	if len(st.Alpha) != deg || len(st.Norm2) != deg+2 {
		return nil, c.errAt(e.pos, "", "stored coefficients of %s do not fit degree %d", name, deg)
	}
	for i, a := range v.num {
		if v.na[i] {
			for k := range out.mat {
				out.mat[k][i] = math.NaN()
			}
			continue
		}
		polyRow(a, st.Alpha, st.Norm2, out.mat, i)
	}
	out.num = out.mat[0]
	return out, nil
}

// spline evaluates ns() or bs(): on training data it places the knots
// (given, or at quantiles of the non-missing x for df) and the boundary
// knots (given, or the range of x); with state it uses the stored ones.
func (c *evalCtx) spline(e *Expr) (*evalValue, error) {
	v, err := c.numeric(e.bound[0], e.name)
	if err != nil {
		return nil, err
	}
	name := e.Deparse()
	sc := e.splineArgs()
	ncol := e.matCols()
	st := c.state[name]
	if c.state != nil && st == nil {
		return nil, c.errAt(e.pos, "", "no stored knots for %s", name)
	}
	if st == nil {
		var xs []float64
		for i, a := range v.num {
			if !v.na[i] {
				xs = append(xs, a)
			}
		}
		if len(xs) == 0 {
			return nil, c.errAt(e.pos, "", "%s has no values", name)
		}
		bk := sc.boundary
		if bk == nil {
			bk = []float64{slices.Min(xs), slices.Max(xs)}
			if bk[0] == bk[1] {
				return nil, c.errAt(e.pos, "", "%s needs at least 2 different values of x; they are all %s", name, rNumber(bk[0]))
			}
		}
		knots := sc.knots
		if knots == nil && sc.nKnots > 0 {
			var inside []float64
			for _, a := range xs {
				if a >= bk[0] && a <= bk[1] {
					inside = append(inside, a)
				}
			}
			if len(inside) == 0 {
				return nil, c.errAt(e.pos, "", "%s: no value of x lies within the boundary knots", name)
			}
			knots = splineKnots(inside, sc.nKnots)
		}
		st = &Transform{Term: name, Knots: slices.Clone(knots), BoundaryKnots: slices.Clone(bk)}
		c.learned = append(c.learned, st)
	}
	if len(st.BoundaryKnots) != 2 || len(st.Knots) != sc.nKnots {
		return nil, c.errAt(e.pos, "", "stored knots of %s do not fit its %d columns", name, ncol)
	}
	deg := sc.degree
	if sc.natural {
		deg = 3
	}
	sp := &splineSpec{natural: sc.natural, degree: deg, intercept: sc.intercept == 1, knots: st.Knots,
		boundary: [2]float64{st.BoundaryKnots[0], st.BoundaryKnots[1]}}
	out := &evalValue{na: v.na, mat: sp.rows(v.num, v.na, ncol)}
	out.num = out.mat[0]
	return out, nil
}

// polyCoefs returns R's poly() coefficients for x: alpha (degree values)
// and norm2 (degree+2 values, starting 1, n). They are computed by the
// three-term (Stieltjes) recurrence of the monic orthogonal polynomials
// on the centred values, which gives the same polynomials as R's QR of
// the centred Vandermonde matrix (its Z columns are each power's residual
// on the lower powers, whatever the signs of Q and R).
func polyCoefs(x []float64, deg int) (alpha, norm2 []float64) {
	n := len(x)
	xbar := 0.0
	for _, a := range x {
		xbar += a
	}
	xbar /= float64(n)
	xc := make([]float64, n)
	for i, a := range x {
		xc[i] = a - xbar
	}
	prev := make([]float64, n) // P_{j-1}
	cur := make([]float64, n)  // P_j
	for i := range cur {
		cur[i] = 1
	}
	norm2 = []float64{1, float64(n)}
	for j := 0; j <= deg; j++ {
		if j > 0 {
			s := 0.0
			for _, p := range cur {
				s += p * p
			}
			norm2 = append(norm2, s)
		}
		if j == deg {
			break
		}
		nj := norm2[len(norm2)-1]
		s := 0.0
		for i, p := range cur {
			s += xc[i] * p * p
		}
		a := s / nj
		alpha = append(alpha, a+xbar)
		ratio := 0.0
		if j > 0 {
			ratio = nj / norm2[len(norm2)-2]
		}
		next := make([]float64, n)
		for i := range next {
			next[i] = (xc[i]-a)*cur[i] - ratio*prev[i]
		}
		prev, cur = cur, next
	}
	return alpha, norm2
}

// polyRow writes the orthogonal polynomial values of x into column k of
// row i of mat, as R's poly(x, coefs = list(alpha, norm2)) computes them.
func polyRow(x float64, alpha, norm2 []float64, mat [][]float64, i int) {
	deg := len(alpha)
	zPrev, z := 1.0, x-alpha[0]
	mat[0][i] = z / math.Sqrt(norm2[2])
	for k := 1; k < deg; k++ {
		zn := (x-alpha[k])*z - (norm2[k+1]/norm2[k])*zPrev
		zPrev, z = z, zn
		mat[k][i] = z / math.Sqrt(norm2[k+2])
	}
}

// deriveColumns returns fr with one more column for every function-call
// variable of f (named as the formula names it), evaluated on every row.
// state, when not nil, holds what stateful functions learned from the
// training data; otherwise they learn from fr and the learned transforms
// are returned. With skipResponse, a response whose columns fr lacks is
// left out (new data need no response).
func deriveColumns(f *Formula, fr *Frame, state map[string]*Transform, skipResponse bool) (*Frame, []*Transform, error) {
	vars := f.callVars()
	if len(vars) == 0 {
		return fr, nil, nil
	}
	out := &Frame{Source: fr.Source, Columns: append([]*Column(nil), fr.Columns...), NRows: fr.NRows}
	c := &evalCtx{text: f.Text, fr: fr, state: state}
	for _, v := range vars {
		if fr.Column(v.Name) != nil {
			return nil, nil, c.errAt(v.Pos, "rename the column", "the data has a column named %q, the same as the function call", v.Name)
		}
		var missing []string
		for _, b := range v.Expr.columns(nil) {
			if fr.Column(b.Name) == nil {
				missing = append(missing, b.Name)
			}
		}
		if len(missing) > 0 && skipResponse && v.Name == f.Response.Name {
			continue
		}
		if len(missing) > 0 && state != nil {
			return nil, nil, fmt.Errorf("%s: column %q used by the model (in %s) is not in the new data%s",
				fr.Source, missing[0], v.Name, didYouMean(missing[0], fr.ColumnNames()))
		}
		val, err := c.call(v.Expr)
		if err != nil {
			return nil, nil, err
		}
		col := &Column{Name: v.Name, NA: val.na}
		switch {
		case val.factor:
			col.Categorical = true
			col.Str = val.str
		default:
			col.Num = val.num
			col.mat = val.mat
			col.Str = make([]string, len(val.num))
			for i, a := range val.num {
				if !val.na[i] {
					col.Str[i] = rNumber(a)
				}
			}
		}
		out.Columns = append(out.Columns, col)
	}
	return out, c.learned, nil
}

// callVars returns the function-call variables of f, each once.
func (f *Formula) callVars() []Var {
	return formulaVars(f, func(v Var) bool { return v.Expr != nil })
}

// parseCall parses the arguments of a call to function name, after which
// '(' follows.
func (p *formulaParser) parseCall(name formulaToken) (*Expr, error) {
	open := p.next()
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errAt(open.pos, "", "parentheses nested more than %d deep", maxDepth)
	}
	e := &Expr{kind: exCall, name: name.text, pos: name.pos}
	if p.peek().kind == tokRParen {
		p.next()
		return e, nil
	}
	for {
		argName := ""
		if t := p.peek(); t.kind == tokName && p.toks[p.i+1].kind == tokEq {
			argName = t.text
			p.next()
			p.next()
		}
		a, err := p.parseArith()
		if err != nil {
			return nil, err
		}
		e.args = append(e.args, a)
		e.argNames = append(e.argNames, argName)
		switch t := p.next(); t.kind {
		case tokComma:
			continue
		case tokRParen:
			return e, nil
		case tokEOF:
			return nil, p.errAt(open.pos, "add the missing ')'", "'(' is never closed")
		default:
			return nil, p.errAt(t.pos, "inside a function call write arithmetic with + - * / ^", "unexpected %s in a call to %s()", t.describe(), quoteName(name.text))
		}
	}
}

// parseArith parses an R arithmetic expression inside a call: sums of
// products of (signed) powers of numbers, names, TRUE/FALSE, calls and
// parenthesised expressions, with R's precedence (-2^2 is -4).
func (p *formulaParser) parseArith() (*Expr, error) {
	left, err := p.parseArithProd()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokPlus && t.kind != tokMinus {
			return left, nil
		}
		p.next()
		r, err := p.parseArithProd()
		if err != nil {
			return nil, err
		}
		left = &Expr{kind: exBinary, op: punctText[t.kind], l: left, r: r, pos: left.pos}
	}
}

func (p *formulaParser) parseArithProd() (*Expr, error) {
	left, err := p.parseArithUnary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokStar && t.kind != tokSlash {
			return left, nil
		}
		p.next()
		r, err := p.parseArithUnary()
		if err != nil {
			return nil, err
		}
		left = &Expr{kind: exBinary, op: punctText[t.kind], l: left, r: r, pos: left.pos}
	}
}

func (p *formulaParser) parseArithUnary() (*Expr, error) {
	if t := p.peek(); t.kind == tokMinus || t.kind == tokPlus {
		p.next()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, p.errAt(t.pos, "", "expression nested more than %d deep", maxDepth)
		}
		x, err := p.parseArithUnary()
		if err != nil {
			return nil, err
		}
		return &Expr{kind: exUnary, op: punctText[t.kind], l: x, pos: t.pos}, nil
	}
	base, err := p.parseArithAtom()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tokCaret {
		p.next()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, p.errAt(t.pos, "", "expression nested more than %d deep", maxDepth)
		}
		// '^' is right-associative and binds tighter than unary minus on
		// its left, looser on its right: 2^-1, a^b^c = a^(b^c).
		ex, err := p.parseArithUnary()
		if err != nil {
			return nil, err
		}
		return &Expr{kind: exBinary, op: "^", l: base, r: ex, pos: base.pos}, nil
	}
	return base, nil
}

func (p *formulaParser) parseArithAtom() (*Expr, error) {
	t := p.next()
	switch t.kind {
	case tokNum:
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(v, 0) {
			return nil, p.errAt(t.pos, "", "number %s is out of range", t.text)
		}
		return &Expr{kind: exNum, num: v, pos: t.pos}, nil
	case tokName:
		if !t.quoted && (t.text == "TRUE" || t.text == "FALSE") {
			v := 0.0
			if t.text == "TRUE" {
				v = 1
			}
			return &Expr{kind: exBool, num: v, pos: t.pos}, nil
		}
		if n := p.peek(); n.kind == tokLParen && (!n.space || !t.quoted) {
			return p.parseCall(t)
		}
		if rReserved(t.text) && !t.quoted {
			return nil, p.errAt(t.pos, "backquote it, as in `"+t.text+"`, if it is a column name", "%s is an R keyword or constant, not a column", t.text)
		}
		return &Expr{kind: exName, name: t.text, pos: t.pos}, nil
	case tokLParen:
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, p.errAt(t.pos, "", "parentheses nested more than %d deep", maxDepth)
		}
		x, err := p.parseArith()
		if err != nil {
			return nil, err
		}
		switch c := p.next(); c.kind {
		case tokRParen:
			return &Expr{kind: exParen, l: x, pos: t.pos}, nil
		case tokEOF:
			return nil, p.errAt(t.pos, "add the missing ')'", "'(' is never closed")
		default:
			return nil, p.errAt(c.pos, "", "unexpected %s inside parentheses", c.describe())
		}
	case tokEOF:
		return nil, p.errAt(t.pos, "the formula stops too early", "missing argument")
	}
	return nil, p.errAt(t.pos, "inside a function call write arithmetic with + - * / ^", "unexpected %s in a function argument", t.describe())
}

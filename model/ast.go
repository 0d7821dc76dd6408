package model

// Formula is a parsed lme4-style model formula such as
// "Reaction ~ Days + (Days | Subject)".
//
// Random-effect terms are stored after expansion: "(x || g)" becomes one
// RandomTerm per effect with Correlated false, and "(1 | a/b)" becomes
// "(1 | a) + (1 | a:b)".
type Formula struct {
	// Text is the formula exactly as the user wrote it.
	Text string
	// Response is the response: a column, or a function call such as
	// log(Reaction) (Var.Expr set).
	Response Var
	// Fixed is the fixed-effects part of the right-hand side.
	Fixed TermList
	// Random holds the random-effect terms in the order they appear.
	Random []RandomTerm
	// Offsets are the offset(expr) terms of the fixed part, each once, in
	// order of appearance; their sum is added to the linear predictor
	// with coefficient 1, as R's model.offset() sums them.
	Offsets []Var
}

// TermList is the right-hand side of a model formula (or of the left side
// of a random-effect bar): an intercept flag and the non-intercept terms.
type TermList struct {
	// Intercept is false when the formula says "0 +", "+ 0" or "- 1".
	Intercept bool
	// Terms holds each distinct term once, ordered as R's terms() orders
	// them: by degree (main effects, then two-way interactions, ...), and
	// by first appearance within a degree.
	Terms []Term
}

// Term is a product of variables; a main effect has one variable and an
// interaction such as "recipe:temp" has two. Vars are ordered by their
// first appearance in the formula, as R orders the variables of a term.
type Term struct {
	Vars []Var
}

// Label returns the term's name as R prints it, the variable names joined
// by ":".
func (t Term) Label() string {
	s := ""
	for i, v := range t.Vars {
		if i > 0 {
			s += ":"
		}
		s += v.Name
	}
	return s
}

// Var is a variable of a formula: a column, or a function call of
// columns such as log(Reaction), scale(Days) or poly(Days, 2).
type Var struct {
	// Name is the column name; backquoted names are stored unquoted.
	Name string
	// Pos is the 1-based character column in Formula.Text where the name
	// starts, for error messages.
	Pos int
	// Expr is the function call for a variable such as log(Reaction),
	// whose Name is the call as R deparses it; nil for a column.
	Expr *Expr
}

// written returns the variable as a formula writes it.
func (v Var) written() string {
	if v.Expr != nil {
		return v.Name
	}
	return quoteName(v.Name)
}

// RandomTerm is one random-effect term "(expr | group)".
type RandomTerm struct {
	// Expr gives the effects that vary by group; an intercept is implied
	// unless removed with "0 +" or "- 1", as in lme4.
	Expr TermList
	// Group is the grouping factor: one variable, or several for an
	// interaction "a:b" (which nesting "a/b" also produces).
	Group []Var
	// Correlated is false for the terms produced by splitting "(x || g)".
	Correlated bool
	// Pos is the 1-based character column of the opening parenthesis.
	Pos int
}

// GroupName returns the grouping factor's name as lme4 prints it, the
// variable names joined by ":".
func (r RandomTerm) GroupName() string {
	return Term{Vars: r.Group}.Label()
}

package model

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// FormulaError is an error in a model formula written by the user. It
// names the 1-based character column at fault.
type FormulaError struct {
	// Text is the formula as written.
	Text string
	// Pos is the 1-based character column of the fault in Text (one past
	// the end for a formula that stops too early); 0 when unknown.
	Pos int
	// Msg says what is wrong.
	Msg string
	// Hint, when not empty, suggests a fix.
	Hint string
}

// Error returns the message on one line, as in
// `formula: unexpected ')' at column 17`.
func (e *FormulaError) Error() string {
	s := "formula: " + e.Msg
	if e.Pos > 0 {
		s += " at column " + strconv.Itoa(e.Pos)
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return oneLine(s)
}

// oneLine escapes control characters (which a backquoted name may hold)
// as Go escapes, so that a message stays on one line.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Detail returns the formula on one line and a caret under the column at
// fault on the next. Line breaks and tabs in the formula are shown as
// spaces so that the caret lines up.
func (e *FormulaError) Detail() string {
	var b strings.Builder
	n := 0
	for _, r := range e.Text {
		if r < ' ' || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	b.WriteByte('\n')
	pos := min(max(e.Pos, 1), n+1)
	b.WriteString(strings.Repeat(" ", pos-1))
	b.WriteByte('^')
	return b.String()
}

// maxTerms bounds the number of terms a formula may expand to, so that
// "(a+b+...+z)^26" fails cleanly instead of exhausting memory.
const maxTerms = 4096

// maxDepth bounds the nesting of parentheses.
const maxDepth = 100

// nodeKind is the kind of a formula syntax-tree node.
type nodeKind int

const (
	nodeName nodeKind = iota
	nodeNum
	nodeParen
	nodeUnary
	nodeBinary
	nodeBar
	nodeCall
)

// formulaNode is a formula syntax-tree node.
type formulaNode struct {
	kind nodeKind
	// op is the operator of a unary, binary or bar node ("+", ":", "||").
	op string
	// name is a variable's name; num a number's value and text.
	name string
	num  float64
	text string
	// pos is the column where the node's text starts (the opening
	// parenthesis of a bar node); opPos the operator's column.
	pos, opPos int
	l, r       *formulaNode
	// call is a function call's expression (nodeCall; name is its
	// deparsed text).
	call *Expr
}

// formulaParser is a recursive-descent parser over the tokens of one formula.
type formulaParser struct {
	text  string
	toks  []formulaToken
	i     int
	depth int
}

func (p *formulaParser) peek() formulaToken { return p.toks[p.i] }

func (p *formulaParser) next() formulaToken {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *formulaParser) errAt(pos int, hint, format string, args ...any) error {
	return &FormulaError{Text: p.text, Pos: pos, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// unexpected is the error for token t where something else was needed.
func (p *formulaParser) unexpected(t formulaToken) error {
	hint := ""
	switch t.kind {
	case tokTilde:
		hint = "a formula has one '~'"
	case tokRParen:
		hint = "no '(' matches it"
	case tokBar, tokDBar:
		return p.errAt(t.pos, "write random effects in parentheses, as in (1 | g)", "'%s' outside parentheses", punctText[t.kind])
	case tokName, tokNum, tokLParen:
		hint = "missing '+' or another operator before it?"
	case tokEOF:
		hint = "the formula stops too early"
	}
	return p.errAt(t.pos, hint, "unexpected %s", t.describe())
}

// parseFormula parses "response ~ rhs" into its two syntax trees.
func (p *formulaParser) parseFormula() (lhs, rhs *formulaNode, err error) {
	tilde := -1
	for i, t := range p.toks {
		if t.kind == tokTilde {
			tilde = i
			break
		}
	}
	if tilde < 0 {
		return nil, nil, p.errAt(1, "write response ~ terms, as in Reaction ~ Days + (Days | Subject)", "missing '~'")
	}
	if tilde == 0 {
		return nil, nil, p.errAt(p.toks[0].pos, "write response ~ terms", "missing response before '~'")
	}
	if lhs, err = p.parseResponse(); err != nil {
		return nil, nil, err
	}
	if t := p.next(); t.kind != tokTilde {
		return nil, nil, p.unexpected(t)
	}
	if t := p.peek(); t.kind == tokEOF {
		return nil, nil, p.errAt(t.pos, "write the terms after '~', or 1 for an intercept only", "nothing after '~'")
	}
	if rhs, err = p.parseSum(); err != nil {
		return nil, nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, nil, p.unexpected(t)
	}
	return lhs, rhs, nil
}

// parseSum parses terms joined by '+' and '-', with an optional leading
// sign.
func (p *formulaParser) parseSum() (*formulaNode, error) {
	var left *formulaNode
	if t := p.peek(); t.kind == tokPlus || t.kind == tokMinus {
		p.next()
		x, err := p.parseProd(t)
		if err != nil {
			return nil, err
		}
		left = &formulaNode{kind: nodeUnary, op: punctText[t.kind], pos: t.pos, opPos: t.pos, l: x}
	} else {
		x, err := p.parseProd(formulaToken{})
		if err != nil {
			return nil, err
		}
		left = x
	}
	for {
		t := p.peek()
		if t.kind != tokPlus && t.kind != tokMinus {
			return left, nil
		}
		p.next()
		x, err := p.parseProd(t)
		if err != nil {
			return nil, err
		}
		left = &formulaNode{kind: nodeBinary, op: punctText[t.kind], pos: left.pos, opPos: t.pos, l: left, r: x}
	}
}

// parseProd parses factors joined by '*' and '/'; after is the operator
// token before it (a zero token at the start of a sum), for error
// messages.
func (p *formulaParser) parseProd(after formulaToken) (*formulaNode, error) {
	left, err := p.parseInter(after)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokStar && t.kind != tokSlash {
			return left, nil
		}
		p.next()
		x, err := p.parseInter(t)
		if err != nil {
			return nil, err
		}
		left = &formulaNode{kind: nodeBinary, op: punctText[t.kind], pos: left.pos, opPos: t.pos, l: left, r: x}
	}
}

// parseInter parses factors joined by ':'.
func (p *formulaParser) parseInter(after formulaToken) (*formulaNode, error) {
	left, err := p.parsePow(after)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tokColon {
			return left, nil
		}
		p.next()
		x, err := p.parsePow(t)
		if err != nil {
			return nil, err
		}
		left = &formulaNode{kind: nodeBinary, op: ":", pos: left.pos, opPos: t.pos, l: left, r: x}
	}
}

// parsePow parses an atom optionally raised to a whole-number power.
func (p *formulaParser) parsePow(after formulaToken) (*formulaNode, error) {
	base, err := p.parseAtom(after)
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != tokCaret {
		return base, nil
	}
	p.next()
	e := p.next()
	if e.kind != tokNum || e.num != math.Trunc(e.num) || e.num < 1 {
		return nil, p.errAt(e.pos, "write a whole number such as 2, as in (a + b + c)^2", "the power after '^' must be a whole number")
	}
	return &formulaNode{kind: nodeBinary, op: "^", pos: base.pos, opPos: t.pos, l: base, num: e.num, text: e.text}, nil
}

// parseAtom parses a name, 0 or 1, or a parenthesised expression (which
// may be a random-effect term).
func (p *formulaParser) parseAtom(after formulaToken) (*formulaNode, error) {
	t := p.next()
	switch t.kind {
	case tokName:
		if n := p.peek(); n.kind == tokLParen && (!n.space || !t.quoted && formulaFuncs[t.text].formals != nil) {
			e, err := p.parseCall(t)
			if err != nil {
				return nil, err
			}
			if err := p.checkCall(e, false); err != nil {
				return nil, err
			}
			return &formulaNode{kind: nodeCall, name: e.Deparse(), pos: t.pos, call: e}, nil
		}
		if rReserved(t.text) && !t.quoted {
			return nil, p.errAt(t.pos, "backquote it, as in `"+t.text+"`, if it is a column name", "%s is an R keyword or constant, not a column", t.text)
		}
		return &formulaNode{kind: nodeName, name: t.text, pos: t.pos}, nil
	case tokNum:
		if t.num != 0 && t.num != 1 {
			return nil, p.errAt(t.pos, "a term is a column name; 1 adds and 0 removes the intercept", "number %s is not allowed", t.text)
		}
		return &formulaNode{kind: nodeNum, num: t.num, text: t.text, pos: t.pos}, nil
	case tokDot:
		return nil, p.errAt(t.pos, "name the columns", "'.' (all other columns) is not supported")
	case tokLParen:
		return p.parseParen(t)
	case tokEOF:
		if after.kind != tokEOF {
			return nil, p.errAt(t.pos, "", "missing term after '%s'", punctText[after.kind])
		}
		return nil, p.errAt(t.pos, "", "missing term")
	case tokBar, tokDBar, tokRParen:
		if after.kind != tokEOF {
			return nil, p.errAt(t.pos, "", "missing term after '%s'", punctText[after.kind])
		}
	case tokPlus, tokMinus, tokStar, tokSlash, tokColon, tokCaret, tokTilde:
		if after.kind != tokEOF {
			return nil, p.errAt(t.pos, "", "unexpected %s after '%s'", t.describe(), punctText[after.kind])
		}
	}
	return nil, p.unexpected(t)
}

// parseParen parses what follows '(': an expression, or "expr | group"
// or "expr || group", then ')'.
func (p *formulaParser) parseParen(open formulaToken) (*formulaNode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errAt(open.pos, "", "parentheses nested more than %d deep", maxDepth)
	}
	if t := p.peek(); t.kind == tokRParen {
		return nil, p.errAt(open.pos, "", "empty parentheses")
	}
	if t := p.peek(); t.kind == tokBar || t.kind == tokDBar {
		return nil, p.errAt(t.pos, "write the effects before the bar, as in (1 | g)", "nothing before '%s'", punctText[t.kind])
	}
	inner, err := p.parseSum()
	if err != nil {
		return nil, err
	}
	n := &formulaNode{kind: nodeParen, pos: open.pos, l: inner}
	if bar := p.peek(); bar.kind == tokBar || bar.kind == tokDBar {
		p.next()
		if t := p.peek(); t.kind == tokRParen || t.kind == tokEOF {
			return nil, p.errAt(bar.pos, "name the grouping factor after the bar, as in (1 | g)", "nothing after '%s'", punctText[bar.kind])
		}
		g, err := p.parseSum()
		if err != nil {
			return nil, err
		}
		if t := p.peek(); t.kind == tokBar || t.kind == tokDBar {
			return nil, p.errAt(t.pos, "", "a random-effect term has only one '|' or '||'")
		}
		n = &formulaNode{kind: nodeBar, op: punctText[bar.kind], pos: open.pos, opPos: bar.pos, l: inner, r: g}
	}
	switch t := p.next(); t.kind {
	case tokRParen:
		return n, nil
	case tokEOF:
		return nil, p.errAt(open.pos, "add the missing ')'", "'(' is never closed")
	default:
		return nil, p.unexpected(t)
	}
}

// ParseFormula parses an lme4-style model formula such as
// "Reaction ~ Days + (Days | Subject)". It expands "*", "/", "^" and
// parentheses as R's terms() does, splits "(x || g)" and nests
// "(1 | a/b)" as lme4 does, and returns a *FormulaError naming the column
// for any mistake.
func ParseFormula(text string) (*Formula, error) {
	toks, err := lexFormula(text)
	if err != nil {
		return nil, err
	}
	p := &formulaParser{text: text, toks: toks}
	lhs, rhs, err := p.parseFormula()
	if err != nil {
		return nil, err
	}
	resp := lhs
	for resp.kind == nodeParen {
		resp = resp.l
	}
	if resp.kind != nodeName && resp.kind != nodeCall {
		return nil, p.errAt(lhs.pos, "write one column, or a function of one such as log(y)", "the response must be a single column name")
	}
	if resp.kind == nodeCall && (resp.call.name == "factor" || resp.call.name == "offset" || resp.call.matCols() > 1) {
		return nil, p.errAt(resp.pos, "", "the response must be numbers, one value per row: %s() cannot be the response", resp.call.name)
	}
	f := &Formula{Text: text, Response: Var{Name: resp.name, Pos: resp.pos, Expr: resp.call}}
	s := newScope(p, f.Response.Name)
	s.random = &f.Random
	s.offsets = &f.Offsets
	terms, err := s.encode(rhs, encodeCtx{})
	if err != nil {
		return nil, err
	}
	f.Fixed = s.termList(terms)
	return f, nil
}

// encodeCtx says where in the formula an expression sits.
type encodeCtx struct {
	// op is the innermost enclosing ':', '*', '/' or '^', if any.
	op string
	// sub is true inside the right side of '-'.
	sub bool
}

// termScope evaluates one right-hand side (the fixed part, or the left side of
// one random-effect bar) into terms, as R's terms() does.
type termScope struct {
	p        *formulaParser
	response string
	rank     map[string]int
	vars     []Var
	// intercept and parity follow R's model.c: "1" sets the intercept to
	// parity and "0" to its negation; parity flips inside "-".
	intercept, parity bool
	// random collects random-effect terms; nil where none may appear.
	random *[]RandomTerm
	// offsets collects offset() terms; nil where none may appear.
	offsets *[]Var
	seen    map[string]int
}

// termSet is a term as the sorted ranks of its variables.
type termSet []int

func (t termSet) key() string {
	var b strings.Builder
	for _, r := range t {
		b.WriteString(strconv.Itoa(r))
		b.WriteByte(',')
	}
	return b.String()
}

func newScope(p *formulaParser, response string) *termScope {
	return &termScope{p: p, response: response, rank: map[string]int{}, intercept: true, parity: true}
}

// varRank returns the rank of variable n, assigning the next one on its
// first appearance.
func (s *termScope) varRank(n *formulaNode) (int, error) {
	if n.name == s.response {
		return 0, s.p.errAt(n.pos, "", "the response %q also appears on the right-hand side", n.name)
	}
	if r, ok := s.rank[n.name]; ok {
		return r, nil
	}
	r := len(s.vars)
	s.rank[n.name] = r
	s.vars = append(s.vars, Var{Name: n.name, Pos: n.pos, Expr: n.call})
	return r, nil
}

// termUnion returns the sorted union of a and b.
func termUnion(a, b termSet) termSet {
	out := make(termSet, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || i < len(a) && a[i] < b[j]:
			out = append(out, a[i])
			i++
		case i >= len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// trim removes repeated terms, keeping the first of each, and fails when
// there are too many.
func (s *termScope) trim(n *formulaNode, ts []termSet) ([]termSet, error) {
	seen := make(map[string]bool, len(ts))
	out := ts[:0:0]
	for _, t := range ts {
		k := t.key()
		if !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	if len(out) > maxTerms {
		return nil, s.p.errAt(n.pos, "", "the formula expands to more than %d terms", maxTerms)
	}
	return out, nil
}

// interact returns every union of a term of l with a term of r.
func (s *termScope) interact(n *formulaNode, l, r []termSet) ([]termSet, error) {
	if len(l)*len(r) > maxTerms*maxTerms/16 {
		return nil, s.p.errAt(n.pos, "", "the formula expands to more than %d terms", maxTerms)
	}
	out := make([]termSet, 0, len(l)*len(r))
	for _, a := range l {
		for _, b := range r {
			out = append(out, termUnion(a, b))
		}
	}
	return s.trim(n, out)
}

// encode evaluates expression n into its terms, following R's
// EncodeVars: "+" joins, "-" deletes, ":" interacts, "*" crosses, "/"
// nests and "^" crosses a sum with itself.
func (s *termScope) encode(n *formulaNode, c encodeCtx) ([]termSet, error) {
	switch n.kind {
	case nodeName, nodeCall:
		if n.kind == nodeCall && n.call.name == "offset" {
			return nil, s.addOffset(n, c)
		}
		r, err := s.varRank(n)
		if err != nil {
			return nil, err
		}
		return []termSet{{r}}, nil
	case nodeNum:
		if c.op != "" {
			return nil, s.p.errAt(n.pos, "1 and 0 only add or remove the intercept", "%s cannot be used with '%s'", n.text, c.op)
		}
		s.intercept = (n.num == 1) == s.parity
		return nil, nil
	case nodeParen:
		return s.encode(n.l, c)
	case nodeBar:
		return nil, s.addRandom(n, c)
	case nodeUnary:
		if n.op == "+" {
			return s.encode(n.l, c)
		}
		s.parity = !s.parity
		_, err := s.encode(n.l, encodeCtx{op: c.op, sub: true})
		s.parity = !s.parity
		return nil, err
	}
	// nodeBinary
	if n.op == "+" || n.op == "-" {
		l, err := s.encode(n.l, c)
		if err != nil {
			return nil, err
		}
		if n.op == "-" {
			s.parity = !s.parity
			r, err := s.encode(n.r, encodeCtx{op: c.op, sub: true})
			s.parity = !s.parity
			if err != nil {
				return nil, err
			}
			drop := map[string]bool{}
			for _, t := range r {
				drop[t.key()] = true
			}
			out := l[:0:0]
			for _, t := range l {
				if !drop[t.key()] {
					out = append(out, t)
				}
			}
			return out, nil
		}
		r, err := s.encode(n.r, c)
		if err != nil {
			return nil, err
		}
		return s.trim(n, append(l[:len(l):len(l)], r...))
	}
	inner := encodeCtx{op: n.op, sub: c.sub}
	l, err := s.encode(n.l, inner)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "^":
		if len(l) == 1 {
			return nil, s.p.errAt(n.opPos, "make a column with the squared values", "'^' crosses a sum of terms with itself, as in (a + b)^2, and does nothing to a single term")
		}
		// After as many steps as there are variables nothing changes.
		steps := int(math.Min(n.num, float64(len(s.vars)+1)))
		right := l
		for i := 1; i < steps; i++ {
			if right, err = s.interact(n, l, right); err != nil {
				return nil, err
			}
		}
		return right, nil
	}
	r, err := s.encode(n.r, inner)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case ":":
		return s.interact(n, l, r)
	case "*":
		lr, err := s.interact(n, l, r)
		if err != nil {
			return nil, err
		}
		return s.trim(n, append(append(l[:len(l):len(l)], r...), lr...))
	default: // "/"
		var all termSet
		for _, t := range l {
			all = termUnion(all, t)
		}
		out := l[:len(l):len(l)]
		for _, t := range r {
			out = append(out, termUnion(all, t))
		}
		return s.trim(n, out)
	}
}

// addOffset records offset() call n, which adds to the linear predictor
// and is not a term: it must be added with '+' at the top level of the
// fixed part, as R's terms() takes it (an offset() twice counts once).
func (s *termScope) addOffset(n *formulaNode, c encodeCtx) error {
	switch {
	case s.offsets == nil:
		return s.p.errAt(n.pos, "write it in the fixed part, as in y ~ x + offset(o) + (1 | g)", "offset() cannot be inside a random-effect term")
	case c.op != "":
		return s.p.errAt(n.pos, "add it with '+', as in y ~ x + offset(o)", "offset() cannot be part of '%s'", c.op)
	case c.sub:
		return s.p.errAt(n.pos, "write offset(-x) to subtract x", "offset() cannot be subtracted")
	}
	for _, v := range *s.offsets {
		if v.Name == n.name {
			return nil
		}
	}
	*s.offsets = append(*s.offsets, Var{Name: n.name, Pos: n.pos, Expr: n.call})
	return nil
}

// termList orders terms by degree, keeping their order within a degree,
// and turns them into a TermList.
func (s *termScope) termList(ts []termSet) TermList {
	sort.SliceStable(ts, func(i, j int) bool { return len(ts[i]) < len(ts[j]) })
	tl := TermList{Intercept: s.intercept}
	for _, t := range ts {
		vars := make([]Var, len(t))
		for i, r := range t {
			vars[i] = s.vars[r]
		}
		tl.Terms = append(tl.Terms, Term{Vars: vars})
	}
	return tl
}

// addRandom evaluates random-effect term n and appends its expansion to
// the formula's random terms.
func (s *termScope) addRandom(n *formulaNode, c encodeCtx) error {
	switch {
	case s.random == nil:
		return s.p.errAt(n.pos, "", "a random-effect term cannot appear inside another")
	case c.op != "":
		return s.p.errAt(n.pos, "add random-effect terms with '+' at the top level, as in y ~ x + (1 | g)", "a random-effect term cannot be part of '%s'", c.op)
	case c.sub:
		return s.p.errAt(n.pos, "", "a random-effect term cannot be subtracted")
	}
	es := newScope(s.p, s.response)
	terms, err := es.encode(n.l, encodeCtx{})
	if err != nil {
		return err
	}
	if !es.intercept && len(terms) == 0 {
		return s.p.errAt(n.pos, "use (1 | g) for a random intercept", "random-effect term has no effects")
	}
	expr := es.termList(terms)
	groups, err := s.groups(n.r)
	if err != nil {
		return err
	}
	exprs := []TermList{expr}
	if n.op == "||" {
		exprs = nil
		if expr.Intercept {
			exprs = append(exprs, TermList{Intercept: true})
		}
		for _, t := range expr.Terms {
			exprs = append(exprs, TermList{Terms: []Term{t}})
		}
	}
	if s.seen == nil {
		s.seen = map[string]int{}
	}
	for _, e := range exprs {
		for _, g := range groups {
			rt := RandomTerm{Expr: e, Group: g, Correlated: n.op == "|", Pos: n.pos}
			k := randomKey(rt)
			if at, ok := s.seen[k]; ok {
				return s.p.errAt(n.pos, fmt.Sprintf("the term at column %d already gives it", at), "duplicate random-effect term %s", renderRandom(rt))
			}
			s.seen[k] = n.pos
			*s.random = append(*s.random, rt)
		}
	}
	return nil
}

// randomKey identifies a random-effect term by its effects and the set of
// its grouping variables.
func randomKey(rt RandomTerm) string {
	var b strings.Builder
	if rt.Expr.Intercept {
		b.WriteString("1")
	}
	for _, t := range rt.Expr.Terms {
		names := make([]string, len(t.Vars))
		for i, v := range t.Vars {
			names[i] = strconv.Quote(v.Name)
		}
		sort.Strings(names)
		b.WriteString("+" + strings.Join(names, ":"))
	}
	names := make([]string, len(rt.Group))
	for i, v := range rt.Group {
		names[i] = strconv.Quote(v.Name)
	}
	sort.Strings(names)
	b.WriteString("|" + strings.Join(names, ":"))
	return b.String()
}

// groups evaluates the grouping factor of a random-effect term: a name,
// an interaction a:b, or a nesting a/b (giving a and a:b).
func (s *termScope) groups(n *formulaNode) ([][]Var, error) {
	switch {
	case n.kind == nodeName || n.kind == nodeCall:
		if n.name == s.response {
			return nil, s.p.errAt(n.pos, "", "the response %q also appears on the right-hand side", n.name)
		}
		if n.kind == nodeCall && (n.call.matCols() > 1 || n.call.name == "offset") {
			return nil, s.p.errAt(n.pos, "", "%s() cannot be a grouping factor", n.call.name)
		}
		return [][]Var{{{Name: n.name, Pos: n.pos, Expr: n.call}}}, nil
	case n.kind == nodeParen:
		return s.groups(n.l)
	case n.kind == nodeBinary && (n.op == ":" || n.op == "/"):
		l, err := s.groups(n.l)
		if err != nil {
			return nil, err
		}
		r, err := s.groups(n.r)
		if err != nil {
			return nil, err
		}
		var out [][]Var
		if n.op == ":" {
			if len(l)*len(r) > maxTerms {
				return nil, s.p.errAt(n.pos, "", "the grouping factor expands to more than %d terms", maxTerms)
			}
			for _, a := range l {
				for _, b := range r {
					out = append(out, joinVars(a, b))
				}
			}
		} else {
			var all []Var
			for _, a := range l {
				all = joinVars(all, a)
			}
			out = append(out, l...)
			for _, b := range r {
				out = append(out, joinVars(all, b))
			}
		}
		return dedupGroups(out), nil
	}
	at := n.pos
	if n.kind == nodeBinary || n.kind == nodeUnary {
		at = n.opPos
	}
	return nil, s.p.errAt(at, "write a column, an interaction such as a:b, or a nesting such as a/b", "the grouping factor after '|' must be a column or an interaction of columns")
}

// joinVars returns a followed by the variables of b not in a.
func joinVars(a, b []Var) []Var {
	out := append([]Var(nil), a...)
	for _, v := range b {
		dup := false
		for _, u := range out {
			if u.Name == v.Name {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

// dedupGroups removes grouping factors with the same set of variables,
// keeping the first.
func dedupGroups(gs [][]Var) [][]Var {
	seen := map[string]bool{}
	var out [][]Var
	for _, g := range gs {
		names := make([]string, len(g))
		for i, v := range g {
			names[i] = strconv.Quote(v.Name)
		}
		sort.Strings(names)
		k := strings.Join(names, ":")
		if !seen[k] {
			seen[k] = true
			out = append(out, g)
		}
	}
	return out
}

// usedVars returns every variable the formula uses with its position:
// the response, the fixed-effect variables, and each random term's
// effect and grouping variables, ordered by position.
func (f *Formula) usedVars() []Var {
	var vars []Var
	add := func(vs ...Var) {
		for _, v := range vs {
			if v.Expr != nil {
				vars = v.Expr.columns(vars)
			} else {
				vars = append(vars, v)
			}
		}
	}
	add(f.Response)
	addTerms := func(tl TermList) {
		for _, t := range tl.Terms {
			add(t.Vars...)
		}
	}
	addTerms(f.Fixed)
	add(f.Offsets...)
	for _, rt := range f.Random {
		addTerms(rt.Expr)
		add(rt.Group...)
	}
	sort.SliceStable(vars, func(i, j int) bool { return vars[i].Pos < vars[j].Pos })
	seen := map[string]bool{}
	out := vars[:0]
	for _, v := range vars {
		if !seen[v.Name] {
			seen[v.Name] = true
			out = append(out, v)
		}
	}
	return out
}

// Columns returns the distinct column names the formula uses (response,
// fixed effects, random effects and grouping factors) in order of first
// appearance.
func (f *Formula) Columns() []string {
	vars := f.usedVars()
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return names
}

// CheckColumns returns a *FormulaError for the first variable of the
// formula that is not one of names, suggesting the closest name.
func (f *Formula) CheckColumns(names []string) error {
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	for _, v := range f.usedVars() {
		if known[v.Name] {
			continue
		}
		e := &FormulaError{Text: f.Text, Pos: v.Pos, Msg: fmt.Sprintf("unknown column %q", v.Name)}
		if s := Suggest(v.Name, names); s != "" {
			e.Hint = fmt.Sprintf("did you mean %q?", s)
		}
		return e
	}
	return nil
}

// String renders the formula canonically: the intercept written out as 1
// or 0, the fixed terms in R's order, and each random-effect term after
// expansion, the terms split from "||" written with "||". Parsing the
// result gives the same formula.
func (f *Formula) String() string {
	var b strings.Builder
	b.WriteString(f.Response.written())
	b.WriteString(" ~ ")
	b.WriteString(renderTerms(f.Fixed))
	for _, v := range f.Offsets {
		b.WriteString(" + ")
		b.WriteString(v.Name)
	}
	for _, rt := range f.Random {
		b.WriteString(" + ")
		b.WriteString(renderRandom(rt))
	}
	return b.String()
}

// renderRandom renders one random-effect term, as in "(1 + Days | Subject)".
func renderRandom(rt RandomTerm) string {
	bar := " | "
	if !rt.Correlated {
		bar = " || "
	}
	names := make([]string, len(rt.Group))
	for i, v := range rt.Group {
		names[i] = v.written()
	}
	return "(" + renderTerms(rt.Expr) + bar + strings.Join(names, ":") + ")"
}

// renderTerms renders a term list as "1 + a + b + a:b" (or "0 + ...").
// R orders the variables of a term by their first appearance, so the
// terms must be written in an order that keeps every term's variables in
// their order when read back: R's order if it does, else from the highest
// degree down (as for "b:a + a", whose terms are a and b:a), else with
// the variables first listed and removed again, as in
// "1 + b + a - b - a + a + b:a".
func renderTerms(tl TermList) string {
	parts := []string{"0"}
	if tl.Intercept {
		parts[0] = "1"
	}
	terms := tl.Terms
	if !consistentOrder(terms) {
		terms = append([]Term(nil), tl.Terms...)
		sort.SliceStable(terms, func(i, j int) bool { return len(terms[i].Vars) > len(terms[j].Vars) })
		if !consistentOrder(terms) {
			terms = tl.Terms
			if order, ok := varOrder(tl); ok {
				written := map[string]string{}
				for _, t := range tl.Terms {
					for _, v := range t.Vars {
						written[v.Name] = v.written()
					}
				}
				for _, v := range order {
					parts = append(parts, "+", written[v])
				}
				for _, v := range order {
					parts = append(parts, "-", written[v])
				}
			}
		}
	}
	for _, t := range terms {
		names := make([]string, len(t.Vars))
		for i, v := range t.Vars {
			names[i] = v.written()
		}
		parts = append(parts, "+", strings.Join(names, ":"))
	}
	return strings.Join(parts, " ")
}

// consistentOrder reports whether reading terms in order assigns first
// appearances that keep every term's variables in their order.
func consistentOrder(terms []Term) bool {
	rank := map[string]int{}
	for _, t := range terms {
		for _, v := range t.Vars {
			if _, ok := rank[v.Name]; !ok {
				rank[v.Name] = len(rank)
			}
		}
	}
	for _, t := range terms {
		for i := 1; i < len(t.Vars); i++ {
			if rank[t.Vars[i-1].Name] >= rank[t.Vars[i].Name] {
				return false
			}
		}
	}
	return true
}

// varOrder returns an order of tl's variables that keeps the order of the
// variables in every term, preferring first appearance, or false when the
// terms contradict each other.
func varOrder(tl TermList) ([]string, bool) {
	var names []string
	index := map[string]int{}
	for _, t := range tl.Terms {
		for _, v := range t.Vars {
			if _, ok := index[v.Name]; !ok {
				index[v.Name] = len(names)
				names = append(names, v.Name)
			}
		}
	}
	after := make([][]int, len(names))
	indeg := make([]int, len(names))
	for _, t := range tl.Terms {
		for i := 1; i < len(t.Vars); i++ {
			a, b := index[t.Vars[i-1].Name], index[t.Vars[i].Name]
			after[a] = append(after[a], b)
			indeg[b]++
		}
	}
	var order []string
	done := make([]bool, len(names))
	for len(order) < len(names) {
		next := -1
		for i := range names {
			if !done[i] && indeg[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			return nil, false
		}
		done[next] = true
		order = append(order, names[next])
		for _, b := range after[next] {
			indeg[b]--
		}
	}
	return order, true
}

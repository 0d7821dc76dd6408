package model

import (
	"fmt"
	"math"
)

// This file holds the binomial responses of a formula: lme4's
// cbind(successes, failures), with arithmetic inside
// (cbind(incidence, size - incidence)), and brms's
// successes | trials(n). Each is a response variable whose value has two
// columns, successes and failures (a matrix variable, as poly()'s are),
// checked row by row when it is evaluated.

// Response call names: cbind(s, f), and trials for s | trials(n) (whose
// arguments are s and n).
const (
	respCbind  = "cbind"
	respTrials = "trials"
)

// parseResponse parses the left side of '~': a sum as any response, or
// cbind(successes, failures), or successes | trials(n).
func (p *formulaParser) parseResponse() (*formulaNode, error) {
	if t := p.peek(); t.kind == tokName && !t.quoted && t.text == respCbind && p.toks[p.i+1].kind == tokLParen {
		p.next()
		e, err := p.parseCall(t)
		if err != nil {
			return nil, err
		}
		if len(e.args) != 2 {
			return nil, p.errAt(t.pos, "write cbind(successes, failures), as in cbind(incidence, size - incidence)", "cbind() needs exactly two arguments, successes and failures (got %d)", len(e.args))
		}
		for i, a := range e.args {
			if e.argNames[i] != "" {
				return nil, p.errAt(a.pos, "write cbind(successes, failures) without argument names", "cbind() arguments are not named")
			}
			if err := p.checkExpr(a, true); err != nil {
				return nil, err
			}
		}
		e.bound = e.args
		return &formulaNode{kind: nodeCall, name: e.Deparse(), pos: t.pos, call: e}, nil
	}
	lhs, err := p.parseSum()
	if err != nil {
		return nil, err
	}
	bar := p.peek()
	if bar.kind != tokBar {
		return lhs, nil
	}
	p.next()
	t := p.next()
	if t.kind != tokName || t.text != respTrials || p.peek().kind != tokLParen {
		return nil, p.errAt(bar.pos, "write successes | trials(n) for a binomial response, or put random effects in parentheses, as in (1 | g)", "'|' outside parentheses")
	}
	resp := lhs
	for resp.kind == nodeParen {
		resp = resp.l
	}
	var s *Expr
	switch resp.kind {
	case nodeName:
		s = &Expr{kind: exName, name: resp.name, pos: resp.pos}
	case nodeCall:
		s = resp.call
	default:
		return nil, p.errAt(lhs.pos, "write one column before '|', as in successes | trials(n)", "the successes of a binomial response must be a single column")
	}
	e, err := p.parseCall(t)
	if err != nil {
		return nil, err
	}
	if len(e.args) != 1 || e.argNames[0] != "" {
		return nil, p.errAt(t.pos, "write successes | trials(n)", "trials() needs exactly one argument, the number of trials")
	}
	if err := p.checkExpr(e.args[0], true); err != nil {
		return nil, err
	}
	call := &Expr{kind: exCall, name: respTrials, pos: lhs.pos, args: []*Expr{s, e.args[0]}, argNames: []string{"", ""}}
	call.bound = call.args
	return &formulaNode{kind: nodeCall, name: call.Deparse(), pos: lhs.pos, call: call}, nil
}

// isBinomialResponse reports whether e is cbind(s, f) or s | trials(n).
func isBinomialResponse(e *Expr) bool {
	return e != nil && e.kind == exCall && (e.name == respCbind || e.name == respTrials) && len(e.bound) == 2
}

// deparseTrials writes s | trials(n) as brms does.
func deparseTrials(e *Expr) string {
	return e.args[0].Deparse() + " | trials(" + e.args[1].Deparse() + ")"
}

// binomialResponse evaluates cbind(s, f) or s | trials(n) on every row:
// num holds the successes and mat the successes and failures. Successes,
// failures and trials must be whole numbers at least 0 (and successes at
// most trials); the first row that is not is an error naming its line.
func (c *evalCtx) binomialResponse(e *Expr) (*evalValue, error) {
	s, err := c.numeric(e.bound[0], e.name)
	if err != nil {
		return nil, err
	}
	o, err := c.numeric(e.bound[1], e.name)
	if err != nil {
		return nil, err
	}
	n := c.fr.NRows
	out := &evalValue{num: make([]float64, n), na: orNA(s.na, o.na), mat: [][]float64{make([]float64, n), make([]float64, n)}}
	what := "failures"
	if e.name == respTrials {
		what = "trials"
	}
	whole := func(x float64) bool { return x >= 0 && x == math.Trunc(x) }
	for i := range n {
		if out.na[i] {
			out.num[i] = math.NaN()
			out.mat[0][i], out.mat[1][i] = math.NaN(), math.NaN()
			continue
		}
		si, oi := s.num[i], o.num[i]
		switch {
		case !whole(si):
			return nil, c.errAt(e.bound[0].pos, "a binomial response counts successes: whole numbers from 0", "successes %s must be a whole number ≥ 0, but it is %s at %s", e.bound[0].Deparse(), rNumber(si), c.rowText(i))
		case !whole(oi):
			return nil, c.errAt(e.bound[1].pos, "", "%s %s must be a whole number ≥ 0, but it is %s at %s", what, e.bound[1].Deparse(), rNumber(oi), c.rowText(i))
		case e.name == respTrials && si > oi:
			return nil, c.errAt(e.bound[0].pos, "", "successes %s = %s exceed the trials %s = %s at %s", e.bound[0].Deparse(), rNumber(si), e.bound[1].Deparse(), rNumber(oi), c.rowText(i))
		}
		f := oi
		if e.name == respTrials {
			f = oi - si
		}
		out.num[i] = si
		out.mat[0][i], out.mat[1][i] = si, f
	}
	return out, nil
}

// glmResponseColumn returns the response column as the family reads it:
// for bernoulli and binomial a two-level categorical column (such as
// TRUE/FALSE or N/Y) becomes 0 for its first level in R's order and 1 for
// the second, as glm codes a factor response; levels holds the two
// levels (nil otherwise). A binomial response call needs a logistic
// family.
func glmResponseColumn(f *Formula, resp *Column, fam Family, source string) (*Column, []string, error) {
	if isBinomialResponse(f.Response.Expr) && fam != Binomial {
		return nil, nil, fmt.Errorf("%s: the response %s counts successes out of trials: it needs family \"binomial\" (the family is %q)", source, f.Response.Name, fam)
	}
	if !fam.Logistic() || !resp.Categorical {
		return resp, nil, nil
	}
	var rows []int
	for i := range resp.Str {
		if !resp.NA[i] {
			rows = append(rows, i)
		}
	}
	fi, err := newFactor(resp, rows, "", source)
	if err != nil {
		return nil, nil, err
	}
	if len(fi.levels) != 2 {
		return nil, nil, fmt.Errorf("%s: response %q of family %q must have two values (0/1, FALSE/TRUE or a two-level factor), but it has %d: %s",
			source, resp.Name, fam, len(fi.levels), listLevels(fi.levels))
	}
	c := &Column{Name: resp.Name, Num: make([]float64, len(resp.Str)), Str: resp.Str, NA: resp.NA}
	for _, i := range rows {
		c.Num[i] = float64(fi.index[cellKey(resp, i, fi.byValue)])
	}
	for i := range c.Num {
		if resp.NA[i] {
			c.Num[i] = math.NaN()
		}
	}
	return c, fi.levels, nil
}

// setGLMResponse checks the response of d against its family on the used
// rows and sets d.Family, d.Trials and d.YLevels; rd holds the used rows'
// values and rows their frame indices.
func setGLMResponse(d *Design, f *Formula, rd *rowData, rows []int, fam Family, levels []string, source string) error {
	d.Family = fam
	d.YLevels = levels
	if fam == Gaussian {
		return nil
	}
	name := f.Response.Name
	line := func(k int) string { return fmt.Sprintf("row %d (line %d of %s)", rows[k]+1, rows[k]+2, source) }
	if isBinomialResponse(f.Response.Expr) {
		m := rd.mat[name]
		d.Trials = make([]float64, d.N)
		for k := range d.N {
			d.Trials[k] = m[0][k] + m[1][k]
		}
		return nil
	}
	for k, y := range d.Y {
		switch {
		case fam.Logistic() && y != 0 && y != 1:
			hint := ""
			if fam == Binomial {
				hint = "; for counts out of n trials write cbind(successes, failures) or successes | trials(n)"
			}
			return fmt.Errorf("%s: response %q of family %q must be 0 or 1 (or FALSE/TRUE, or a two-level factor), but it is %s at %s%s",
				source, name, fam, rNumber(y), line(k), hint)
		case fam.Count() && (y < 0 || y != math.Trunc(y)):
			return fmt.Errorf("%s: response %q of family %q must be a count (a whole number ≥ 0), but it is %s at %s",
				source, name, fam, rNumber(y), line(k))
		}
	}
	if fam == Binomial {
		d.Trials = make([]float64, d.N)
		for k := range d.Trials {
			d.Trials[k] = 1
		}
	}
	return nil
}

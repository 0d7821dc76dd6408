package model

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the parts of R's model.matrix that decide which columns
// a term list produces: treatment contrasts, R's rule for coding a factor
// by indicators when a margin of its term is absent, column order and
// column names; and the ordering of factor levels.

// factorInfo is a column used as a factor: its levels in order and how
// cells map to them.
type factorInfo struct {
	// name is the column name.
	name string
	// byValue is true when the training column was numeric: cells are
	// matched by numeric value, so "308" and "308.0" are one level.
	byValue bool
	// levels are the level labels in order (reference first).
	levels []string
	// keys are the cell keys of the levels (see cellKey), and index maps
	// a cell key to its level.
	keys  []string
	index map[string]int
}

// cellKey returns the key under which row i of c is matched to a level of
// a factor built with byValue.
func cellKey(c *Column, i int, byValue bool) string {
	if byValue {
		var v float64
		if c.Categorical {
			p, err := strconv.ParseFloat(strings.TrimSpace(c.Str[i]), 64)
			if err != nil {
				return c.Str[i]
			}
			v = p
		} else {
			v = c.Num[i]
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return c.Str[i]
}

// newFactor builds the factor of column c from the given rows: the levels
// present in those rows, ordered as R's factor() orders them (numerically
// when every level is a number, otherwise by collateLess), with ref, when
// not empty, moved to the front.
func newFactor(c *Column, rows []int, ref string, source string) (*factorInfo, error) {
	fi := &factorInfo{name: c.Name, byValue: !c.Categorical, index: map[string]int{}}
	var keys, labels []string
	for _, i := range rows {
		k := cellKey(c, i, fi.byValue)
		if _, ok := fi.index[k]; ok {
			continue
		}
		fi.index[k] = len(keys)
		keys = append(keys, k)
		if fi.byValue {
			labels = append(labels, strings.TrimSpace(c.Str[i]))
		} else {
			labels = append(labels, c.Str[i])
		}
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	nums, numeric := make([]float64, len(keys)), true
	for i, k := range keys {
		v, err := strconv.ParseFloat(strings.TrimSpace(k), 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			numeric = false
			break
		}
		nums[i] = v
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if numeric && nums[a] != nums[b] {
			if nums[a] < nums[b] {
				return -1
			}
			return 1
		}
		return collate(keys[a], keys[b])
	})
	if ref != "" {
		at := -1
		for p, o := range order {
			if labels[o] == ref || keys[o] == ref {
				at = p
				break
			}
		}
		if at < 0 {
			var sorted []string
			for _, o := range order {
				sorted = append(sorted, labels[o])
			}
			return nil, fmt.Errorf("%s: reference level %q of column %q is not among its levels in the used rows (%s)%s",
				source, ref, c.Name, listLevels(sorted), didYouMean(ref, sorted))
		}
		o := order[at]
		copy(order[1:at+1], order[:at])
		order[0] = o
	}
	fi.levels = make([]string, len(keys))
	fi.keys = make([]string, len(keys))
	for p, o := range order {
		fi.levels[p] = labels[o]
		fi.keys[p] = keys[o]
		fi.index[keys[o]] = p
	}
	return fi, nil
}

// listLevels joins levels for an error message, eliding the middle of a
// long list.
func listLevels(levels []string) string {
	if len(levels) > 8 {
		return strings.Join(levels[:4], ", ") + ", ..., " + strings.Join(levels[len(levels)-3:], ", ")
	}
	return strings.Join(levels, ", ")
}

// collate orders strings approximating R's sort() under ICU's en_US
// collation, which R uses: first by a primary key that ignores case and
// puts white space and punctuation before digits before letters, then,
// at the first position where the strings differ only in case, lower case
// before upper case, then by bytes. Accents are not folded ("é" sorts
// after "z", where ICU puts it after "e").
func collate(a, b string) int {
	if c := compareRunes(a, b, primaryLess); c != 0 {
		return c
	}
	if c := compareRunes(a, b, func(x, y rune) int {
		switch lx, ly := unicode.IsLower(x), unicode.IsLower(y); {
		case lx && !ly:
			return -1
		case !lx && ly:
			return 1
		}
		return 0
	}); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// compareRunes compares a and b rune by rune with cmp, a shorter prefix
// first.
func compareRunes(a, b string, cmp func(x, y rune) int) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if c := cmp(ra, rb); c != 0 {
			return c
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case a == "" && b != "":
		return -1
	case a != "" && b == "":
		return 1
	}
	return 0
}

// primaryLess compares two runes by (class, lower-case rune) where the
// classes are white space and punctuation, digits, letters.
func primaryLess(x, y rune) int {
	class := func(r rune) int {
		switch {
		case unicode.IsLetter(r):
			return 2
		case unicode.IsDigit(r):
			return 1
		}
		return 0
	}
	if c := class(x) - class(y); c != 0 {
		return c
	}
	return int(unicode.ToLower(x)) - int(unicode.ToLower(y))
}

// part is one factor of a model-matrix column: a numeric variable, or the
// indicator of one level of a factor.
type part struct {
	// col is the column name.
	col string
	// factor is nil for a numeric variable.
	factor *factorInfo
	// level is the factor level this part indicates.
	level int
	// sub is 1 + the column of a matrix variable (poly()), 0 otherwise.
	sub int
}

// colSpec is one model-matrix column: the product of its parts (the
// intercept has none).
type colSpec struct {
	parts []part
}

// termCode is R's TermCode (stats/src/model.c): variable v of term t is
// coded by contrasts (1) when the term without v is empty or is contained
// in a term before t, and by indicators of all levels (2) otherwise.
func termCode(terms []Term, t, v int) int {
	var margin []string
	for k, x := range terms[t].Vars {
		if k != v {
			margin = append(margin, x.Name)
		}
	}
	if len(margin) == 0 {
		return 1
	}
	for s := 0; s < t; s++ {
		in := true
		for _, m := range margin {
			if !slices.ContainsFunc(terms[s].Vars, func(x Var) bool { return x.Name == m }) {
				in = false
				break
			}
		}
		if in {
			return 1
		}
	}
	return 2
}

// modelColumns returns the columns R's model.matrix makes for tl with
// treatment contrasts: "(Intercept)" first when tl has one, then each term's
// columns in term order, the first variable of a term varying fastest.
// factors gives the factor of every categorical variable; a variable not
// in it is numeric. what names the matrix in errors.
func modelColumns(tl TermList, factors map[string]*factorInfo, what string) ([]colSpec, []string, error) {
	var cols []colSpec
	var names []string
	if tl.Intercept {
		cols = append(cols, colSpec{})
		names = append(names, "(Intercept)")
	}
	codes := make([][]int, len(tl.Terms))
	for t, term := range tl.Terms {
		codes[t] = make([]int, len(term.Vars))
		for v, x := range term.Vars {
			if factors[x.Name] != nil {
				codes[t][v] = termCode(tl.Terms, t, v)
			}
		}
	}
	// Without an intercept, the first factor of the first term holding a
	// factor is coded by indicators (model.c, modelmatrix).
	if !tl.Intercept {
	first:
		for t, term := range tl.Terms {
			for v, x := range term.Vars {
				if factors[x.Name] != nil {
					codes[t][v] = 2
					break first
				}
			}
		}
	}
	for t, term := range tl.Terms {
		// choices[v] lists the parts variable v can contribute.
		choices := make([][]part, len(term.Vars))
		for v, x := range term.Vars {
			fi := factors[x.Name]
			switch deg := x.Expr.matCols(); {
			case fi == nil && deg > 1:
				// A matrix variable gives its columns, named by the
				// variable and the column's name: poly(x, 2)1, poly(x, 2)2.
				for j := 1; j <= deg; j++ {
					choices[v] = append(choices[v], part{col: x.Name, sub: j})
				}
			case fi == nil:
				choices[v] = []part{{col: x.Name}}
			case codes[t][v] == 1:
				if len(fi.levels) < 2 {
					return nil, nil, fmt.Errorf("%s: term %q: factor %q has %d level in the used rows; contrasts need 2 or more",
						what, term.Label(), x.Name, len(fi.levels))
				}
				for l := 1; l < len(fi.levels); l++ {
					choices[v] = append(choices[v], part{col: x.Name, factor: fi, level: l})
				}
			default:
				for l := range fi.levels {
					choices[v] = append(choices[v], part{col: x.Name, factor: fi, level: l})
				}
			}
		}
		// Enumerate the product, first variable fastest.
		idx := make([]int, len(choices))
		for {
			ps := make([]part, len(choices))
			label := make([]string, len(choices))
			for v, c := range choices {
				ps[v] = c[idx[v]]
				label[v] = ps[v].name()
			}
			cols = append(cols, colSpec{parts: ps})
			names = append(names, strings.Join(label, ":"))
			v := 0
			for v < len(idx) {
				idx[v]++
				if idx[v] < len(choices[v]) {
					break
				}
				idx[v] = 0
				v++
			}
			if v == len(idx) {
				break
			}
		}
	}
	return cols, names, nil
}

// name returns the part's name in R's column names: the variable, followed
// by the level for a factor.
func (p part) name() string {
	if p.sub > 0 {
		return p.col + strconv.Itoa(p.sub)
	}
	if p.factor == nil {
		return p.col
	}
	return p.col + p.factor.levels[p.level]
}

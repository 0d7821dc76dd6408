package model

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// NewData builds the design of new rows fr with the training design's
// columns, factor levels and contrasts: every row of fr is used. The
// response is optional (Y is nil when fr has no such column; NA responses
// stay NaN). A missing predictor or grouping column, an NA in one, a
// non-numeric value in a numeric predictor, or a level of a fixed-effect
// factor (or of a factor inside a random term) not seen in training is an
// error. A grouping level not seen in training gets the index
// len(Levels)+j, where NewLevels[j] is that level, in order of first
// appearance.
func (d *Design) NewData(fr *Frame) (*NewData, error) {
	if d == nil || d.fixed == nil {
		return nil, fmt.Errorf("new data: design was not made by Build")
	}
	if fr == nil || fr.NRows == 0 {
		return nil, fmt.Errorf("new data: no rows")
	}
	state := map[string]*Transform{}
	for _, t := range d.transforms {
		state[t.Term] = t
	}
	fr, _, err := deriveColumns(d.Formula, fr, state, true)
	if err != nil {
		return nil, err
	}
	n := fr.NRows
	rd := &rowData{n: n, num: map[string][]float64{}, lev: map[string][]int{}, mat: map[string][][]float64{}}
	specs := []*fixedSpec{d.fixed}
	for _, t := range d.Terms {
		if t.spec == nil {
			return nil, fmt.Errorf("new data: random term %s was not made by Build", t.Group)
		}
		specs = append(specs, t.spec)
	}
	for _, s := range specs {
		for _, name := range s.numeric {
			if _, done := rd.num[name]; done {
				continue
			}
			v, err := numericColumn(fr, name)
			if err != nil {
				return nil, err
			}
			rd.num[name] = v
			if c := fr.Column(name); c.mat != nil {
				rd.mat[name] = c.mat
			}
		}
		for _, fi := range s.factors {
			if _, done := rd.lev[fi.name]; done {
				continue
			}
			l, err := factorColumn(fr, fi)
			if err != nil {
				return nil, err
			}
			rd.lev[fi.name] = l
		}
	}

	nd := &NewData{N: n}
	if c := fr.Column(d.fixed.response); c != nil {
		if c.Categorical {
			return nil, fmt.Errorf("%s:%d: response %q must be numeric, but %q is not a number",
				fr.Source, firstTextLine(c), c.Name, firstText(c))
		}
		nd.Y = slices.Clone(c.Num)
		for i := range nd.Y {
			if c.NA[i] {
				nd.Y[i] = math.NaN()
			}
		}
	}
	// A binomial model's trials, when the new data hold the response's
	// columns: s + f of cbind(s, f), n of s | trials(n).
	if d.Family == Binomial && isBinomialResponse(d.Formula.Response.Expr) {
		if c := fr.Column(d.Formula.Response.Name); c != nil && len(c.mat) == 2 {
			nd.Trials = make([]float64, n)
			for i := range n {
				if c.NA[i] {
					return nil, fmt.Errorf("%s: row %d (line %d): the trials of %s are missing; give them on every row, or leave the response's columns out to predict one trial per row",
						fr.Source, i+1, i+2, d.Formula.Response.Name)
				}
				nd.Trials[i] = c.mat[0][i] + c.mat[1][i]
			}
		}
	}
	nd.X = fillMatrix(d.fixed, rd)
	if err := d.newDataExtras(fr, nd); err != nil {
		return nil, err
	}
	for _, t := range d.Terms {
		nt, err := newReTerm(fr, t, rd)
		if err != nil {
			return nil, err
		}
		nd.Terms = append(nd.Terms, nt)
	}
	return nd, nil
}

// newReTerm evaluates training term t on the new rows.
func newReTerm(fr *Frame, t *ReTerm, rd *rowData) (*NewReTerm, error) {
	s := t.spec
	n := rd.n
	cols := make([]*Column, len(s.group))
	for g, fi := range s.group {
		c, err := predictorColumn(fr, fi.name)
		if err != nil {
			return nil, err
		}
		cols[g] = c
	}
	nt := &NewReTerm{Refs: make([]int32, n)}
	fresh := map[string]int{}
	parts := make([]string, len(s.group))
	labels := make([]string, len(s.group))
	for i := range n {
		for g, fi := range s.group {
			parts[g] = cellKey(cols[g], i, fi.byValue)
			if l, ok := fi.index[parts[g]]; ok {
				labels[g] = fi.levels[l]
			} else {
				labels[g] = strings.TrimSpace(cols[g].Str[i])
			}
		}
		key := strings.Join(parts, "\x00")
		if l, ok := s.groupIndex[key]; ok {
			nt.Refs[i] = int32(l)
			continue
		}
		j, ok := fresh[key]
		if !ok {
			j = len(nt.NewLevels)
			fresh[key] = j
			nt.NewLevels = append(nt.NewLevels, strings.Join(labels, ":"))
		}
		nt.Refs[i] = int32(len(t.Levels) + j)
	}
	nt.Z = fillZ(s, rd)
	return nt, nil
}

// predictorColumn returns column name of fr and fails when it is absent or
// has an NA cell.
func predictorColumn(fr *Frame, name string) (*Column, error) {
	c := fr.Column(name)
	if c == nil {
		return nil, fmt.Errorf("%s: column %q used by the model is not in the new data%s",
			fr.Source, name, didYouMean(name, fr.ColumnNames()))
	}
	for i, na := range c.NA {
		if na {
			return nil, fmt.Errorf("%s:%d: column %q is NA; new data needs every predictor and grouping value",
				fr.Source, i+2, name)
		}
	}
	return c, nil
}

// numericColumn returns the values of numeric predictor name in fr.
func numericColumn(fr *Frame, name string) ([]float64, error) {
	c, err := predictorColumn(fr, name)
	if err != nil {
		return nil, err
	}
	if !c.Categorical {
		return slices.Clone(c.Num), nil
	}
	v := make([]float64, len(c.Str))
	for i, s := range c.Str {
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, fmt.Errorf("%s:%d: column %q is numeric in the model, but %q is not a finite number",
				fr.Source, i+2, name, s)
		}
		v[i] = x
	}
	return v, nil
}

// factorColumn returns the training level of each new row of factor fi.
func factorColumn(fr *Frame, fi *factorInfo) ([]int, error) {
	c, err := predictorColumn(fr, fi.name)
	if err != nil {
		return nil, err
	}
	l := make([]int, len(c.Str))
	for i := range c.Str {
		k, ok := fi.index[cellKey(c, i, fi.byValue)]
		if !ok {
			return nil, fmt.Errorf("%s:%d: column %q: level %q was not in the training data (levels: %s)%s",
				fr.Source, i+2, fi.name, c.Str[i], listLevels(fi.levels), didYouMean(c.Str[i], fi.levels))
		}
		l[i] = k
	}
	return l, nil
}

// LevelMap is what Design.NewData needs of the training data beyond the
// formula: every factor's levels in order (reference first) and the
// levels of every grouping factor. A run stores it, so that new rows are
// coded without the training file (FromLevels).
type LevelMap struct {
	Factors []FactorLevels `json:"factors"`
	Groups  []GroupLevels  `json:"groups"`
	// Transforms are what the formula's functions learned from the
	// training rows (scale()'s centre and scale, poly()'s coefficients).
	Transforms []*Transform `json:"transforms,omitempty"`
	// Aliased are the fixed-effects columns dropped as rank deficient.
	Aliased []string `json:"aliased,omitempty"`
	// OffsetColumn and WeightsColumn are the data's offset and weights
	// columns ([data] offset and weights), which new rows are read with.
	OffsetColumn  string `json:"offset_column,omitempty"`
	WeightsColumn string `json:"weights_column,omitempty"`
}

// FactorLevels are the levels of one factor column.
type FactorLevels struct {
	Column string `json:"column"`
	// Numeric is true when the training column was numeric: new cells
	// are matched to levels by value ("308.0" is level "308").
	Numeric bool `json:"numeric"`
	// Reference is the first level, the one treatment contrasts leave
	// out.
	Reference string   `json:"reference"`
	Levels    []string `json:"levels"`
}

// GroupLevels are the levels of one random term's grouping factor, in the
// order of ReTerm.Levels (the order of the r_ columns).
type GroupLevels struct {
	Group  string   `json:"group"`
	Levels []string `json:"levels"`
	// Combos gives, for a grouping factor of several columns (a:b), each
	// level's index into each column's factor levels; nil for one column.
	Combos [][]int `json:"combos,omitempty"`
}

// LevelMap returns the levels d codes new rows with.
func (d *Design) LevelMap() *LevelMap {
	lm := &LevelMap{Factors: []FactorLevels{}, Groups: []GroupLevels{}}
	if d == nil || d.fixed == nil {
		return lm
	}
	lm.Aliased = slices.Clone(d.Aliased)
	lm.OffsetColumn, lm.WeightsColumn = d.OffsetColumn, d.WeightsColumn
	for _, t := range d.transforms {
		c := *t
		lm.Transforms = append(lm.Transforms, &c)
	}
	seen := map[string]bool{}
	add := func(fis []*factorInfo) {
		for _, fi := range fis {
			if fi == nil || seen[fi.name] {
				continue
			}
			seen[fi.name] = true
			ref := ""
			if len(fi.levels) > 0 {
				ref = fi.levels[0]
			}
			lm.Factors = append(lm.Factors, FactorLevels{Column: fi.name, Numeric: fi.byValue, Reference: ref, Levels: slices.Clone(fi.levels)})
		}
	}
	add(d.fixed.factors)
	for _, t := range d.Terms {
		if t.spec != nil {
			add(t.spec.factors)
			add(t.spec.group)
		}
	}
	for _, t := range d.Terms {
		g := GroupLevels{Group: t.Group, Levels: slices.Clone(t.Levels)}
		if t.spec != nil && len(t.spec.group) > 1 {
			g.Combos = make([][]int, len(t.Levels))
			for key, l := range t.spec.groupIndex {
				parts := strings.Split(key, "\x00")
				idx := make([]int, len(parts))
				for p, k := range parts {
					idx[p] = t.spec.group[p].index[k]
				}
				g.Combos[l] = idx
			}
		}
		lm.Groups = append(lm.Groups, g)
	}
	return lm
}

// FromLevels makes the design of formula f that codes new rows with the
// stored levels lm (Design.LevelMap of the training design) instead of
// training data: it has the training design's column names, terms and
// levels, and no rows (N = 0; X, Y and the terms' Refs and Z are empty).
// Design.NewData on it codes rows exactly as on the training design.
func FromLevels(f *Formula, lm *LevelMap) (*Design, error) {
	if f == nil || lm == nil {
		return nil, fmt.Errorf("level map: nil formula or map")
	}
	factors := map[string]*factorInfo{}
	for _, fl := range lm.Factors {
		if len(fl.Levels) == 0 {
			return nil, fmt.Errorf("level map: factor %q has no levels", fl.Column)
		}
		fi := &factorInfo{name: fl.Column, byValue: fl.Numeric, levels: slices.Clone(fl.Levels), index: map[string]int{}}
		for l, lab := range fl.Levels {
			k := lab
			if fl.Numeric {
				if v, err := strconv.ParseFloat(strings.TrimSpace(lab), 64); err == nil {
					k = strconv.FormatFloat(v, 'g', -1, 64)
				}
			}
			if _, dup := fi.index[k]; dup {
				return nil, fmt.Errorf("level map: factor %q has level %q twice", fl.Column, lab)
			}
			fi.keys = append(fi.keys, k)
			fi.index[k] = l
		}
		factors[fl.Column] = fi
	}
	categorical := func(tl TermList) map[string]*factorInfo {
		m := map[string]*factorInfo{}
		for _, t := range tl.Terms {
			for _, v := range t.Vars {
				if fi := factors[v.Name]; fi != nil && !fi.byValue {
					m[v.Name] = fi
				}
			}
		}
		return m
	}
	spec, err := newSpec(f.Fixed, categorical(f.Fixed), "fixed effects")
	if err != nil {
		return nil, err
	}
	spec.response = f.Response.Name
	if len(lm.Aliased) > 0 {
		drop := map[string]bool{}
		for _, a := range lm.Aliased {
			if !slices.Contains(spec.names, a) {
				return nil, fmt.Errorf("level map: dropped column %q is not a column of formula %q", a, f.Text)
			}
			drop[a] = true
		}
		var cols []colSpec
		var names []string
		for j, nm := range spec.names {
			if !drop[nm] {
				cols = append(cols, spec.cols[j])
				names = append(names, nm)
			}
		}
		spec.cols, spec.names = cols, names
	}
	d := &Design{Formula: f, XNames: slices.Clone(spec.names), fixed: spec, Y: []float64{}, X: &mat.Dense{},
		Aliased: slices.Clone(lm.Aliased), OffsetColumn: lm.OffsetColumn, WeightsColumn: lm.WeightsColumn}
	for _, t := range lm.Transforms {
		if t == nil {
			return nil, fmt.Errorf("level map: empty transform")
		}
		c := *t
		d.transforms = append(d.transforms, &c)
	}
	if len(lm.Groups) != len(f.Random) {
		return nil, fmt.Errorf("level map: it has %d grouping factors, formula %q has %d random terms", len(lm.Groups), f.Text, len(f.Random))
	}
	for i, r := range f.Random {
		label := reLabel(r)
		g := lm.Groups[i]
		if g.Group != r.GroupName() {
			return nil, fmt.Errorf("level map: random term %d groups by %q, formula %q by %q", i+1, g.Group, f.Text, r.GroupName())
		}
		s, err := newSpec(r.Expr, categorical(r.Expr), "random term "+label)
		if err != nil {
			return nil, err
		}
		if len(s.cols) == 0 {
			return nil, fmt.Errorf("random term %s has no effects", label)
		}
		for _, v := range r.Group {
			fi := factors[v.Name]
			if fi == nil {
				return nil, fmt.Errorf("level map: grouping column %q of %s has no levels", v.Name, label)
			}
			s.group = append(s.group, fi)
		}
		combos := g.Combos
		if combos == nil && len(s.group) == 1 {
			for l := range s.group[0].levels {
				combos = append(combos, []int{l})
			}
		}
		if len(combos) != len(g.Levels) || len(combos) == 0 {
			return nil, fmt.Errorf("level map: grouping factor %q has %d levels and %d level combinations", g.Group, len(g.Levels), len(combos))
		}
		t := &ReTerm{Group: r.GroupName(), Names: slices.Clone(s.names), K: len(s.cols), Correlated: r.Correlated, spec: s, Refs: []int32{}, Z: []float64{}}
		s.groupIndex = make(map[string]int, len(combos))
		for l, idx := range combos {
			if len(idx) != len(s.group) {
				return nil, fmt.Errorf("level map: level %d of %q names %d columns, the group has %d", l+1, g.Group, len(idx), len(s.group))
			}
			labels := make([]string, len(idx))
			for p, li := range idx {
				if li < 0 || li >= len(s.group[p].levels) {
					return nil, fmt.Errorf("level map: level %d of %q: index %d out of range", l+1, g.Group, li)
				}
				labels[p] = s.group[p].levels[li]
			}
			lab := strings.Join(labels, ":")
			if lab != g.Levels[l] {
				return nil, fmt.Errorf("level map: level %d of %q is %q, its columns' levels make %q", l+1, g.Group, g.Levels[l], lab)
			}
			t.Levels = append(t.Levels, lab)
			s.groupIndex[groupKey(s.group, idx)] = l
		}
		d.Terms = append(d.Terms, t)
	}
	return d, nil
}

package model

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
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
	n := fr.NRows
	rd := &rowData{n: n, num: map[string][]float64{}, lev: map[string][]int{}}
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
	nd.X = fillMatrix(d.fixed, rd)
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

package model

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// rankTol is the relative tolerance of the rank check, R's qr() default.
const rankTol = 1e-7

// fixedSpec records how a set of model-matrix columns is computed from a
// frame, so that Design.NewData can apply the same construction to new
// rows. Design.fixed describes X (and the response); ReTerm.spec describes
// one random term's effect columns and its grouping factor.
type fixedSpec struct {
	// names are the column names, cols how each is computed.
	names []string
	cols  []colSpec
	// numeric and factors list the variables the columns read.
	numeric []string
	factors []*factorInfo
	// response is the response column (Design.fixed only).
	response string
	// group holds the grouping factor's variables (ReTerm.spec only),
	// and groupIndex maps the joined cell keys of a row to its level.
	group      []*factorInfo
	groupIndex map[string]int
}

// rowData holds, for a list of rows, the values of the variables that
// column specs read: numeric values, or level indices of factors.
type rowData struct {
	n   int
	num map[string][]float64
	lev map[string][]int
	// mat holds the columns of matrix variables (poly()).
	mat map[string][][]float64
}

// eval computes column j of cols at row i of rd.
func (rd *rowData) eval(c colSpec, i int) float64 {
	v := 1.0
	for _, p := range c.parts {
		if p.sub > 0 {
			v *= rd.mat[p.col][p.sub-1][i]
		} else if p.factor == nil {
			v *= rd.num[p.col][i]
		} else if rd.lev[p.col][i] != p.level {
			return 0
		}
	}
	return v
}

// Build makes the design of formula f on frame fr: the rows with no NA in
// a column the model uses, the response, the fixed-effects matrix as R's
// model.matrix makes it with treatment contrasts, and one ReTerm per
// random-effect term, with the prior weights and the offset (the
// formula's offset() terms plus opt.Offset) of the used rows. Aliased
// fixed-effects columns are dropped as lme4 drops them when
// opt.DropRankDeficient is set, and are an error naming them otherwise;
// lme4's identifiability checks of the random terms are errors; see
// docs/data.md.
func Build(f *Formula, fr *Frame, opt BuildOptions) (*Design, error) {
	if f == nil || fr == nil {
		return nil, fmt.Errorf("build design: nil formula or frame")
	}
	if err := f.CheckColumns(fr.ColumnNames()); err != nil {
		return nil, fmt.Errorf("%s: %w", fr.Source, err)
	}
	// Function calls (log(y), scale(x), poly(x, 2)) become columns of
	// their own, evaluated on every row as R's model.frame does, before
	// rows with NA are dropped.
	fr, learned, err := deriveColumns(f, fr, nil, false)
	if err != nil {
		return nil, err
	}
	used := usedColumns(f)
	cols := make(map[string]*Column, len(used))
	for _, name := range used {
		c := fr.Column(name)
		if c == nil {
			return nil, fmt.Errorf("%s: formula column %q is not in the data%s", fr.Source, name, didYouMean(name, fr.ColumnNames()))
		}
		cols[name] = c
	}
	// The weights and offset columns: numeric, and rows with NA in them
	// are dropped as for the formula's columns (R's model.frame keeps
	// them in the frame).
	naCols := slices.Clone(used)
	extra := map[string]*Column{}
	for _, x := range []struct{ name, what string }{{opt.Weights, "weights"}, {opt.Offset, "offset"}} {
		if x.name == "" {
			continue
		}
		c := fr.Column(x.name)
		if c == nil {
			return nil, fmt.Errorf("%s: %s column %q is not in the data%s", fr.Source, x.what, x.name, didYouMean(x.name, fr.ColumnNames()))
		}
		if c.Categorical {
			return nil, fmt.Errorf("%s: %s column %q must be numeric, but it is categorical (for example %q on line %d)",
				fr.Source, x.what, x.name, firstText(c), firstTextLine(c))
		}
		extra[x.what] = c
		if !slices.Contains(naCols, x.name) {
			naCols = append(naCols, x.name)
			cols[x.name] = c
		}
	}
	resp, ylevels, err := glmResponseColumn(f, cols[f.Response.Name], opt.Family, fr.Source)
	if err != nil {
		return nil, err
	}
	cols[f.Response.Name] = resp
	if resp.Categorical {
		return nil, fmt.Errorf("%s: response %q must be numeric, but it is categorical (for example %q on line %d)",
			fr.Source, resp.Name, firstText(resp), firstTextLine(resp))
	}

	// Drop rows with NA in any used column.
	var rows []int
	for i := 0; i < fr.NRows; i++ {
		ok := true
		for _, name := range naCols {
			if cols[name].NA[i] {
				ok = false
				break
			}
		}
		if ok {
			rows = append(rows, i)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rows left after dropping rows with NA in %s", fr.Source, strings.Join(naCols, ", "))
	}
	if constant := rows[1:]; len(constant) > 0 {
		same := true
		for _, i := range constant {
			if resp.Num[i] != resp.Num[rows[0]] {
				same = false
				break
			}
		}
		if same {
			return nil, fmt.Errorf("%s: response %q is constant (every used row is %s): there is nothing to model",
				fr.Source, resp.Name, strconv.FormatFloat(resp.Num[rows[0]], 'g', -1, 64))
		}
	}
	n := len(rows)

	// Factors: categorical columns in fixed or random-effect terms, and
	// every grouping variable.
	factorCols := map[string]bool{}
	for _, tl := range termLists(f) {
		for _, t := range tl.Terms {
			for _, v := range t.Vars {
				if cols[v.Name].Categorical {
					factorCols[v.Name] = true
				}
			}
		}
	}
	for _, r := range f.Random {
		for _, v := range r.Group {
			factorCols[v.Name] = true
		}
	}
	for name := range opt.Reference {
		if fr.Column(name) == nil {
			return nil, fmt.Errorf("%s: reference level given for column %q, which is not in the data%s",
				fr.Source, name, didYouMean(name, fr.ColumnNames()))
		}
		if !factorCols[name] {
			return nil, fmt.Errorf("%s: reference level given for column %q, which is not a factor in formula %q",
				fr.Source, name, f.Text)
		}
	}
	factors := map[string]*factorInfo{}
	for _, name := range used {
		if !factorCols[name] {
			continue
		}
		fi, err := newFactor(cols[name], rows, opt.Reference[name], fr.Source)
		if err != nil {
			return nil, err
		}
		factors[name] = fi
	}

	// Variable values on the used rows.
	rd := &rowData{n: n, num: map[string][]float64{}, lev: map[string][]int{}, mat: map[string][][]float64{}}
	for _, name := range used {
		c := cols[name]
		if !c.Categorical {
			v := make([]float64, n)
			for k, i := range rows {
				v[k] = c.Num[i]
			}
			rd.num[name] = v
		}
		if c.mat != nil {
			m := make([][]float64, len(c.mat))
			for j, cj := range c.mat {
				m[j] = make([]float64, n)
				for k, i := range rows {
					m[j][k] = cj[i]
				}
			}
			rd.mat[name] = m
		}
		if fi := factors[name]; fi != nil {
			l := make([]int, n)
			for k, i := range rows {
				l[k] = fi.index[cellKey(c, i, fi.byValue)]
			}
			rd.lev[name] = l
		}
	}

	d := &Design{Formula: f, N: n, Rows: rows, Dropped: fr.NRows - n, transforms: learned,
		WeightsColumn: opt.Weights, OffsetColumn: opt.Offset}
	d.Y = slices.Clone(rd.num[resp.Name])
	if c := extra["weights"]; c != nil {
		d.Weights = make([]float64, n)
		for k, i := range rows {
			w := c.Num[i]
			if !(w > 0) || math.IsInf(w, 1) {
				why := "weights must be finite and > 0"
				if w == 0 {
					why += " (lme4 accepts a weight of 0, but its deviance is then infinite and its fit stays at the start; drop the row instead)"
				}
				return nil, fmt.Errorf("%s: weights column %q is %s on line %d: %s", fr.Source, c.Name, rNumber(w), i+2, why)
			}
			d.Weights[k] = w
		}
	}
	if len(f.Offsets) > 0 || extra["offset"] != nil {
		d.Offset = make([]float64, n)
		for _, v := range f.Offsets {
			for k, o := range rd.num[v.Name] {
				d.Offset[k] += o
			}
		}
		if c := extra["offset"]; c != nil {
			for k, i := range rows {
				d.Offset[k] += c.Num[i]
			}
		}
		for k, o := range d.Offset {
			if math.IsNaN(o) || math.IsInf(o, 0) {
				return nil, fmt.Errorf("%s: the offset is %s on line %d", fr.Source, rNumber(o), rows[k]+2)
			}
		}
	}
	if err := setGLMResponse(d, f, rd, rows, opt.Family, ylevels, fr.Source); err != nil {
		return nil, err
	}

	// Fixed effects.
	fixedFactors := map[string]*factorInfo{}
	for _, t := range f.Fixed.Terms {
		for _, v := range t.Vars {
			if cols[v.Name].Categorical {
				fixedFactors[v.Name] = factors[v.Name]
			}
		}
	}
	spec, err := newSpec(f.Fixed, fixedFactors, "fixed effects")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fr.Source, err)
	}
	spec.response = resp.Name
	d.fixed = spec
	d.XNames = slices.Clone(spec.names)
	d.X = fillMatrix(spec, rd)
	if aliased, err := checkRank(d.X, d.XNames); err != nil {
		if !opt.DropRankDeficient {
			return nil, fmt.Errorf("%s: formula %q: %w", fr.Source, f.Text, err)
		}
		// lme4's chkRank.drop.cols: keep the columns of the pivoted QR's
		// rank, in their order.
		drop := map[int]bool{}
		for _, j := range aliased {
			drop[j] = true
			d.Aliased = append(d.Aliased, d.XNames[j])
		}
		var keepCols []colSpec
		var keepNames []string
		for j := range spec.cols {
			if !drop[j] {
				keepCols = append(keepCols, spec.cols[j])
				keepNames = append(keepNames, spec.names[j])
			}
		}
		spec.cols, spec.names = keepCols, keepNames
		d.XNames = slices.Clone(spec.names)
		d.X = fillMatrix(spec, rd)
	}

	// Random effects.
	for _, r := range f.Random {
		t, err := buildReTerm(r, cols, factors, rd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fr.Source, err)
		}
		d.Terms = append(d.Terms, t)
	}
	return d, nil
}

// newSpec makes the column spec of a term list; factors holds its
// categorical variables.
func newSpec(tl TermList, factors map[string]*factorInfo, what string) (*fixedSpec, error) {
	cols, names, err := modelColumns(tl, factors, what)
	if err != nil {
		return nil, err
	}
	s := &fixedSpec{names: names, cols: cols}
	seen := map[string]bool{}
	for _, t := range tl.Terms {
		for _, v := range t.Vars {
			if seen[v.Name] {
				continue
			}
			seen[v.Name] = true
			if fi := factors[v.Name]; fi != nil {
				s.factors = append(s.factors, fi)
			} else {
				s.numeric = append(s.numeric, v.Name)
			}
		}
	}
	return s, nil
}

// fillMatrix evaluates the spec's columns on rd as an n × p matrix; with
// no columns it returns an empty matrix.
func fillMatrix(s *fixedSpec, rd *rowData) *mat.Dense {
	if len(s.cols) == 0 || rd.n == 0 {
		return &mat.Dense{}
	}
	x := mat.NewDense(rd.n, len(s.cols), nil)
	for j, c := range s.cols {
		for i := 0; i < rd.n; i++ {
			x.Set(i, j, rd.eval(c, i))
		}
	}
	return x
}

// fillZ evaluates the spec's columns on rd as K × n row-major values.
func fillZ(s *fixedSpec, rd *rowData) []float64 {
	z := make([]float64, len(s.cols)*rd.n)
	for e, c := range s.cols {
		for i := 0; i < rd.n; i++ {
			z[e*rd.n+i] = rd.eval(c, i)
		}
	}
	return z
}

// buildReTerm makes the ReTerm of r on the used rows and applies lme4's
// checks of the number of levels.
func buildReTerm(r RandomTerm, cols map[string]*Column, factors map[string]*factorInfo, rd *rowData) (*ReTerm, error) {
	label := reLabel(r)
	exprFactors := map[string]*factorInfo{}
	for _, t := range r.Expr.Terms {
		for _, v := range t.Vars {
			if cols[v.Name].Categorical {
				exprFactors[v.Name] = factors[v.Name]
			}
		}
	}
	spec, err := newSpec(r.Expr, exprFactors, "random term "+label)
	if err != nil {
		return nil, err
	}
	if len(spec.cols) == 0 {
		return nil, fmt.Errorf("random term %s has no effects", label)
	}
	for _, v := range r.Group {
		spec.group = append(spec.group, factors[v.Name])
	}

	// Levels of the grouping factor: for an interaction, the level
	// combinations present, ordered by the first variable's level, then
	// the second's, as R's factor(a:b).
	n := rd.n
	t := &ReTerm{
		Group:      r.GroupName(),
		Names:      slices.Clone(spec.names),
		K:          len(spec.cols),
		Correlated: r.Correlated,
		Refs:       make([]int32, n),
		spec:       spec,
	}
	combos, ok := groupLevelsRadix(r.Group, spec.group, rd, t.Refs)
	if !ok {
		combos = groupLevelsStrings(r.Group, rd, t.Refs)
	}
	spec.groupIndex = make(map[string]int, len(combos))
	for l, idx := range combos {
		labels := make([]string, len(idx))
		for g, li := range idx {
			labels[g] = spec.group[g].levels[li]
		}
		t.Levels = append(t.Levels, strings.Join(labels, ":"))
		spec.groupIndex[groupKey(spec.group, idx)] = l
	}
	nl := len(t.Levels)
	switch {
	case nl < 2:
		return nil, fmt.Errorf("random term %s: grouping factor %q has %d level in the used rows; it must have more than 1",
			label, t.Group, nl)
	case nl >= n:
		return nil, fmt.Errorf("random term %s: grouping factor %q has %d levels for %d observations; the number of levels of each grouping factor must be < number of observations",
			label, t.Group, nl, n)
	case t.K*nl >= n:
		return nil, fmt.Errorf("random term %s: number of observations (%d) <= number of random effects (%d = %d effects × %d levels); the random-effects parameters and the residual variance are probably unidentifiable",
			label, n, t.K*nl, t.K, nl)
	}
	t.Z = fillZ(spec, rd)
	return t, nil
}

// groupKey is the key of a grouping-factor level for matching new rows:

// groupLevelsRadix finds the level combinations of the grouping
// variables present in the rows, ordered by the first variable's level,
// then the second's, as R's factor(a:b), and writes each row's
// combination number into refs; the combinations are keyed by their
// mixed-radix number (first variable most significant), so no strings are
// built per row. ok is false when that number could overflow.
func groupLevelsRadix(vars []Var, group []*factorInfo, rd *rowData, refs []int32) (combos [][]int, ok bool) {
	n := rd.n
	levs := make([][]int, len(vars))
	total := int64(1)
	for g, v := range vars {
		levs[g] = rd.lev[v.Name]
		size := int64(max(len(group[g].levels), 1))
		if total > (1<<62)/size {
			return nil, false
		}
		total *= size
	}
	keys := make([]int64, n)
	for i := range n {
		var k int64
		for g := range vars {
			k = k*int64(len(group[g].levels)) + int64(levs[g][i])
		}
		keys[i] = k
	}
	uniq := slices.Clone(keys)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	for i, k := range keys {
		l, _ := slices.BinarySearch(uniq, k)
		refs[i] = int32(l)
	}
	combos = make([][]int, len(uniq))
	for l, k := range uniq {
		idx := make([]int, len(vars))
		for g := len(vars) - 1; g >= 0; g-- {
			size := int64(len(group[g].levels))
			idx[g] = int(k % size)
			k /= size
		}
		combos[l] = idx
	}
	return combos, true
}

// groupLevelsStrings is groupLevelsRadix for any number of levels, keyed
// by strings.
func groupLevelsStrings(vars []Var, rd *rowData, refs []int32) [][]int {
	n := rd.n
	type combo struct {
		idx []int
		key string
	}
	seen := map[string]int{}
	var combos []combo
	keys := make([]string, n)
	for i := 0; i < n; i++ {
		tup := make([]int, len(vars))
		parts := make([]string, len(vars))
		for g, v := range vars {
			tup[g] = rd.lev[v.Name][i]
			parts[g] = strconv.Itoa(tup[g])
		}
		k := strings.Join(parts, ",")
		keys[i] = k
		if _, ok := seen[k]; !ok {
			seen[k] = len(combos)
			combos = append(combos, combo{idx: tup, key: k})
		}
	}
	slices.SortFunc(combos, func(a, b combo) int { return slices.Compare(a.idx, b.idx) })
	level := make(map[string]int, len(combos))
	out := make([][]int, len(combos))
	for l, c := range combos {
		level[c.key] = l
		out[l] = c.idx
	}
	for i := range n {
		refs[i] = int32(level[keys[i]])
	}
	return out
}

// the component factors' level labels, as cell keys, joined by NUL.
func groupKey(group []*factorInfo, idx []int) string {
	parts := make([]string, len(idx))
	for g, li := range idx {
		parts[g] = group[g].keys[li]
	}
	return strings.Join(parts, "\x00")
}

// reLabel is a random term as lme4 prints it, such as "(Days | Subject)"
// or "(0 + Days | Subject)".
func reLabel(r RandomTerm) string {
	var parts []string
	if !r.Expr.Intercept {
		parts = append(parts, "0")
	} else if len(r.Expr.Terms) == 0 {
		parts = append(parts, "1")
	}
	for _, t := range r.Expr.Terms {
		parts = append(parts, t.Label())
	}
	return "(" + strings.Join(parts, " + ") + " | " + r.GroupName() + ")"
}

// termLists returns the fixed part and every random term's expression.
func termLists(f *Formula) []TermList {
	tls := []TermList{f.Fixed}
	for _, r := range f.Random {
		tls = append(tls, r.Expr)
	}
	return tls
}

// usedColumns lists the columns a formula reads, each once, in order of
// appearance: response, fixed terms, then random terms.
func usedColumns(f *Formula) []string {
	var names []string
	for _, v := range formulaVars(f, func(Var) bool { return true }) {
		names = append(names, v.Name)
	}
	return names
}

// formulaVars returns the variables of f for which keep is true, each
// name once, in order of appearance: response, fixed terms, then the
// random terms' expressions and grouping factors.
func formulaVars(f *Formula, keep func(Var) bool) []Var {
	var out []Var
	seen := map[string]bool{}
	add := func(v Var) {
		if keep(v) && !seen[v.Name] {
			seen[v.Name] = true
			out = append(out, v)
		}
	}
	add(f.Response)
	for i, tl := range termLists(f) {
		for _, t := range tl.Terms {
			for _, v := range t.Vars {
				add(v)
			}
		}
		if i == 0 {
			for _, v := range f.Offsets {
				add(v)
			}
		}
	}
	for _, r := range f.Random {
		for _, v := range r.Group {
			add(v)
		}
	}
	return out
}

// firstText returns the first non-NA cell of c that is not a number.
func firstText(c *Column) string {
	for i, s := range c.Str {
		if !c.NA[i] {
			if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
				return s
			}
		}
	}
	return ""
}

// firstTextLine returns the line of firstText, assuming one line per
// record.
func firstTextLine(c *Column) int {
	for i, s := range c.Str {
		if !c.NA[i] {
			if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
				return i + 2
			}
		}
	}
	return 0
}

// checkRank fails when a column of x is, to relative tolerance rankTol, a
// linear combination of the columns before it. Columns are taken in
// order, as R's qr() with its limited pivoting (LINPACK dqrdc2) does: a
// column whose residual norm after projection on the kept columns is below
// rankTol times its own norm is aliased. The error names every aliased
// column and the combination of kept columns that reproduces it.
//
// It also returns the indices of the aliased columns (those R's
// dqrdc2 pivots to the end).
func checkRank(x *mat.Dense, names []string) ([]int, error) {
	if x.IsEmpty() {
		return nil, nil
	}
	_, p := x.Dims()
	var q [][]float64  // orthonormal basis of the kept columns
	var rr [][]float64 // rr[k][m]: coefficient of q[m] in kept column k
	var kept []int     // indices of the kept columns
	var problems []string
	var aliased []int
	for j := 0; j < p; j++ {
		v := mat.Col(nil, j, x)
		norm0 := floatsNorm(v)
		coef := make([]float64, len(q))
		for pass := 0; pass < 2; pass++ {
			for m, qm := range q {
				c := dot(qm, v)
				coef[m] += c
				for i := range v {
					v[i] -= c * qm[i]
				}
			}
		}
		res := floatsNorm(v)
		if norm0 == 0 {
			problems = append(problems, fmt.Sprintf("column %q is zero in every used row", names[j]))
			aliased = append(aliased, j)
			continue
		}
		if res > rankTol*norm0 {
			for i := range v {
				v[i] /= res
			}
			q = append(q, v)
			rr = append(rr, append(coef, res))
			kept = append(kept, j)
			continue
		}
		// Solve R a = coef for the coefficients on the kept columns.
		a := make([]float64, len(kept))
		for k := len(kept) - 1; k >= 0; k-- {
			s := coef[k]
			for m := k + 1; m < len(kept); m++ {
				s -= rr[m][k] * a[m]
			}
			a[k] = s / rr[k][k]
		}
		problems = append(problems, fmt.Sprintf("column %q is a linear combination of other columns: %s = %s",
			names[j], names[j], combination(a, kept, names)))
		aliased = append(aliased, j)
	}
	if len(problems) > 0 {
		return aliased, fmt.Errorf("fixed-effects model matrix is rank deficient (rank %d < %d columns): %s",
			len(kept), p, strings.Join(problems, "; "))
	}
	return nil, nil
}

// RankMessage returns lme4's message about the dropped aliased columns,
// naming them ("" when none was dropped).
func (d *Design) RankMessage() string {
	k := len(d.Aliased)
	if k == 0 {
		return ""
	}
	s := ""
	if k > 1 {
		s = "s"
	}
	q := make([]string, k)
	for i, a := range d.Aliased {
		q[i] = strconv.Quote(a)
	}
	return fmt.Sprintf("fixed-effect model matrix is rank deficient so dropping %d column%s / coefficient%s: %s", k, s, s, strings.Join(q, ", "))
}

// combination formats Σ a[k]·names[kept[k]], leaving out negligible
// coefficients.
func combination(a []float64, kept []int, names []string) string {
	amax := 0.0
	for _, v := range a {
		amax = math.Max(amax, math.Abs(v))
	}
	var b strings.Builder
	for k, v := range a {
		if math.Abs(v) <= 1e-6*amax {
			continue
		}
		sign := "+"
		if v < 0 {
			sign = "-"
		}
		switch {
		case b.Len() == 0 && v < 0:
			b.WriteString("-")
		case b.Len() > 0:
			b.WriteString(" " + sign + " ")
		}
		b.WriteString(strconv.FormatFloat(math.Abs(v), 'g', 6, 64) + "*" + names[kept[k]])
	}
	if b.Len() == 0 {
		return "0"
	}
	return b.String()
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func floatsNorm(v []float64) float64 {
	return math.Sqrt(dot(v, v))
}

// AddZb adds Zb to eta (one value per row of d): each term's effects
// b[term] (level-major, K per level, Design term order) times its columns
// of Z.
func (d *Design) AddZb(b [][]float64, eta []float64) {
	n := len(eta)
	for ti, t := range d.Terms {
		if t.K == 1 {
			for i, l := range t.Refs {
				eta[i] += t.Z[i] * b[ti][l]
			}
			continue
		}
		for i, l := range t.Refs {
			for e := range t.K {
				eta[i] += t.Z[e*n+i] * b[ti][int(l)*t.K+e]
			}
		}
	}
}

package draws

// Row is one saved draw in the column order of Names.Columns: lp__, b,
// sd, cor, sigma, then the r_ columns when kept. The r_ values are read
// from the chain's own state, so a draw of a model with many random
// effects is never copied into a second buffer.
type Row struct {
	head  []float64
	b     [][]float64
	re    []REColumn
	kOf   []int
	nHead int
}

// Len is the number of columns.
func (r Row) Len() int { return r.nHead + len(r.re) }

// At returns the value of column j.
func (r Row) At(j int) float64 {
	if j < r.nHead {
		return r.head[j]
	}
	c := &r.re[j-r.nHead]
	return r.b[c.Term][c.LevelIndex*r.kOf[c.Term]+c.EffectIndex]
}

// AppendTo appends the row's values to dst and returns it.
func (r Row) AppendTo(dst []float64) []float64 {
	dst = append(dst, r.head[:r.nHead]...)
	for i := range r.re {
		c := &r.re[i]
		dst = append(dst, r.b[c.Term][c.LevelIndex*r.kOf[c.Term]+c.EffectIndex])
	}
	return dst
}

// NewRow returns the Row whose first len(head) values are head and whose
// r_ values (one per re column) are read from b: column c of re is
// b[c.Term][c.LevelIndex*kOf[c.Term]+c.EffectIndex]. The sampler makes
// one per chain and refills head before each draw.
func NewRow(head []float64, b [][]float64, re []REColumn, kOf []int) Row {
	return Row{head: head, b: b, re: re, kOf: kOf, nHead: len(head)}
}

// RowOf returns a Row holding values, e.g. to feed a sink draws already
// in memory.
func RowOf(values []float64) Row { return Row{head: values, nHead: len(values)} }

// Effects returns the random effects of term t (design order) in this draw,
// laid out level-major (effect e of level j at j·K + e), read from the
// chain's state whether or not the r_ columns are written; nil for a Row
// made by RowOf. Valid only during the WriteDraw call.
func (r Row) Effects(t int) []float64 {
	if t >= len(r.b) {
		return nil
	}
	return r.b[t]
}

package draws

import (
	"fmt"
	"math"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
)

// Draws is a run's posterior draws, chains in order, laid out by the
// columns of Names (each chain row-major: rows × len(Names.Columns)).
// Read makes one from a run directory, SinkSet.Finish from the draws a
// run kept in memory.
type Draws struct {
	// Names are the columns held: every column of the run, or (Read
	// with ReadOptions.KeepRE) only some of the r_ columns.
	Names *Names
	// HasRE is true when the r_ columns were kept by the run.
	HasRE bool
	// Source names where the draws came from, for errors.
	Source string
	chains [][]float64
	rows   []int
	col    map[string]int
}

// New returns an empty Draws with columns names; add chains with
// AddChain.
func New(names *Names, hasRE bool, source string) *Draws {
	p := &Draws{Names: names, HasRE: hasRE, Source: source}
	p.index()
	return p
}

// AddChain appends a chain of rows draws, row-major (rows ×
// len(Names.Columns) values; the slice is kept, not copied).
func (p *Draws) AddChain(rows int, values []float64) {
	p.chains = append(p.chains, values[:rows*len(p.Names.Columns)])
	p.rows = append(p.rows, rows)
}

// addChains appends the chains of dr, each flattened row-major (each row
// is dropped as it is copied, so that the two layouts are not held
// whole at once).
func (p *Draws) addChains(dr *diagnostics.Draws) {
	for _, ch := range dr.Chains {
		var flat []float64
		if len(ch.Draws) > 0 {
			flat = make([]float64, 0, len(ch.Draws)*len(ch.Draws[0]))
		}
		for i, row := range ch.Draws {
			flat = append(flat, row...)
			ch.Draws[i] = nil
		}
		p.chains = append(p.chains, flat)
		p.rows = append(p.rows, len(ch.Draws))
	}
	p.index()
}

func (p *Draws) index() {
	p.col = make(map[string]int, len(p.Names.Columns))
	for i, c := range p.Names.Columns {
		p.col[c] = i
	}
}

// NumDraws is the total number of draws over chains.
func (p *Draws) NumDraws() int {
	n := 0
	for _, r := range p.rows {
		n += r
	}
	return n
}

// ChainLengths returns the number of draws of each chain.
func (p *Draws) ChainLengths() []int { return append([]int(nil), p.rows...) }

// Row returns draw s (chains concatenated in order); the slice is the
// Draws' own.
func (p *Draws) Row(s int) []float64 {
	nc := len(p.Names.Columns)
	for c, r := range p.rows {
		if s < r {
			return p.chains[c][s*nc : (s+1)*nc]
		}
		s -= r
	}
	return nil
}

// Index returns the position of column name, and whether it is held.
func (p *Draws) Index(name string) (int, bool) {
	j, ok := p.col[name]
	return j, ok
}

// ColumnAt returns the draws of column j, one slice per chain.
func (p *Draws) ColumnAt(j int) [][]float64 {
	nc := len(p.Names.Columns)
	out := make([][]float64, len(p.chains))
	for c, ch := range p.chains {
		v := make([]float64, p.rows[c])
		for i := range v {
			v[i] = ch[i*nc+j]
		}
		out[c] = v
	}
	return out
}

// Column returns the draws of column name, one slice per chain (nil when
// it is not held).
func (p *Draws) Column(name string) [][]float64 {
	j, ok := p.col[name]
	if !ok {
		return nil
	}
	return p.ColumnAt(j)
}

// Thinned returns p with at most maxDraws draws, keeping every k-th draw
// of each chain (k the smallest that fits), or p itself when it is small
// enough.
func (p *Draws) Thinned(maxDraws int) *Draws {
	total := p.NumDraws()
	if total <= maxDraws {
		return p
	}
	k := (total + maxDraws - 1) / maxDraws
	nc := len(p.Names.Columns)
	q := &Draws{Names: p.Names, HasRE: p.HasRE, col: p.col, Source: p.Source}
	for c, r := range p.rows {
		var rows []float64
		for i := 0; i < r; i += k {
			rows = append(rows, p.chains[c][i*nc:(i+1)*nc]...)
		}
		q.chains = append(q.chains, rows)
		q.rows = append(q.rows, len(rows)/nc)
	}
	return q
}

// Spread returns m draws (at most all of them) spread evenly over the
// chains, draws k·S/m for k = 0 … m−1 of the S in order, as one chain.
func (p *Draws) Spread(m int) *Draws {
	s := p.NumDraws()
	m = min(m, s)
	nc := len(p.Names.Columns)
	flat := make([]float64, 0, m*nc)
	for k := range m {
		flat = append(flat, p.Row(k*s/m)...)
	}
	q := &Draws{Names: p.Names, HasRE: p.HasRE, col: p.col, Source: p.Source}
	q.AddChain(m, flat)
	return q
}

// Layout maps the columns of a Draws onto the parameters of a design:
// model.ParamDraw's β, per-term covariance Σₜ = diag(τ) Ω diag(τ), σ and
// the training levels' effects b.
type Layout struct {
	beta  []int
	sd    [][]int   // per term, per effect
	cor   [][][]int // per term, K × K column of cor (−1 on and above the diagonal, or uncorrelated)
	sigma int
	re    [][]int // per term, level*K+effect → column (−1: not held)
}

// Layout finds the columns of every parameter of design d; an error
// names a column the draws lack.
func (p *Draws) Layout(d *model.Design) (*Layout, error) {
	n := p.Names
	l := &Layout{}
	find := func(name string) (int, error) {
		j, ok := p.col[name]
		if !ok {
			return 0, fmt.Errorf("draws from %s have no column %q", p.Source, name)
		}
		return j, nil
	}
	for _, b := range n.B {
		j, err := find(b)
		if err != nil {
			return nil, err
		}
		l.beta = append(l.beta, j)
	}
	sdi, cori := 0, 0
	for _, t := range d.Terms {
		sd := make([]int, t.K)
		for e := range t.K {
			if sdi >= len(n.SD) {
				return nil, fmt.Errorf("draws from %s have fewer sd_ columns than the model", p.Source)
			}
			j, err := find(n.SD[sdi])
			if err != nil {
				return nil, err
			}
			sd[e] = j
			sdi++
		}
		l.sd = append(l.sd, sd)
	}
	for _, t := range d.Terms {
		cm := make([][]int, t.K)
		for a := range cm {
			cm[a] = make([]int, t.K)
			for b := range cm[a] {
				cm[a][b] = -1
			}
		}
		if t.K > 1 && t.Correlated {
			for i := 1; i < t.K; i++ {
				for jj := 0; jj < i; jj++ {
					if cori >= len(n.Cor) {
						return nil, fmt.Errorf("draws from %s have fewer cor_ columns than the model", p.Source)
					}
					j, err := find(n.Cor[cori])
					if err != nil {
						return nil, err
					}
					cm[i][jj] = j
					cori++
				}
			}
		}
		l.cor = append(l.cor, cm)
	}
	var err error
	if l.sigma, err = find("sigma"); err != nil {
		return nil, err
	}
	if p.HasRE {
		l.re = make([][]int, len(d.Terms))
		for ti, t := range d.Terms {
			l.re[ti] = make([]int, len(t.Levels)*t.K)
			for i := range l.re[ti] {
				l.re[ti][i] = -1
			}
		}
		for _, rc := range n.RE {
			j, err := find(rc.Column)
			if err != nil {
				return nil, err
			}
			l.re[rc.Term][rc.LevelIndex*d.Terms[rc.Term].K+rc.EffectIndex] = j
		}
	}
	return l, nil
}

// Beta returns the column of fixed effect j (the design's X column j).
func (l *Layout) Beta(j int) int { return l.beta[j] }

// RE returns the column of effect e of level j of term t, −1 when the
// draws do not hold it (no r_ columns, or not read).
func (l *Layout) RE(t, j, e int) int {
	if l.re == nil {
		return -1
	}
	k := len(l.sd[t])
	return l.re[t][j*k+e]
}

// NewParamDraw allocates a ParamDraw for d (its B only when withRE).
func NewParamDraw(d *model.Design, withRE bool) *model.ParamDraw {
	pd := &model.ParamDraw{Beta: make([]float64, len(d.XNames))}
	for _, t := range d.Terms {
		pd.Cov = append(pd.Cov, make([]float64, t.K*t.K))
		if withRE {
			pd.B = append(pd.B, make([]float64, len(t.Levels)*t.K))
		}
	}
	return pd
}

// Fill sets pd from one draws row: β, Σₜ = diag(τ) Ω diag(τ) per term,
// σ, and the training levels' effects when pd.B is allocated (NaN for
// effects the draws do not hold).
func (l *Layout) Fill(row []float64, pd *model.ParamDraw) {
	for j, c := range l.beta {
		pd.Beta[j] = row[c]
	}
	for t, sd := range l.sd {
		k := len(sd)
		cov := pd.Cov[t]
		for a := range k {
			for b := range k {
				var r float64
				switch {
				case a == b:
					r = 1
				case a > b && l.cor[t][a][b] >= 0:
					r = row[l.cor[t][a][b]]
				case a < b && l.cor[t][b][a] >= 0:
					r = row[l.cor[t][b][a]]
				}
				cov[a*k+b] = row[sd[a]] * r * row[sd[b]]
			}
		}
	}
	pd.Sigma = row[l.sigma]
	if pd.B != nil && l.re != nil {
		for t, cols := range l.re {
			for i, c := range cols {
				if c < 0 {
					pd.B[t][i] = math.NaN() // not read: never used
					continue
				}
				pd.B[t][i] = row[c]
			}
		}
	}
}

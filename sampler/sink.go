package sampler

import "github.com/lmmbayes/lmmbayes/draws"

// DrawSink receives the saved draws of one chain as the chain makes them,
// so that a caller can stream them to disk instead of holding them: with
// Options.Sink set, Run keeps no draws in memory.
type DrawSink interface {
	// WriteDraw receives the chain's next saved draw. The row is valid
	// only during the call. An error stops the run: Run cancels every
	// chain and returns it.
	WriteDraw(row Row) error
}

// ChainInfo describes the chain a DrawSink is made for.
type ChainInfo struct {
	// ID is the chain id.
	ID int
	// Method is the algorithm the run uses: "collapsed" or "crossed".
	Method string
	// Names lists the columns of the rows the sink receives.
	Names *Names
}

// Row is one saved draw in the column order of Names.Columns (see
// draws.Row, where it is defined).
type Row = draws.Row

// termKs returns the number of effects of each term, in design order.
func termKs(st *setup) []int {
	out := make([]int, len(st.lay.terms))
	for i, t := range st.lay.terms {
		out[i] = t.k
	}
	return out
}

// RowOf returns a Row holding values, e.g. to feed a DrawSink draws
// already in memory.
func RowOf(values []float64) Row { return draws.RowOf(values) }

package sampler

import (
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
)

// Names lists the columns of the draws (see draws.Names, where they are
// defined).
type Names = draws.Names

// REColumn describes one r_ column of the draws (see draws.REColumn).
type REColumn = draws.REColumn

// ColumnNames returns the draws-file column names for design d: it is
// draws.ColumnNames, kept here for callers of the sampler.
func ColumnNames(d *model.Design, re bool) *Names { return draws.ColumnNames(d, re) }

// columnNames is ColumnNames.
func columnNames(d *model.Design, re bool) *Names { return draws.ColumnNames(d, re) }

// Draws returns the draws r holds in memory (a run without
// Options.Sink) as a draws.Draws, without copying them.
func (r *Result) Draws() *draws.Draws {
	p := draws.New(r.Names, len(r.Names.RE) > 0, "sampler")
	for _, ch := range r.Chains {
		p.AddChain(ch.NDraws, ch.Draws)
	}
	return p
}

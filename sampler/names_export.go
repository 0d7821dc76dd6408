package sampler

import "github.com/lmmbayes/lmmbayes/model"

// ColumnNames returns the draws-file column names for design d, in file
// order (lp__, b, sd, cor, sigma, then the r_ columns when re is true),
// with the mapping of every r_ column to its term, level and effect.
// Readers of a run's draws (predict, compare) use it to find parameters.
func ColumnNames(d *model.Design, re bool) *Names { return columnNames(d, re) }

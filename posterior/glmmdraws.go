package posterior

import (
	"fmt"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/loo"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// GLMMChainRows turns chain ci (0-based) of a GLMM sampler result into rows
// of the draws files' layout for design d (draws.ColumnNames(d, re)): every
// thin-th draw, lp__ first (the log-likelihood of the training rows given
// the draw's effects, the sum of loo.GLMMLogLik), then b_, sd_, cor_, shape
// and, with re, the r_ columns. Each row is handed to emit, which must copy
// what it keeps (the row's storage is reused). It returns the number of
// rows emitted; an error from emit stops it and is returned as is.
func GLMMChainRows(d *model.Design, gr *sampler.GLMMResult, ci, thin int, re bool, emit func(draws.Row) error) (int, error) {
	if ci < 0 || ci >= len(gr.Draws) {
		return 0, fmt.Errorf("GLMM draws: chain %d of %d", ci+1, len(gr.Draws))
	}
	thin = max(thin, 1)
	names := draws.ColumnNames(d, re)
	full := draws.ColumnNames(d, true)
	nc := len(gr.Columns)
	if len(full.Columns)-1 != nc {
		return 0, fmt.Errorf("GLMM draws: the sampler's %d columns do not match the %d of the draws files", nc, len(full.Columns)-1)
	}
	nHead := len(names.Columns) - len(names.RE) - 1 // b, sd, cor, shape
	kOf := make([]int, len(d.Terms))
	bs := make([][]float64, len(d.Terms))
	for t, term := range d.Terms {
		kOf[t] = term.K
		bs[t] = make([]float64, len(term.Levels)*term.K)
	}
	head := make([]float64, 1+nHead)
	pd := &model.ParamDraw{Beta: make([]float64, len(d.XNames)), B: bs}
	eta, ll := make([]float64, d.N), make([]float64, d.N)
	logLik, err := loo.GLMMLogLikFunc(d)
	if err != nil {
		return 0, fmt.Errorf("GLMM draws: lp__: %w", err)
	}
	n := gr.NDraws / thin
	for s := range n {
		row := gr.Draws[ci][(s*thin+thin-1)*nc : (s*thin+thin)*nc]
		copy(head[1:], row[:nHead])
		copy(pd.Beta, row[:len(d.XNames)])
		if names.Dispersion == "shape" {
			pd.Shape = row[nHead-1]
		}
		// The sampler's r_ block: per term, per effect, per level.
		off := nHead
		for t, term := range d.Terms {
			for e := range term.K {
				for j := range term.Levels {
					bs[t][j*term.K+e] = row[off]
					off++
				}
			}
		}
		if err := logLik(pd, eta, ll); err != nil {
			return s, fmt.Errorf("GLMM draws: lp__: %w", err)
		}
		lp := 0.0
		for _, v := range ll {
			lp += v
		}
		head[0] = lp
		if err := emit(draws.NewRow(head, bs, names.RE, kOf)); err != nil {
			return s, err
		}
	}
	return n, nil
}

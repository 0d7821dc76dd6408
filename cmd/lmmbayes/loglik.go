package main

import (
	"fmt"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/loo"
	"github.com/lmmbayes/lmmbayes/model"
)

// logLikSpec is what makes each chain of a run of d write log_lik_K.csv:
// the log-likelihood of every used row, log N(yᵢ; oᵢ + xᵢβ + zᵢb, σ²/wᵢ)
// (offset oᵢ and prior weight wᵢ when the model has them; for a GLMM
// family log p(yᵢ | ηᵢ), loo.GLMMLogLik),
// conditional on the draw's effects (as brms's and rstanarm's log_lik),
// the effects read from the chain's state (draws.Row.Effects) whether or
// not the r_ columns are written.
func logLikSpec(d *model.Design) *draws.LogLik {
	return &draws.LogLik{N: d.N, New: func(names *draws.Names) (func(r draws.Row, dst []float64) error, error) {
		col := map[string]int{}
		for j, c := range names.Columns {
			col[c] = j
		}
		var beta []int
		for _, b := range names.B {
			j, ok := col[b]
			if !ok {
				return nil, fmt.Errorf("no column %s", b)
			}
			beta = append(beta, j)
		}
		pd := &model.ParamDraw{Beta: make([]float64, len(beta)), B: make([][]float64, len(d.Terms))}
		mu := make([]float64, d.N)
		if d.Family != model.Gaussian {
			// log p(yᵢ | ηᵢ) of the family (dbinom, dpois, dnbinom),
			// conditional on the draw's effects.
			shape := -1
			if names.Dispersion == "shape" {
				j, ok := col["shape"]
				if !ok {
					return nil, fmt.Errorf("no column shape")
				}
				shape = j
			}
			logLik, err := loo.GLMMLogLikFunc(d)
			if err != nil {
				return nil, err
			}
			return func(r draws.Row, dst []float64) error {
				for i, j := range beta {
					pd.Beta[i] = r.At(j)
				}
				if shape >= 0 {
					pd.Shape = r.At(shape)
				}
				for t := range pd.B {
					pd.B[t] = r.Effects(t)
				}
				return logLik(pd, mu, dst)
			}, nil
		}
		sigma, ok := col["sigma"]
		if !ok {
			return nil, fmt.Errorf("no column sigma")
		}
		return func(r draws.Row, dst []float64) error {
			for i, j := range beta {
				pd.Beta[i] = r.At(j)
			}
			pd.Sigma = r.At(sigma)
			for t := range pd.B {
				pd.B[t] = r.Effects(t)
			}
			return loo.GaussianLogLik(d, pd, mu, dst)
		}, nil
	}}
}

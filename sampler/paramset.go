package sampler

import (
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// ParamSetOf describes design d's parameters for priors.Resolve: the
// brms names of its fixed effects and, per random-effect term, its group,
// effect names and whether its effects are correlated.
func ParamSetOf(d *model.Design) priors.ParamSet {
	ps := priors.ParamSet{}
	for _, x := range d.XNames {
		ps.Fixed = append(ps.Fixed, priors.BrmsName(x))
	}
	for _, t := range d.Terms {
		tt := priors.Term{Group: t.Group, Correlated: t.Correlated}
		for _, n := range t.Names {
			tt.Effects = append(tt.Effects, priors.BrmsName(n))
		}
		ps.Terms = append(ps.Terms, tt)
	}
	return ps
}

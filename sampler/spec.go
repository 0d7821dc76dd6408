package sampler

import (
	"fmt"
	"math"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// PriorError says that a resolved prior does not fit its parameter (a
// prior on a coefficient that the sampler does not support, a scale
// prior on a correlation, an inverse-Wishart whose scale matrix is not
// positive definite, …). NewSpec returns it.
type PriorError struct {
	// Entry is the prior as resolved, with the config key that set it.
	Entry priors.Entry
	// Why says what is wrong.
	Why string
}

// Error says which prior on which parameter, and why.
func (e *PriorError) Error() string {
	return fmt.Sprintf("prior %s on %s: %s", e.Entry.Prior, e.Entry.Param, e.Why)
}

// NewSpec builds the sampler's spec of design d from the priors asg
// resolved for it (priors.Resolve on ParamSetOf(d)). conjugateInvGamma
// sets Spec.ConjugateInvGamma. A prior that does not fit its parameter
// is a *PriorError.
func NewSpec(d *model.Design, asg *priors.Assignment, conjugateInvGamma bool) (*Spec, error) {
	spec := &Spec{Design: d, ConjugateInvGamma: conjugateInvGamma}
	bad := func(e priors.Entry, why string) error { return &PriorError{Entry: e, Why: why} }
	for _, e := range asg.Fixed {
		u, ok := e.Prior.(priors.Univariate)
		if !ok {
			return nil, bad(e, "not a prior on a coefficient")
		}
		switch u.(type) {
		case priors.Flat, priors.Normal, priors.StudentT, priors.Cauchy, priors.Laplace, priors.Horseshoe:
		default:
			return nil, bad(e, "the sampler supports flat, normal, student_t, cauchy, laplace and horseshoe on fixed effects")
		}
		spec.Fixed = append(spec.Fixed, u)
	}
	sp, ok := asg.Sigma.Prior.(priors.ScalePrior)
	if !ok {
		return nil, bad(asg.Sigma, "not a prior on a standard deviation")
	}
	spec.Sigma = sp
	spec.Cov = make([]*priors.InvWishart, len(asg.Terms))
	for ti, tp := range asg.Terms {
		if tp.Cov != nil {
			w, ok := tp.Cov.Prior.(priors.InvWishart)
			if !ok {
				return nil, bad(*tp.Cov, "a covariance matrix needs an inv_wishart prior")
			}
			if err := w.CheckDim(d.Terms[ti].K); err != nil {
				return nil, bad(*tp.Cov, err.Error())
			}
			// S must be positive definite: every pivot of Gaussian
			// elimination without pivoting is positive.
			sm, k := w.ScaleMatrix(d.Terms[ti].K), d.Terms[ti].K
			a := make([]float64, k*k)
			for i := range k {
				for j := range k {
					a[i*k+j] = sm.At(i, j)
				}
			}
			for j := range k {
				if !(a[j*k+j] > 0) {
					return nil, bad(*tp.Cov, "the scale matrix S is not positive definite")
				}
				for i := j + 1; i < k; i++ {
					f := a[i*k+j] / a[j*k+j]
					for m := j; m < k; m++ {
						a[i*k+m] -= f * a[j*k+m]
					}
				}
			}
			spec.Cov[ti] = &w
			spec.SD = append(spec.SD, nil)
			spec.CorEta = append(spec.CorEta, 1)
			continue
		}
		var sds []priors.ScalePrior
		for _, e := range tp.SD {
			s, ok := e.Prior.(priors.ScalePrior)
			if !ok {
				return nil, bad(e, "not a prior on a standard deviation")
			}
			sds = append(sds, s)
		}
		spec.SD = append(spec.SD, sds)
		eta := 1.0
		if tp.Cor != nil {
			l, ok := tp.Cor.Prior.(priors.LKJ)
			if !ok {
				return nil, bad(*tp.Cor, "a correlation matrix needs an lkj prior")
			}
			eta = l.Eta
		}
		spec.CorEta = append(spec.CorEta, eta)
	}
	return spec, nil
}

// ResponseScale returns the largest |y| and the SD (divisor n) of y,
// computed on y / max|y| so that neither over- nor underflows: a caller
// refuses a response whose scale the posterior cannot be computed on.
func ResponseScale(y []float64) (maxAbs, sd float64) {
	var big, sum, sum2 float64
	for _, v := range y {
		big = max(big, math.Abs(v))
	}
	if big == 0 || math.IsInf(big, 0) {
		big = 1
	}
	for _, v := range y {
		sum += v / big
	}
	mean := sum / float64(len(y))
	for _, v := range y {
		sum2 += (v/big - mean) * (v/big - mean)
	}
	return big, big * math.Sqrt(sum2/float64(len(y)))
}

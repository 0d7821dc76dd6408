package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// ParamDraw is one posterior draw of a model's parameters, laid out by the
// Design it was fitted to.
type ParamDraw struct {
	// Beta holds the fixed effects in Design.XNames order.
	Beta []float64
	// B holds, per Design.Terms entry, the effects of every training
	// level: B[t][j*K+e] is effect e of level j. It may be nil when only
	// population-level predictions are made.
	B [][]float64
	// Cov holds, per Design.Terms entry, the K × K covariance Σₜ of the
	// effects, row-major. It is needed only for unseen levels.
	Cov [][]float64
	// Sigma is the residual standard deviation (Gaussian family).
	Sigma float64
	// Shape is the negative binomial's shape (NB2: Var = μ + μ²/shape).
	Shape float64
}

// PredictOptions control how Predictor treats random effects.
type PredictOptions struct {
	// Population drops all random effects (lme4's re.form = NA).
	Population bool
	// RefuseNewLevels makes an unseen grouping level an error instead
	// of drawing its effects from N(0, Σₜ).
	RefuseNewLevels bool
	// LinkScale makes epred the linear predictor η (brms's
	// posterior_linpred) instead of the expected response, for a
	// non-Gaussian family; pred stays a draw of the response.
	LinkScale bool
	// Trials holds the binomial trials of each new row (nil: one trial,
	// so epred is the probability and pred a 0/1 draw).
	Trials []float64
}

// Predictor computes expected and predicted responses of new rows, draw
// by draw.
type Predictor struct {
	d    *Design
	nd   *NewData
	opt  PredictOptions
	bNew [][]float64 // per term: effects of its new levels
	chol []float64   // scratch K × K
	z    []float64   // scratch K
}

// NewPredictor checks nd against d and returns a Predictor. With
// RefuseNewLevels, an unseen level is an error naming its term and the
// levels.
func NewPredictor(d *Design, nd *NewData, opt PredictOptions) (*Predictor, error) {
	if len(nd.Terms) != len(d.Terms) {
		return nil, fmt.Errorf("predict: new data has %d random terms, the model %d", len(nd.Terms), len(d.Terms))
	}
	p := &Predictor{d: d, nd: nd, opt: opt, bNew: make([][]float64, len(d.Terms))}
	maxK := 0
	for t, term := range d.Terms {
		nt := nd.Terms[t]
		if opt.RefuseNewLevels && !opt.Population && len(nt.NewLevels) > 0 {
			shown := nt.NewLevels
			more := ""
			if len(shown) > 5 {
				shown, more = shown[:5], fmt.Sprintf(" and %d more", len(nt.NewLevels)-5)
			}
			return nil, fmt.Errorf("predict: levels of %q not seen in training: %s%s (use new_levels = \"gaussian\" to draw them from the population)",
				term.Group, strings.Join(shown, ", "), more)
		}
		p.bNew[t] = make([]float64, len(nt.NewLevels)*term.K)
		maxK = max(maxK, term.K)
	}
	p.chol = make([]float64, maxK*maxK)
	p.z = make([]float64, maxK)
	return p, nil
}

// Draw computes, for one parameter draw, the expected response epred
// (offset + xβ + Σ zb) and a predicted response pred (epred plus
// N(0, σ²/w) noise, w the row's prior weight, 1 without one) of every
// new row. Effects of unseen levels are drawn from N(0, Σₜ) once per
// level and call, so rows of one new subject share them. rng supplies the
// noise and the new-level effects; epred and pred have length nd.N.
func (p *Predictor) Draw(pd *ParamDraw, rng *rand.Rand, epred, pred []float64) error {
	nd, d := p.nd, p.d
	n := nd.N
	if len(pd.Beta) != len(d.XNames) {
		return fmt.Errorf("predict: draw has %d fixed effects, the model %d", len(pd.Beta), len(d.XNames))
	}
	for i := range n {
		s := 0.0
		if nd.Offset != nil {
			s = nd.Offset[i]
		}
		if len(pd.Beta) > 0 {
			xi := nd.X.RawRowView(i)
			for j, bj := range pd.Beta {
				s += xi[j] * bj
			}
		}
		epred[i] = s
	}
	if !p.opt.Population {
		for t, term := range d.Terms {
			if err := p.addTerm(t, term, pd, rng, epred); err != nil {
				return err
			}
		}
	}
	if d.Family != Gaussian {
		return p.drawGLMM(pd, rng, epred, pred)
	}
	for i := range n {
		sd := pd.Sigma
		if nd.Weights != nil {
			sd /= math.Sqrt(nd.Weights[i])
		}
		pred[i] = epred[i] + sd*rng.NormFloat64()
	}
	return nil
}

// drawGLMM turns the linear predictors in epred into the expected
// responses (or leaves them, with LinkScale) and draws pred from the
// family: Binomial(trials, p), Poisson(μ), or the negative binomial as
// Poisson(λ), λ ~ Gamma(shape, rate shape/μ) (mean μ, variance
// μ + μ²/shape), all exact (gonum's distuv).
func (p *Predictor) drawGLMM(pd *ParamDraw, rng *rand.Rand, epred, pred []float64) error {
	f := p.d.Family
	for i := range p.nd.N {
		eta := epred[i]
		mu := f.LinkInv(eta)
		n := 1.0
		if p.opt.Trials != nil {
			n = p.opt.Trials[i]
		}
		switch f {
		case Bernoulli, Binomial:
			if n == 0 {
				pred[i] = 0
			} else {
				pred[i] = randBinomial(n, mu, rng)
			}
			mu *= n
		case Poisson:
			pred[i] = randPoisson(mu, rng)
		case NegBinomial:
			if !(pd.Shape > 0) {
				return fmt.Errorf("predict: negative binomial shape %g", pd.Shape)
			}
			lam := distuv.Gamma{Alpha: pd.Shape, Beta: pd.Shape / mu, Src: rng}.Rand()
			pred[i] = randPoisson(lam, rng)
		default:
			return fmt.Errorf("predict: family %s", f)
		}
		if p.opt.LinkScale {
			epred[i] = eta
		} else {
			epred[i] = mu
		}
	}
	return nil
}

// randBinomial draws from Binomial(n, p): by inversion (a sequential
// search from 0 with the pmf's recurrence, on min(p, 1 − p)) when n·min(p,
// 1 − p) < 20, which takes about that many steps and one exp; gonum's
// Binomial otherwise.
func randBinomial(n, p float64, rng *rand.Rand) float64 {
	q := math.Min(p, 1-p)
	if !(n*q < 20) || q <= 0 {
		if q <= 0 {
			if p >= 1 {
				return n
			}
			return 0
		}
		return distuv.Binomial{N: n, P: p, Src: rng}.Rand()
	}
	// P(X = 0) = (1 − q)^n; P(X = k + 1) = P(X = k)·(n − k)/(k + 1)·q/(1 − q).
	pk := math.Exp(n * math.Log1p(-q))
	r := q / (1 - q)
	u := rng.Float64()
	k := 0.0
	for u > pk && k < n {
		u -= pk
		pk *= (n - k) / (k + 1) * r
		k++
	}
	if q != p {
		return n - k
	}
	return k
}

// randPoisson draws from Poisson(mu); 0 for mu = 0.
func randPoisson(mu float64, rng *rand.Rand) float64 {
	if mu <= 0 {
		return 0
	}
	return distuv.Poisson{Lambda: mu, Src: rng}.Rand()
}

// addTerm adds term t's contribution to epred.
func (p *Predictor) addTerm(t int, term *ReTerm, pd *ParamDraw, rng *rand.Rand, epred []float64) error {
	nt := p.nd.Terms[t]
	k, nl := term.K, len(term.Levels)
	if len(nt.NewLevels) > 0 {
		if t >= len(pd.Cov) || len(pd.Cov[t]) != k*k {
			return fmt.Errorf("predict: no covariance for the new levels of %q", term.Group)
		}
		if err := CholeskyPSD(pd.Cov[t], k, p.chol); err != nil {
			return fmt.Errorf("predict: covariance of %q: %w", term.Group, err)
		}
		bn := p.bNew[t]
		for j := range nt.NewLevels {
			for e := range k {
				p.z[e] = rng.NormFloat64()
			}
			for e := range k {
				s := 0.0
				for f := 0; f <= e; f++ {
					s += p.chol[e*k+f] * p.z[f]
				}
				bn[j*k+e] = s
			}
		}
	}
	var bt []float64
	if t < len(pd.B) {
		bt = pd.B[t]
	}
	n := p.nd.N
	for i := range n {
		ref := int(nt.Refs[i])
		var eff []float64
		if ref < nl {
			if len(bt) != nl*k {
				return fmt.Errorf("predict: the draws hold no effects of %q (run with [output] random_effects = true)", term.Group)
			}
			eff = bt[ref*k : ref*k+k]
		} else {
			eff = p.bNew[t][(ref-nl)*k : (ref-nl)*k+k]
		}
		s := 0.0
		for e := range k {
			s += nt.Z[e*n+i] * eff[e]
		}
		epred[i] += s
	}
	return nil
}

// CholeskyPSD writes the lower Cholesky factor of the k × k positive
// semi-definite matrix a into l. A zero pivot (a variance at zero, or a
// correlation at ±1) gives a zero column, so that draws stay on the
// degenerate subspace instead of failing.
func CholeskyPSD(a []float64, k int, l []float64) error {
	for i := range k * k {
		l[i] = 0
	}
	for j := range k {
		s := a[j*k+j]
		for f := range j {
			s -= l[j*k+f] * l[j*k+f]
		}
		scale := math.Max(math.Abs(a[j*k+j]), 1e-300)
		if s < -1e-10*scale || math.IsNaN(s) {
			return fmt.Errorf("not positive semi-definite")
		}
		if s <= 1e-14*scale {
			continue
		}
		d := math.Sqrt(s)
		l[j*k+j] = d
		for i := j + 1; i < k; i++ {
			v := a[i*k+j]
			for f := range j {
				v -= l[i*k+f] * l[j*k+f]
			}
			l[i*k+j] = v / d
		}
	}
	return nil
}

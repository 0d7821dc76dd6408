package loo

import (
	"fmt"
	"math"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
)

// HeldOut computes the log predictive density of rows left out of a fit
// (exact K-fold cross-validation), one draw at a time. Random effects of
// levels seen in the fit are the draw's; those of levels the fit never saw
// (the left-out groups) are integrated out in closed form,
// b ~ N(0, Σₜ) of the draw: brms's kfold draws them instead
// (sample_new_levels = "uncertainty"), an unbiased Monte Carlo version of
// the same expectation.
type HeldOut struct {
	d  *model.Design  // the fit's design
	nd *model.NewData // the left-out rows, coded with it
	// groups are the left-out rows by level of the left-out factor (for the
	// joint density of each group); nil without one.
	groups [][]int
}

// NewHeldOut prepares the held-out rows nd of a fit to d. groupTerm, when
// ≥ 0, names a term of d whose grouping factor's levels are left out whole:
// JointLogLik then gives each level's joint density.
func NewHeldOut(d *model.Design, nd *model.NewData, groupTerm int) (*HeldOut, error) {
	if nd.Y == nil {
		return nil, fmt.Errorf("held-out rows have no response")
	}
	h := &HeldOut{d: d, nd: nd}
	if groupTerm >= 0 {
		nt := nd.Terms[groupTerm]
		idx := map[int32]int{}
		for i, ref := range nt.Refs {
			g, ok := idx[ref]
			if !ok {
				g = len(h.groups)
				idx[ref] = g
				h.groups = append(h.groups, nil)
			}
			h.groups[g] = append(h.groups[g], i)
		}
	}
	return h, nil
}

// Groups returns the left-out rows (indices into the NewData) of each level
// of the left-out factor, in order of first appearance.
func (h *HeldOut) Groups() [][]int { return h.groups }

// meanVar writes each held-out row's mean (xβ plus the seen levels'
// effects) into mu.
func (h *HeldOut) mean(pd *model.ParamDraw, mu []float64) error {
	nd, d := h.nd, h.d
	n := nd.N
	for i := range n {
		s := 0.0
		if nd.Offset != nil {
			s = nd.Offset[i]
		}
		for j, bj := range pd.Beta {
			s += nd.X.At(i, j) * bj
		}
		mu[i] = s
	}
	for t, term := range d.Terms {
		nt := nd.Terms[t]
		k, nl := term.K, len(term.Levels)
		for i := range n {
			ref := int(nt.Refs[i])
			if ref >= nl {
				continue
			}
			if t >= len(pd.B) || len(pd.B[t]) != nl*k {
				return fmt.Errorf("the draws hold no effects of %q", term.Group)
			}
			for e := range k {
				mu[i] += nt.Z[e*n+i] * pd.B[t][ref*k+e]
			}
		}
	}
	return nil
}

// LogLik writes each held-out row's log density for one draw into dst:
// log N(yᵢ; μᵢ, σ²/wᵢ + Σ_{t: level of row i unseen} zᵢₜᵀΣₜzᵢₜ), μᵢ
// including the row's offset and wᵢ its prior weight (1 without). mu is scratch
// of length nd.N.
func (h *HeldOut) LogLik(pd *model.ParamDraw, mu, dst []float64) error {
	if err := h.mean(pd, mu); err != nil {
		return err
	}
	nd, d := h.nd, h.d
	n := nd.N
	s2 := pd.Sigma * pd.Sigma
	for i := range n {
		v := s2
		if nd.Weights != nil {
			v /= nd.Weights[i]
		}
		for t, term := range d.Terms {
			nt := nd.Terms[t]
			k := term.K
			if int(nt.Refs[i]) < len(term.Levels) {
				continue
			}
			cov := pd.Cov[t]
			for a := range k {
				za := nt.Z[a*n+i]
				for b := range k {
					v += za * cov[a*k+b] * nt.Z[b*n+i]
				}
			}
		}
		r := nd.Y[i] - mu[i]
		dst[i] = -0.5*(log2Pi+math.Log(v)) - 0.5*r*r/v
	}
	return nil
}

// JointLogLik writes each left-out group's joint log density for one draw
// into dst: log N(y_g; μ_g, σ²I + Σ_{t: unseen levels} Z_t Σ_t Z_tᵀ), the
// unseen levels' effects shared by the rows that have them. mu is scratch
// of length nd.N.
func (h *HeldOut) JointLogLik(pd *model.ParamDraw, mu, dst []float64) error {
	if err := h.mean(pd, mu); err != nil {
		return err
	}
	nd, d := h.nd, h.d
	n := nd.N
	s2 := pd.Sigma * pd.Sigma
	for g, rows := range h.groups {
		m := len(rows)
		V := make([]float64, m*m)
		for a, i := range rows {
			V[a*m+a] = s2
			if nd.Weights != nil {
				V[a*m+a] /= nd.Weights[i]
			}
		}
		for t, term := range d.Terms {
			nt := nd.Terms[t]
			k, nl := term.K, len(term.Levels)
			cov := pd.Cov[t]
			for a, i := range rows {
				if int(nt.Refs[i]) < nl {
					continue
				}
				for b := 0; b <= a; b++ {
					j := rows[b]
					if nt.Refs[j] != nt.Refs[i] {
						continue
					}
					var s float64
					for e := range k {
						for f := range k {
							s += nt.Z[e*n+i] * cov[e*k+f] * nt.Z[f*n+j]
						}
					}
					V[a*m+b] += s
					if a != b {
						V[b*m+a] += s
					}
				}
			}
		}
		// Cholesky (lower, in place) and the Gaussian log density.
		var logdet float64
		for a := range m {
			for b := 0; b <= a; b++ {
				s := V[a*m+b]
				for f := range b {
					s -= V[a*m+f] * V[b*m+f]
				}
				if a == b {
					if !(s > 0) {
						return fmt.Errorf("covariance of a left-out group not positive definite")
					}
					V[a*m+a] = math.Sqrt(s)
					logdet += math.Log(s)
				} else {
					V[a*m+b] = s / V[b*m+b]
				}
			}
		}
		z := make([]float64, m)
		var q float64
		for a, i := range rows {
			s := nd.Y[i] - mu[i]
			for f := range a {
				s -= V[a*m+f] * z[f]
			}
			z[a] = s / V[a*m+a]
			q += z[a] * z[a]
		}
		dst[g] = -0.5*float64(m)*log2Pi - 0.5*logdet - 0.5*q
	}
	return nil
}

// LogMeanExp returns log((1/S) Σ exp(x)), the elpd of one held-out row or
// group from its S draws (brms's kfold: log_mean_exp of log_lik).
func LogMeanExp(x []float64) float64 {
	return logSumExp(x) - math.Log(float64(len(x)))
}

// ELPD is the expected log predictive density of held-out rows over a
// posterior sample.
type ELPD struct {
	// Row holds each held-out row's log mean over draws of its
	// predictive density (indices into the NewData).
	Row []float64
	// Group holds each left-out level's log mean over draws of its rows'
	// joint predictive density, in Groups' order (nil without a left-out
	// factor).
	Group []float64
	// GroupOf is each held-out row's index into Group (nil without one).
	GroupOf []int
}

// ELPD computes the held-out rows' pointwise and per-level expected log
// predictive densities over every draw of post, a sample of the fit to
// the design h was made with (laid out by lay, from post.Layout).
func (h *HeldOut) ELPD(post *draws.Draws, lay *draws.Layout) (*ELPD, error) {
	n, S := h.nd.N, post.NumDraws()
	ll := make([][]float64, n)
	for i := range ll {
		ll[i] = make([]float64, S)
	}
	gll := make([][]float64, len(h.groups))
	for g := range gll {
		gll[g] = make([]float64, S)
	}
	pd := draws.NewParamDraw(h.d, true)
	mu, row, grow := make([]float64, n), make([]float64, n), make([]float64, len(h.groups))
	for s := range S {
		lay.Fill(post.Row(s), pd)
		if err := h.LogLik(pd, mu, row); err != nil {
			return nil, err
		}
		if err := h.JointLogLik(pd, mu, grow); err != nil {
			return nil, err
		}
		for i, v := range row {
			ll[i][s] = v
		}
		for g, v := range grow {
			gll[g][s] = v
		}
	}
	out := &ELPD{Row: make([]float64, n)}
	for i := range ll {
		out.Row[i] = LogMeanExp(ll[i])
	}
	if h.groups != nil {
		out.Group = make([]float64, len(gll))
		for g := range gll {
			out.Group[g] = LogMeanExp(gll[g])
		}
		out.GroupOf = make([]int, n)
		for g, rows := range h.groups {
			for _, i := range rows {
				out.GroupOf[i] = g
			}
		}
	}
	return out, nil
}

package loo

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Pointwise holds the PSIS-LOO quantities of one observation, the columns of
// loo's pointwise table plus its diagnostics.
type Pointwise struct {
	ElpdLoo     float64 // log Σ_s w_s p(y_i | θ_s), w the normalised smoothed weights
	MCSEElpdLoo float64 // Monte Carlo SE of ElpdLoo (loo's mcse_elpd)
	PLoo        float64 // lpd_i − ElpdLoo, lpd_i = log mean_s p(y_i | θ_s)
	LooIC       float64 // −2·ElpdLoo
	ParetoK     float64 // k̂ of the smoothed tail (+Inf when not fitted)
	NEff        float64 // PSIS effective sample size r_eff / Σ w_s²
	REff        float64 // relative efficiency used (RelativeEff of exp(log_lik))
}

// WAICPointwise holds WAIC's pointwise quantities of one observation.
type WAICPointwise struct {
	ElpdWAIC float64 // lpd_i − PWAIC
	PWAIC    float64 // sample variance (denominator S − 1) of log p(y_i | θ_s)
	WAIC     float64 // −2·ElpdWAIC
}

// Estimate is a sum over observations with its standard error √(N·var), as
// loo's table_of_estimates computes it.
type Estimate struct {
	Estimate float64
	SE       float64
}

// mcseDraws is the number of normal quantiles loo's mcse_elpd uses.
const mcseDraws = 1000

// Computer computes the pointwise quantities of observations whose draws
// come as `chains` chains of `draws` draws each. It reuses its buffers and is
// not safe for concurrent use; use one per goroutine.
type Computer struct {
	chains, draws int
	ess           *essWork
	psis          psisWork
	lik           []float64
	lw            []float64
	split         [][]float64
	zn            []float64
	logz          []float64
}

// NewComputer returns a Computer for chains × draws draws per observation.
// draws must be at least 2 (relative efficiencies need two draws per chain).
func NewComputer(chains, draws int) (*Computer, error) {
	if chains < 1 || draws < 2 {
		return nil, fmt.Errorf("loo: need at least 1 chain of 2 draws, got %d chains of %d", chains, draws)
	}
	S := chains * draws
	c := &Computer{
		chains: chains, draws: draws,
		ess:   newESSWork(draws),
		lik:   make([]float64, S),
		lw:    make([]float64, S),
		split: make([][]float64, chains),
		zn:    make([]float64, mcseDraws),
		logz:  make([]float64, 0, mcseDraws),
	}
	const cc = 3.0 / 8
	for r := range c.zn {
		p := (float64(r+1) - cc) / (mcseDraws - 2*cc + 1)
		c.zn[r] = math.Sqrt2 * math.Erfinv(2*p-1)
	}
	return c, nil
}

// S returns the number of draws per observation.
func (c *Computer) S() int { return c.chains * c.draws }

// ErrNonFinite is returned for a log-likelihood that is NaN or infinite
// (loo refuses such input too).
var ErrNonFinite = errors.New("log-likelihood not finite")

// LOO computes observation i's PSIS-LOO quantities from its S log-likelihood
// draws ll (chain 1's draws first), which are not modified. The relative
// efficiency is RelativeEff of exp(ll) by chain (as brms and loo's
// documentation compute r_eff); rEff > 0 overrides it.
func (c *Computer) LOO(ll []float64, rEff float64) (Pointwise, error) {
	S := c.S()
	if len(ll) != S {
		return Pointwise{}, fmt.Errorf("loo: %d draws, want %d", len(ll), S)
	}
	for _, v := range ll {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Pointwise{}, ErrNonFinite
		}
	}
	// Every quantity below is computed from exp(ll − m), m = max ll: the
	// relative efficiency is invariant to scaling the likelihood, elpd and
	// lpd get m back, and mcse_elpd's var(log z) is invariant to the shift.
	// So a log-likelihood far below −745 does not underflow.
	m := math.Inf(-1)
	for _, v := range ll {
		if v > m {
			m = v
		}
	}
	lik := c.lik
	for i, v := range ll {
		lik[i] = math.Exp(v - m)
	}
	if !(rEff > 0) {
		for ch := range c.split {
			c.split[ch] = lik[ch*c.draws : (ch+1)*c.draws]
		}
		rEff = c.ess.ess(c.split) / float64(S)
	}
	// Log importance ratios −ll, smoothed, then normalised weights w.
	lw := c.lw
	for i, v := range ll {
		lw[i] = -v
	}
	k := c.psis.psis(lw, rEff)
	maxLW := math.Inf(-1)
	for _, v := range lw {
		if v > maxLW {
			maxLW = v
		}
	}
	var sw float64
	for i, v := range lw {
		lw[i] = math.Exp(v - maxLW)
		sw += lw[i]
	}
	w := lw
	var sumW2, sl, slw float64
	for i := range w {
		w[i] /= sw
		sumW2 += w[i] * w[i]
		sl += lik[i]
		slw += lik[i] * w[i]
	}
	// elpd_loo = log Σ w·exp(ll); lpd = log mean exp(ll).
	elpd := m + math.Log(slw)
	lpd := m + math.Log(sl) - math.Log(float64(S))
	// mcse_elpd: var_epd = Σ w² (lik − E_epd)², z = E_epd + sd·zn,
	// √(var(log z[z>0]) / r_eff), on the scale of exp(ll − m).
	eEpd := slw
	var varEpd float64
	for i := range w {
		d := lik[i] - eEpd
		varEpd += w[i] * w[i] * d * d
	}
	sd := math.Sqrt(varEpd)
	logz := c.logz[:0]
	for _, z := range c.zn {
		if v := eEpd + sd*z; v > 0 {
			logz = append(logz, math.Log(v))
		}
	}
	c.logz = logz
	mcse := math.Sqrt(variance(logz) / rEff)
	return Pointwise{
		ElpdLoo:     elpd,
		MCSEElpdLoo: mcse,
		PLoo:        lpd - elpd,
		LooIC:       -2 * elpd,
		ParetoK:     k,
		NEff:        rEff / sumW2,
		REff:        rEff,
	}, nil
}

// WAIC computes observation i's WAIC quantities from its S log-likelihood
// draws (loo's waic.matrix).
func (c *Computer) WAIC(ll []float64) (WAICPointwise, error) {
	if len(ll) != c.S() {
		return WAICPointwise{}, fmt.Errorf("loo: %d draws, want %d", len(ll), c.S())
	}
	for _, v := range ll {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return WAICPointwise{}, ErrNonFinite
		}
	}
	lpd := logSumExp(ll) - math.Log(float64(len(ll)))
	p := variance(ll)
	return WAICPointwise{ElpdWAIC: lpd - p, PWAIC: p, WAIC: -2 * (lpd - p)}, nil
}

// EstimateOf returns the sum of x and its standard error √(N·var(x)).
func EstimateOf(x []float64) Estimate {
	var s float64
	for _, v := range x {
		s += v
	}
	return Estimate{Estimate: s, SE: math.Sqrt(float64(len(x)) * variance(x))}
}

// Result is a PSIS-LOO computation over N observations.
type Result struct {
	S, N      int
	Pointwise []Pointwise
	ElpdLoo   Estimate
	PLoo      Estimate
	LooIC     Estimate
}

// Summarize forms the estimates of pointwise results computed from S draws.
func Summarize(pw []Pointwise, S int) *Result {
	col := func(f func(Pointwise) float64) []float64 {
		x := make([]float64, len(pw))
		for i, p := range pw {
			x[i] = f(p)
		}
		return x
	}
	return &Result{
		S: S, N: len(pw), Pointwise: pw,
		ElpdLoo: EstimateOf(col(func(p Pointwise) float64 { return p.ElpdLoo })),
		PLoo:    EstimateOf(col(func(p Pointwise) float64 { return p.PLoo })),
		LooIC:   EstimateOf(col(func(p Pointwise) float64 { return p.LooIC })),
	}
}

// MCSE returns the Monte Carlo SE of elpd_loo, √Σ mcse_i² (loo's mcse_loo),
// or NaN when some k̂ exceeds 0.7.
func (r *Result) MCSE() float64 {
	var s float64
	for _, p := range r.Pointwise {
		if p.ParetoK > 0.7 {
			return math.NaN()
		}
		s += p.MCSEElpdLoo * p.MCSEElpdLoo
	}
	return math.Sqrt(s)
}

// ElpdPointwise returns the pointwise elpd_loo values.
func (r *Result) ElpdPointwise() []float64 {
	x := make([]float64, len(r.Pointwise))
	for i, p := range r.Pointwise {
		x[i] = p.ElpdLoo
	}
	return x
}

// WAICResult is a WAIC computation over N observations.
type WAICResult struct {
	S, N      int
	Pointwise []WAICPointwise
	ElpdWAIC  Estimate
	PWAIC     Estimate
	WAIC      Estimate
}

// SummarizeWAIC forms WAIC's estimates.
func SummarizeWAIC(pw []WAICPointwise, S int) *WAICResult {
	e, p, w := make([]float64, len(pw)), make([]float64, len(pw)), make([]float64, len(pw))
	for i, q := range pw {
		e[i], p[i], w[i] = q.ElpdWAIC, q.PWAIC, q.WAIC
	}
	return &WAICResult{S: S, N: len(pw), Pointwise: pw, ElpdWAIC: EstimateOf(e), PWAIC: EstimateOf(p), WAIC: EstimateOf(w)}
}

// CountPWAICHigh returns how many p_waic exceed 0.4 (loo then recommends loo).
func (r *WAICResult) CountPWAICHigh() int {
	n := 0
	for _, p := range r.Pointwise {
		if p.PWAIC > 0.4 {
			n++
		}
	}
	return n
}

// Model is one model's input to Compare: a name, the pointwise elpd (loo or
// waic, the same criterion for every model) and its estimates.
type Model struct {
	Name      string
	Pointwise []float64
	Elpd      Estimate
	P         Estimate
	IC        Estimate
}

// CompareRow is one row of loo_compare's table.
type CompareRow struct {
	Name     string
	ElpdDiff float64 // Σ (elpd_i of this model − elpd_i of the best)
	SEDiff   float64 // √N · sd of those differences
	Elpd     Estimate
	P        Estimate
	IC       Estimate
}

// Compare reproduces loo_compare: models ordered by decreasing elpd (ties
// kept in input order), each row's difference to the first. It needs at
// least two models with the same number of observations.
func Compare(models []Model) ([]CompareRow, error) {
	if len(models) < 2 {
		return nil, errors.New("loo_compare requires at least two models")
	}
	n := len(models[0].Pointwise)
	for _, m := range models[1:] {
		if len(m.Pointwise) != n {
			return nil, fmt.Errorf("not all models have the same number of data points (%s: %d, %s: %d)",
				models[0].Name, n, m.Name, len(m.Pointwise))
		}
	}
	ord := make([]int, len(models))
	for i := range ord {
		ord[i] = i
	}
	slices.SortStableFunc(ord, func(a, b int) int {
		ea, eb := models[a].Elpd.Estimate, models[b].Elpd.Estimate
		switch {
		case ea > eb:
			return -1
		case ea < eb:
			return 1
		}
		return 0
	})
	best := models[ord[0]]
	rows := make([]CompareRow, len(models))
	d := make([]float64, n)
	for r, i := range ord {
		m := models[i]
		var s float64
		for j := range d {
			d[j] = m.Pointwise[j] - best.Pointwise[j]
			s += d[j]
		}
		rows[r] = CompareRow{Name: m.Name, ElpdDiff: s, SEDiff: math.Sqrt(float64(n) * variance(d)),
			Elpd: m.Elpd, P: m.P, IC: m.IC}
	}
	return rows, nil
}

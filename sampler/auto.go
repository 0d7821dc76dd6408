package sampler

import (
	"fmt"
	"math"
	"strings"

	"github.com/lmmbayes/lmmbayes/diagnostics"
)

// The "auto" pilot: when NUTS is affordable on the model (its gradient
// costs at most nutsMaxGradCost factorisations), the cheap methods
// (collapsed Metropolis, crossed Gibbs) run short pilot chains from the
// mode; NUTS runs when neither mixes fast enough (autoPilot).
const (
	// pilotBurn iterations of each pilot are discarded (the
	// Metropolis and crossed pilots; NUTS spends them adapting its step
	// size and metric).
	pilotBurn = 100
	// pilotIters iterations of each pilot are measured: with 150, the
	// estimate varied enough between seeds that the collapsed method was
	// kept on politeness with crossed slopes and on factor4 in 1 of 10
	// seeds each, where its run then missed R-hat 1.01 (TestFamily).
	pilotIters = 600
	// nutsMaxGradCost is the largest cost of one gradient, in
	// factorisations by operation count, for which NUTS is a candidate
	// (the maximal 2 × 2 family member: 2.4; measured 2.3).
	nutsMaxGradCost = 8
	// nutsMaxGradFlops bounds the selected inversion's flops for NUTS
	// to be a candidate (about 20 ms a gradient): beyond it the mode
	// search and pilots alone would cost more than most runs (the
	// maximal 2 × 2 member: 3·10⁶; InstEval: 3·10⁹).
	nutsMaxGradFlops = 5e7
	// pilotMinESS is the bulk-ESS per iteration a cheap method's pilot
	// must reach to be kept: 2.5 times the 0.1 at which the default 4 ×
	// 1000 draws give the bulk-ESS of 400 that the convergence warnings
	// ask for, since a short pilot overestimates a sticky chain's ESS.
	// Runs' own ESS per iteration (TestFamily): sleepstudy, politeness,
	// penicillin by collapsed 0.35, 0.47, 0.47 (kept); factor4 by
	// collapsed 0.11 and crossed 0.14, politeness with crossed slopes by
	// collapsed 0.08 (NUTS runs).
	pilotMinESS = 0.25
	// pilotSeed seeds the pilot chains whatever the run's seed, so that
	// the method depends on the model and data only.
	pilotSeed = 0x5eed_9110
	// pilotStream offsets the pilot chains' PCG stream ids from the
	// chains' own (1, 2, …).
	pilotStream = 1 << 40
)

// gradCost returns the cost of one logTargetGrad in factorisations, by
// operation counts (1 + the selected inversion's flops over the
// factorisation's), and the selected inversion's flops. With q₀ the
// first (most levels) term's effects, K₀ its size, m the rest's effects
// plus p and q all effects:
//
//	factorisation ≈ q₀m²/2 (downdate of the trailing block) + m³/3 + 2qK²,
//	selected inverse ≈ q₀m²/2 (forward solves) + 2m³/3 + q₀K₀m.
func gradCost(st *setup) (ratio, selFlops float64) {
	d := st.spec.Design
	first := kernelFirstTerm(d)
	k0 := float64(d.Terms[first].K)
	q0 := k0 * float64(len(d.Terms[first].Levels))
	m := float64(st.lay.p)
	var kk float64
	for i, t := range d.Terms {
		kk += float64(t.K*t.K) * float64(t.K*len(t.Levels))
		if i != first {
			m += float64(t.K * len(t.Levels))
		}
	}
	fact := q0*m*m/2 + m*m*m/3 + 2*kk
	sel := q0*m*m/2 + 2*m*m*m/3 + q0*k0*m
	return 1 + sel/fact, sel
}

// pilotResult is one candidate's pilot measurement.
type pilotResult struct {
	ess   float64 // min over the coordinates of ψ of bulk-ESS per iteration
	worst string  // that coordinate
}

// autoPilot measures how well the two cheap methods mix on the model at
// hand and returns the method to run and the reason, given the mode and
// Laplace covariance of ψ and the cost of a gradient in factorisations
// (the caller has checked that NUTS is affordable). flopMethod is the
// operation-count rule's choice (chooseMethod). It runs a pilot chain of
// flopMethod from the mode and keeps it when its slowest coordinate of ψ
// reaches pilotMinESS bulk-ESS per iteration; else a pilot of the other
// cheap method, kept when it does; else NUTS.
func autoPilot(st *setup, opt Options, flopMethod string, ratio float64, mode, cov []float64) (method, reason string) {
	names := psiNames(st)
	d := st.lay.dim
	measure := func(step func(it int, warm bool), psi func() []float64, warm int) pilotResult {
		draws := make([][]float64, d)
		for it := range warm + pilotIters {
			step(it, it < warm)
			if it >= warm {
				for i, v := range psi() {
					draws[i] = append(draws[i], v)
				}
			}
		}
		r := pilotResult{ess: math.Inf(1)}
		for i := range d {
			v := diagnostics.ESSBulk([][]float64{draws[i]}) / pilotIters
			if math.IsNaN(v) {
				v = 0
			}
			if v < r.ess {
				r.ess, r.worst = v, names[i]
			}
		}
		return r
	}
	// The Metropolis pilot runs without warmup, so that its proposal is
	// the Laplace approximation's (as in the first iterations after
	// warmup); the crossed pilot adapts its slice widths during its
	// first pilotBurn iterations.
	pilot := func(m string) (pilotResult, bool) {
		popt := opt
		popt.Seed = pilotSeed
		if m == "crossed" {
			xc := newCrossedChain(st, newCrossedData(st, popt), popt, pilotStream+2, mode)
			return measure(xc.step, func() []float64 { return xc.psi }, pilotBurn), true
		}
		mopt := popt
		mopt.Warmup = 0
		mh, err := newChain(st, mopt, pilotStream+1, mode, cov, false)
		if err != nil {
			return pilotResult{}, false
		}
		return measure(func(it int, _ bool) { mh.step(it, false) }, func() []float64 { return mh.psi }, pilotBurn), true
	}
	other := "crossed"
	if flopMethod == "crossed" {
		other = "collapsed"
	}
	var parts []string
	method = "nuts"
	for _, m := range []string{flopMethod, other} {
		r, ok := pilot(m)
		if !ok {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.3g (slowest: %s)", m, r.ess, r.worst))
		if r.ess >= pilotMinESS {
			method = m
			break
		}
	}
	why := fmt.Sprintf("NUTS (a gradient costs %.2g factorisations) runs since neither reaches %.2g", ratio, pilotMinESS)
	if method != "nuts" {
		why = method + " runs"
		if method != flopMethod {
			why += fmt.Sprintf(" (%s, cheaper by operation count, does not reach %.2g)", flopMethod, pilotMinESS)
		}
	}
	return method, fmt.Sprintf("auto: pilot chains from the mode (%d iterations after %d), bulk-ESS per iteration of the slowest coordinate of ψ: %s; %s",
		pilotIters, pilotBurn, strings.Join(parts, ", "), why)
}

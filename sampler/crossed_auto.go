package sampler

import (
	"fmt"
	"slices"

	"github.com/lmmbayes/lmmbayes/model"
)

// essRatio is the ratio of the collapsed method's ESS per iteration to
// the crossed method's (the slowest of the SD and σ columns) that the
// "auto" rule allows for, from the small models of docs/sampler.md
// (politeness with a random slope). On the simulated subjects × items
// family of docs/benchmarks.md ("Scaling") the collapsed method mixes
// 1.7–3.4× worse per iteration instead, so there the rule errs towards
// collapsed only near the crossover, which that family does not reach.
const essRatio = 2

// flopsPerRowPass converts the crossed method's row passes into the
// collapsed method's dense-factorisation flops (a row pass touches a few
// arrays with indexed loads; a dense Cholesky runs near peak), measured
// on InstEval and the simulated model (docs/sampler.md).
const flopsPerRowPass = 4

// sparseFlopCost converts the flops of the kernel's sparse downdate of the
// dense block (rankUpdate over the first term's levels) into dense-
// Cholesky flops: the downdate runs at about 0.3 GFlop/s against about
// 7 GFlop/s for the dense Cholesky on the same machine (the 200k-row
// simulated model of docs/benchmarks.md, "InstEval posterior": 73 ms per
// factorisation, 75% of it in rankUpdate).
const sparseFlopCost = 20

// smallModelFlops is the collapsed method's cost per iteration below which
// auto always runs it: both methods then take well under a millisecond per
// iteration, and the collapsed one's joint update of all variance
// parameters mixes better on small data (politeness with a random slope:
// bulk-ESS of sd(attitudepol) 880 collapsed against 224 crossed, same
// draws).
const smallModelFlops = 1e6

// chooseMethod returns the method to run and why. "auto" compares
// operation counts, so that the choice depends only on the design (never
// on wall time or machine load):
//
//	collapsed: q₂³/3 + q₂² + c·Σⱼ (nⱼK_rest)²K₁ per iteration, q₂ = Σ KₖJₖ
//	           over all terms but the one with the most levels (the
//	           kernel's dense block), nⱼ the rows of that term's level j,
//	           c = sparseFlopCost;
//	crossed:   n·(row work) + Σ_large Jₖ·Kₖ·pe², pe = len β̃;
//
// and picks crossed when collapsed costs more than essRatio times
// crossed.
func chooseMethod(st *setup, opt Options) (string, string) {
	switch opt.Method {
	case "collapsed", "crossed", "nuts":
		return opt.Method, "chosen by the user"
	}
	c, x := methodCosts(st, opt)
	if c < smallModelFlops {
		return "collapsed", fmt.Sprintf("auto: the model is small (collapsed costs %.3g flops/iteration, well under a millisecond), so the better-mixing collapsed method runs", c)
	}
	if c > essRatio*x {
		return "crossed", fmt.Sprintf("auto: collapsed costs %.3g flops/iteration (dense block), crossed %.3g; crossed wins unless its ESS per iteration is %d× lower", c, x, essRatio)
	}
	return "collapsed", fmt.Sprintf("auto: collapsed costs %.3g flops/iteration (dense block), crossed %.3g; collapsed mixes about %d× better per iteration", c, x, essRatio)
}

// methodCosts returns the per-iteration operation counts of the two
// methods.
func methodCosts(st *setup, opt Options) (collapsed, crossed float64) {
	d := st.spec.Design
	n, p := float64(st.lay.n), st.lay.p
	qs := make([]int, len(d.Terms))
	for i, t := range d.Terms {
		qs[i] = t.K * len(t.Levels)
	}
	// The kernel puts the term with the most levels first
	// (block-diagonal); the rest is dense.
	first := kernelFirstTerm(d)
	var q2 float64
	for i, q := range qs {
		if i != first {
			q2 += float64(q)
		}
	}
	collapsed = q2*q2*q2/3 + q2*q2 + float64(st.lay.q)*8
	// The sparse downdate of the dense block by the first block's
	// columns: per level j of the first term, (nⱼ·K_rest)²·K₁ at most.
	kRest := 0.0
	for i, t := range d.Terms {
		if i != first {
			kRest += float64(t.K)
		}
	}
	cnt := make([]float64, len(d.Terms[first].Levels))
	for _, l := range d.Terms[first].Refs {
		cnt[l]++
	}
	for _, c := range cnt {
		collapsed += sparseFlopCost * (c * kRest) * (c * kRest) * float64(d.Terms[first].K)
	}
	// Crossed: the β̃ split of newCrossedData.
	limit := smallMax
	if opt.crossedSmall != 0 {
		limit = opt.crossedSmall
	}
	idx := make([]int, len(qs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return qs[a] - qs[b] })
	pe := p
	small := make([]bool, len(qs))
	for _, i := range idx {
		if pe+qs[i] <= limit {
			small[i] = true
			pe += qs[i]
		}
	}
	rowWidth := float64(p)
	nLarge := 0
	for i, t := range d.Terms {
		if small[i] {
			rowWidth += float64(t.K)
			continue
		}
		nLarge++
		k := float64(t.K)
		crossed += float64(len(t.Levels)) * k * float64(pe*pe)
		rowWidth += k
	}
	passes := float64(2*max(nLarge, 1) + 2*len(d.Terms) + 1)
	crossed += flopsPerRowPass*passes*n*rowWidth + float64(pe*pe*pe)/3
	return collapsed, crossed
}

// kernelFirstTerm returns the index of the term the kernel puts first
// (block-diagonal): the one with the most levels, the first of ties.
func kernelFirstTerm(d *model.Design) int {
	first := 0
	for i, t := range d.Terms {
		if len(t.Levels) > len(d.Terms[first].Levels) {
			first = i
		}
	}
	return first
}

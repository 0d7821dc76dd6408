package sampler

import (
	"math"
	"math/rand/v2"
	"slices"
)

// The "crossed" method: the collapsed Gibbs sampler of Papaspiliopoulos,
// Roberts & Zanella (2020, Biometrika 107, "Scalable inference for
// crossed random effects models"), generalised from a global mean to the
// fixed effects β and to K×K random-slope blocks. One iteration costs
// O(n·Σₖ(p + Kₖ)) plus O(Σₖ Jₖ(Kₖ³ + Kₖ²p + Kₖp²) + p³); no system whose
// size grows with the number of levels is ever factored.
//
//  1. For each term k in turn, (β, bₖ) | b₋ₖ, ψ, y jointly: bₖ is
//     integrated out to draw β from its Gaussian conditional (PRZ's
//     collapse of the mean into each factor's update; with several
//     columns in X it is the whole of β), then each level's bₖⱼ | β from
//     its own K×K Gaussian, independently of the other levels.
//  2. Each coordinate of ψ (log σ, log τ, the atanh canonical partial
//     correlations) by a univariate slice sampler (Neal 2003, stepping
//     out and shrinkage) on p(ψ | β, b, y), which depends on the data only
//     through the residual sum of squares and Σⱼ bⱼbⱼᵀ.
//  3. The same Gibbs steps as the collapsed method: scale-mixture and
//     horseshoe latents, inverse-Wishart Σₖ, conjugate inverse-gamma.
//
// See docs/sampler.md for the derivation of step 1.

// crossedTerm holds a term's per-level cross products (fixed data; the
// cross products only for the large terms).
type crossedTerm struct {
	k, nlev int
	refs    []int32
	z       []float64 // K × N row-major
	ztz     []float64 // per level K × K: Σᵢ zᵢzᵢᵀ
	ztx     []float64 // per level K × pe: Σᵢ zᵢx̃ᵢᵀ (Mⱼ)
	off     int       // offset in β̃ of a small term, −1 for a large one
}

// smallMax bounds the length of β̃ = (β, the small terms' b): a term
// joins β̃ (and is drawn jointly with β in every term's update) while
// p + its effects stay within it. Drawing a small nested factor jointly
// with the large ones it is confounded with is what keeps InstEval's
// dept:service effects mixing (see docs/sampler.md).
const smallMax = 64

// crossedData is what every crossed chain shares.
type crossedData struct {
	n, p, pe int
	x        []float64 // n × p row-major
	xtx      []float64 // pe × pe: X̃ᵀX̃
	terms    []crossedTerm
	small    []int // terms in β̃, in Design.Terms order
	large    []int // terms updated one at a time
}

// rowNZ writes the nonzero entries of row i of X̃ = [X, Z_small] into
// cols and vals and returns their number.
func (cd *crossedData) rowNZ(i int, cols []int, vals []float64) int {
	p, n := cd.p, cd.n
	m := 0
	for c := range p {
		cols[m], vals[m] = c, cd.x[i*p+c]
		m++
	}
	for _, si := range cd.small {
		t := &cd.terms[si]
		for e := range t.k {
			cols[m], vals[m] = t.off+int(t.refs[i])*t.k+e, t.z[e*n+i]
			m++
		}
	}
	return m
}

func newCrossedData(st *setup, opt Options) *crossedData {
	limit := smallMax
	if opt.crossedSmall != 0 {
		limit = opt.crossedSmall
	}
	d := st.spec.Design
	n, p := st.lay.n, st.lay.p
	cd := &crossedData{n: n, p: p, x: make([]float64, n*p)}
	for i := range n {
		for j := range p {
			cd.x[i*p+j] = d.X.At(i, j)
		}
	}
	cd.terms = make([]crossedTerm, len(d.Terms))
	// Smallest terms first into β̃.
	idx := make([]int, len(d.Terms))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return d.Terms[a].K*len(d.Terms[a].Levels) - d.Terms[b].K*len(d.Terms[b].Levels)
	})
	pe := p
	isSmall := make([]bool, len(d.Terms))
	for _, ti := range idx {
		q := d.Terms[ti].K * len(d.Terms[ti].Levels)
		if pe+q <= limit {
			isSmall[ti] = true
			pe += q
		}
	}
	cd.pe = pe
	off := p
	for ti, t := range d.Terms {
		cd.terms[ti] = crossedTerm{k: t.K, nlev: len(t.Levels), refs: t.Refs, z: t.Z, off: -1}
		if isSmall[ti] {
			cd.terms[ti].off = off
			off += t.K * len(t.Levels)
			cd.small = append(cd.small, ti)
		} else {
			cd.large = append(cd.large, ti)
		}
	}
	cd.xtx = make([]float64, pe*pe)
	cols := make([]int, pe)
	vals := make([]float64, pe)
	for _, ti := range cd.large {
		ct := &cd.terms[ti]
		ct.ztz = make([]float64, ct.nlev*ct.k*ct.k)
		ct.ztx = make([]float64, ct.nlev*ct.k*pe)
	}
	for i := range n {
		m := cd.rowNZ(i, cols, vals)
		for a := range m {
			for b := range m {
				cd.xtx[cols[a]*pe+cols[b]] += vals[a] * vals[b]
			}
		}
		for _, ti := range cd.large {
			ct := &cd.terms[ti]
			k := ct.k
			l := int(ct.refs[i])
			zz := ct.ztz[l*k*k : (l+1)*k*k]
			zx := ct.ztx[l*k*pe : (l+1)*k*pe]
			for e := range k {
				ze := ct.z[e*n+i]
				for f := range k {
					zz[e*k+f] += ze * ct.z[f*n+i]
				}
				for a := range m {
					zx[e*pe+cols[a]] += ze * vals[a]
				}
			}
		}
	}
	return cd
}

// crossedChain is the state of one chain of the crossed method.
type crossedChain struct {
	st   *setup
	opt  Options
	cd   *crossedData
	id   int
	rng  *rand.Rand
	ev   *evaluator
	psi  []float64
	beta []float64
	b    [][]float64
	e    []float64 // residual y − Xβ − Σ Zₖbₖ
	init []float64
	// scratch
	g, lj     []float64 // per level: Zⱼᵀr (K) and chol(Aⱼ) (K × K)
	wj        []float64 // per level Lⱼ⁻¹Mⱼ (K × p)
	xr, h     []float64 // pe
	bext, mue []float64 // pe
	gm, gl    []float64 // pe × pe
	sinv      []float64 // K × K
	zb, mu    []float64 // p
	slw       []float64 // slice widths per coordinate of ψ
	scW       []float64 // slice width of each term's scale step
	scBase    []float64
	slN       int
	hasLatent bool
	hasHS     bool
	hasIW     bool
	// betaScaleHS marks the horseshoe columns (prior variance σ²·lvar).
}

// newCrossedChain starts chain id: its PCG stream (the same (seed, id)
// stream as the collapsed method), ψ drawn around psi0 (0.5 on each
// coordinate), β = 0 and b = 0 (the first sweep draws them).
func newCrossedChain(st *setup, cd *crossedData, opt Options, id int, psi0 []float64) *crossedChain {
	lay := st.lay
	ch := &crossedChain{st: st, opt: opt, cd: cd, id: id, rng: rand.New(rand.NewPCG(opt.Seed, uint64(id)))}
	ch.ev = newEvaluator(st.spec, lay, st.fixed)
	ch.psi = make([]float64, lay.dim)
	for try := 0; try < 100; try++ {
		for i := range ch.psi {
			ch.psi[i] = psi0[i] + 0.5*ch.rng.NormFloat64()
		}
		if !math.IsInf(ch.ev.fill(ch.psi), -1) {
			break
		}
	}
	ch.ev.fill(ch.psi)
	ch.init = append([]float64(nil), ch.psi...)
	p := lay.p
	ch.beta = make([]float64, p)
	ch.b = make([][]float64, len(lay.terms))
	maxQ, maxK := 0, 1
	for i, t := range lay.terms {
		ch.b[i] = make([]float64, t.k*t.nlev)
		maxQ = max(maxQ, t.nlev*t.k)
		maxK = max(maxK, t.k)
	}
	ch.e = append([]float64(nil), st.spec.Design.Y...)
	ch.g = make([]float64, maxQ)
	ch.lj = make([]float64, maxQ*maxK)
	pe := cd.pe
	ch.wj = make([]float64, maxQ*pe)
	ch.xr, ch.h, ch.zb, ch.mu = make([]float64, pe), make([]float64, pe), make([]float64, p), make([]float64, p)
	ch.bext, ch.mue = make([]float64, pe), make([]float64, pe)
	ch.gm, ch.gl = make([]float64, pe*pe), make([]float64, pe*pe)
	ch.sinv = make([]float64, maxK*maxK)
	ch.scW = make([]float64, len(lay.terms))
	for i := range ch.scW {
		ch.scW[i] = 1
	}
	ch.scBase = make([]float64, maxK)
	ch.slw = make([]float64, lay.dim)
	for i := range ch.slw {
		ch.slw[i] = 1
	}
	for _, f := range st.fixed {
		if f.kind == fixedMixture {
			ch.hasLatent = true
		}
	}
	ch.hasHS = len(ch.ev.hs) > 0
	for _, t := range lay.terms {
		if t.iw {
			ch.hasIW = true
		}
	}
	return ch
}

// startPsi is the starting ψ of the mode search and the centre of the
// crossed chains' inits: log σ and every log τ at log(sd(y)/2),
// correlations 0.
func startPsi(st *setup) []float64 {
	y := st.spec.Design.Y
	var m, s2 float64
	for _, v := range y {
		m += v
	}
	m /= float64(len(y))
	for _, v := range y {
		s2 += (v - m) * (v - m)
	}
	sd := math.Sqrt(s2 / float64(max(len(y)-1, 1)))
	if !(sd > 0) {
		sd = 1
	}
	x0 := make([]float64, st.lay.dim)
	for i := 0; i <= st.lay.nsd; i++ {
		x0[i] = math.Log(sd / 2)
	}
	return x0
}

// priorPrecision writes the prior precision and mean of β (absolute,
// not σ²-relative) at σ².
func (ch *crossedChain) priorPrecision(s2 float64, prec, mean []float64) {
	for j, f := range ch.ev.fixed {
		mean[j] = f.mu
		switch f.kind {
		case fixedFlat:
			prec[j] = 0
		case fixedHorseshoe:
			mean[j] = 0
			prec[j] = 1 / (s2 * ch.ev.lvar[j])
		default:
			prec[j] = 1 / ch.ev.lvar[j]
		}
	}
}

// sweepTerm draws (β̃, bₖ) | b₋ₖ, ψ, y for the large term ti, or β̃ alone
// when ti < 0 (no large term), where β̃ = (β, the small terms' b) with
// design X̃ = [X, Z_small] and prior precision P₀ (β's prior, and Σₛ⁻¹
// per level of a small term). With r = y − Σ_{large l≠k} Z_l b_l,
// Aⱼ = ZⱼᵀZⱼ + σ²Σₖ⁻¹, Mⱼ = ZⱼᵀX̃ⱼ, gⱼ = Zⱼᵀrⱼ (docs/sampler.md):
//
//	β̃ | b₋ₖ ~ N(G⁻¹h, σ²G⁻¹),  G = X̃ᵀX̃ − Σⱼ MⱼᵀAⱼ⁻¹Mⱼ + σ²P₀,
//	                            h = X̃ᵀr − Σⱼ MⱼᵀAⱼ⁻¹gⱼ + σ²P₀m₀,
//	bₖⱼ | β̃, b₋ₖ ~ N(Aⱼ⁻¹(gⱼ − Mⱼβ̃), σ²Aⱼ⁻¹).
//
// If G is not numerically positive definite, β̃ is kept and only bₖ is
// drawn (a valid, uncollapsed Gibbs step).
func (ch *crossedChain) sweepTerm(ti int) {
	cd, ev, rng := ch.cd, ch.ev, ch.rng
	n, p, pe := cd.n, cd.p, cd.pe
	var ct *crossedTerm
	k, nl := 1, 0
	var bt []float64
	if ti >= 0 {
		ct = &cd.terms[ti]
		k, nl = ct.k, ct.nlev
		bt = ch.b[ti]
	}
	sigma := math.Exp(ch.psi[0])
	if ch.opt.drawScale != 0 {
		sigma *= ch.opt.drawScale
	}
	s2 := sigma * sigma
	// β̃ (current).
	be := ch.bext
	copy(be, ch.beta)
	for _, si := range cd.small {
		copy(be[cd.terms[si].off:], ch.b[si])
	}
	e := ch.e
	g := ch.g[:nl*k]
	clear(g)
	xr := ch.xr
	clear(xr)
	// Pass 1: r = e + X̃β̃ + Zₖbₖ (into e), g = Zₖᵀr, xr = X̃ᵀr.
	x := cd.x
	for i := range n {
		ri := e[i]
		xi := x[i*p : (i+1)*p]
		for c, xv := range xi {
			ri += xv * be[c]
		}
		for _, si := range cd.small {
			st := &cd.terms[si]
			o := st.off + int(st.refs[i])*st.k
			for f := range st.k {
				ri += st.z[f*n+i] * be[o+f]
			}
		}
		if ct != nil {
			l := int(ct.refs[i]) * k
			for f := range k {
				ri += ct.z[f*n+i] * bt[l+f]
			}
			for f := range k {
				g[l+f] += ct.z[f*n+i] * ri
			}
		}
		e[i] = ri
		for c, xv := range xi {
			xr[c] += xv * ri
		}
		for _, si := range cd.small {
			st := &cd.terms[si]
			o := st.off + int(st.refs[i])*st.k
			for f := range st.k {
				xr[o+f] += st.z[f*n+i] * ri
			}
		}
	}
	gm, h := ch.gm, ch.h
	copy(gm, cd.xtx)
	copy(h, xr)
	// Prior precision of β̃.
	ch.priorPrecision(s2, ch.zb, ch.mu)
	for c := range p {
		gm[c*pe+c] += s2 * ch.zb[c]
		h[c] += s2 * ch.zb[c] * ch.mu[c]
	}
	for _, si := range cd.small {
		st := &cd.terms[si]
		ks := st.k
		sinv := ch.sinv[:ks*ks]
		lowerInverseGram(ev.c[si], ks, sinv)
		for l := range st.nlev {
			o := st.off + l*ks
			for a := range ks {
				for b := range ks {
					gm[(o+a)*pe+o+b] += s2 * sinv[a*ks+b]
				}
			}
		}
	}
	lj := ch.lj[:nl*k*k]
	wj := ch.wj[:nl*k*pe]
	if ct != nil {
		sinv := ch.sinv[:k*k]
		lowerInverseGram(ev.c[ti], k, sinv)
		var abuf [64]float64
		a := abuf[:min(k*k, 64)]
		if k > 8 {
			a = make([]float64, k*k)
		}
		for j := range nl {
			zz := ct.ztz[j*k*k : (j+1)*k*k]
			for r := range k * k {
				a[r] = zz[r] + s2*sinv[r]
			}
			L := lj[j*k*k : (j+1)*k*k]
			if !cholesky(a, k, L) {
				// Only from an over- or underflowing Σ: keep bₖⱼ.
				clear(L)
				continue
			}
			// Wⱼ = L⁻¹Mⱼ, gⱼ ← L⁻¹gⱼ (in place).
			W := wj[j*k*pe : (j+1)*k*pe]
			copy(W, ct.ztx[j*k*pe:(j+1)*k*pe])
			gj := g[j*k : (j+1)*k]
			for r := range k {
				for m := range r {
					for c := range pe {
						W[r*pe+c] -= L[r*k+m] * W[m*pe+c]
					}
					gj[r] -= L[r*k+m] * gj[m]
				}
				d := L[r*k+r]
				for c := range pe {
					W[r*pe+c] /= d
				}
				gj[r] /= d
			}
			for r := range k {
				wr := W[r*pe : (r+1)*pe]
				gr := gj[r]
				for c, wc := range wr {
					if wc == 0 {
						continue
					}
					row := gm[c*pe : c*pe+c+1]
					for c2, w2 := range wr[:c+1] {
						row[c2] -= wc * w2
					}
					h[c] -= wc * gr
				}
			}
		}
	}
	for c := range pe {
		for c2 := 0; c2 < c; c2++ {
			gm[c2*pe+c] = gm[c*pe+c2]
		}
	}
	if pe > 0 && cholesky(gm, pe, ch.gl) {
		// β̃ = G⁻¹h + σ L_G⁻ᵀ z.
		gl, mu := ch.gl, ch.mue
		forwardSolve(gl, pe, h, mu)
		for c := range pe {
			mu[c] += sigma * rng.NormFloat64()
		}
		backSolve(gl, pe, mu, be)
	}
	// bₖⱼ = Aⱼ⁻¹(gⱼ − Mⱼβ̃) + σ Lⱼ⁻ᵀ z = Lⱼ⁻ᵀ(Lⱼ⁻¹gⱼ − Wⱼβ̃ + σz).
	var tbuf [8]float64
	tv := tbuf[:min(k, 8)]
	if k > 8 {
		tv = make([]float64, k)
	}
	for j := range nl {
		L := lj[j*k*k : (j+1)*k*k]
		if L[0] == 0 {
			continue
		}
		W := wj[j*k*pe : (j+1)*k*pe]
		gj := g[j*k : (j+1)*k]
		for r := range k {
			s := gj[r] + sigma*rng.NormFloat64()
			for c, wc := range W[r*pe : (r+1)*pe] {
				s -= wc * be[c]
			}
			tv[r] = s
		}
		backSolve(L, k, tv, bt[j*k:(j+1)*k])
	}
	copy(ch.beta, be[:p])
	for _, si := range cd.small {
		copy(ch.b[si], be[cd.terms[si].off:])
	}
	// Pass 2: e = r − X̃β̃ − Zₖbₖ.
	for i := range n {
		ri := e[i]
		xi := x[i*p : (i+1)*p]
		for c, xv := range xi {
			ri -= xv * be[c]
		}
		for _, si := range cd.small {
			st := &cd.terms[si]
			o := st.off + int(st.refs[i])*st.k
			for f := range st.k {
				ri -= st.z[f*n+i] * be[o+f]
			}
		}
		if ct != nil {
			l := int(ct.refs[i]) * k
			for f := range k {
				ri -= ct.z[f*n+i] * bt[l+f]
			}
		}
		e[i] = ri
	}
}

// lowerInverseGram writes (CCᵀ)⁻¹ = C⁻ᵀC⁻¹ for the k × k row-major lower
// triangular c.
func lowerInverseGram(c []float64, k int, out []float64) {
	var buf [64]float64
	ci := buf[:k*k]
	if k > 8 {
		ci = make([]float64, k*k)
	}
	clear(ci)
	// ci = C⁻¹ (lower), column by column.
	for col := range k {
		for r := col; r < k; r++ {
			s := 0.0
			if r == col {
				s = 1
			}
			for m := col; m < r; m++ {
				s -= c[r*k+m] * ci[m*k+col]
			}
			ci[r*k+col] = s / c[r*k+r]
		}
	}
	for a := range k {
		for b := range k {
			var s float64
			for m := max(a, b); m < k; m++ {
				s += ci[m*k+a] * ci[m*k+b]
			}
			out[a*k+b] = s
		}
	}
}

// forwardSolve solves L x = b for the d × d row-major lower L.
func forwardSolve(l []float64, d int, b, x []float64) {
	for r := range d {
		s := b[r]
		for m := range r {
			s -= l[r*d+m] * x[m]
		}
		x[r] = s / l[r*d+r]
	}
}

// backSolve solves Lᵀ x = b for the d × d row-major lower L (b and x may
// not alias unless equal).
func backSolve(l []float64, d int, b, x []float64) {
	for r := d - 1; r >= 0; r-- {
		s := b[r]
		for m := r + 1; m < d; m++ {
			s -= l[m*d+r] * x[m]
		}
		x[r] = s / l[r*d+r]
	}
}

// rss returns ‖e‖².
func (ch *crossedChain) rss() float64 {
	var s float64
	for _, v := range ch.e {
		s += v * v
	}
	return s
}

// slice1 draws from the univariate density ∝ exp f by a slice sampler
// (Neal 2003, §4: stepping out with width w, at most 20 steps in all,
// then shrinkage) from x0, where f(x0) = f0; it returns the new point and
// f there.
func slice1(rng *rand.Rand, x0, w, f0 float64, f func(float64) float64) (float64, float64) {
	eval := func(x float64) float64 {
		v := f(x)
		if math.IsNaN(v) {
			return math.Inf(-1)
		}
		return v
	}
	logy := f0 + math.Log(1-rng.Float64()) // log(u·f(x0)), u ∈ (0, 1]
	lo := x0 - w*rng.Float64()
	hi := lo + w
	jl := rng.IntN(20)
	jr := 19 - jl
	for ; jl > 0 && eval(lo) > logy; jl-- {
		lo -= w
	}
	for ; jr > 0 && eval(hi) > logy; jr-- {
		hi += w
	}
	for range 200 {
		x := lo + (hi-lo)*rng.Float64()
		if v := eval(x); v > logy {
			return x, v
		}
		if x < x0 {
			lo = x
		} else {
			hi = x
		}
	}
	// Shrank onto x0 without acceptance (floating-point exhaustion).
	return x0, eval(x0)
}

// sliceStep updates coordinate i of ψ by slice1 on f (a function of the
// current ψ), with f0 its current value; it returns f at the new point.
func (ch *crossedChain) sliceStep(i int, w float64, f0 float64, f func() float64) float64 {
	psi := ch.psi
	x, v := slice1(ch.rng, psi[i], w, f0, func(x float64) float64 {
		psi[i] = x
		return f()
	})
	psi[i] = x
	return v
}

// scaleStep is the ancillary (non-centred) update of term ti's scale
// (the interweaving of Yu & Meng 2011): with u = Cₖ⁻¹bₖ held fixed, the
// term's log SDs move together by λ, so bₖ → e^λ bₖ and Zₖbₖ scales;
// λ is drawn by slice1 from
//
//	log p(ψ + λ1ₖ) − ‖e − (e^λ − 1)Zₖbₖ‖²/(2σ²),
//
// a Gibbs step along a line in (ψ, u) coordinates (p(u) does not depend
// on λ). It costs two passes over the data; in a crossed design with
// weakly identified levels it is what mixes τₖ (the centred step alone
// moves it by O(1/√Jₖ) per iteration).
func (ch *crossedChain) scaleStep(ti int, warm bool, it int) {
	cd, ev := ch.cd, ch.ev
	t := ch.st.lay.terms[ti]
	if t.iw {
		return
	}
	ct := &cd.terms[ti]
	n, k := cd.n, ct.k
	bt := ch.b[ti]
	var ev1, vv, rss0 float64
	for i := range n {
		l := int(ct.refs[i]) * k
		var v float64
		for f := range k {
			v += ct.z[f*n+i] * bt[l+f]
		}
		ev1 += ch.e[i] * v
		vv += v * v
		rss0 += ch.e[i] * ch.e[i]
	}
	s2 := math.Exp(2 * ch.psi[0])
	base := ch.scBase[:k]
	copy(base, ch.psi[t.sdOff:t.sdOff+k])
	target := func(lam float64) float64 {
		for e := range k {
			ch.psi[t.sdOff+e] = base[e] + lam
		}
		lp := ev.fill(ch.psi)
		s1 := math.Expm1(lam)
		return lp - (rss0-2*s1*ev1+s1*s1*vv)/(2*s2)
	}
	w := ch.scW[ti]
	lam, _ := slice1(ch.rng, 0, w, target(0), target)
	for e := range k {
		ch.psi[t.sdOff+e] = base[e] + lam
	}
	if warm && ch.opt.rwScales == nil {
		ch.scW[ti] += (3*math.Abs(lam) - w) / float64(min(it+2, 50))
		ch.scW[ti] = math.Min(math.Max(ch.scW[ti], 1e-4), 10)
	}
	if lam == 0 {
		return
	}
	s := math.Exp(lam)
	s1 := math.Expm1(lam)
	for i := range n {
		l := int(ct.refs[i]) * k
		var v float64
		for f := range k {
			v += ct.z[f*n+i] * bt[l+f]
		}
		ch.e[i] -= s1 * v
	}
	for j := range bt {
		bt[j] *= s
	}
}

// step runs one iteration (it 0-based; warm during warmup).
func (ch *crossedChain) step(it int, warm bool) {
	ev, rng := ch.ev, ch.rng
	// Step 1: (β, bₖ) per term.
	if len(ch.cd.large) == 0 {
		ch.sweepTerm(-1)
	}
	for _, ti := range ch.cd.large {
		ch.sweepTerm(ti)
	}
	if !ch.opt.noScaleStep {
		for ti := range ch.cd.terms {
			ch.scaleStep(ti, warm, it)
		}
	}
	// Step 2: ψ coordinate-wise given (β, b).
	rss := ch.rss()
	target := func() float64 { return ev.plainTarget(ch.psi, rss, ch.beta, ch.b) }
	f := target()
	for i := range ch.psi {
		old := ch.psi[i]
		f = ch.sliceStep(i, ch.slw[i], f, target)
		if warm && ch.opt.rwScales == nil {
			// Width ≈ 3 × the mean absolute move (Neal's suggestion of
			// a typical slice size), adapted during warmup only.
			d := math.Abs(ch.psi[i] - old)
			ch.slw[i] += (3*d - ch.slw[i]) / float64(min(it+2, 50))
			ch.slw[i] = math.Min(math.Max(ch.slw[i], 1e-4), 10)
		}
	}
	ev.fill(ch.psi)
	// Step 3: the other Gibbs steps given (β, b).
	if ch.hasLatent {
		ev.updateLatent(ch.beta, rng)
	}
	if ch.hasHS {
		ev.updateHorseshoe(ch.beta, math.Exp(2*ch.psi[0]), rng)
	}
	if ch.hasIW {
		ev.updateInvWishart(ch.b, ch.opt.iwNuShift, rng)
	}
	if ch.st.spec.ConjugateInvGamma && ev.updateInvGamma(ch.psi, ch.beta, ch.b, rng) {
		ev.fill(ch.psi)
	}
}

// record writes the current state into row.
func (ch *crossedChain) record(row []float64) {
	ev := ch.ev
	psiPrior := ev.fill(ch.psi)
	row[0] = ev.logJoint(psiPrior, math.Exp(ch.psi[0]), ch.beta, ch.b) + ch.st.lpWeights
	writeRow(row[1:], ev, ch.psi, ch.beta, ch.b, ch.st.names)
}

// setY replaces the response (the Geweke test's hook).
func (ch *crossedChain) setY(y []float64) {
	ch.ev.y = y
	ch.ev.rss(ch.beta, ch.b)
	copy(ch.e, ch.ev.resid)
}

func (ch *crossedChain) initial() []float64 { return ch.init }

func (ch *crossedChain) effects() [][]float64 { return ch.b }

func (ch *crossedChain) rates(out *ChainResult) {
	out.AcceptWarmup, out.AcceptRW, out.AcceptIndep, out.Accept = math.NaN(), math.NaN(), math.NaN(), math.NaN()
}

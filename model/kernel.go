package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// sqrt is math.Sqrt, short for the block kernels.
func sqrt(x float64) float64 { return math.Sqrt(x) }

// kterm is a random-effect term in kernel order.
type kterm struct {
	t        *ReTerm
	design   int // index into Design.Terms
	k, nl, q int
	uoff     int // offset of the term in u
	thoff    int // offset of the term in θ
	nth      int // k(k+1)/2
	lambda   []float64
	// refs is the kernel's level index of each row: t.Refs, or t.Refs
	// renumbered by perm.
	refs []int32
	// perm (nil: none) maps a Design level to its kernel level, for a
	// second term whose dense diagonal block is reordered by minimum
	// degree; rows gives that block's symbolic structure for cholDense.
	perm  []int32
	rows  [][]int32
	first []int32 // first structural nonzero of each row of the block
}

// MixedModel is the blocked Cholesky kernel of a linear mixed model
// y = Xβ + ZΛθu + ε, u ~ N(0, σ²I), ε ~ N(0, σ²I), after Bates, Mächler,
// Bolker & Walker (2015) and MixedModels.jl.
//
// Random-effect terms are sorted by decreasing number of levels (stably);
// the blocked matrix A = [Z X y]ᵀ[Z X y] is computed once, and each θ
// rescales A by Λθ and refactors L, where
//
//	L Lᵀ = [ΛᵀZᵀZΛ+I  ΛᵀZᵀX  ΛᵀZᵀy]
//	       [XᵀZΛ      XᵀX     Xᵀy  ]
//	       [yᵀZΛ      yᵀX     yᵀy  ]
//
// The first diagonal block of L is block-diagonal (K × K per level);
// blocks below it keep the sparsity of ZᵢᵀZ₁; later blocks are dense
// (or block-diagonal when the second factor is nested in the first).
// A MixedModel is not safe for concurrent use.
type MixedModel struct {
	d        *Design
	terms    []*kterm
	order    []int
	n, p, q  int
	nth      int
	a, l     [][]*blk
	prec     []float64
	pmean    []float64
	precBuf  []float64 // storage behind prec and pmean
	pmeanBuf []float64
	theta    []float64
	ok       bool
	x        []float64 // scratch, len q+p
	tmpTheta []float64
	sel      *selInvWork // InvDiagSums' scratch (nil until first use)
	glm      *glmWork    // Reweight's row index (nil until first use)
}

// NewMixedModel builds the kernel of design d: it sorts the terms, chooses
// the block layout and computes A once.
func NewMixedModel(d *Design) (*MixedModel, error) {
	return newMixedModel(d, reorderMinLevels)
}

// newMixedModel is NewMixedModel with the least number of levels of a
// second term that reorderSecond reorders (tests lower it).
func newMixedModel(d *Design, reorderMin int) (*MixedModel, error) {
	if d == nil || d.X == nil {
		return nil, errors.New("model: NewMixedModel: nil design")
	}
	// Prior weights and offsets: the kernel sees the √w-scaled rows.
	d = d.Working()
	n, p := d.X.Dims()
	if n != d.N || len(d.Y) != n {
		return nil, fmt.Errorf("model: NewMixedModel: X has %d rows, Y %d, N is %d", n, len(d.Y), d.N)
	}
	if len(d.Terms) == 0 {
		return nil, errors.New("model: NewMixedModel: the formula has no random-effect term")
	}
	m := &MixedModel{d: d, n: n, p: p}
	idx := make([]int, len(d.Terms))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return len(d.Terms[b].Levels) - len(d.Terms[a].Levels) })
	m.order = idx
	for _, di := range idx {
		t := d.Terms[di]
		if t.K < 1 || len(t.Z) != t.K*n || len(t.Refs) != n || len(t.Levels) == 0 {
			return nil, fmt.Errorf("model: NewMixedModel: term for %q is malformed", t.Group)
		}
		for r, l := range t.Refs {
			if l < 0 || int(l) >= len(t.Levels) {
				return nil, fmt.Errorf("model: NewMixedModel: term for %q: row %d has level index %d of %d", t.Group, r, l, len(t.Levels))
			}
		}
		kt := &kterm{t: t, design: di, k: t.K, nl: len(t.Levels), uoff: m.q, thoff: m.nth, nth: t.K * (t.K + 1) / 2, refs: t.Refs}
		kt.q = kt.k * kt.nl
		kt.lambda = make([]float64, kt.k*kt.k)
		m.q += kt.q
		m.nth += kt.nth
		m.terms = append(m.terms, kt)
	}
	m.reorderSecond(reorderMin)
	if err := m.buildA(); err != nil {
		return nil, err
	}
	m.layoutL()
	m.indexDowndates()
	m.x = make([]float64, m.q+m.p)
	m.theta = make([]float64, m.nth)
	m.tmpTheta = make([]float64, m.nth)
	return m, nil
}

// reorderSecond renumbers the levels of the second term by minimum
// degree when its diagonal block of L will be dense (it is not nested in
// the first term), it has one effect per level and between reorderMin
// (NewMixedModel: reorderMinLevels) and reorderMaxLevels levels: the block's Cholesky
// factor then has far fewer nonzeros (InstEval's lecturers: 45 % of the
// lower triangle against 98 % in the data's order) and cholDense skips
// the structural zeros. The kernel works in the new numbering; Modes and
// Draw return u in the Design's.
func (m *MixedModel) reorderSecond(reorderMin int) {
	if len(m.terms) < 2 {
		return
	}
	t0, t1 := m.terms[0], m.terms[1]
	if t1.k != 1 || t1.nl < reorderMin || t1.nl > reorderMaxLevels {
		return
	}
	// Nested (each level of the first term meets one level of the
	// second, layoutL's test): the block stays block-diagonal.
	nested := true
	first := make([]int32, t0.nl)
	for i := range first {
		first[i] = -1
	}
	for r, g := range t0.refs {
		if l := t1.refs[r]; first[g] < 0 {
			first[g] = l
		} else if first[g] != l {
			nested = false
			break
		}
	}
	if nested {
		return
	}
	adj, ok := cliqueGraph(t0.refs, t1.refs, t0.nl, t1.nl)
	if !ok {
		return
	}
	order, structure := minDegreeOrder(adj, t1.nl)
	perm, structure := postorder(order, structure, t1.nl)
	refs := make([]int32, len(t1.refs))
	for r, l := range t1.refs {
		refs[r] = perm[l]
	}
	t1.perm, t1.refs = perm, refs
	t1.rows = symbolicRows(structure, perm, t1.nl, cholNBSparse)
	t1.first = envelope(structure, perm, t1.nl)
}

// layoutL allocates L with the storage each block needs.
func (m *MixedModel) layoutL() {
	nt := len(m.terms)
	denseFirst := m.denseFirstColumn()
	m.l = make([][]*blk, nt+1)
	for i := range m.l {
		m.l[i] = make([]*blk, i+1)
	}
	for i := 0; i <= nt; i++ {
		for j := 0; j <= i; j++ {
			a := m.a[i][j]
			switch {
			case i == nt:
				m.l[i][j] = a.cloneShape()
			case i == j && i == 0:
				m.l[i][j] = a.cloneShape()
			case i == j && i == 1 && atMostOnePerColumn(m.a[1][0]):
				// Nested in the first factor: no fill-in.
				m.l[i][j] = a.cloneShape()
			case i == j:
				m.l[i][j] = newDense(a.rows, a.cols, a.rk, a.ck)
			case j == 0 && denseFirst:
				m.l[i][j] = newDense(a.rows, a.cols, a.rk, a.ck)
			case j == 0:
				m.l[i][j] = a.cloneShape()
			default:
				m.l[i][j] = newDense(a.rows, a.cols, a.rk, a.ck)
			}
		}
	}
	// Scratch (and, for a reordered block, structure) for the dense
	// Cholesky of the dense diagonal blocks.
	for i := 0; i <= nt; i++ {
		d := m.l[i][i]
		switch {
		case d.kind != kindDense:
		case i < nt && m.terms[i].rows != nil:
			d.chol = newCholWork(d.rows, cholNBSparse, m.terms[i].rows)
			d.chol.first = m.terms[i].first
		default:
			d.chol = newCholWork(d.rows, denseBlockNB(d.rows), nil)
		}
	}
}

// denseBlockNB is the block width of cholDense for a dense diagonal block
// of order n: cholNB, but cholNBSparse below cholParallelMin, where the
// unblocked factorisation of the diagonal tiles (a division per entry and
// dot products in a dependent chain) would otherwise be a large share of
// the work. On the maximal 2 × 2 model (the 128 × 128 item block),
// SetTheta took 394 µs of CPU with width 32 against 417 µs with 64 (medians of 5
// interleaved runs of BenchmarkSetThetaMaximal, CPU time, shared machine).
func denseBlockNB(n int) int {
	if n < cholParallelMin {
		return cholNBSparse
	}
	return cholNB
}

// denseFill is the share of (row level, column level) pairs present
// above which the blocks below the first diagonal block are stored dense:
// the downdate of the dense diagonal blocks is then one BLAS Syrk instead
// of a loop over level pairs (the maximal 2 × 2 family member, fully
// crossed with k = 4: 5× faster per factorisation).
const denseFill = 0.5

// denseFirstColumn reports whether every block Lᵢ₀ (0 < i < nt) is
// stored dense: all are at least denseFill full, have more than one
// effect per level (the scalar sparse downdate is already fast) and
// their terms are not nested in the first.
func (m *MixedModel) denseFirstColumn() bool {
	nt := len(m.terms)
	if nt < 2 {
		return false
	}
	for i := 1; i < nt; i++ {
		a := m.a[i][0]
		if a.rk*a.ck == 1 || atMostOnePerColumn(a) {
			return false
		}
		nl := float64(m.terms[i].nl) * float64(m.terms[0].nl)
		if float64(len(a.rowlev)) < denseFill*nl {
			return false
		}
	}
	return true
}

// indexDowndates gives the scalar sparse blocks below the first diagonal
// block that downdate a dense diagonal block their row index.
func (m *MixedModel) indexDowndates() {
	for i := 1; i < len(m.terms); i++ {
		b := m.l[i][0]
		if b.kind == kindSparse && b.rk == 1 && b.ck == 1 && m.l[i][i].kind == kindDense {
			b.indexRows()
		}
	}
}

// atMostOnePerColumn reports whether every column level of the sparse
// block b has at most one row level.
func atMostOnePerColumn(b *blk) bool {
	for c := 0; c+1 < len(b.colptr); c++ {
		if b.colptr[c+1]-b.colptr[c] > 1 {
			return false
		}
	}
	return true
}

// ThetaLen returns the length of θ.
func (m *MixedModel) ThetaLen() int { return m.nth }

// Q returns the number of random effects Σ K·levels.
func (m *MixedModel) Q() int { return m.q }

// P returns the number of fixed effects.
func (m *MixedModel) P() int { return m.p }

// N returns the number of observations.
func (m *MixedModel) N() int { return m.n }

// Design returns the design the kernel was built from.
func (m *MixedModel) Design() *Design { return m.d }

// TermOrder returns, for each kernel position, the index of the term in
// Design.Terms.
func (m *MixedModel) TermOrder() []int { return slices.Clone(m.order) }

// ThetaLower returns lme4's lower bounds on θ: 0 for the diagonal
// elements of each Λ, -Inf for the others.
func (m *MixedModel) ThetaLower() []float64 {
	lb := make([]float64, 0, m.nth)
	for _, t := range m.terms {
		for c := range t.k {
			for r := c; r < t.k; r++ {
				if r == c {
					lb = append(lb, 0)
				} else {
					lb = append(lb, math.Inf(-1))
				}
			}
		}
	}
	return lb
}

// Theta returns a copy of the current θ.
func (m *MixedModel) Theta() []float64 { return slices.Clone(m.theta) }

// SetFixedPrecision adds a Gaussian prior on β to the mixed-model
// equations: prec[j] is added to the diagonal of XᵀX, prec[j]·mean[j] to
// Xᵀy and Σ prec[j]·mean[j]² to yᵀy (as if pseudo-observations were
// appended), so that PWRSS includes Σ prec[j](β[j]-mean[j])². The caller
// scales prec by σ². nil, nil clears the prior. It takes effect at the
// next SetTheta. It copies prec and mean into storage kept by m, so it
// allocates only when prec is longer than on earlier calls.
func (m *MixedModel) SetFixedPrecision(prec, mean []float64) {
	if prec == nil {
		m.prec, m.pmean = nil, nil
		return
	}
	np := len(prec)
	if m.precBuf == nil || cap(m.precBuf) < np {
		m.precBuf = make([]float64, max(np, 1))
		m.pmeanBuf = make([]float64, max(np, 1))
	}
	m.prec = m.precBuf[:np]
	m.pmean = m.pmeanBuf[:np]
	copy(m.prec, prec)
	clear(m.pmean)
	if mean != nil {
		copy(m.pmean, mean)
	}
}

// SetTheta sets Λθ and refactors L. It returns an error if θ has the
// wrong length or the system is not positive definite (a rank-deficient
// X, or a prior precision that is negative).
func (m *MixedModel) SetTheta(theta []float64) error {
	if len(theta) != m.nth {
		return fmt.Errorf("model: SetTheta: θ has %d elements, the model needs %d", len(theta), m.nth)
	}
	if m.prec != nil && len(m.prec) != m.p {
		return fmt.Errorf("model: SetFixedPrecision: %d precisions for %d fixed effects", len(m.prec), m.p)
	}
	copy(m.theta, theta)
	for _, t := range m.terms {
		clear(t.lambda)
		i := t.thoff
		for c := range t.k {
			for r := c; r < t.k; r++ {
				t.lambda[r*t.k+c] = theta[i]
				i++
			}
		}
	}
	m.ok = m.updateL()
	if !m.ok {
		return fmt.Errorf("model: SetTheta: the mixed-model equations are not positive definite at θ = %v (are the fixed-effects columns linearly dependent?)", theta)
	}
	return nil
}

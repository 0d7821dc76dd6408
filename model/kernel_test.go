package model

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// loadDesign reads testdata/<csv> and builds the design of formula.
func loadDesign(t testing.TB, csvName, formula string, factors ...string) *Design {
	t.Helper()
	return loadDesignOpt(t, csvName, formula, BuildOptions{}, factors...)
}

// loadDesignOpt is loadDesign with build options.
func loadDesignOpt(t testing.TB, csvName, formula string, opt BuildOptions, factors ...string) *Design {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", csvName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fr, err := ReadFrame(f, csvName, FrameOptions{Factors: factors})
	if err != nil {
		t.Fatal(err)
	}
	fo, err := ParseFormula(formula)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Build(fo, fr, opt)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// denseL assembles the blocked factor of m as a dense (q+p+1)² matrix.
func denseL(m *MixedModel) *mat.Dense {
	nt := len(m.terms)
	offs := make([]int, nt+2)
	for i, t := range m.terms {
		offs[i+1] = offs[i] + t.q
	}
	offs[nt+1] = offs[nt] + m.p + 1
	tot := offs[nt+1]
	L := mat.NewDense(tot, tot, nil)
	for i := 0; i <= nt; i++ {
		for j := 0; j <= i; j++ {
			b := m.l[i][j]
			r0, c0 := offs[i], offs[j]
			switch b.kind {
			case kindDense:
				for r := range b.rows {
					for c := range b.cols {
						if i == j && c > r {
							continue
						}
						L.Set(r0+r, c0+c, b.val[r*b.cols+c])
					}
				}
			case kindDiag:
				k := b.rk
				for l := 0; l*k < b.rows; l++ {
					for e := range k {
						for f := 0; f <= e; f++ {
							L.Set(r0+l*k+e, c0+l*k+f, b.val[l*k*k+e*k+f])
						}
					}
				}
			case kindSparse:
				sz := b.rk * b.ck
				for c := 0; c+1 < len(b.colptr); c++ {
					for e := b.colptr[c]; e < b.colptr[c+1]; e++ {
						rl := int(b.rowlev[e])
						for x := range b.rk {
							for y := range b.ck {
								L.Set(r0+rl*b.rk+x, c0+c*b.ck+y, b.val[int(e)*sz+x*b.ck+y])
							}
						}
					}
				}
			}
		}
	}
	return L
}

// denseSystem returns [ΛᵀZᵀZΛ+I ΛᵀZᵀX ΛᵀZᵀy; …; yᵀZΛ yᵀX yᵀy] built
// from dense Z and Λ in kernel order, independently of the kernel.
func denseSystem(m *MixedModel, prec, mean []float64) *mat.SymDense {
	d := m.d
	n, p, q := m.n, m.p, m.q
	W := mat.NewDense(n, q+p+1, nil)
	Lam := mat.NewDense(q+p+1, q+p+1, nil)
	for _, t := range m.terms {
		for i := range n {
			l := int(t.t.Refs[i])
			for e := range t.k {
				W.Set(i, t.uoff+l*t.k+e, t.t.Z[e*n+i])
			}
		}
		for l := range t.nl {
			for r := range t.k {
				for c := range t.k {
					Lam.Set(t.uoff+l*t.k+r, t.uoff+l*t.k+c, t.lambda[r*t.k+c])
				}
			}
		}
	}
	for i := range n {
		for j := range p {
			W.Set(i, q+j, d.X.At(i, j))
		}
		W.Set(i, q+p, d.Y[i])
	}
	for j := q; j < q+p+1; j++ {
		Lam.Set(j, j, 1)
	}
	var WL, M mat.Dense
	WL.Mul(W, Lam)
	M.Mul(WL.T(), &WL)
	for j := range q {
		M.Set(j, j, M.At(j, j)+1)
	}
	for j := range prec {
		M.Set(q+j, q+j, M.At(q+j, q+j)+prec[j])
		M.Set(q+j, q+p, M.At(q+j, q+p)+prec[j]*mean[j])
		M.Set(q+p, q+j, M.At(q+p, q+j)+prec[j]*mean[j])
		M.Set(q+p, q+p, M.At(q+p, q+p)+prec[j]*mean[j]*mean[j])
	}
	S := mat.NewSymDense(q+p+1, nil)
	for i := range q + p + 1 {
		for j := i; j < q+p+1; j++ {
			S.SetSym(i, j, (M.At(i, j)+M.At(j, i))/2)
		}
	}
	return S
}

func relClose(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// kernelCase is a model checked against the dense reference.
type kernelCase struct {
	name, csv, formula string
	factors            []string
	theta              []float64
}

var kernelCases = []kernelCase{
	{"sleepstudy corr", "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", nil, []float64{0.9, -0.3, 0.25}},
	{"sleepstudy uncorr", "sleepstudy.csv", "Reaction ~ Days + (Days || Subject)", nil, []float64{0.9, 0.2}},
	{"penicillin crossed", "penicillin.csv", "diameter ~ 1 + (1|plate) + (1|sample)", nil, []float64{1.5, 3.2}},
	{"politeness crossed", "politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", nil, []float64{0.6, 0.8}},
	{"politeness three terms", "politeness.csv", "frequency ~ attitude + (1|subject) + (1|scenario) + (attitude|scenario:gender)", nil, []float64{1.2, 2.0, 0.7, 0.3, 0.5}},
	{"politeness three scalar terms", "politeness.csv", "frequency ~ attitude + (1|subject) + (1|scenario) + (1|scenario:gender)", nil, []float64{1.2, 0.7, 0.9}},
	{"nested no fill", "politeness.csv", "frequency ~ gender + (attitude|subject/attitude)", nil, []float64{0.8, 0.1, 0.4, 1.7, -0.2, 0.9}},
	// Crossed slopes: the blocks below the first are stored dense.
	{"crossed slopes dense", "politeness.csv", "frequency ~ attitude + (attitude|subject) + (attitude|scenario)", nil, []float64{0.8, 0.2, 0.5, 1.1, -0.3, 0.4}},
	// A term with k = 8 (its diagonal blocks once overflowed updateL's
	// scratch for k ≥ 6).
	{"8x8 term", "family/threeway.csv", "y ~ A * B * C + (1 + A * B * C | subj)", nil, theta8x8()},
	// Two crossed 4 × 4 terms with 128 and 160 rows: the tiled rank
	// update of the dense blocks.
	{"maximal 2x2 crossed", "family/maximal.csv", "rt ~ A * B + (1 + A * B | subj) + (1 + A * B | item)", nil, []float64{
		0.8, 0.1, -0.2, 0.05, 0.3, 0.1, 0.02, 0.25, -0.05, 0.2,
		0.4, 0.05, 0.1, -0.03, 0.2, 0.04, 0.01, 0.15, 0.02, 0.1}},
	{"three crossed slope terms dense", "politeness.csv", "frequency ~ attitude + (attitude|subject) + (attitude|scenario) + (attitude|gender)", nil, []float64{0.8, 0.2, 0.5, 1.1, -0.3, 0.4, 0.6, 0.1, 0.3}},
}

// TestKernelAgainstDense checks L·Lᵀ, the log-determinants, PWRSS and
// the conditional modes against a dense computation, and that Draw has
// covariance σ²(LLᵀ)⁻¹ exactly: Lᵀ(draw − mode) = σ z.
func TestKernelAgainstDense(t *testing.T) {
	for _, kc := range kernelCases {
		t.Run(kc.name, func(t *testing.T) {
			d := loadDesign(t, kc.csv, kc.formula, kc.factors...)
			m, err := NewMixedModel(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, withPrior := range []bool{false, true} {
				var prec, mean []float64
				if withPrior {
					prec = make([]float64, m.P())
					mean = make([]float64, m.P())
					for j := range prec {
						prec[j] = 0.5 + float64(j)
						mean[j] = 3 - float64(j)
					}
				}
				m.SetFixedPrecision(prec, mean)
				if err := m.SetTheta(kc.theta); err != nil {
					t.Fatal(err)
				}
				S := denseSystem(m, prec, mean)
				L := denseL(m)
				var LLt mat.Dense
				LLt.Mul(L, L.T())
				tot, _ := S.Dims()
				for i := range tot {
					for j := range tot {
						if !relClose(LLt.At(i, j), S.At(i, j), 1e-9) {
							t.Fatalf("prior=%v: (LLᵀ)[%d,%d] = %g, dense system %g", withPrior, i, j, LLt.At(i, j), S.At(i, j))
						}
					}
				}
				q, p := m.Q(), m.P()
				// Dense reference for the ZX part.
				Szx := mat.NewSymDense(q+p, nil)
				rhs := mat.NewVecDense(q+p, nil)
				for i := range q + p {
					for j := i; j < q+p; j++ {
						Szx.SetSym(i, j, S.At(i, j))
					}
					rhs.SetVec(i, S.At(i, q+p))
				}
				var ch mat.Cholesky
				if !ch.Factorize(Szx) {
					t.Fatal("dense system not positive definite")
				}
				var sol mat.VecDense
				if err := ch.SolveVecTo(&sol, rhs); err != nil {
					t.Fatal(err)
				}
				u := make([]float64, q)
				beta := make([]float64, p)
				m.Modes(u, beta)
				for i := range q {
					if !relClose(u[i], sol.AtVec(i), 1e-8) {
						t.Fatalf("u[%d] = %g, dense %g", i, u[i], sol.AtVec(i))
					}
				}
				for j := range p {
					if !relClose(beta[j], sol.AtVec(q+j), 1e-8) {
						t.Fatalf("beta[%d] = %g, dense %g", j, beta[j], sol.AtVec(q+j))
					}
				}
				// PWRSS = yᵀy − rhsᵀ sol; log-determinants.
				pw := S.At(q+p, q+p) - mat.Dot(rhs, &sol)
				if !relClose(m.PWRSS(), pw, 1e-7) {
					t.Errorf("PWRSS %g, dense %g", m.PWRSS(), pw)
				}
				Sz := mat.NewSymDense(q, nil)
				for i := range q {
					for j := i; j < q; j++ {
						Sz.SetSym(i, j, S.At(i, j))
					}
				}
				var chz mat.Cholesky
				chz.Factorize(Sz)
				if !relClose(m.LogDetZ(), chz.LogDet(), 1e-9) {
					t.Errorf("LogDetZ %g, dense %g", m.LogDetZ(), chz.LogDet())
				}
				if !relClose(m.LogDetZ()+m.LogDetX(), ch.LogDet(), 1e-9) {
					t.Errorf("LogDetZ+LogDetX %g, dense %g", m.LogDetZ()+m.LogDetX(), ch.LogDet())
				}
				// Draw with z = 0 is the mode; Lᵀ(draw − mode) = σz.
				z := make([]float64, q+p)
				du := make([]float64, q)
				db := make([]float64, p)
				m.Draw(z, 2.5, du, db)
				for i := range q {
					if du[i] != u[i] {
						t.Fatalf("Draw(0) u[%d] = %g, mode %g", i, du[i], u[i])
					}
				}
				for j := range p {
					if db[j] != beta[j] {
						t.Fatalf("Draw(0) beta[%d] = %g, mode %g", j, db[j], beta[j])
					}
				}
				rng := rand.New(rand.NewPCG(1, 2))
				for i := range z {
					z[i] = rng.NormFloat64()
				}
				sigma := 2.5
				m.Draw(z, sigma, du, db)
				diff := mat.NewVecDense(q+p+1, nil)
				for i := range q {
					diff.SetVec(i, du[i]-u[i])
				}
				for j := range p {
					diff.SetVec(q+j, db[j]-beta[j])
				}
				var lt mat.VecDense
				lt.MulVec(L.T(), diff)
				for i := range q + p {
					if math.Abs(lt.AtVec(i)-sigma*z[i]) > 1e-8*math.Max(1, sigma*math.Abs(z[i])) {
						t.Fatalf("(Lᵀ(draw−mode))[%d] = %g, σz = %g", i, lt.AtVec(i), sigma*z[i])
					}
				}
			}
		})
	}
}

// TestKernelLayout checks the term order, θ bounds and the nested case's
// block-diagonal second block.
func TestKernelLayout(t *testing.T) {
	d := loadDesign(t, "politeness.csv", "frequency ~ attitude + (1|subject/attitude)")
	m, err := NewMixedModel(d)
	if err != nil {
		t.Fatal(err)
	}
	ord := m.TermOrder()
	if d.Terms[ord[0]].Group != "subject:attitude" || d.Terms[ord[1]].Group != "subject" {
		t.Fatalf("kernel order %v: groups %s, %s", ord, d.Terms[ord[0]].Group, d.Terms[ord[1]].Group)
	}
	if m.l[1][1].kind != kindDiag {
		t.Errorf("nested second block stored as kind %d, want block-diagonal", m.l[1][1].kind)
	}
	d2 := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)")
	m2, _ := NewMixedModel(d2)
	lb := m2.ThetaLower()
	if len(lb) != 3 || lb[0] != 0 || !math.IsInf(lb[1], -1) || lb[2] != 0 {
		t.Errorf("ThetaLower = %v, want [0 -Inf 0]", lb)
	}
	if m2.Q() != 36 || m2.P() != 2 || m2.N() != 180 {
		t.Errorf("Q, P, N = %d, %d, %d", m2.Q(), m2.P(), m2.N())
	}
	// ToB: b = Λu per level.
	if err := m2.SetTheta([]float64{2, 0.5, 3}); err != nil {
		t.Fatal(err)
	}
	u := make([]float64, 36)
	for i := range u {
		u[i] = float64(i%5) - 2
	}
	b := [][]float64{make([]float64, 36)}
	m2.ToB(u, b)
	for l := range 18 {
		u0, u1 := u[2*l], u[2*l+1]
		if b[0][2*l] != 2*u0 || b[0][2*l+1] != 0.5*u0+3*u1 {
			t.Fatalf("ToB level %d: %v, want [%g %g]", l, b[0][2*l:2*l+2], 2*u0, 0.5*u0+3*u1)
		}
	}
	if err := m2.SetTheta([]float64{1, 0}); err == nil {
		t.Error("SetTheta accepted a θ of the wrong length")
	}
}

// TestDrawAllocs checks that Draw and Modes allocate nothing.
func TestDrawAllocs(t *testing.T) {
	d := loadDesign(t, "penicillin.csv", "diameter ~ 1 + (1|plate) + (1|sample)")
	m, _ := NewMixedModel(d)
	if err := m.SetTheta([]float64{1, 2}); err != nil {
		t.Fatal(err)
	}
	z := make([]float64, m.Q()+m.P())
	u := make([]float64, m.Q())
	beta := make([]float64, m.P())
	if a := testing.AllocsPerRun(20, func() { m.Draw(z, 1, u, beta); m.Modes(u, beta) }); a != 0 {
		t.Errorf("Draw+Modes allocate %v times per call", a)
	}
}

// TestScalarDowndateMatchesGeneric checks the row-indexed (and, past
// the work threshold, two-goroutine) downdate c -= a aᵀ of a scalar
// sparse block against the generic column-wise loop, on a random
// pattern large enough to be split.
func TestScalarDowndateMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	const nr, nc = 300, 900
	a := &blk{kind: kindSparse, rows: nr, cols: nc, rk: 1, ck: 1, colptr: make([]int32, nc+1)}
	for c := range nc {
		// Each column gets a sorted random subset of rows.
		for r := range nr {
			if rng.Float64() < 0.08 {
				a.rowlev = append(a.rowlev, int32(r))
				a.val = append(a.val, rng.NormFloat64())
			}
		}
		a.colptr[c+1] = int32(len(a.rowlev))
	}
	c1 := newDense(nr, nr, 1, 1)
	for i := range c1.val {
		c1.val[i] = rng.NormFloat64()
	}
	c2 := c1.cloneShape()
	copy(c2.val, c1.val)
	rankUpdate(c1, a) // generic: no row index
	b := *a
	b.indexRows()
	if b.split == 0 {
		t.Fatal("pattern too small to exercise the parallel split")
	}
	rankUpdate(c2, &b)
	for r := range nr {
		for c := 0; c <= r; c++ {
			if d := math.Abs(c1.val[r*nr+c] - c2.val[r*nr+c]); d > 1e-12*(1+math.Abs(c1.val[r*nr+c])) {
				t.Fatalf("c[%d][%d] = %.15g (row-indexed), %.15g (generic)", r, c, c2.val[r*nr+c], c1.val[r*nr+c])
			}
		}
		for c := r + 1; c < nr; c++ {
			if c1.val[r*nr+c] != c2.val[r*nr+c] {
				t.Fatalf("strict upper triangle changed at [%d][%d]", r, c)
			}
		}
	}
}

// TestSetFixedPrecisionCopiesWithoutAllocating checks that the prior is
// copied (later changes to the caller's slices do not reach the
// kernel), that a nil mean means zeros, and that repeated calls, as the
// sampler makes every iteration, allocate nothing.
func TestSetFixedPrecisionCopiesWithoutAllocating(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)")
	m, err := NewMixedModel(d)
	if err != nil {
		t.Fatal(err)
	}
	th := []float64{0.9, -0.3, 0.25}
	prec := []float64{0.5, 2}
	mean := []float64{250, 10}
	m.SetFixedPrecision(prec, mean)
	if err := m.SetTheta(th); err != nil {
		t.Fatal(err)
	}
	want := m.PWRSS()
	prec[0], mean[0] = 99, -99
	if err := m.SetTheta(th); err != nil {
		t.Fatal(err)
	}
	if got := m.PWRSS(); got != want {
		t.Errorf("PWRSS %g after changing the caller's slices, %g before", got, want)
	}
	m.SetFixedPrecision([]float64{0.5, 2}, nil)
	if err := m.SetTheta(th); err != nil {
		t.Fatal(err)
	}
	zeroMean := m.PWRSS()
	m.SetFixedPrecision([]float64{0.5, 2}, []float64{0, 0})
	if err := m.SetTheta(th); err != nil {
		t.Fatal(err)
	}
	if got := m.PWRSS(); got != zeroMean {
		t.Errorf("PWRSS with a zero mean %g, with a nil mean %g", got, zeroMean)
	}
	prec[0], mean[0] = 0.5, 250
	if a := testing.AllocsPerRun(100, func() { m.SetFixedPrecision(prec, mean) }); a != 0 {
		t.Errorf("SetFixedPrecision allocates %g times per call", a)
	}
	// Clearing and setting again reuses the storage.
	if a := testing.AllocsPerRun(100, func() { m.SetFixedPrecision(nil, nil); m.SetFixedPrecision(prec, mean) }); a != 0 {
		t.Errorf("clearing and setting again allocates %g times per call", a)
	}
	// A wrong length is still reported by SetTheta.
	m.SetFixedPrecision([]float64{1}, nil)
	if err := m.SetTheta(th); err == nil {
		t.Error("SetTheta accepted a prior of the wrong length")
	}
}

// theta8x8 is a θ for one 8 × 8 term: 1 on the diagonal of Λ, 0.1·(r−c)
// below it (column-wise lower triangle).
func theta8x8() []float64 {
	var th []float64
	for c := range 8 {
		for r := c; r < 8; r++ {
			if r == c {
				th = append(th, 1)
			} else {
				th = append(th, 0.1*float64(r-c))
			}
		}
	}
	return th
}

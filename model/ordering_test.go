package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// TestReorderedKernelMatchesNatural builds crossed models with and
// without the minimum-degree renumbering of the second term and checks
// that the criterion, its parts and the conditional modes agree (the
// same matrix factored in another order: equal up to rounding, relative
// 1e-9 for sums of thousands of terms), and, on the small models, that
// Draw's linear map M (draw − mode = σ M z) has the same M Mᵀ =
// (LLᵀ)⁻¹, the covariance of a draw, in both orders (M itself differs).
func TestReorderedKernelMatchesNatural(t *testing.T) {
	cases := []struct {
		name, csv, formula string
		factors            []string
		theta              []float64
		draws              bool
	}{
		{"penicillin", "penicillin.csv", "diameter ~ 1 + (1|plate) + (1|sample)", nil, []float64{1.5, 3.2}, true},
		{"politeness", "politeness.csv", "frequency ~ attitude + (1|subject) + (1|scenario) + (1|subject:attitude)", nil, []float64{0.6, 0.8, 0.3}, true},
		{"insteval", "insteval.csv", "y ~ service + (1|s) + (1|d) + (1|dept:service)", factorsFor["insteval.csv"], []float64{0.3, 0.4, 0.1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := loadDesign(t, c.csv, c.formula, c.factors...)
			nat, err := newMixedModel(d, math.MaxInt)
			if err != nil {
				t.Fatal(err)
			}
			re, err := newMixedModel(d, 1)
			if err != nil {
				t.Fatal(err)
			}
			if nat.terms[1].perm != nil || re.terms[1].perm == nil {
				t.Fatalf("second term reordered: natural %v, forced %v", nat.terms[1].perm != nil, re.terms[1].perm != nil)
			}
			for _, m := range []*MixedModel{nat, re} {
				if err := m.SetTheta(c.theta); err != nil {
					t.Fatal(err)
				}
			}
			for _, x := range []struct {
				what   string
				re, na float64
			}{
				{"ML objective", re.Objective(false), nat.Objective(false)},
				{"REML objective", re.Objective(true), nat.Objective(true)},
				{"PWRSS", re.PWRSS(), nat.PWRSS()},
				{"LogDetZ", re.LogDetZ(), nat.LogDetZ()},
				{"LogDetX", re.LogDetX(), nat.LogDetX()},
			} {
				if !relClose(x.re, x.na, 1e-9) {
					t.Errorf("%s: reordered %.15g, natural %.15g", x.what, x.re, x.na)
				}
			}
			q, p := nat.Q(), nat.P()
			u1, u2 := make([]float64, q), make([]float64, q)
			b1, b2 := make([]float64, p), make([]float64, p)
			nat.Modes(u1, b1)
			re.Modes(u2, b2)
			scale := 0.0
			for _, v := range u1 {
				scale = math.Max(scale, math.Abs(v))
			}
			for i := range u1 {
				if math.Abs(u1[i]-u2[i]) > 1e-9*scale {
					t.Fatalf("u[%d]: reordered %g, natural %g", i, u2[i], u1[i])
				}
			}
			for j := range b1 {
				if !relClose(b2[j], b1[j], 1e-9) {
					t.Fatalf("beta[%d]: reordered %g, natural %g", j, b2[j], b1[j])
				}
			}
			if !c.draws {
				return
			}
			cov := func(m *MixedModel) [][]float64 {
				nq := q + p
				cols := make([][]float64, nq)
				z := make([]float64, nq)
				du, db := make([]float64, q), make([]float64, p)
				for i := range nq {
					clear(z)
					z[i] = 1
					m.Draw(z, 1, du, db)
					col := make([]float64, nq)
					for k := range q {
						col[k] = du[k] - u1[k]
					}
					for k := range p {
						col[q+k] = db[k] - b1[k]
					}
					cols[i] = col
				}
				out := make([][]float64, nq)
				for a := range nq {
					out[a] = make([]float64, nq)
					for b := range nq {
						for i := range nq {
							out[a][b] += cols[i][a] * cols[i][b]
						}
					}
				}
				return out
			}
			c1, c2 := cov(nat), cov(re)
			var big float64
			for a := range c1 {
				big = math.Max(big, math.Abs(c1[a][a]))
			}
			for a := range c1 {
				for b := range c1 {
					if math.Abs(c1[a][b]-c2[a][b]) > 1e-9*big {
						t.Fatalf("Cov(draw)[%d,%d]: reordered %g, natural %g", a, b, c2[a][b], c1[a][b])
					}
				}
			}
		})
	}
}

// TestCholDenseSparse factors a sparse SPD matrix (the pattern of a
// random crossed design's second-term block) renumbered by minimum
// degree, with cholDense skipping the structural zeros, and checks it
// against gonum's Potrf of the same renumbered matrix (the tolerance of
// TestCholDenseAgainstPotrf), that the entries outside the symbolic
// structure stay exactly zero, and that 1, 2 and 3 workers give the same
// bits.
func TestCholDenseSparse(t *testing.T) {
	const n, groups, per = 400, 900, 6
	rng := rand.New(rand.NewPCG(3, 4))
	var refs1, refs2 []int32
	for g := range groups {
		for range per {
			refs1 = append(refs1, int32(g))
			refs2 = append(refs2, int32(rng.IntN(n)))
		}
	}
	adj, ok := cliqueGraph(refs1, refs2, groups, n)
	if !ok {
		t.Fatal("cliqueGraph over budget")
	}
	words := (n + 63) / 64
	has := func(i, j int) bool { return adj[i*words+j/64]&(1<<(j%64)) != 0 }
	// A = I·n/10 + B with B_ij = weight on the pattern's edges: SPD by
	// diagonal dominance when the weights are small.
	vals := make([]float64, n*n)
	for i := range n {
		vals[i*n+i] = float64(n) / 10
		for j := range i {
			if has(i, j) {
				v := rng.Float64() * 0.05
				vals[i*n+j], vals[j*n+i] = v, v
			}
		}
	}
	order, structure := minDegreeOrder(append([]uint64(nil), adj...), n)
	perm, structure := postorder(order, structure, n)
	rows := symbolicRows(structure, perm, n, cholNBSparse)
	a := make([]float64, n*n)
	for i := range n {
		for j := 0; j <= i; j++ {
			a[int(perm[i])*n+int(perm[j])] = vals[i*n+j]
			a[int(perm[j])*n+int(perm[i])] = vals[i*n+j]
		}
	}
	// A sentinel in the strict upper triangle: cholDense must not use it.
	for i := range n {
		for j := i + 1; j < n; j++ {
			a[i*n+j] = 7
		}
	}
	ref := append([]float64(nil), a...)
	if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: n, Data: ref}); !ok {
		t.Fatal("Potrf failed")
	}
	// Structure of the factor in the new numbering.
	inL := make([]bool, n*n)
	for c := range n {
		inL[c*n+c] = true
		for wi, word := range structure[c*words : (c+1)*words] {
			for b := range 64 {
				if word&(1<<b) != 0 {
					inL[int(perm[wi*64+b])*n+c] = true
				}
			}
		}
	}
	var first []float64
	for _, w := range []int{1, 2, 3} {
		got := append([]float64(nil), a...)
		if !cholDense(got, n, n, newCholWork(n, cholNBSparse, rows), w) {
			t.Fatalf("workers=%d: not positive definite", w)
		}
		var lmax, diff float64
		for i := range n {
			for j := 0; j <= i; j++ {
				lmax = math.Max(lmax, math.Abs(ref[i*n+j]))
				diff = math.Max(diff, math.Abs(got[i*n+j]-ref[i*n+j]))
				if !inL[i*n+j] && got[i*n+j] != 0 {
					t.Fatalf("entry (%d,%d) outside the structure is %g", i, j, got[i*n+j])
				}
			}
		}
		// Diagonally dominant with ratio ≥ 2 here, κ ≤ 3.
		if tol := 4 * float64(n) * 0x1p-52 * 3; diff > tol*lmax {
			t.Errorf("workers=%d: max |L − L_potrf| = %g, above %g·max|L|", w, diff, tol)
		}
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(first[i]) {
				t.Fatalf("workers=%d: entry %d differs from 1 worker", w, i)
			}
		}
	}
}

// TestCliqueGraph checks the graph on a small design: levels 0–1 share
// group 0, 1–2 share group 1, level 3 is alone in group 2.
func TestCliqueGraph(t *testing.T) {
	adj, ok := cliqueGraph([]int32{0, 0, 1, 1, 2, 0}, []int32{0, 1, 1, 2, 3, 0}, 3, 4)
	if !ok {
		t.Fatal("over budget")
	}
	want := map[[2]int]bool{{0, 1}: true, {1, 0}: true, {1, 2}: true, {2, 1}: true}
	for i := range 4 {
		for j := range 4 {
			if got := adj[i]&(1<<j) != 0; got != want[[2]int{i, j}] {
				t.Errorf("edge %d–%d: %v, want %v", i, j, got, want[[2]int{i, j}])
			}
		}
	}
	// Minimum degree eliminates the leaf 0 first (degree 1; 3 has degree
	// 0 and goes before it), and the structure of each column is its
	// remaining neighbours.
	order, st := minDegreeOrder(adj, 4)
	if want := []int32{3, 0, 1, 2}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if st[0] != 0 || st[1] != 1<<1 || st[2] != 1<<2 || st[3] != 0 {
		t.Errorf("structure %b", st)
	}
}

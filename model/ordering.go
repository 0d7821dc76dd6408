package model

import (
	"math/bits"
	"slices"
)

// reorderMinLevels and reorderMaxLevels bound the number of levels of a
// second term whose dense diagonal block NewMixedModel reorders by
// minimum degree: below the lower bound the block is cheap anyway, above
// the upper one the bitset elimination (O(levels³/64)) would cost more
// than it saves.
const (
	reorderMinLevels = 256
	reorderMaxLevels = 4096
)

// minDegreeOrder returns a minimum-degree elimination order of the
// undirected graph on n nodes whose adjacency is the bitset adj (row v is
// adj[v*words:(v+1)*words], words = (n+63)/64, no self loops; adj is
// overwritten), and for each node in that order the set of its
// neighbours not yet eliminated when it is (the rows of its column in
// the Cholesky factor, fill included, as a bitset over the original
// node numbers, struct[k*words:]). Ties go to the lowest node number, so
// the order is a function of the graph alone.
func minDegreeOrder(adj []uint64, n int) (order []int32, structure []uint64) {
	words := (n + 63) / 64
	deg := make([]int, n)
	for v := range n {
		deg[v] = popcount(adj[v*words : (v+1)*words])
	}
	elim := make([]bool, n)
	order = make([]int32, 0, n)
	structure = make([]uint64, n*words)
	for k := range n {
		v := -1
		for u := range n {
			if !elim[u] && (v < 0 || deg[u] < deg[v]) {
				v = u
			}
		}
		elim[v] = true
		order = append(order, int32(v))
		rv := adj[v*words : (v+1)*words]
		copy(structure[k*words:(k+1)*words], rv)
		// Eliminating v joins its neighbours into a clique.
		for wi, word := range rv {
			for word != 0 {
				u := wi*64 + bits.TrailingZeros64(word)
				word &= word - 1
				ru := adj[u*words : (u+1)*words]
				for i, x := range rv {
					ru[i] |= x
				}
				ru[u/64] &^= 1 << (u % 64)
				ru[v/64] &^= 1 << (v % 64)
				deg[u] = popcount(ru)
			}
		}
	}
	return order, structure
}

// postorder renumbers a minimum-degree elimination (order and structure
// from minDegreeOrder) by a postorder of its elimination tree, children
// in increasing order: an equivalent order with the same factor
// structure, in which the columns of a subtree are consecutive, so that
// neighbouring columns share their rows and the blocks of cholDense are
// nearly as sparse as the columns. It returns perm (original node →
// new number) and the structure reindexed by the new column number.
func postorder(order []int32, structure []uint64, n int) (perm []int32, out []uint64) {
	words := (n + 63) / 64
	pos := make([]int32, n) // original node → elimination step
	for k, v := range order {
		pos[v] = int32(k)
	}
	// parent[k]: the first later step among column k's rows.
	parent := make([]int32, n)
	head := make([]int32, n+1) // children lists, head[n] for roots
	next := make([]int32, n)
	for i := range head {
		head[i] = -1
	}
	for k := n - 1; k >= 0; k-- {
		par := int32(n)
		for wi, word := range structure[k*words : (k+1)*words] {
			for word != 0 {
				u := wi*64 + bits.TrailingZeros64(word)
				word &= word - 1
				par = min(par, pos[u])
			}
		}
		parent[k] = par
		// Prepend while k decreases: lists end up increasing.
		next[k] = head[par]
		head[par] = int32(k)
	}
	post := make([]int32, 0, n)
	// Iterative DFS from the roots: a node is emitted after its children.
	type frame struct{ node, child int32 }
	var st []frame
	for r := head[n]; r >= 0; r = next[r] {
		st = append(st[:0], frame{r, head[r]})
		for len(st) > 0 {
			f := &st[len(st)-1]
			if f.child >= 0 {
				c := f.child
				f.child = next[c]
				st = append(st, frame{c, head[c]})
				continue
			}
			post = append(post, f.node)
			st = st[:len(st)-1]
		}
	}
	perm = make([]int32, n)
	out = make([]uint64, n*words)
	for newk, k := range post {
		perm[order[k]] = int32(newk)
		copy(out[newk*words:(newk+1)*words], structure[int(k)*words:(int(k)+1)*words])
	}
	return perm, out
}

// popcount returns the number of set bits of b.
func popcount(b []uint64) int {
	var c int
	for _, x := range b {
		c += bits.OnesCount64(x)
	}
	return c
}

// cliqueBudget bounds the word operations cliqueGraph may spend; a
// graph that would cost more is left unordered (its first-term levels
// each meet so many second-term levels that the block is dense anyway).
const cliqueBudget = 1 << 27

// cliqueGraph returns the bitset adjacency (see minDegreeOrder) of the
// graph on the nl2 levels of a term in which two levels are joined when
// some level of another term (refs1, nl1 levels) occurs with both:
// the pattern of Z₂ᵀZ₁Z₁ᵀZ₂, which is that of the dense block
// L₂₂L₂₂ᵀ = Λ₂ᵀZ₂ᵀZ₂Λ₂ + I − L₂₁L₂₁ᵀ before fill. ok is false when
// building it would cost more than cliqueBudget word operations.
func cliqueGraph(refs1, refs2 []int32, nl1, nl2 int) (adj []uint64, ok bool) {
	keys := make([]int64, len(refs1))
	for r := range refs1 {
		keys[r] = int64(refs1[r])*int64(nl2) + int64(refs2[r])
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	words := (nl2 + 63) / 64
	// Each (level, second-term level) pair ORs one row of words.
	if int64(len(keys))*int64(words) > cliqueBudget {
		return nil, false
	}
	adj = make([]uint64, nl2*words)
	set := make([]uint64, words)
	for lo := 0; lo < len(keys); {
		g := keys[lo] / int64(nl2)
		hi := lo
		for hi < len(keys) && keys[hi]/int64(nl2) == g {
			hi++
		}
		clear(set)
		for e := lo; e < hi; e++ {
			l := int(keys[e] % int64(nl2))
			set[l/64] |= 1 << (l % 64)
		}
		for e := lo; e < hi; e++ {
			l := int(keys[e] % int64(nl2))
			row := adj[l*words : (l+1)*words]
			for i, x := range set {
				row[i] |= x
			}
		}
		lo = hi
	}
	for l := range nl2 {
		adj[l*words+l/64] &^= 1 << (l % 64) // no self loops
	}
	return adj, true
}

// symbolicRows returns, for each block column K of width nb of the
// factor of a matrix whose elimination structure (in the new order) is
// given by minDegreeOrder, the sorted new row numbers at or after the
// end of the block with a nonzero in one of its columns; newIdx maps
// original node numbers to new ones.
func symbolicRows(structure []uint64, newIdx []int32, n, nb int) [][]int32 {
	words := (n + 63) / 64
	nbk := (n + nb - 1) / nb
	rows := make([][]int32, nbk)
	union := make([]uint64, words)
	for K := range nbk {
		c0, c1 := K*nb, min(K*nb+nb, n)
		clear(union)
		for c := c0; c < c1; c++ {
			for i, x := range structure[c*words : (c+1)*words] {
				union[i] |= x
			}
		}
		var rs []int32
		for wi, word := range union {
			for word != 0 {
				u := wi*64 + bits.TrailingZeros64(word)
				word &= word - 1
				if r := newIdx[u]; int(r) >= c1 {
					rs = append(rs, r)
				}
			}
		}
		slices.Sort(rs)
		rows[K] = rs
	}
	return rows
}

// envelope returns, for each row of the factor whose structure (columns in
// the new numbering, rows as original node numbers mapped by newIdx) is
// given, its first structurally nonzero column: the entries of row r
// before first[r] are zero.
func envelope(structure []uint64, newIdx []int32, n int) []int32 {
	words := (n + 63) / 64
	first := make([]int32, n)
	for r := range first {
		first[r] = int32(r)
	}
	for c := n - 1; c >= 0; c-- {
		for wi, word := range structure[c*words : (c+1)*words] {
			for word != 0 {
				u := wi*64 + bits.TrailingZeros64(word)
				word &= word - 1
				first[newIdx[u]] = int32(c)
			}
		}
	}
	return first
}

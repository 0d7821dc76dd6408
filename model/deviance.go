package model

import "math"

// PWRSS returns the penalised residual sum of squares
// r²(θ) = ‖y − Xβ̂ − ZΛũ‖² + ‖ũ‖² at the conditional modes (plus the
// prior term of SetFixedPrecision, if any): the square of the last
// diagonal element of L.
func (m *MixedModel) PWRSS() float64 {
	xx := m.l[len(m.terms)][len(m.terms)]
	v := xx.val[m.p*(m.p+1)+m.p]
	return v * v
}

// LogDetZ returns log|L_Z|² = log det(ΛᵀZᵀZΛ + I).
func (m *MixedModel) LogDetZ() float64 {
	var s float64
	for i, t := range m.terms {
		d := m.l[i][i]
		switch d.kind {
		case kindDiag:
			k := t.k
			for lev := range t.nl {
				b := d.val[lev*k*k:]
				for e := range k {
					s += math.Log(b[e*k+e])
				}
			}
		default:
			for r := range d.rows {
				s += math.Log(d.val[r*d.cols+r])
			}
		}
	}
	return 2 * s
}

// LogDetX returns log|L_X|², the log determinant of the fixed-effects
// block of the mixed-model equations after eliminating u (with the
// SetFixedPrecision term, if any).
func (m *MixedModel) LogDetX() float64 {
	xx := m.l[len(m.terms)][len(m.terms)]
	var s float64
	for c := range m.p {
		s += math.Log(xx.val[c*(m.p+1)+c])
	}
	return 2 * s
}

// Objective returns the profiled deviance (reml false),
//
//	log|L_Z|² + n (1 + log(2π r²/n)),
//
// or the REML criterion (reml true),
//
//	log|L_Z|² + log|L_X|² + (n−p)(1 + log(2π r²/(n−p))),
//
// at the current θ. It returns +Inf if the last SetTheta failed.
func (m *MixedModel) Objective(reml bool) float64 {
	if !m.ok {
		return math.Inf(1)
	}
	r2 := m.PWRSS()
	ld := m.LogDetZ()
	nf := float64(m.n)
	if reml {
		nf -= float64(m.p)
		ld += m.LogDetX()
	}
	return ld + nf*(1+math.Log(2*math.Pi*r2/nf))
}

// Modes writes the conditional modes ũ (len Q(), kernel order) and β̂
// (len P()) at the current θ into u and beta. It allocates nothing.
func (m *MixedModel) Modes(u, beta []float64) {
	m.solve(nil, 0, u, beta)
}

// Draw writes (u, β) = (ũ, β̂) + σ L⁻ᵀ z, a draw from
// N((ũ, β̂), σ²(LLᵀ)⁻¹), into u and beta, given standard normals z of
// length Q()+P() (the first Q() for u). It allocates nothing.
func (m *MixedModel) Draw(z []float64, sigma float64, u, beta []float64) {
	m.solve(z, sigma, u, beta)
}

// solve computes x = L⁻ᵀ(r + σz) where r is the last (y) row of L.
func (m *MixedModel) solve(z []float64, sigma float64, u, beta []float64) {
	nt := len(m.terms)
	x := m.x
	p := m.p
	// Right-hand side: the y row of L.
	for j, t := range m.terms {
		b := m.l[nt][j]
		copy(x[t.uoff:t.uoff+t.q], b.val[p*b.cols:(p+1)*b.cols])
	}
	xx := m.l[nt][nt]
	xb := x[m.q : m.q+p]
	copy(xb, xx.val[p*(p+1):p*(p+1)+p])
	if z != nil {
		for i := range x {
			x[i] += sigma * z[i]
		}
	}
	// Back substitution with Lᵀ, block by block from the last.
	backSolveDiag(xb, xx, p)
	for j := nt - 1; j >= 0; j-- {
		t := m.terms[j]
		xj := x[t.uoff : t.uoff+t.q]
		subTransMul(xj, m.l[nt][j], xb, p)
		for i := nt - 1; i > j; i-- {
			ti := m.terms[i]
			b := m.l[i][j]
			subTransMul(xj, b, x[ti.uoff:ti.uoff+ti.q], b.rows)
		}
		backSolveDiag(xj, m.l[j][j], t.q)
	}
	copy(u, x[:m.q])
	for _, t := range m.terms {
		if t.perm != nil {
			// Back to the Design's level order (K = 1).
			for lev, kl := range t.perm {
				u[t.uoff+lev] = x[t.uoff+int(kl)]
			}
		}
	}
	copy(beta, xb)
}

// ToB writes b = Λθ u into b in Design.Terms order: b[t][j*K+e] is level
// j, effect e of Design.Terms[t]; u is in kernel order.
func (m *MixedModel) ToB(u []float64, b [][]float64) {
	for _, t := range m.terms {
		bt := b[t.design]
		k := t.k
		for lev := range t.nl {
			ul := u[t.uoff+lev*k : t.uoff+(lev+1)*k]
			bl := bt[lev*k : (lev+1)*k]
			for r := range k {
				var s float64
				for c := 0; c <= r; c++ {
					s += t.lambda[r*k+c] * ul[c]
				}
				bl[r] = s
			}
		}
	}
}

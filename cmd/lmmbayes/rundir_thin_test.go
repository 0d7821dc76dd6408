package main

import (
	"testing"

	"github.com/lmmbayes/lmmbayes/sampler"
)

// TestThinned checks that thinning keeps every k-th draw of each chain,
// in order, and leaves small draw sets alone.
func TestThinned(t *testing.T) {
	p := &postDraws{names: &sampler.Names{Columns: []string{"a", "b"}}}
	for c := range 2 {
		var rows []float64
		for i := range 10 {
			rows = append(rows, float64(100*c+i), float64(-i))
		}
		p.chains = append(p.chains, rows)
		p.rows = append(p.rows, 10)
	}
	p.index()
	if q := p.thinned(20); q != p {
		t.Error("20 draws thinned to 20")
	}
	q := p.thinned(7) // k = 3: draws 0, 3, 6, 9 of each chain
	if q.numDraws() != 8 {
		t.Fatalf("%d draws, want 8", q.numDraws())
	}
	for s, want := range []float64{0, 3, 6, 9, 100, 103, 106, 109} {
		if got := q.row(s)[0]; got != want {
			t.Errorf("draw %d = %v, want %v", s, got, want)
		}
	}
}

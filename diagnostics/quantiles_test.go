package diagnostics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestQuantilesEqualQuantile checks the selection-based Quantiles against
// the sorting Quantile exactly, on continuous, tied and tiny inputs, and
// on inputs long enough (> 600) for selectKth's sampling step.
func TestQuantilesEqualQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ps := []float64{0, 0.025, 0.05, 0.5, 0.95, 0.975, 1}
	for trial := range 400 {
		n := 1 + rng.IntN(500)
		if trial%4 == 3 {
			n = 601 + rng.IntN(8000)
		}
		x := make([]float64, n)
		for i := range x {
			switch trial % 3 {
			case 0:
				x[i] = rng.NormFloat64()
			case 1:
				x[i] = math.Round(rng.NormFloat64() * 2) // heavy ties
			default:
				x[i] = float64(rng.IntN(3))
			}
		}
		orig := append([]float64(nil), x...)
		got := Quantiles(x, ps)
		for i, p := range ps {
			if want := Quantile(x, p); got[i] != want {
				t.Fatalf("trial %d n=%d p=%v: Quantiles %v, Quantile %v", trial, n, p, got[i], want)
			}
		}
		for i := range x {
			if x[i] != orig[i] {
				t.Fatal("Quantiles modified its input")
			}
		}
		inPlace := QuantilesInPlace(x, ps)
		for i := range ps {
			if inPlace[i] != got[i] {
				t.Fatalf("trial %d: QuantilesInPlace %v, Quantiles %v", trial, inPlace, got)
			}
		}
		// selectKth leaves x partitioned around its k-th value.
		k := rng.IntN(n)
		selectKth(x, k)
		want := slices.Sorted(slices.Values(orig))
		if x[k] != want[k] || slices.Max(x[:k+1]) != x[k] || slices.Min(x[k:]) != x[k] {
			t.Fatalf("trial %d n=%d: selectKth(%d) = %v, want %v, partitioned", trial, n, k, x[k], want[k])
		}
	}
	if q := Quantiles(nil, []float64{0.5}); !math.IsNaN(q[0]) {
		t.Error("empty input")
	}
	if q := Quantiles([]float64{1, math.NaN()}, []float64{0.5}); !math.IsNaN(q[0]) {
		t.Error("NaN input")
	}
	if q := Quantiles([]float64{1, 2}, []float64{0.5, 0.2}); !math.IsNaN(q[1]) {
		t.Error("descending ps accepted")
	}
}

func BenchmarkQuantiles(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 20000)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	ps := []float64{0.025, 0.5, 0.975}
	for b.Loop() {
		Quantiles(x, ps)
	}
}

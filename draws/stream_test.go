package draws

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/diagnostics"
)

// TestSummarizeFilesBatches checks the batched summaries against the
// summaries of the whole draws in memory, for every batch size from one
// column to all of them.
func TestSummarizeFilesBatches(t *testing.T) {
	dir := filepath.Join("..", "testdata", "cmdstan_csv")
	files := []string{filepath.Join(dir, "sleepstudy_1.csv"), filepath.Join(dir, "sleepstudy_2.csv")}
	all, err := diagnostics.ReadCmdStan(files...)
	if err != nil {
		t.Fatal(err)
	}
	var cols []int
	for j := 1; j < len(all.Names); j++ {
		cols = append(cols, j)
	}
	want := diagnostics.SummarizeEach(len(cols), func(i int) [][]float64 { return all.Variable(cols[i]) }, 0)
	total := 2 * all.NumDraws()
	for _, per := range []int{1, 2, 5, len(cols)} {
		got, nd, err := SummarizeFiles(files, cols, total, drawsBytes(total*per))
		if err != nil || nd != all.NumDraws() {
			t.Fatal(err, nd)
		}
		for i := range want {
			if !sameValues(got[i].Values(), want[i].Values()) {
				t.Fatalf("%d columns per batch: %s: %+v, want %+v", per, all.Names[cols[i]], got[i], want[i])
			}
		}
	}
	for _, f := range files {
		n, err := countRows(f)
		// The files hold their saved warmup too.
		if want := all.NumDraws() + all.Chains[0].Warmup; err != nil || n != want {
			t.Errorf("countRows(%s) = %d, %v; want %d", f, n, err, want)
		}
	}
	h, set, err := ReadHeader(files[0])
	if err != nil || len(h) != len(all.Names) || h[0] != all.Chains[0].Header[0] {
		t.Errorf("ReadHeader: %v, %v", h, err)
	}
	if set["warmup"] != all.Chains[0].Config["warmup"] || set["warmup"] != "500" {
		t.Errorf("ReadHeader settings: warmup %q, want %q", set["warmup"], all.Chains[0].Config["warmup"])
	}
}

// TestDrawsSinkNoAllocs checks that streaming a row allocates nothing.
func TestDrawsSinkNoAllocs(t *testing.T) {
	names := &Names{Columns: []string{"lp__", "b_x", "sigma"}}
	s, err := newFileSink(filepath.Join(t.TempDir(), "d.csv"), &Header{Draws: 1000, Thin: 1}, 1, "collapsed", names)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	row := RowOf([]float64{-1.25, 0.1, 3e-9})
	if a := testing.AllocsPerRun(500, func() { s.WriteDraw(row) }); a != 0 {
		t.Errorf("%.1f allocations per row", a)
	}
}

// TestSinkRefusesNonFinite checks that a non-finite draw is refused by
// the draws file, naming the parameter (the sampler adds chain and draw),
// and that finite rows are written in full precision.
func TestSinkRefusesNonFinite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "draws_2.csv")
	names := &Names{Columns: []string{"lp__", "b_x", "sigma"}}
	s, err := newFileSink(path, &Header{Draws: 2, Thin: 1}, 2, "collapsed", names)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteDraw(RowOf([]float64{-1, 0.1, 1})); err != nil {
		t.Fatal(err)
	}
	err = s.WriteDraw(RowOf([]float64{-2, math.NaN(), 1}))
	if err == nil || !strings.HasPrefix(err.Error(), "b_x is NaN; numerical trouble") {
		t.Fatalf("err = %v", err)
	}
	if err := s.WriteDraw(RowOf([]float64{-2, math.Inf(-1), 1})); err == nil || !strings.Contains(err.Error(), "b_x is -Inf") {
		t.Fatalf("err = %v", err)
	}
	s.Abort()
}

// TestThinned checks that thinning keeps every k-th draw of each chain,
// in order, and leaves small draw sets alone.
func TestThinned(t *testing.T) {
	p := New(&Names{Columns: []string{"a", "b"}}, false, "test")
	for c := range 2 {
		var rows []float64
		for i := range 10 {
			rows = append(rows, float64(100*c+i), float64(-i))
		}
		p.AddChain(10, rows)
	}
	if q := p.Thinned(20); q != p {
		t.Error("20 draws thinned to 20")
	}
	q := p.Thinned(7) // k = 3: draws 0, 3, 6, 9 of each chain
	if q.NumDraws() != 8 {
		t.Fatalf("%d draws, want 8", q.NumDraws())
	}
	for s, want := range []float64{0, 3, 6, 9, 100, 103, 106, 109} {
		if got := q.Row(s)[0]; got != want {
			t.Errorf("draw %d = %v, want %v", s, got, want)
		}
	}
}

// TestSpread checks that Spread takes draws k·S/m of the S in order.
func TestSpread(t *testing.T) {
	p := New(&Names{Columns: []string{"a"}}, false, "test")
	p.AddChain(5, []float64{0, 1, 2, 3, 4})
	p.AddChain(5, []float64{10, 11, 12, 13, 14})
	q := p.Spread(4) // draws 0, 2, 5, 7
	if q.NumDraws() != 4 {
		t.Fatalf("%d draws, want 4", q.NumDraws())
	}
	for s, want := range []float64{0, 2, 10, 12} {
		if got := q.Row(s)[0]; got != want {
			t.Errorf("draw %d = %v, want %v", s, got, want)
		}
	}
	if q := p.Spread(50); q.NumDraws() != 10 {
		t.Errorf("Spread(50) of 10 draws holds %d", q.NumDraws())
	}
}

// sameValues compares two slices, NaN equal to NaN.
func sameValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

// BenchmarkFileSink times streaming sleepstudy-sized rows (47 columns).
func BenchmarkFileSink(b *testing.B) {
	cols := make([]string, 47)
	vals := make([]float64, 47)
	for i := range cols {
		cols[i] = "c"
		vals[i] = 1.0/float64(i+3) + 250
	}
	s, err := newFileSink(filepath.Join(b.TempDir(), "d.csv"), &Header{Draws: 1 << 30, Thin: 1}, 1, "collapsed", &Names{Columns: cols})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Abort()
	row := RowOf(vals)
	for b.Loop() {
		s.WriteDraw(row)
	}
}

package sampler

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// memSink collects the rows a chain streams.
type memSink struct {
	rows    []float64
	failAt  int // fail on this 1-based draw (0: never)
	n       int
	lenSeen int
}

func (s *memSink) WriteDraw(r Row) error {
	s.n++
	if s.failAt > 0 && s.n == s.failAt {
		return errors.New("disk full")
	}
	s.lenSeen = r.Len()
	before := len(s.rows)
	s.rows = r.AppendTo(s.rows)
	for j := range r.Len() {
		if s.rows[before+j] != r.At(j) {
			panic("Row.At and Row.AppendTo disagree")
		}
	}
	return nil
}

// TestSinkEqualsMemory checks that the rows streamed to a DrawSink are
// bit-identical to the draws Run keeps in memory without one, for both
// methods, with the r_ columns (a correlated two-effect term, whose
// effects are not contiguous in the chain state, and a crossed factor),
// and that a streamed run keeps no draws.
func TestSinkEqualsMemory(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	pd := loadDesign(t, "penicillin.csv", "diameter ~ 1 + (1|plate) + (1|sample)", "plate", "sample")
	for _, c := range []struct {
		name   string
		spec   *Spec
		method string
	}{
		{"sleepstudy-collapsed", refSpec(d), "collapsed"},
		{"sleepstudy-crossed", refSpec(d), "crossed"},
		{"penicillin-crossed", refSpec(pd), "crossed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := Options{Chains: 2, Warmup: 50, Draws: 40, Thin: 2, Seed: 7, RandomEffects: true, Method: c.method}
			mem, err := Run(context.Background(), c.spec, opt)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			sinks := map[int]*memSink{}
			opt.Sink = func(info ChainInfo) (DrawSink, error) {
				mu.Lock()
				defer mu.Unlock()
				if info.Method != mem.Method || info.Names != nil && len(info.Names.Columns) != len(mem.Names.Columns) {
					t.Errorf("chain %d: info %+v", info.ID, info)
				}
				s := &memSink{}
				sinks[info.ID] = s
				return s, nil
			}
			str, err := Run(context.Background(), c.spec, opt)
			if err != nil {
				t.Fatal(err)
			}
			for i, ch := range str.Chains {
				if ch.Draws != nil {
					t.Errorf("chain %d: a streamed run kept %d values", ch.ID, len(ch.Draws))
				}
				if ch.NDraws != opt.Draws {
					t.Errorf("chain %d: NDraws %d, want %d", ch.ID, ch.NDraws, opt.Draws)
				}
				s := sinks[ch.ID]
				if s.lenSeen != len(mem.Names.Columns) {
					t.Errorf("chain %d: rows of %d columns, want %d", ch.ID, s.lenSeen, len(mem.Names.Columns))
				}
				if !slices.Equal(s.rows, mem.Chains[i].Draws) {
					t.Errorf("chain %d: streamed draws differ from the in-memory draws", ch.ID)
				}
			}
		})
	}
}

// TestSinkError checks that a sink's error stops every chain and is
// returned, wrapped with the chain and draw.
func TestSinkError(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	opt := Options{Chains: 2, Warmup: 10, Draws: 1000000000, Seed: 7, Parallel: 2}
	opt.Sink = func(info ChainInfo) (DrawSink, error) {
		if info.ID == 2 {
			return &memSink{failAt: 5}, nil
		}
		return &memSink{}, nil
	}
	res, err := Run(context.Background(), refSpec(d), opt)
	if err == nil || res != nil {
		t.Fatalf("got %v, %v; want an error", res, err)
	}
	if want := "chain 2, draw 5: disk full"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	opt.Sink = func(ChainInfo) (DrawSink, error) { return nil, errors.New("cannot create") }
	if _, err := Run(context.Background(), refSpec(d), opt); err == nil || err.Error() != "sampler: chain 1: cannot create" && err.Error() != "sampler: chain 2: cannot create" {
		t.Errorf("sink creation error: got %v", err)
	}
}

// discardSink counts rows and keeps nothing.
type discardSink struct{ n int }

func (s *discardSink) WriteDraw(r Row) error {
	if r.Len() > 0 {
		s.n++
	}
	return nil
}

// TestSinkBoundedMemory checks that a streamed run's memory does not
// grow with the number of draws: the bytes allocated by a run with the
// r_ columns kept differ between 500 and 2500 draws by far less than
// one row per draw (an in-memory run grows by 8·columns bytes per draw).
func TestSinkBoundedMemory(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	spec := refSpec(d)
	var nc int
	bytes := func(draws int, sink bool) float64 {
		opt := Options{Chains: 1, Warmup: 100, Draws: draws, Seed: 3, RandomEffects: true}
		if sink {
			opt.Sink = func(info ChainInfo) (DrawSink, error) { nc = len(info.Names.Columns); return &discardSink{}, nil }
		}
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		if _, err := Run(context.Background(), spec, opt); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&b)
		return float64(b.TotalAlloc - a.TotalAlloc)
	}
	per := (bytes(2500, true) - bytes(500, true)) / 2000
	mem := (bytes(2500, false) - bytes(500, false)) / 2000
	t.Logf("bytes allocated per extra draw: streamed %.1f, in memory %.1f (one row is %d bytes)", per, mem, 8*nc)
	if per > 8 {
		t.Errorf("a streamed run allocates %.1f bytes per draw, want none", per)
	}
	if mem < float64(8*nc) {
		t.Errorf("the in-memory run allocates %.1f bytes per draw, less than a row (%d): the measurement is broken", mem, 8*nc)
	}
}

package sampler

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
)

// TestReproducible runs the same seed under GOMAXPROCS 1 and 2 and with
// chains run one at a time: the draws must be bit-identical, and chain
// K's draws must not depend on which other chains ran.
func TestReproducible(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	spec := refSpec(d)
	opt := Options{Chains: 3, Warmup: 200, Draws: 300, Seed: 99, RandomEffects: true}
	a := checkProcsIdentical(t, spec, opt)
	one := opt
	one.Chains, one.FirstChain = 1, 2
	s, err := Run(context.Background(), spec, one)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Chains[0].Draws, a.Chains[1].Draws) {
		t.Error("chain 2 run alone differs from chain 2 of a 3-chain run")
	}
	if slices.Equal(a.Chains[0].Draws, a.Chains[1].Draws) {
		t.Error("chains 1 and 2 are identical")
	}
}

// checkProcsIdentical runs spec under GOMAXPROCS 1 and 2 and reports any
// chain whose draws differ; it returns the first run.
func checkProcsIdentical(t *testing.T, spec *Spec, opt Options) *Result {
	t.Helper()
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	a, err := Run(context.Background(), spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GOMAXPROCS(2)
	b, err := Run(context.Background(), spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	for c := range a.Chains {
		if !slices.Equal(a.Chains[c].Draws, b.Chains[c].Draws) {
			t.Errorf("chain %d differs between GOMAXPROCS 1 and 2", c+1)
		}
	}
	return a
}

// TestCancel checks that a cancelled context stops the run with its
// error.
func TestCancel(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, refSpec(d), Options{Chains: 2, Warmup: 100, Draws: 100000000, Seed: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

package sampler

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
)

// TestStanWeighted compares the posterior of a model with lmer's prior
// weights (residual sd σ/√w) against a long Stan run of the same model
// and priors (testdata/stan/run_stan_weighted.R, lmm_corr_weighted.stan:
// Reaction ~ Days + (Days | Subject) on testdata/formula/sleep_w.csv,
// w = 1/(1 + Days/3)): mean, sd, 2.5 % and 97.5 % quantiles of every
// reference quantity within 4 combined MCSEs, for each method (the
// weights reach every method through the √w-scaled working design).
func TestStanWeighted(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "formula", "sleep_w.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := model.ReadFrame(strings.NewReader(string(raw)), "sleep_w.csv", model.FrameOptions{Factors: []string{"Subject"}})
	if err != nil {
		t.Fatal(err)
	}
	fo, err := model.ParseFormula("Reaction ~ Days + (Days | Subject)")
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.Build(fo, fr, model.BuildOptions{Weights: "w"})
	if err != nil {
		t.Fatal(err)
	}
	ref, order := readStanRef(t, "ref_sleep_weighted.csv")
	for i, method := range []string{"collapsed", "crossed", "nuts"} {
		t.Run(method, func(t *testing.T) {
			opt := Options{Chains: 4, Warmup: 1000, Draws: stanDraws, Seed: uint64(31 + i), RandomEffects: true, Method: method}
			res, err := Run(context.Background(), refSpec(d), opt)
			if err != nil {
				t.Fatal(err)
			}
			compareToStan(t, res, ref, order)
		})
	}
}

// TestWeightedEqualsWorking: sampling a weighted design is sampling its
// √w-scaled working design (same seed, same draws, for every method),
// except that lp__ adds ½ Σ log wᵢ.
func TestWeightedEqualsWorking(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "formula", "sleep_w.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := model.ReadFrame(strings.NewReader(string(raw)), "sleep_w.csv", model.FrameOptions{Factors: []string{"Subject"}})
	if err != nil {
		t.Fatal(err)
	}
	fo, err := model.ParseFormula("Reaction ~ Days + offset(Days) + (Days | Subject)")
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.Build(fo, fr, model.BuildOptions{Weights: "w"})
	if err != nil {
		t.Fatal(err)
	}
	wd := d.Working()
	if wd.Weighted() || !d.Weighted() {
		t.Fatal("Working() kept the weights, or the design has none")
	}
	c := d.LogWeights() / 2
	for _, method := range []string{"collapsed", "crossed", "nuts"} {
		opt := Options{Chains: 1, Warmup: 100, Draws: 50, Seed: 5, RandomEffects: true, Method: method}
		a, err := Run(context.Background(), refSpec(d), opt)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Run(context.Background(), refSpec(wd), opt)
		if err != nil {
			t.Fatal(err)
		}
		for j, name := range a.Names.Columns {
			x, y := a.Column(j)[0], b.Column(j)[0]
			for k := range x {
				want := y[k]
				if name == "lp__" {
					want += c
				}
				if math.Abs(x[k]-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Fatalf("%s: %s draw %d: weighted %.12g, working %.12g", method, name, k, x[k], want)
				}
			}
		}
	}
}

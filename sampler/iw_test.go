package sampler

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/priors"
	"gonum.org/v1/gonum/mat"
)

// TestInvWishartRun runs sleepstudy with an inverse-Wishart Σ and a
// horseshoe on the slope: ψ holds log σ only, the sd_ and cor_ columns
// are written from Σ (positive SDs, |cor| < 1) and lp__ is finite.
func TestInvWishartRun(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	spec := refSpec(d)
	spec.Fixed[1] = priors.Horseshoe{Scale: 1}
	spec.Cov = []*priors.InvWishart{{Nu: 3, S: mat.NewSymDense(2, []float64{600, 0, 0, 35})}}
	res, err := Run(context.Background(), spec, Options{Chains: 1, Warmup: 200, Draws: 300, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.PsiNames) != 1 || res.PsiNames[0] != "log(sigma)" {
		t.Errorf("ψ = %v, want [log(sigma)]", res.PsiNames)
	}
	n := res.Names
	for j, c := range n.Columns {
		for _, v := range res.Column(j)[0] {
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				t.Fatalf("%s: non-finite draw %g", c, v)
			case strings.HasPrefix(c, "sd_") && !(v > 0):
				t.Fatalf("%s: draw %g ≤ 0", c, v)
			case strings.HasPrefix(c, "cor_") && !(math.Abs(v) < 1):
				t.Fatalf("%s: draw %g outside (−1, 1)", c, v)
			}
		}
	}
	// The slope is well identified: its posterior mean is near lme4's
	// 10.467 (within a few posterior SDs, about 1.5 each).
	var m float64
	col := res.Column(2)[0]
	for _, v := range col {
		m += v / float64(len(col))
	}
	if math.Abs(m-10.467) > 5 {
		t.Errorf("b_Days mean %g, far from 10.467", m)
	}
}

// TestCheckSpecInvWishart rejects an inverse-Wishart prior whose degrees
// of freedom are too small for Σ and a non-positive-definite S.
func TestCheckSpecInvWishart(t *testing.T) {
	d := loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject")
	spec := refSpec(d)
	spec.Cov = []*priors.InvWishart{{Nu: 0.5, Scalar: 1}}
	if err := checkSpec(spec); err == nil || !strings.Contains(err.Error(), "nu") {
		t.Errorf("ν = 0.5 on a 2×2 Σ: got %v", err)
	}
	spec.Cov = []*priors.InvWishart{{Nu: 3, S: mat.NewSymDense(2, []float64{1, 2, 2, 1})}}
	if err := checkSpec(spec); err == nil || !strings.Contains(err.Error(), "positive definite") {
		t.Errorf("indefinite S: got %v", err)
	}
}

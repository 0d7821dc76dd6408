package model

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// weightedAndDuplicated builds case c twice: with a prior-weights column
// w = 1 + (row mod 3), and with each row repeated w times and no
// weights. With integer weights the two likelihoods are the same
// function, so every fit must agree.
func weightedAndDuplicated(t *testing.T, c glmmCase) (*Design, *Design) {
	t.Helper()
	ref := readGLMMRef(t, c.name)
	fh, err := os.Open(filepath.Join("..", "testdata", "glmm", c.file))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var wt, dup strings.Builder
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := -1; sc.Scan(); i++ {
		line := sc.Text()
		if i < 0 {
			wt.WriteString(line + ",w\n")
			dup.WriteString(line + "\n")
			continue
		}
		w := 1 + i%3
		wt.WriteString(line + "," + string(rune('0'+w)) + "\n")
		for range w {
			dup.WriteString(line + "\n")
		}
	}
	fam, err := ParseFamily(ref.Family)
	if err != nil {
		t.Fatal(err)
	}
	build := func(text, weights string) *Design {
		fr, err := ReadFrame(strings.NewReader(text), c.file, FrameOptions{Factors: c.factors})
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseFormula(ref.Formula)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Build(f, fr, BuildOptions{Family: fam, Weights: weights})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return build(wt.String(), "w"), build(dup.String(), "")
}

// TestFitGLMMWeightsAsDuplicates checks prior weights in the GLMM fit
// (glmer's weights: each row's log-likelihood times its weight) by an
// exact identity: integer weights give the fit of the data with each row
// repeated that many times — logLik and deviance within 1e-8, θ 1e-5, β
// 1e-6, their SEs 2e-3 and the negative binomial's shape 1e-4 — for
// binomial (Laplace and nAGQ = 10), Poisson (with and without an
// offset) and the negative binomial.
func TestFitGLMMWeightsAsDuplicates(t *testing.T) {
	for _, k := range []struct {
		cs   glmmCase
		nagq int
	}{{glmmCases[0], 1}, {glmmCases[1], 10}, {glmmCases[4], 1}, {glmmCases[5], 1}, {glmmCases[6], 1}} {
		wd, dd := weightedAndDuplicated(t, k.cs)
		a, err := FitGLMM(wd, GLMMOptions{NAGQ: k.nagq})
		if err != nil {
			t.Fatal(err)
		}
		b, err := FitGLMM(dd, GLMMOptions{NAGQ: k.nagq})
		if err != nil {
			t.Fatal(err)
		}
		close := func(what string, x, y, tol float64) {
			if math.Abs(x-y) > tol*math.Max(1, math.Abs(y)) {
				t.Errorf("%s nAGQ %d: %s %.10g with weights, %.10g with repeated rows", k.cs.name, k.nagq, what, x, y)
			}
		}
		close("logLik", a.LogLik, b.LogLik, 1e-8)
		close("deviance", a.Deviance, b.Deviance, 1e-8)
		for i := range a.Theta {
			close("theta", a.Theta[i], b.Theta[i], 1e-5)
		}
		for j, n := range a.Fixef.Names {
			close(n, a.Fixef.Values[j], b.Fixef.Values[j], 1e-6)
			// The SEs come from a central-difference Hessian (δ = 1e-4),
			// whose rounding differs between the two layouts: measured
			// up to 6e-4 relative (grouseticks' intercept).
			close("SE of "+n, a.FixefSE.Values[j], b.FixefSE.Values[j], 2e-3)
		}
		if a.Shape != nil {
			close("shape", *a.Shape, *b.Shape, 1e-4)
		}
		t.Logf("%s nAGQ %d: logLik %.8f (weights) %.8f (repeated rows), %d and %d rows", k.cs.name, k.nagq, a.LogLik, b.LogLik, wd.N, dd.N)
	}
}

// TestFitGLMMWeightsGlmer compares the weighted fits with glmer's
// (testdata/glmm/weights_ref.R and .json: weights 1, 2, 3, 1, … on cbpp,
// binomial, and grouseticks, Poisson; glmer converged tightly, PIRLS to
// 1e-13): logLik within 1e-5 relative, θ within 1e-3 relative, fixed
// effects within 1e-3 of their SE — issue 15's tolerances. Measured:
// logLik equal to 1e-9 relative, fixed effects within 7e-5 SE. (Against
// glmer at its default PIRLS tolerance the logLik differs by 5e-7 and
// 4e-6 relative, ours the higher: glmer's inner iterations stop early.)
func TestFitGLMMWeightsGlmer(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "glmm", "weights_ref.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs map[string]struct {
		LogLik  float64            `json:"logLik"`
		Theta   []float64          `json:"theta"`
		Fixef   map[string]float64 `json:"fixef"`
		FixefSE map[string]float64 `json:"fixef_se"`
	}
	if err := json.Unmarshal(raw, &refs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []glmmCase{glmmCases[0], glmmCases[4]} {
		ref, ok := refs[c.name]
		if !ok {
			t.Fatalf("no reference for %s", c.name)
		}
		wd, _ := weightedAndDuplicated(t, c)
		fit, err := FitGLMM(wd, GLMMOptions{NAGQ: 1})
		if err != nil {
			t.Fatal(err)
		}
		if rel := math.Abs(fit.LogLik-ref.LogLik) / math.Abs(ref.LogLik); rel > 1e-5 {
			t.Errorf("%s: logLik %.8f, glmer %.8f (%.2g relative)", c.name, fit.LogLik, ref.LogLik, rel)
		}
		for i, th := range ref.Theta {
			if rel := math.Abs(fit.Theta[i]-th) / math.Max(th, 1e-8); rel > 1e-3 {
				t.Errorf("%s: theta[%d] %.6f, glmer %.6f", c.name, i, fit.Theta[i], th)
			}
		}
		var worst float64
		for j, n := range fit.Fixef.Names {
			want, ok := ref.Fixef[n]
			if !ok {
				t.Fatalf("%s: glmer has no %s", c.name, n)
			}
			z := math.Abs(fit.Fixef.Values[j]-want) / ref.FixefSE[n]
			worst = math.Max(worst, z)
			if z > 1e-3 {
				t.Errorf("%s: %s %.8f, glmer %.8f (%.2g SE)", c.name, n, fit.Fixef.Values[j], want, z)
			}
		}
		t.Logf("%s: logLik %.8f (glmer %.8f), largest fixef difference %.2g SE", c.name, fit.LogLik, ref.LogLik, worst)
	}
}

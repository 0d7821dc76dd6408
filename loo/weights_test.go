package loo

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/lmmbayes/lmmbayes/model"
)

// weightedDesign is sleepstudy with prior weights w = 1/(1 + Days/3) and an
// offset, (Days | Subject).
func weightedDesign(t *testing.T) *model.Design {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "formula", "sleep_w.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := model.ReadFrame(strings.NewReader(string(raw)), "sleep_w.csv", model.FrameOptions{Factors: []string{"Subject"}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := model.ParseFormula("Reaction ~ Days + offset(2 * Days) + (Days | Subject)")
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.Build(f, fr, model.BuildOptions{Weights: "w"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// weightedDraw is one parameter draw for weightedDesign.
func weightedDraw(d *model.Design) *model.ParamDraw {
	pd := &model.ParamDraw{Beta: []float64{250, 8}, Sigma: 20, Cov: [][]float64{{600, 10, 10, 40}}}
	b := make([]float64, 2*len(d.Terms[0].Levels))
	for j := range b {
		b[j] = math.Sin(float64(j)) * 10
	}
	pd.B = [][]float64{b}
	return pd
}

// TestGaussianLogLikWeights: log N(yᵢ; oᵢ + xᵢβ + zᵢb, σ²/wᵢ), written out.
func TestGaussianLogLikWeights(t *testing.T) {
	d := weightedDesign(t)
	pd := weightedDraw(d)
	got := make([]float64, d.N)
	if err := GaussianLogLik(d, pd, make([]float64, d.N), got); err != nil {
		t.Fatal(err)
	}
	term := d.Terms[0]
	for i := range d.N {
		l := int(term.Refs[i])
		mu := 2*d.X.At(i, 1) + pd.Beta[0] + pd.Beta[1]*d.X.At(i, 1) + pd.B[0][2*l] + pd.B[0][2*l+1]*d.X.At(i, 1)
		v := pd.Sigma * pd.Sigma / d.Weights[i]
		want := -0.5*math.Log(2*math.Pi*v) - 0.5*(d.Y[i]-mu)*(d.Y[i]-mu)/v
		if math.Abs(got[i]-want) > 1e-12*math.Abs(want) {
			t.Fatalf("row %d: %.15g, want %.15g", i, got[i], want)
		}
	}
}

// TestGroupLogLikWeights: each subject's marginal log density equals the
// dense log N(y_g; o_g + X_g β, σ² diag(1/w_g) + Z_g Σ Z_gᵀ).
func TestGroupLogLikWeights(t *testing.T) {
	d := weightedDesign(t)
	pd := weightedDraw(d)
	g, err := NewGroupLogLik(d, "Subject")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, len(g.Levels()))
	if err := g.LogLik(pd, got); err != nil {
		t.Fatal(err)
	}
	term := d.Terms[0]
	for j := range g.Levels() {
		var rows []int
		for i := range d.N {
			if int(term.Refs[i]) == j {
				rows = append(rows, i)
			}
		}
		m := len(rows)
		v := mat.NewSymDense(m, nil)
		r := mat.NewVecDense(m, nil)
		for a, i := range rows {
			za := []float64{1, d.X.At(i, 1)}
			for b, k := range rows[:a+1] {
				zb := []float64{1, d.X.At(k, 1)}
				s := 0.0
				for e := range 2 {
					for f := range 2 {
						s += za[e] * pd.Cov[0][e*2+f] * zb[f]
					}
				}
				if a == b {
					s += pd.Sigma * pd.Sigma / d.Weights[i]
				}
				v.SetSym(a, b, s)
			}
			r.SetVec(a, d.Y[i]-d.Offset[i]-pd.Beta[0]-pd.Beta[1]*d.X.At(i, 1))
		}
		var ch mat.Cholesky
		if !ch.Factorize(v) {
			t.Fatal("not positive definite")
		}
		var x mat.VecDense
		if err := ch.SolveVecTo(&x, r); err != nil {
			t.Fatal(err)
		}
		want := -0.5*float64(m)*math.Log(2*math.Pi) - 0.5*ch.LogDet() - 0.5*mat.Dot(r, &x)
		if math.Abs(got[j]-want) > 1e-10*math.Abs(want) {
			t.Errorf("level %s: %.15g, dense %.15g", g.Levels()[j], got[j], want)
		}
	}
}

// TestHeldOutWeights: held-out rows of seen levels with their offsets and
// weights have the training rows' log-likelihood.
func TestHeldOutWeights(t *testing.T) {
	d := weightedDesign(t)
	pd := weightedDraw(d)
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "formula", "sleep_w.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := model.ReadFrame(strings.NewReader(string(raw)), "sleep_w.csv", model.FrameOptions{Factors: []string{"Subject"}})
	if err != nil {
		t.Fatal(err)
	}
	nd, err := d.NewData(fr)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHeldOut(d, nd, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, want := make([]float64, nd.N), make([]float64, d.N)
	if err := h.LogLik(pd, make([]float64, nd.N), got); err != nil {
		t.Fatal(err)
	}
	if err := GaussianLogLik(d, pd, make([]float64, d.N), want); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-10*math.Abs(want[i]) {
			t.Fatalf("row %d: held out %.15g, training %.15g", i, got[i], want[i])
		}
	}
}

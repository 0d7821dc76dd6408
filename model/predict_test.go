package model

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sleepSplit builds a design on the sleepstudy subjects not in held, and
// the new data of all 180 rows.
func sleepSplit(t *testing.T, held map[string]bool) (*Design, *NewData) {
	t.Helper()
	raw, err := os.ReadFile("../testdata/sleepstudy.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	train := []string{lines[0]}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if !held[strings.Trim(f[2], `"`)] {
			train = append(train, l)
		}
	}
	frTrain, err := ReadFrame(strings.NewReader(strings.Join(train, "\n")), "train.csv", FrameOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frAll, err := ReadFrame(strings.NewReader(string(raw)), "all.csv", FrameOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFormula("Reaction ~ Days + (Days | Subject)")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Build(f, frTrain, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nd, err := d.NewData(frAll)
	if err != nil {
		t.Fatal(err)
	}
	return d, nd
}

func testDraw(d *Design, rng *rand.Rand) *ParamDraw {
	pd := &ParamDraw{Beta: []float64{250 + rng.NormFloat64(), 10 + rng.NormFloat64()}, Sigma: 25}
	for _, term := range d.Terms {
		b := make([]float64, len(term.Levels)*term.K)
		for i := range b {
			b[i] = 20 * rng.NormFloat64()
		}
		pd.B = append(pd.B, b)
		pd.Cov = append(pd.Cov, []float64{600, 10, 10, 35})
	}
	return pd
}

func TestPredictPopulationAndSeenLevels(t *testing.T) {
	d, nd := sleepSplit(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, pop := range []bool{true, false} {
		p, err := NewPredictor(d, nd, PredictOptions{Population: pop})
		if err != nil {
			t.Fatal(err)
		}
		ep, pr := make([]float64, nd.N), make([]float64, nd.N)
		for range 5 {
			pd := testDraw(d, rng)
			if err := p.Draw(pd, rng, ep, pr); err != nil {
				t.Fatal(err)
			}
			term := d.Terms[0]
			for i := range d.N {
				want := d.X.At(i, 0)*pd.Beta[0] + d.X.At(i, 1)*pd.Beta[1]
				if !pop {
					j := int(term.Refs[i])
					want += term.Z[i]*pd.B[0][2*j] + term.Z[d.N+i]*pd.B[0][2*j+1]
				}
				if math.Abs(ep[i]-want) > 1e-12*math.Abs(want) {
					t.Fatalf("pop=%v row %d: epred %v, want %v", pop, i, ep[i], want)
				}
			}
		}
	}
}

func TestPredictNewLevels(t *testing.T) {
	held := map[string]bool{"308": true, "372": true}
	d, nd := sleepSplit(t, held)
	if got := nd.Terms[0].NewLevels; len(got) != 2 || got[0] != "308" || got[1] != "372" {
		t.Fatalf("new levels = %v", got)
	}
	if _, err := NewPredictor(d, nd, PredictOptions{RefuseNewLevels: true}); err == nil ||
		!strings.Contains(err.Error(), `"Subject"`) || !strings.Contains(err.Error(), "308, 372") {
		t.Fatalf("refuse new levels: err = %v", err)
	}
	p, err := NewPredictor(d, nd, PredictOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	pd := testDraw(d, rng)
	cov := pd.Cov[0]
	const S = 20000
	ep, pr := make([]float64, nd.N), make([]float64, nd.N)
	// Rows 0..9 are subject 308 at days 0..9: epred − xβ = z·b_new, with
	// variance zᵀΣz, the same b_new for all ten rows.
	var sum, sumsq [10]float64
	for range S {
		if err := p.Draw(pd, rng, ep, pr); err != nil {
			t.Fatal(err)
		}
		u0 := ep[0] - pd.Beta[0]
		for day := range 10 {
			dev := ep[day] - pd.Beta[0] - float64(day)*pd.Beta[1]
			// Shared effect: the deviation is linear in the day.
			slope := ep[1] - pd.Beta[0] - pd.Beta[1] - u0
			if want := u0 + float64(day)*slope; math.Abs(dev-want) > 1e-9 {
				t.Fatalf("rows of one new subject do not share effects: day %d dev %v want %v", day, dev, want)
			}
			sum[day] += dev
			sumsq[day] += dev * dev
		}
	}
	for day := range 10 {
		x := float64(day)
		v := cov[0] + 2*x*cov[1] + x*x*cov[3]
		mean := sum[day] / S
		variance := sumsq[day]/S - mean*mean
		if math.Abs(mean) > 4*math.Sqrt(v/S) {
			t.Errorf("day %d: mean deviation %v, want 0 ± %v", day, mean, 4*math.Sqrt(v/S))
		}
		// The SE of a sample variance of normals is v·√(2/S).
		if math.Abs(variance-v) > 4*v*math.Sqrt(2.0/S) {
			t.Errorf("day %d: variance %v, want %v", day, variance, v)
		}
	}
}

func TestCholeskyPSD(t *testing.T) {
	l := make([]float64, 4)
	if err := CholeskyPSD([]float64{4, 2, 2, 1}, 2, l); err != nil {
		t.Fatal(err)
	}
	// Correlation 1: the second column collapses to zero.
	if l[0] != 2 || l[2] != 1 || l[3] != 0 {
		t.Errorf("singular factor = %v", l)
	}
	if err := CholeskyPSD([]float64{1, 2, 2, 1}, 2, l); err == nil {
		t.Error("indefinite matrix accepted")
	}
}

// TestPredictOffsetWeights: the offset of a new row adds to epred, and
// its predictive noise has sd σ/√w (the same normal deviates as without
// weights, scaled).
func TestPredictOffsetWeights(t *testing.T) {
	d := loadDesignOpt(t, "formula/cbpp.csv", "log1p(incidence) ~ period + offset(-log(size)) + (1 | herd)",
		BuildOptions{Weights: "size", Offset: "logsize"}, "herd", "period")
	fr := readFrameFile(t, filepath.Join("..", "testdata", "formula", "cbpp.csv"), "herd", "period")
	nd, err := d.NewData(fr)
	if err != nil {
		t.Fatal(err)
	}
	if nd.Offset == nil || nd.Weights == nil {
		t.Fatal("new data without offset or weights")
	}
	for i := range nd.N {
		if math.Abs(nd.Offset[i]-d.Offset[i]) > 1e-12 || nd.Weights[i] != d.Weights[i] {
			t.Fatalf("row %d: offset %g weight %g, training %g %g", i, nd.Offset[i], nd.Weights[i], d.Offset[i], d.Weights[i])
		}
		if math.Abs(d.Offset[i]) > 1e-12 { // -log(size) + logsize
			t.Fatalf("row %d: offset %g, want 0", i, d.Offset[i])
		}
	}
	for i := range nd.N {
		nd.Offset[i] = float64(i)
	}
	pd := &ParamDraw{Beta: make([]float64, len(d.XNames)), Sigma: 2}
	pr, err := NewPredictor(d, nd, PredictOptions{Population: true})
	if err != nil {
		t.Fatal(err)
	}
	ep, pp := make([]float64, nd.N), make([]float64, nd.N)
	if err := pr.Draw(pd, rand.New(rand.NewPCG(1, 2)), ep, pp); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range nd.N {
		if ep[i] != float64(i) {
			t.Errorf("row %d: epred %g, want the offset %d", i, ep[i], i)
		}
		want := float64(i) + 2/math.Sqrt(nd.Weights[i])*rng.NormFloat64()
		if math.Abs(pp[i]-want) > 1e-12 {
			t.Errorf("row %d: pred %g, want %g", i, pp[i], want)
		}
	}
}

// TestSummaryPearsonResiduals: with prior weights the summary's scaled
// residuals are lme4's Pearson residuals √w·(y − fitted)/σ; R:
//
//	m <- lmer(I(incidence/size) ~ period + (1 | herd), cbpp, weights = size)
//	quantile(resid(m, type = "pearson", scaled = TRUE))
//	# -2.3091619 -0.5436545 -0.1180365  0.2966600  2.7701052
func TestSummaryPearsonResiduals(t *testing.T) {
	d := loadDesignOpt(t, "formula/cbpp.csv", "I(incidence/size) ~ period + (1 | herd)", BuildOptions{Weights: "size"}, "herd", "period")
	fit, err := Fit(d, FitOptions{REML: true})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := fit.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	if want := "-2.3092  -0.5437  -0.1180  0.2967  2.7701"; !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks lme4's scaled residuals %q:\n%s", want, b.String())
	}
}

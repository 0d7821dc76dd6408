package model

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// lme4Ref is one file of testdata/lme4.
type lme4Ref struct {
	Data      string          `json:"data"`
	Formula   string          `json:"formula"`
	Weights   string          `json:"weights"`
	XNames    []string        `json:"xnames"`
	Offset    string          `json:"offset"`
	REML      bool            `json:"reml"`
	NObs      int             `json:"nobs"`
	Objective float64         `json:"objective"`
	LogLik    float64         `json:"logLik"`
	AIC       float64         `json:"AIC"`
	BIC       float64         `json:"BIC"`
	Sigma     float64         `json:"sigma"`
	Theta     json.RawMessage `json:"theta"`
	Singular  bool            `json:"singular"`
	Fixef     map[string]float64
	FixefSE   map[string]float64 `json:"fixef_se"`
	VarCorr   []struct {
		Group string          `json:"group"`
		Var1  json.RawMessage `json:"var1"`
		Var2  json.RawMessage `json:"var2"`
		Vcov  float64         `json:"vcov"`
		SDCor float64         `json:"sdcor"`
	} `json:"varcorr"`
	Ranef  map[string]refEffects `json:"ranef"`
	Coef   map[string]refEffects `json:"coef"`
	Fitted []float64             `json:"fitted"`
}

type refEffects struct {
	Levels []string             `json:"levels"`
	Values map[string][]float64 `json:"values"`
}

// rawName decodes a var1/var2 cell: a string, or null/{} for none.
func rawName(r json.RawMessage) string {
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return ""
}

// factorsFor lists the columns read as factors for each data file.
var factorsFor = map[string][]string{
	"insteval.csv": {"s", "d", "dept", "service", "studage", "lectage"},
}

func readRef(t testing.TB, name string) *lme4Ref {
	t.Helper()
	return readRefIn(t, "lme4", name)
}

// readRefIn reads reference file name of directory testdata/dir.
func readRefIn(t testing.TB, dir, name string) *lme4Ref {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var r lme4Ref
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &r
}

// checkAgainstLme4 fits the model of reference file name and compares
// every reported quantity with lme4's, at the tolerances of the brief.
func checkAgainstLme4(t *testing.T, name string) {
	checkAgainstLme4In(t, "lme4", name, factorsFor[readRef(t, name).Data])
}

// checkAgainstLme4In is checkAgainstLme4 for reference file name in
// testdata/dir, whose data file (in the same directory) is read with the
// given factor columns.
func checkAgainstLme4In(t *testing.T, dir, name string, factors []string) {
	checkAgainstLme4Opt(t, dir, name, factors, FitOptions{})
}

// checkAgainstLme4Opt is checkAgainstLme4In with fit options (REML is
// taken from the reference).
func checkAgainstLme4Opt(t *testing.T, dir, name string, factors []string, opt FitOptions) {
	ref := readRefIn(t, dir, name)
	data := ref.Data
	if dir != "lme4" {
		data = filepath.Join(dir, data)
	}
	d := loadDesignOpt(t, data, ref.Formula, BuildOptions{Weights: ref.Weights, Offset: ref.Offset, DropRankDeficient: true}, factors...)
	opt.REML = ref.REML
	if ref.XNames != nil && !slices.Equal(d.XNames, ref.XNames) {
		t.Errorf("fixed-effects columns %q, lme4 %q", d.XNames, ref.XNames)
	}
	fit, err := Fit(d, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: objective %.10g (lme4 %.10g), %d evaluations", name, fit.Objective, ref.Objective, fit.Evals)
	if fit.NObs != ref.NObs {
		t.Errorf("nobs %d, lme4 %d", fit.NObs, ref.NObs)
	}
	if d := math.Abs(fit.Objective - ref.Objective); d > 1e-4 && d > 1e-6*math.Abs(ref.Objective) {
		t.Errorf("objective %.10g, lme4 %.10g", fit.Objective, ref.Objective)
	}
	// Our optimum must not be worse than lme4's by more than rounding.
	for _, c := range []struct {
		what      string
		got, want float64
	}{{"logLik", fit.LogLik, ref.LogLik}, {"AIC", fit.AIC, ref.AIC}, {"BIC", fit.BIC, ref.BIC}} {
		if d := math.Abs(c.got - c.want); d > 1e-4 && d > 1e-6*math.Abs(c.want) {
			t.Errorf("%s %.10g, lme4 %.10g", c.what, c.got, c.want)
		}
	}
	if math.Abs(fit.Sigma-ref.Sigma) > 1e-4*ref.Sigma {
		t.Errorf("sigma %.8g, lme4 %.8g", fit.Sigma, ref.Sigma)
	}
	if fit.Singular != ref.Singular {
		t.Errorf("singular %v, lme4 %v", fit.Singular, ref.Singular)
	}
	var theta []float64
	if json.Unmarshal(ref.Theta, &theta) != nil {
		var one float64
		if err := json.Unmarshal(ref.Theta, &one); err != nil {
			t.Fatal(err)
		}
		theta = []float64{one}
	}
	if len(theta) != len(fit.Theta) {
		t.Fatalf("θ has %d elements, lme4 %d", len(fit.Theta), len(theta))
	}
	for i := range theta {
		// θ is a ratio SD/σ: 1e-3 relative on SDs and 1e-4 on σ.
		if math.Abs(fit.Theta[i]-theta[i]) > 2e-3*math.Max(math.Abs(theta[i]), 0.05) {
			t.Errorf("θ[%d] = %.6g, lme4 %.6g", i, fit.Theta[i], theta[i])
		}
	}
	if len(fit.Fixef.Names) != len(ref.Fixef) {
		t.Errorf("fixef names %v, lme4 %v", fit.Fixef.Names, ref.Fixef)
	}
	for name, want := range ref.Fixef {
		got, ok := fit.Fixef.Get(name)
		se := ref.FixefSE[name]
		if !ok {
			t.Errorf("fixef %q missing", name)
			continue
		}
		if math.Abs(got-want) > 1e-4*se {
			t.Errorf("fixef %s = %.8g, lme4 %.8g (SE %.4g)", name, got, want, se)
		}
		gse, _ := fit.FixefSE.Get(name)
		if math.Abs(gse-se) > 1e-3*se {
			t.Errorf("SE %s = %.8g, lme4 %.8g", name, gse, se)
		}
	}
	if len(fit.VarCorr) != len(ref.VarCorr) {
		t.Fatalf("varcorr has %d rows, lme4 %d", len(fit.VarCorr), len(ref.VarCorr))
	}
	for i, rv := range ref.VarCorr {
		g := fit.VarCorr[i]
		if g.Group != rv.Group || g.Var1 != rawName(rv.Var1) || g.Var2 != rawName(rv.Var2) {
			t.Errorf("varcorr row %d: %s/%s/%s, lme4 %s/%s/%s", i, g.Group, g.Var1, g.Var2, rv.Group, rawName(rv.Var1), rawName(rv.Var2))
			continue
		}
		if g.Var2 == "" {
			if math.Abs(g.SDCor-rv.SDCor) > 1e-3*rv.SDCor+1e-8 {
				t.Errorf("SD %s %s = %.6g, lme4 %.6g", g.Group, g.Var1, g.SDCor, rv.SDCor)
			}
		} else if math.Abs(g.SDCor-rv.SDCor) > 1e-3 {
			t.Errorf("corr %s %s:%s = %.6g, lme4 %.6g", g.Group, g.Var1, g.Var2, g.SDCor, rv.SDCor)
		}
	}
	if ref.Fitted != nil {
		if len(ref.Fitted) != len(fit.Fitted) {
			t.Fatalf("%d fitted values, lme4 %d", len(fit.Fitted), len(ref.Fitted))
		}
		for i := range ref.Fitted {
			if math.Abs(fit.Fitted[i]-ref.Fitted[i]) > 1e-3*ref.Sigma {
				t.Fatalf("fitted[%d] = %.8g, lme4 %.8g", i, fit.Fitted[i], ref.Fitted[i])
			}
		}
	}
	// ranef and coef: the conditional modes have the scale of the
	// random-effect SDs; compare within 1e-3 of σ, as the fitted values.
	checkEffects(t, "ranef", fit.Ranef, ref.Ranef, 1e-3*ref.Sigma)
	checkEffects(t, "coef", fit.Coef, ref.Coef, 1e-3*ref.Sigma)
	// JSON keys are those of the reference file.
	js, err := json.Marshal(fit)
	if err != nil {
		t.Fatal(err)
	}
	var ours, theirs map[string]json.RawMessage
	if err := json.Unmarshal(js, &ours); err != nil {
		t.Fatal(err)
	}
	rb, _ := os.ReadFile(filepath.Join("..", "testdata", dir, name))
	_ = json.Unmarshal(rb, &theirs)
	for k := range theirs {
		switch k {
		case "name", "data", "lme4_seconds", "lme4_version", "optimizer", "weights", "offset", "xnames":
			continue
		}
		if _, ok := ours[k]; !ok {
			t.Errorf("JSON lacks key %q", k)
		}
	}
	for k := range ours {
		if _, ok := theirs[k]; !ok && (k != "ranef" && k != "coef" && k != "fitted" || ref.Fitted != nil) {
			t.Errorf("JSON has extra key %q", k)
		}
	}
	// Fixed effects keep lme4's column order in the JSON.
	fe := string(ours["fixef"])
	if len(fit.Fixef.Names) > 1 && strings.Index(fe, `"`+fit.Fixef.Names[0]+`"`) > strings.Index(fe, `"`+fit.Fixef.Names[1]+`"`) {
		t.Errorf("fixef JSON out of order: %s", fe)
	}
	var buf bytes.Buffer
	if err := fit.WriteSummary(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Random effects:", "Fixed effects:", "Number of obs: "} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, buf.String())
		}
	}
}

func checkEffects(t *testing.T, what string, got GroupedEffects, want map[string]refEffects, tol float64) {
	t.Helper()
	if want == nil {
		return
	}
	if len(got) != len(want) {
		t.Errorf("%s has %d groups, lme4 %d", what, len(got), len(want))
	}
	for _, g := range got {
		w, ok := want[g.Group]
		if !ok {
			t.Errorf("%s group %q not in lme4's", what, g.Group)
			continue
		}
		if strings.Join(g.Levels, ",") != strings.Join(w.Levels, ",") {
			t.Errorf("%s %s levels %v, lme4 %v", what, g.Group, g.Levels, w.Levels)
			continue
		}
		if len(g.Names) != len(w.Values) {
			t.Errorf("%s %s effects %v, lme4 has %d", what, g.Group, g.Names, len(w.Values))
		}
		for j, n := range g.Names {
			wv, ok := w.Values[n]
			if !ok {
				t.Errorf("%s %s effect %q not in lme4's", what, g.Group, n)
				continue
			}
			for l := range wv {
				if math.Abs(g.Values[j][l]-wv[l]) > tol {
					t.Errorf("%s %s %s level %s = %.8g, lme4 %.8g", what, g.Group, n, g.Levels[l], g.Values[j][l], wv[l])
					break
				}
			}
		}
	}
}

func TestFitSleepstudyML(t *testing.T)          { checkAgainstLme4(t, "sleepstudy_ml.json") }
func TestFitSleepstudyREML(t *testing.T)        { checkAgainstLme4(t, "sleepstudy_reml.json") }
func TestFitSleepstudyUncorrML(t *testing.T)    { checkAgainstLme4(t, "sleepstudy_uncorr_ml.json") }
func TestFitSleepstudyUncorrREML(t *testing.T)  { checkAgainstLme4(t, "sleepstudy_uncorr_reml.json") }
func TestFitSleepstudyInterceptML(t *testing.T) { checkAgainstLme4(t, "sleepstudy_intercept_ml.json") }
func TestFitSleepstudyInterceptREML(t *testing.T) {
	checkAgainstLme4(t, "sleepstudy_intercept_reml.json")
}
func TestFitPolitenessML(t *testing.T)   { checkAgainstLme4(t, "politeness_ml.json") }
func TestFitPolitenessREML(t *testing.T) { checkAgainstLme4(t, "politeness_reml.json") }
func TestFitPenicillinML(t *testing.T)   { checkAgainstLme4(t, "penicillin_ml.json") }
func TestFitPenicillinREML(t *testing.T) { checkAgainstLme4(t, "penicillin_reml.json") }

// TestBobyqaQuadraticBound minimises a convex quadratic whose minimum is
// outside the box: the answer is the solution of the reduced system on
// the free coordinates with the bound coordinate fixed at its bound.
func TestBobyqaQuadraticBound(t *testing.T) {
	a := [][]float64{{4, 1, 0.5}, {1, 3, 0.2}, {0.5, 0.2, 2}}
	c := []float64{1, -0.5, 2}
	f := func(x []float64) float64 {
		var v float64
		for i := range 3 {
			for j := range 3 {
				v += (x[i] - c[i]) * a[i][j] * (x[j] - c[j])
			}
		}
		return v
	}
	lower := []float64{0, 0, math.Inf(-1)}
	// x1 = 0 at its bound; free (x0, x2) solve
	// A_ff (x_f − c_f) = −A_f1 (0 − c1).
	rhs0, rhs2 := a[0][1]*c[1], a[2][1]*c[1]
	det := a[0][0]*a[2][2] - a[0][2]*a[2][0]
	d0 := (rhs0*a[2][2] - a[0][2]*rhs2) / det
	d2 := (a[0][0]*rhs2 - a[2][0]*rhs0) / det
	want := []float64{c[0] + d0, 0, c[2] + d2}
	// npt = 2n+1 (Fit's choice) and the full quadratic (n+1)(n+2)/2 = 10.
	for _, npt := range []int{0, 10} {
		r := bobyqa(f, []float64{1, 1, 1}, lower, nil, 0.1, 1e-8, 2000, npt)
		if !r.conv {
			t.Errorf("npt %d: not converged after %d evaluations", npt, r.evals)
		}
		for i := range want {
			if math.Abs(r.x[i]-want[i]) > 1e-6 {
				t.Errorf("npt %d: x = %v, want %v", npt, r.x, want)
				break
			}
		}
		if fw := f(want); r.f > fw+1e-10 {
			t.Errorf("npt %d: f = %.12g, optimum %.12g", npt, r.f, fw)
		}
		// A quadratic is modelled exactly once the Hessian is learnt.
		if r.evals > 60 {
			t.Errorf("npt %d: %d evaluations for a 3-dimensional quadratic", npt, r.evals)
		}
	}
}

// TestBobyqaFlatAtRounding checks that the search stops when the
// function no longer changes in floating point near its minimum (a
// GLMM's deviance of a few hundred whose last steps change it by less
// than one unit in the last place): the model's predicted decrease
// 0.1·vquad then vanishes against fopt, and an unchanged value must not
// count as enough decrease. Before the fix cbpp's stage two ran to
// maxEval (10,000 evaluations for 71 needed).
func TestBobyqaFlatAtRounding(t *testing.T) {
	c := []float64{0.3, -0.2, 0.1, 0.05}
	f := func(x []float64) float64 {
		var v float64
		for i := range x {
			v += (x[i] - c[i]) * (x[i] - c[i])
		}
		return 184 + 1e-6*v
	}
	lower := []float64{0, math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	r := bobyqa(f, []float64{1, 0, 0, 0}, lower, nil, 0.05, 1e-7, 10000, 0)
	if !r.conv || r.evals > 500 {
		t.Fatalf("converged %v after %d evaluations (a 4-dimensional quadratic needs < 500)", r.conv, r.evals)
	}
	for i := range c {
		if math.Abs(r.x[i]-c[i]) > 1e-3 {
			t.Errorf("x = %v, want %v", r.x, c)
			break
		}
	}
}

// TestBobyqaRosenbrock checks the unbounded and bounded minima of
// Rosenbrock's function: (1, 1), and (1.5, 2.25) when x0 ≥ 1.5 (there
// f = 0.25 and ∂f/∂x0 = 2(x0−1) > 0 points into the bound).
func TestBobyqaRosenbrock(t *testing.T) {
	f := func(x []float64) float64 {
		return 100*(x[1]-x[0]*x[0])*(x[1]-x[0]*x[0]) + (1-x[0])*(1-x[0])
	}
	inf := math.Inf(-1)
	for _, c := range []struct {
		lower, want []float64
		fmin        float64
	}{
		{[]float64{inf, inf}, []float64{1, 1}, 0},
		{[]float64{1.5, inf}, []float64{1.5, 2.25}, 0.25},
	} {
		r := bobyqa(f, []float64{-1.2, 1}, c.lower, nil, 0.5, 1e-8, 5000, 0)
		if math.Abs(r.x[0]-c.want[0]) > 1e-5 || math.Abs(r.x[1]-c.want[1]) > 1e-5 {
			t.Errorf("lower %v: x = %v (%d evaluations), want %v", c.lower, r.x, r.evals, c.want)
		}
		if math.Abs(r.f-c.fmin) > 1e-9 {
			t.Errorf("lower %v: f = %.12g, want %.12g", c.lower, r.f, c.fmin)
		}
		t.Logf("lower %v: %d evaluations", c.lower, r.evals)
	}
}

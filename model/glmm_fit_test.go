package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// glmmRef is a testdata/glmm reference (testdata/glmm/glmm_refs.R).
type glmmRef struct {
	Formula   string             `json:"formula"`
	Family    string             `json:"family"`
	NAGQ      int                `json:"nAGQ"`
	NObs      int                `json:"nobs"`
	Objective float64            `json:"objective"`
	Deviance  float64            `json:"deviance"`
	AIC       float64            `json:"AIC"`
	BIC       float64            `json:"BIC"`
	DFResid   int                `json:"df_resid"`
	Theta     []float64          `json:"theta"`
	Fixef     map[string]float64 `json:"fixef"`
	FixefSE   map[string]float64 `json:"fixef_se"`
	FixefSERX map[string]float64 `json:"fixef_se_rx"`
	NBTheta   float64            `json:"nb_theta"`
	Warnings  stringList         `json:"converged_warnings"`
	Fitted    []float64          `json:"fitted"`
	VarCorr   []struct {
		Group string  `json:"group"`
		Var1  string  `json:"var1"`
		Var2  *string `json:"var2"`
		SDCor float64 `json:"sdcor"`
	} `json:"varcorr"`
	Ranef map[string]struct {
		Levels []string             `json:"levels"`
		Values map[string][]float64 `json:"values"`
	} `json:"ranef"`
}

// stringList reads a JSON string or array of strings (jsonlite's
// auto_unbox writes a single warning as a string).
type stringList []string

// UnmarshalJSON accepts "x" or ["x", ...].
func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// glmmCase is one reference model: its data file and factor columns.
type glmmCase struct {
	name, file string
	factors    []string
}

var glmmCases = []glmmCase{
	{"cbpp", "cbpp.csv", []string{"herd", "period"}},
	{"cbpp_agq10", "cbpp.csv", []string{"herd", "period"}},
	{"verbagg", "verbagg.csv", []string{"id", "item"}},
	{"verbagg_slope", "verbagg.csv", []string{"id", "item"}},
	{"grouseticks", "grouseticks.csv", []string{"YEAR", "BROOD", "LOCATION"}},
	{"grouseticks_nb", "grouseticks.csv", []string{"YEAR", "BROOD", "LOCATION"}},
	// MASS's Insurance with offset(log(Holders)): the offset's exposure.
	{"insurance", "insurance.csv", []string{"District"}},
	{"insurance_agq10", "insurance.csv", []string{"District"}},
}

// readGLMMRef reads testdata/glmm/NAME.json.
func readGLMMRef(t *testing.T, name string) *glmmRef {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "glmm", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref glmmRef
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	return &ref
}

func loadGLMMCase(t *testing.T, c glmmCase) (*Design, *glmmRef) {
	t.Helper()
	ref := readGLMMRef(t, c.name)
	fh, err := os.Open(filepath.Join("..", "testdata", "glmm", c.file))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	fr, err := ReadFrame(fh, c.file, FrameOptions{Factors: c.factors})
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFormula(ref.Formula)
	if err != nil {
		t.Fatal(err)
	}
	fam, err := ParseFamily(ref.Family)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Build(f, fr, BuildOptions{Family: fam})
	if err != nil {
		t.Fatal(err)
	}
	return d, ref
}

// glmmTol holds the tolerances of one comparison; a zero skips the check.
type glmmTol struct {
	dev   float64 // −2 logLik, AIC and BIC, relative
	fix   float64 // each fixed effect, in units of its SE
	sd    float64 // each random-effect SD, relative
	se    float64 // Hessian-based SEs (vcov(fit)), relative
	seRX  float64 // R_X-based SEs, relative
	shape float64 // negative binomial shape, relative
	// fitted is the relative tolerance of the fitted means (and of
	// deviance(), at 1e-4).
	fitted float64
}

// checkGLMMFit compares a fit with glmer's reference.
func checkGLMMFit(t *testing.T, fit *GLMMFitResult, ref *glmmRef, tol glmmTol) {
	t.Helper()
	tolDev, tolFix, tolSD := tol.dev, tol.fix, tol.sd
	if fit.NObs != ref.NObs {
		t.Errorf("nobs %d, want %d", fit.NObs, ref.NObs)
	}
	if rel := math.Abs(fit.Objective-ref.Objective) / math.Abs(ref.Objective); rel > tolDev {
		t.Errorf("objective %.8f, glmer %.8f (rel %.2g)", fit.Objective, ref.Objective, rel)
	}
	if rel := math.Abs(fit.Deviance-ref.Deviance) / math.Abs(ref.Deviance); tol.fitted > 0 && rel > 1e-4 {
		t.Errorf("deviance() %.8f, glmer %.8f (rel %.2g)", fit.Deviance, ref.Deviance, rel)
	}
	if fit.DFResid != ref.DFResid {
		t.Errorf("df.resid %d, want %d", fit.DFResid, ref.DFResid)
	}
	var worstFix, worstSD float64 // largest deviations, logged
	defer func() {
		t.Logf("objective rel %.2g, largest fixef deviation %.2g SE, largest SD deviation %.2g rel",
			math.Abs(fit.Objective-ref.Objective)/math.Abs(ref.Objective), worstFix, worstSD)
	}()
	for name, want := range ref.Fixef {
		got, ok := fit.Fixef.Get(name)
		se := ref.FixefSE[name]
		if !ok {
			t.Errorf("fixef %s missing", name)
			continue
		}
		worstFix = math.Max(worstFix, math.Abs(got-want)/se)
		if tolFix > 0 && math.Abs(got-want) > tolFix*se {
			t.Errorf("fixef %s = %.7f, glmer %.7f (%.2g SE)", name, got, want, math.Abs(got-want)/se)
		}
		gse, _ := fit.FixefSE.Get(name)
		if rel := math.Abs(gse-se) / se; tol.se > 0 && rel > tol.se {
			t.Errorf("SE %s = %.7f, glmer %.7f (rel %.2g)", name, gse, se, rel)
		}
		grx, _ := fit.FixefSERX.Get(name)
		if rel := math.Abs(grx-ref.FixefSERX[name]) / ref.FixefSERX[name]; tol.seRX > 0 && rel > tol.seRX {
			t.Errorf("SE(R_X) %s = %.7f, glmer %.7f (rel %.2g)", name, grx, ref.FixefSERX[name], rel)
		}
	}
	for _, v := range ref.VarCorr {
		if v.Var2 != nil {
			continue
		}
		found := false
		for _, g := range fit.VarCorr {
			if g.Group == v.Group && g.Var1 == v.Var1 && g.Var2 == "" {
				found = true
				worstSD = math.Max(worstSD, math.Abs(g.SDCor-v.SDCor)/math.Max(v.SDCor, 1e-3))
				if rel := math.Abs(g.SDCor-v.SDCor) / math.Max(v.SDCor, 1e-3); tolSD > 0 && rel > tolSD {
					t.Errorf("SD %s %s = %.7f, glmer %.7f (rel %.2g)", v.Group, v.Var1, g.SDCor, v.SDCor, rel)
				}
			}
		}
		if !found {
			t.Errorf("SD %s %s missing", v.Group, v.Var1)
		}
	}
	if ref.NBTheta > 0 {
		if fit.Shape == nil {
			t.Errorf("no shape")
		} else if rel := math.Abs(*fit.Shape-ref.NBTheta) / ref.NBTheta; tol.shape > 0 && rel > tol.shape {
			t.Errorf("shape %.6f, glmer.nb %.6f (rel %.2g)", *fit.Shape, ref.NBTheta, rel)
		}
	}
	if len(fit.Fitted) == len(ref.Fitted) {
		var worst float64
		for i := range ref.Fitted {
			worst = math.Max(worst, math.Abs(fit.Fitted[i]-ref.Fitted[i])/math.Max(ref.Fitted[i], 1e-3))
		}
		if tol.fitted > 0 && worst > tol.fitted {
			t.Errorf("fitted: worst relative difference %.2g", worst)
		}
	}
	if rel := math.Abs(fit.AIC-ref.AIC) / ref.AIC; rel > tolDev {
		t.Errorf("AIC %.6f, glmer %.6f", fit.AIC, ref.AIC)
	}
	if rel := math.Abs(fit.BIC-ref.BIC) / ref.BIC; rel > tolDev {
		t.Errorf("BIC %.6f, glmer %.6f", fit.BIC, ref.BIC)
	}
}

// TestFitGLMMReferences compares FitGLMM with glmer (and glmer.nb) on
// lme4's cbpp, VerbAgg and grouseticks (testdata/glmm/glmm_refs.R).
//
// NAME_tight references are glmer with PIRLS converged (tolPwrss 1e-13)
// and tight Nelder–Mead tolerances: there the tolerances hold —
// −2 logLik to 1e-5 relative, fixed effects to 1e-3 SE, SDs and both kinds
// of SE to 1e-3 relative. (grouseticks with HEIGHT unscaled: glmer's tight
// fit still stops with max|grad| = 0.004, θ 2e-5 from ours and its
// deviance 6e-6 above ours; its Hessian SEs differ from ours by 1.4e-3, so
// they are compared at 2e-3.)
//
// The default references are glmer as users run it. Its PIRLS stops at
// tolPwrss = 1e-7, which biases its deviance function upwards (measured
// on VerbAgg: lme4's own devfun at tolPwrss 1e-13 gives 8151.39973007 at
// glmer's optimum, our value to 1e-11, against the 8151.40049023 glmer
// reports, and 8151.39971975 at ours), so its optimum moves by up to
// 1.4e-3 SE and its finite-difference Hessian is noisy (grouseticks: SE of
// the intercept 0.48 against 1.61 from R_X and from the tight fit). Against
// them: −2 logLik to 1e-5 relative, fixed effects to 2e-3 SE, SDs and the
// R_X-based SEs to 1e-3; the Hessian SEs are not compared. Where glmer
// warns that it failed to converge (grouseticks, grouseticks_nb,
// verbagg_slope), only −2 logLik is compared (1e-5), and ours must not be
// above glmer's: verbagg_slope's default fit, (1 + Gender | item), stops
// 3.4e-3 above the optimum with fixed effects up to 5.6e-3 SE away, while
// its tight fit agrees with ours to 2e-10 in −2 logLik and within the
// issue's tolerances everywhere.
func TestFitGLMMReferences(t *testing.T) {
	tight := glmmTol{dev: 1e-5, fix: 1e-3, sd: 1e-3, se: 1e-3, seRX: 1e-3, shape: 1e-3, fitted: 1e-3}
	deflt := glmmTol{dev: 1e-5, fix: 2e-3, sd: 1e-3, seRX: 1e-3, shape: 1e-3, fitted: 1e-3}
	fits := map[string]*GLMMFitResult{} // by data set: both variants fit the same model
	for _, c := range glmmCases {
		base := c.name
		variants := []string{"", "_tight"}
		if c.name == "grouseticks_nb" {
			variants = variants[:1] // glmer.nb cannot be run tight (glmm_refs.R)
		}
		for _, variant := range variants {
			c := c
			c.name += variant
			t.Run(c.name, func(t *testing.T) {
				if testing.Short() && c.name != "cbpp" && c.name != "cbpp_agq10_tight" && !strings.HasPrefix(base, "insurance") {
					t.Skip("short")
				}
				d, ref := loadGLMMCase(t, c)
				fit := fits[base]
				if fit == nil {
					var err error
					if fit, err = FitGLMM(d, GLMMOptions{NAGQ: ref.NAGQ}); err != nil {
						t.Fatal(err)
					}
					fits[base] = fit
				}
				t.Logf("%s: objective %.8f (glmer %.8f) theta %v (glmer %v) evals %d", c.name, fit.Objective, ref.Objective, fit.Theta, ref.Theta, fit.Evals)
				if !fit.Converged {
					t.Errorf("the optimiser stopped at its evaluation limit (%d evaluations)", fit.Evals)
				}
				tol := deflt
				if variant != "" {
					tol = tight
					if c.name == "grouseticks_tight" {
						tol.se = 2e-3
					}
				} else if slices.ContainsFunc(ref.Warnings, func(w string) bool { return strings.Contains(w, "failed to converge") }) {
					// glmer says it stopped short of its optimum: only its
					// deviance is compared, and ours must not be above it.
					tol = glmmTol{dev: 1e-5}
					if fit.Objective > ref.Objective+1e-8*ref.Objective {
						t.Errorf("objective %.8f above glmer's %.8f", fit.Objective, ref.Objective)
					}
				}
				checkGLMMFit(t, fit, ref, tol)
			})
		}
	}
}

// TestFitGLMMErrors: nAGQ > 1 needs a single scalar random effect, and
// FitGLMM refuses the Gaussian family.
func TestFitGLMMErrors(t *testing.T) {
	d, _ := loadGLMMCase(t, glmmCases[2]) // VerbAgg: two terms
	if _, err := FitGLMM(d, GLMMOptions{NAGQ: 5}); err == nil || !strings.Contains(err.Error(), "single scalar random-effect term") {
		t.Errorf("nAGQ = 5 with two terms: %v", err)
	}
	g := *d
	g.Family = Gaussian
	if _, err := FitGLMM(&g, GLMMOptions{}); err == nil {
		t.Error("FitGLMM accepted the Gaussian family")
	}
}

// TestGaussHermite checks the Golub–Welsch rule: weights sum to √π and
// the rule integrates x^{2m} e^{−x²} exactly (Γ(m + ½)) for 2m < 2k.
func TestGaussHermite(t *testing.T) {
	for _, k := range []int{1, 2, 5, 10, 25} {
		x, w := gaussHermite(k)
		for m := 0; 2*m < 2*k; m++ {
			var s float64
			for i := range x {
				s += w[i] * math.Pow(x[i], float64(2*m))
			}
			want := math.Gamma(float64(m) + 0.5)
			if math.Abs(s-want) > 1e-10*want {
				t.Errorf("k = %d: ∫x^%d e^{−x²} = %.15g, want %.15g", k, 2*m, s, want)
			}
		}
	}
}

// TestDigammaTrigamma checks ψ and ψ' at known values: ψ(1) = −γ,
// ψ(½) = −γ − 2 log 2, ψ'(1) = π²/6, ψ'(½) = π²/2, and the recurrences
// ψ(x+1) = ψ(x) + 1/x, ψ'(x+1) = ψ'(x) − 1/x² at x = 7.3.
func TestDigammaTrigamma(t *testing.T) {
	const gamma = 0.57721566490153286
	for _, c := range []struct{ got, want float64 }{
		{digamma(1), -gamma},
		{digamma(0.5), -gamma - 2*math.Ln2},
		{trigamma(1), math.Pi * math.Pi / 6},
		{trigamma(0.5), math.Pi * math.Pi / 2},
		{digamma(8.3), digamma(7.3) + 1/7.3},
		{trigamma(8.3), trigamma(7.3) - 1/(7.3*7.3)},
	} {
		if math.Abs(c.got-c.want) > 1e-12*math.Max(1, math.Abs(c.want)) {
			t.Errorf("got %.16g, want %.16g", c.got, c.want)
		}
	}
}

// TestFitGLMMOffsetShift is an exact identity of the offset: adding a
// constant c to every row's offset changes the likelihood only through
// β₀ + c, so the fit's intercept moves by exactly −c and nothing else
// changes (the deviance as a function of θ is the same function, so the
// optimiser takes the same path). Checked for the binomial (cbpp, no
// offset before), the Poisson with its own offset (insurance, Laplace
// and nAGQ = 10): −2 logLik to 1e-9 relative; θ to 1e-6 and every fixed
// effect to 1e-6 absolute (the same function, but rounding differs and
// BOBYQA stops at a trust radius of 1e-6 to 1e-7: measured 1e-8 and 1e-7). Ignoring the offset moves the intercept by c = 1.7.
func TestFitGLMMOffsetShift(t *testing.T) {
	const c = 1.7
	for _, k := range []struct {
		cs   glmmCase
		nagq int
	}{{glmmCases[0], 1}, {glmmCases[6], 1}, {glmmCases[6], 10}} {
		d, _ := loadGLMMCase(t, k.cs)
		shifted := *d
		shifted.Offset = make([]float64, d.N)
		for i := range shifted.Offset {
			shifted.Offset[i] = c
			if d.Offset != nil {
				shifted.Offset[i] += d.Offset[i]
			}
		}
		a, err := FitGLMM(d, GLMMOptions{NAGQ: k.nagq})
		if err != nil {
			t.Fatal(err)
		}
		b, err := FitGLMM(&shifted, GLMMOptions{NAGQ: k.nagq})
		if err != nil {
			t.Fatal(err)
		}
		if rel := math.Abs(a.Objective-b.Objective) / a.Objective; rel > 1e-9 {
			t.Errorf("%s nAGQ %d: objective %.12g with the offset + %g, %.12g without", k.cs.name, k.nagq, b.Objective, c, a.Objective)
		}
		for i := range a.Theta {
			if math.Abs(a.Theta[i]-b.Theta[i]) > 1e-6 {
				t.Errorf("%s nAGQ %d: theta %g, %g without the shift", k.cs.name, k.nagq, b.Theta[i], a.Theta[i])
			}
		}
		var worst float64
		for j, n := range a.Fixef.Names {
			want := a.Fixef.Values[j]
			if n == "(Intercept)" {
				want -= c
			}
			got := b.Fixef.Values[j]
			worst = math.Max(worst, math.Abs(got-want))
			if math.Abs(got-want) > 1e-6 {
				t.Errorf("%s nAGQ %d: %s = %.9f with the offset + %g, want %.9f", k.cs.name, k.nagq, n, got, c, want)
			}
		}
		t.Logf("%s nAGQ %d: objective %.10f, largest fixef deviation from the shift %.2g", k.cs.name, k.nagq, b.Objective, worst)
	}
}

package priors

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func sleepParams() ParamSet {
	return ParamSet{
		Fixed: []string{"Intercept", "Days"},
		Terms: []Term{{Group: "Subject", Effects: []string{"Intercept", "Days"}, Correlated: true}},
	}
}

func crossedParams() ParamSet {
	return ParamSet{
		Fixed: []string{"Intercept", "attitudepol", "genderM"},
		Terms: []Term{
			{Group: "subject", Effects: []string{"Intercept"}, Correlated: true},
			{Group: "scenario", Effects: []string{"Intercept"}, Correlated: true},
		},
	}
}

func entryMap(a *Assignment) map[string]Entry {
	m := map[string]Entry{}
	for _, e := range a.Entries() {
		m[e.Param] = e
	}
	return m
}

func TestBrmsName(t *testing.T) {
	cases := map[string]string{
		"(Intercept)": "Intercept", "Days": "Days", "recipeB:temp": "recipeB:temp",
		"I(x^2)": "IxE2", "log(x + 1)": "logxP1", "a-b": "aMb", "x*y": "xMUy", "a/b": "aDb", "x=1": "xEQ1",
	}
	for in, want := range cases {
		if got := BrmsName(in); got != want {
			t.Errorf("BrmsName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaults(t *testing.T) {
	// y = 0, 10, 20, 30, 40: median 20, |y−20| = 20,10,0,10,20 → median 10,
	// mad = 14.826 → 14.8.
	d := Defaults([]float64{40, 0, 30, 10, 20})
	if got := d.Intercept.String(); got != "student_t(3, 20, 14.8)" {
		t.Errorf("Intercept default %s", got)
	}
	if got := d.Sigma.String(); got != "student_t(3, 0, 14.8)" {
		t.Errorf("sigma default %s", got)
	}
	if d.SD.String() != "student_t(3, 0, 14.8)" || d.B.String() != "flat" || d.Cor.String() != "lkj(1)" {
		t.Errorf("defaults %v", d)
	}
	// Small spread: mad = 1.4826 → 1.5 < 2.5; median of even n is the mean
	// of the middle two: (1.25+1.35)/2 = 1.3.
	d = Defaults([]float64{1, 1.25, 1.35, 2, 3, 0.5, math.NaN()})
	if got := d.Intercept.String(); got != "student_t(3, 1.3, 2.5)" {
		t.Errorf("Intercept default %s", got)
	}
	if got := Defaults(nil).Intercept.String(); got != "student_t(3, 0, 2.5)" {
		t.Errorf("empty default %s", got)
	}
}

func TestRoundR1(t *testing.T) {
	// R 4.x: round(0.15, 1) = 0.1 (0.15 is stored below 0.15), round(0.25,
	// 1) = 0.2 (exact tie → even), round(0.35, 1) = 0.3, round(2.675, 1) =
	// 2.7, round(-1.25, 1) = -1.2.
	cases := map[float64]float64{0.15: 0.1, 0.25: 0.2, 0.35: 0.3, 2.675: 2.7, -1.25: -1.2, 288.65: 288.6, 14.826: 14.8}
	for x, want := range cases {
		if got := roundR1(x); got != want {
			t.Errorf("roundR1(%v) = %v, want %v", x, got, want)
		}
	}
}

func TestResolveDefaultsAndOverrides(t *testing.T) {
	def := Defaults([]float64{40, 0, 30, 10, 20})
	a, err := Resolve(nil, sleepParams(), def)
	if err != nil {
		t.Fatal(err)
	}
	want := "b_Intercept ~ student_t(3, 20, 14.8)  (default)\n" +
		"b_Days ~ flat  (default)\n" +
		"sigma ~ student_t(3, 0, 14.8)  (default)\n" +
		"sd_Subject__Intercept ~ student_t(3, 0, 14.8)  (default)\n" +
		"sd_Subject__Days ~ student_t(3, 0, 14.8)  (default)\n" +
		"cor_Subject ~ lkj(1)  (default)\n"
	if got := a.String(); got != want {
		t.Errorf("defaults:\n%s\nwant\n%s", got, want)
	}

	spec := map[string]string{
		"b":                "normal(0, 10)",
		"b_Days":           "normal(10, 5)",
		"Intercept":        "normal(250, 100)",
		"sigma":            "exponential(0.1)",
		"sd":               "cauchy(0, 5)",
		"sd_Subject__Days": "student_t(3, 0, 10)",
		"cor":              "lkj(2)",
	}
	a, err = Resolve(spec, sleepParams(), def)
	if err != nil {
		t.Fatal(err)
	}
	m := entryMap(a)
	checks := map[string][2]string{
		"b_Intercept":           {"normal(250, 100)", "Intercept"},
		"b_Days":                {"normal(10, 5)", "b_Days"},
		"sigma":                 {"exponential(0.1)", "sigma"},
		"sd_Subject__Intercept": {"cauchy(0, 5)", "sd"},
		"sd_Subject__Days":      {"student_t(3, 0, 10)", "sd_Subject__Days"},
		"cor_Subject":           {"lkj(2)", "cor"},
	}
	for p, w := range checks {
		if e := m[p]; e.Prior.String() != w[0] || e.Key != w[1] {
			t.Errorf("%s: got %v from %q, want %s from %q", p, e.Prior, e.Key, w[0], w[1])
		}
	}

	// Group level overrides class level; sd_Subject beats sd.
	a, err = Resolve(map[string]string{"sd": "cauchy(0, 5)", "sd_subject": "normal(0, 3)", "b": "normal(0, 1)"}, crossedParams(), def)
	if err != nil {
		t.Fatal(err)
	}
	m = entryMap(a)
	if m["sd_subject__Intercept"].Prior.String() != "normal(0, 3)" || m["sd_scenario__Intercept"].Prior.String() != "cauchy(0, 5)" {
		t.Errorf("group override: %v", a)
	}
	if m["b_attitudepol"].Key != "b" || m["b_genderM"].Key != "b" || m["b_Intercept"].Key != "" {
		t.Errorf("b applies to slopes only: %v", a)
	}
	if _, ok := m["cor_subject"]; ok {
		t.Errorf("one-effect term got a cor prior")
	}
}

func TestResolveCov(t *testing.T) {
	def := Defaults([]float64{1, 2, 3})
	a, err := Resolve(map[string]string{"cov_Subject": "inv_wishart(3, [[1, 0], [0, 1]])", "sd": "cauchy(0, 1)", "cor": "lkj(2)"}, sleepParams(), def)
	if err != nil {
		t.Fatal(err)
	}
	tp := a.Terms[0]
	if tp.Cov == nil || tp.SD != nil || tp.Cor != nil || tp.Cov.Param != "cov_Subject" {
		t.Fatalf("cov did not replace sd/cor: %+v", tp)
	}
	if _, ok := tp.Cov.Prior.(InvWishart); !ok {
		t.Fatalf("cov prior %T", tp.Cov.Prior)
	}
	_, err = Resolve(map[string]string{"cov": "inv_wishart(3, 1)", "sd_Subject__Days": "cauchy(0, 1)"}, sleepParams(), def)
	if err == nil || err.Error() != "sd_Subject__Days: conflicts with key cov, which sets the whole covariance of group Subject" {
		t.Errorf("conflict error %v", err)
	}
}

func TestResolveErrors(t *testing.T) {
	def := Defaults([]float64{1, 2, 3})
	cases := []struct {
		spec map[string]string
		key  string
		want string
	}{
		{map[string]string{"b_Dayz": "normal(0, 1)"}, "b_Dayz", `b_Dayz: no parameter or class "b_Dayz" in this model (did you mean "b_Days"?)`},
		{map[string]string{"sd_subject": "normal(0, 1)"}, "sd_subject", `sd_subject: no parameter or class "sd_subject" in this model (did you mean "sd_Subject"?)`},
		{map[string]string{"sd_Subject__Days": "lkj(2)"}, "sd_Subject__Days", `sd_Subject__Days: lkj cannot be used on class sd (it is a prior on class cor)`},
		{map[string]string{"sigma": "flat"}, "sigma", `sigma: flat cannot be used on class sigma (it is a prior on class b, Intercept)`},
		{map[string]string{"b": "lkj(1)"}, "b", `b: lkj cannot be used on class b (it is a prior on class cor)`},
		{map[string]string{"b": "nromal(0, 1)"}, "b", `b: unknown prior family "nromal" (did you mean "normal"?)`},
		{map[string]string{"cov_Subject": "inv_wishart(1, 1)"}, "cov_Subject", `cov_Subject: inv_wishart: nu must be greater than K−1 = 1 for a 2×2 covariance, got 1 (group Subject)`},
		{map[string]string{"cov_Subject": "inv_wishart(4, [[1]])"}, "cov_Subject", `cov_Subject: inv_wishart: S is 1×1 but the covariance is 2×2 (group Subject)`},
		{map[string]string{"Intercept": "normal(0, 1)", "b_Intercept": "normal(0, 2)"}, "b_Intercept", `b_Intercept: the intercept's prior is also set by key Intercept; give only one`},
	}
	for _, c := range cases {
		_, err := Resolve(c.spec, sleepParams(), def)
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Errorf("%v: error %v is not a KeyError", c.spec, err)
			continue
		}
		if ke.Key != c.key || err.Error() != c.want || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v:\n got %q (key %q)\nwant %q (key %q)", c.spec, err.Error(), ke.Key, c.want, c.key)
		}
	}
	// cor on a model whose terms have no correlation matrix.
	_, err := Resolve(map[string]string{"cor": "lkj(2)"}, crossedParams(), def)
	if err == nil || !strings.HasPrefix(err.Error(), `cor: no parameter or class "cor" in this model`) {
		t.Errorf("cor without a correlation: %v", err)
	}
	dup := ParamSet{Fixed: []string{"x", "x"}}
	if _, err := Resolve(nil, dup, def); err == nil {
		t.Errorf("duplicate names accepted")
	}
}

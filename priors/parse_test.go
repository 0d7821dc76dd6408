package priors

import (
	"strings"
	"testing"
)

func TestParseGood(t *testing.T) {
	cases := []struct{ in, want string }{
		{"flat", "flat"},
		{"  flat  ", "flat"},
		{"flat()", "flat"},
		{"normal(0, 10)", "normal(0, 10)"},
		{"normal(0,10)", "normal(0, 10)"},
		{" normal ( -1.5 , 2e3 ) ", "normal(-1.5, 2000)"},
		{"normal(+3, .5)", "normal(3, 0.5)"},
		{"normal(0, 1E-3)", "normal(0, 0.001)"},
		{"student_t(3, 0, 2.5)", "student_t(3, 0, 2.5)"},
		{"student_t(3, 288.7, 48.1)", "student_t(3, 288.7, 48.1)"},
		{"student_t(1.5, -2, 0.1)", "student_t(1.5, -2, 0.1)"},
		{"cauchy(0, 5)", "cauchy(0, 5)"},
		{"cauchy(1., 2.)", "cauchy(1, 2)"},
		{"laplace(0, 1)", "laplace(0, 1)"},
		{"laplace(-2, 0.25)", "laplace(-2, 0.25)"},
		{"horseshoe(1)", "horseshoe(1)"},
		{"horseshoe(0.01)", "horseshoe(0.01)"},
		{"exponential(1)", "exponential(1)"},
		{"exponential(0.02)", "exponential(0.02)"},
		{"inv_gamma(0.001, 0.001)", "inv_gamma(0.001, 0.001)"},
		{"inv_gamma(2, 3)", "inv_gamma(2, 3)"},
		{"lkj(1)", "lkj(1)"},
		{"lkj(2)", "lkj(2)"},
		{"lkj(0.5)", "lkj(0.5)"},
		{"inv_wishart(3, 1)", "inv_wishart(3, 1)"},
		{"inv_wishart(4, [[1,0],[0,1]])", "inv_wishart(4, [[1, 0], [0, 1]])"},
		{"inv_wishart(4, [[2, 0.5], [0.5, 1]])", "inv_wishart(4, [[2, 0.5], [0.5, 1]])"},
		{"inv_wishart( 1.5 , [ [ 3 ] ] )", "inv_wishart(1.5, [[3]])"},
		{"inv_wishart(5, [[1,0,0],[0,1,0],[0,0,1]])", "inv_wishart(5, [[1, 0, 0], [0, 1, 0], [0, 0, 1]])"},
		{"normal(1e10, 1e-10)", "normal(1e+10, 1e-10)"},
	}
	for _, c := range cases {
		p, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := p.String(); got != c.want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got, c.want)
		}
		q, err := Parse(p.String())
		if err != nil || q.String() != p.String() {
			t.Errorf("round trip of %q: %v, %v", c.in, q, err)
		}
	}
	if len(cases) < 25 {
		t.Fatalf("only %d good cases", len(cases))
	}
}

func TestParseValues(t *testing.T) {
	p, err := Parse("student_t(3, -1, 2.5)")
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := p.(StudentT); !ok || st.Nu != 3 || st.Mu != -1 || st.Sigma != 2.5 {
		t.Fatalf("got %#v", p)
	}
	p, err = Parse("inv_wishart(4, [[2, 0.5], [0.5, 1]])")
	if err != nil {
		t.Fatal(err)
	}
	w := p.(InvWishart)
	if w.Nu != 4 || w.S.At(0, 0) != 2 || w.S.At(1, 0) != 0.5 || w.S.At(0, 1) != 0.5 || w.S.At(1, 1) != 1 {
		t.Fatalf("got %v", w)
	}
}

func TestParseBad(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "empty prior"},
		{"   ", "empty prior"},
		{"(0, 1)", `expected a family name at the start of the prior, got "(0, 1)"`},
		{"nromal(0, 1)", `unknown prior family "nromal" (did you mean "normal"?)`},
		{"Normal(0, 1)", `unknown prior family "Normal" (did you mean "normal"?)`},
		{"studentt(3, 0, 1)", `unknown prior family "studentt" (did you mean "student_t"?)`},
		{"lkj_corr(2)", `unknown prior family "lkj_corr" (did you mean "lkj"?)`},
		{"gamma(1, 1)", `unknown prior family "gamma" (did you mean "inv_gamma"?)`},
		{"beta(2, 2)", `unknown prior family "beta" (known: flat, normal, student_t, cauchy, laplace, horseshoe, exponential, inv_gamma, lkj, inv_wishart)`},
		{"normal", `normal needs arguments: normal(mu, sigma)`},
		{"normal 0, 1", `unexpected text after "normal": "0, 1"`},
		{"normal(0, 1", `missing ")" at the end of "normal(0, 1"`},
		{"normal(0, 1) x", `unexpected text after the closing ")": "x"`},
		{"normal(0, 1))", `unexpected text after the closing ")": ")"`},
		{"normal(0)", `normal takes 2 arguments (mu, sigma), got 1`},
		{"normal(0, 1, 2)", `normal takes 2 arguments (mu, sigma), got 3`},
		{"normal()", `normal takes 2 arguments (mu, sigma), got 0`},
		{"lkj(1, 2)", `lkj takes 1 argument (eta), got 2`},
		{"flat(1)", `flat takes no arguments, got 1`},
		{"normal(0, )", `normal: argument 2 (sigma) is empty`},
		{"normal(0, abc)", `normal: argument 2 (sigma) is not a number: "abc"`},
		{"normal(0, Inf)", `normal: argument 2 (sigma) is not a number: "Inf"`},
		{"normal(NaN, 1)", `normal: argument 1 (mu) is not a number: "NaN"`},
		{"normal(0x10, 1)", `normal: argument 1 (mu) is not a number: "0x10"`},
		{"normal(1e999, 1)", `normal: argument 1 (mu) must be finite, got "1e999"`},
		{"normal(0, [[1]])", `normal: argument 2 (sigma) is not a number: "[[1]]"`},
		{"normal(0, -1)", `normal: sigma must be positive, got -1`},
		{"normal(0, 0)", `normal: sigma must be positive, got 0`},
		{"student_t(0, 0, 1)", `student_t: nu must be positive, got 0`},
		{"student_t(3, 0, -2.5)", `student_t: sigma must be positive, got -2.5`},
		{"cauchy(0, -5)", `cauchy: sigma must be positive, got -5`},
		{"laplace(0, 0)", `laplace: scale must be positive, got 0`},
		{"horseshoe(-1)", `horseshoe: scale must be positive, got -1`},
		{"exponential(0)", `exponential: rate must be positive, got 0`},
		{"inv_gamma(-2, 1)", `inv_gamma: shape must be positive, got -2`},
		{"inv_gamma(2, 0)", `inv_gamma: scale must be positive, got 0`},
		{"lkj(0)", `lkj: eta must be positive, got 0`},
		{"lkj(-1)", `lkj: eta must be positive, got -1`},
		{"inv_wishart(0, 1)", `inv_wishart: nu must be positive, got 0`},
		{"inv_wishart(3, -1)", `inv_wishart: S must be positive, got -1`},
		{"inv_wishart(3, [[1,0.5],[0.3,1]])", `inv_wishart: S must be symmetric, but S[2,1] = 0.3 and S[1,2] = 0.5`},
		{"inv_wishart(3, [[1,0],[0]])", `inv_wishart: S must be square, but row 2 has 1 entries and there are 2 rows`},
		{"inv_wishart(3, [[1,2],[2,1]])", `inv_wishart: S must be positive definite`},
		{"inv_wishart(1, [[1,0],[0,1]])", `inv_wishart: nu must be greater than K−1 = 1 for a 2×2 covariance, got 1`},
		{"inv_wishart(3, [[1,0],[0,1]", `missing ")" at the end of "inv_wishart(3, [[1,0],[0,1]"`},
		{"inv_wishart(3, [[1,0],[0,x]])", `inv_wishart: argument 2 (S) is not a number or a matrix [[a, b], [b, c]]: "[[1,0],[0,x]]"`},
		{"inv_wishart(3, [])", `inv_wishart: argument 2 (S) is not a number or a matrix [[a, b], [b, c]]: "[]"`},
	}
	for _, c := range cases {
		p, err := Parse(c.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error %q", c.in, p, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("Parse(%q) error\n got %q\nwant %q", c.in, err.Error(), c.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q) error has several lines", c.in)
		}
	}
	if len(cases) < 15 {
		t.Fatalf("only %d bad cases", len(cases))
	}
}

func TestParseForClass(t *testing.T) {
	good := []struct {
		in string
		c  Class
	}{
		{"flat", ClassB}, {"flat", ClassIntercept}, {"normal(0, 1)", ClassSigma},
		{"student_t(3, 0, 2.5)", ClassSD}, {"exponential(1)", ClassSD}, {"inv_gamma(1, 1)", ClassSigma},
		{"horseshoe(1)", ClassB}, {"lkj(2)", ClassCor}, {"inv_wishart(3, 1)", ClassCov},
		{"laplace(0, 1)", ClassIntercept},
	}
	for _, g := range good {
		if _, err := ParseFor(g.in, g.c); err != nil {
			t.Errorf("ParseFor(%q, %s): %v", g.in, g.c, err)
		}
	}
	bad := []struct {
		in   string
		c    Class
		want string
	}{
		{"lkj(2)", ClassB, "lkj cannot be used on class b (it is a prior on class cor)"},
		{"flat", ClassSigma, "flat cannot be used on class sigma (it is a prior on class b, Intercept)"},
		{"flat", ClassSD, "flat cannot be used on class sd (it is a prior on class b, Intercept)"},
		{"horseshoe(1)", ClassIntercept, "horseshoe cannot be used on class Intercept (it is a prior on class b)"},
		{"exponential(1)", ClassB, "exponential cannot be used on class b (it is a prior on class sigma, sd)"},
		{"normal(0, 1)", ClassCor, "normal cannot be used on class cor (it is a prior on class b, Intercept, sigma, sd)"},
		{"inv_wishart(3, 1)", ClassSD, "inv_wishart cannot be used on class sd (it is a prior on class cov)"},
		{"laplace(0, 1)", ClassSigma, "laplace cannot be used on class sigma (it is a prior on class b, Intercept)"},
		{"inv_gamma(1, 1)", ClassB, "inv_gamma cannot be used on class b (it is a prior on class sigma, sd)"},
	}
	for _, b := range bad {
		_, err := ParseFor(b.in, b.c)
		if err == nil || err.Error() != b.want {
			t.Errorf("ParseFor(%q, %s) error = %v, want %q", b.in, b.c, err, b.want)
		}
	}
}

package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %v %v", tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// mustBuild parses text and builds its design on fr.
func mustBuild(t *testing.T, text string, fr *Frame, opt BuildOptions) *Design {
	t.Helper()
	f, err := ParseFormula(text)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	d, err := Build(f, fr, opt)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return d
}

// frameFromString reads an inline CSV.
func frameFromString(t *testing.T, in string, opt FrameOptions) *Frame {
	t.Helper()
	fr, err := ReadFrame(strings.NewReader(in), "t.csv", opt)
	if err != nil {
		t.Fatal(err)
	}
	return fr
}

// checkTermConsistency checks the invariants of every ReTerm of d: Refs
// index Levels, every level is used, Z has K × N values.
func checkTermConsistency(t *testing.T, d *Design) {
	t.Helper()
	for _, r := range d.Terms {
		if len(r.Refs) != d.N || len(r.Z) != r.K*d.N || len(r.Names) != r.K {
			t.Errorf("term %s: %d refs, %d Z values, %d names, K %d, N %d", r.Group, len(r.Refs), len(r.Z), len(r.Names), r.K, d.N)
		}
		used := make([]bool, len(r.Levels))
		for _, l := range r.Refs {
			if l < 0 || int(l) >= len(r.Levels) {
				t.Fatalf("term %s: ref %d out of range", r.Group, l)
			}
			used[l] = true
		}
		if slices.Contains(used, false) {
			t.Errorf("term %s: a level no row uses", r.Group)
		}
	}
}

// TestBuildLme4 checks every lme4 fit in testdata/lme4: the fixed-effects
// names in lme4's order, the number of observations, and the levels of
// every grouping factor.
func TestBuildLme4(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "lme4", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatal("no lme4 references", err)
	}
	frames := map[string]*Frame{}
	factors := map[string][]string{
		"insteval.csv":   {"s", "d", "studage", "lectage", "service", "dept"},
		"politeness.csv": {"scenario"},
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var ref struct {
			Formula string                     `json:"formula"`
			Data    string                     `json:"data"`
			Nobs    int                        `json:"nobs"`
			Fixef   json.RawMessage            `json:"fixef"`
			Ranef   map[string]json.RawMessage `json:"ranef"`
		}
		if err := json.Unmarshal(raw, &ref); err != nil {
			t.Fatal(file, err)
		}
		name := filepath.Base(ref.Data)
		fr := frames[name]
		if fr == nil {
			fr = readTestFrame(t, name, FrameOptions{Factors: factors[name]})
			frames[name] = fr
		}
		d := mustBuild(t, ref.Formula, fr, BuildOptions{})
		base := filepath.Base(file)
		if d.N != ref.Nobs || d.N+d.Dropped != fr.NRows || len(d.Rows) != d.N || len(d.Y) != d.N {
			t.Errorf("%s: N %d Dropped %d Rows %d; want nobs %d of %d", base, d.N, d.Dropped, len(d.Rows), ref.Nobs, fr.NRows)
		}
		if want := objectKeys(t, ref.Fixef); !slices.Equal(d.XNames, want) {
			t.Errorf("%s: XNames %q, want %q", base, d.XNames, want)
		}
		if r, c := d.X.Dims(); r != d.N || c != len(d.XNames) {
			t.Errorf("%s: X is %d×%d", base, r, c)
		}
		checkTermConsistency(t, d)
		for group, rawRe := range ref.Ranef {
			var re struct {
				Levels []string `json:"levels"`
			}
			if err := json.Unmarshal(rawRe, &re); err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, term := range d.Terms {
				if term.Group != group {
					continue
				}
				found++
				if !slices.Equal(term.Levels, re.Levels) {
					t.Errorf("%s: group %s levels %q, want %q", base, group, term.Levels, re.Levels)
				}
			}
			if found == 0 {
				t.Errorf("%s: no term with group %q", base, group)
			}
		}
		if strings.HasPrefix(base, "insteval") {
			// No ranef in the file: check the grouping factors' sizes,
			// from R 4.2.2 / lme4 1.1-31 on this file:
			// sapply(lFormula(<formula>, d)$reTrms$flist, nlevels).
			want := map[string]int{"s": 2972, "d": 1128, "dept:service": 28}
			for _, term := range d.Terms {
				if len(term.Levels) != want[term.Group] {
					t.Errorf("%s: %s has %d levels, want %d", base, term.Group, len(term.Levels), want[term.Group])
				}
			}
		}
	}
}

// variant is one entry of testdata/design/variants.json, written by
// variants.R with lme4's lFormula.
type variant struct {
	Formula []string `json:"formula"`
	Data    []string `json:"data"`
	Nobs    []int    `json:"nobs"`
	XNames  []string `json:"xnames"`
	MMNames []string `json:"mmnames"`
	Dropped []string `json:"dropped"`
	Terms   []struct {
		Group  []string `json:"group"`
		Names  []string `json:"names"`
		Levels []string `json:"levels"`
	} `json:"terms"`
}

// TestBuildVariants checks column names, N and grouping levels against
// lme4 for formulas exercising R's coding rules: "||", nesting, numeric ×
// factor, factor × factor, no intercept, a factor whose term's margin is
// absent, and level order (numeric, mixed case, punctuation).
func TestBuildVariants(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "design", "variants.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []variant
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	frames := map[string]*Frame{}
	for _, v := range vs {
		text, data := v.Formula[0], v.Data[0]
		fr := frames[data]
		if fr == nil {
			fr = readTestFrame(t, data, FrameOptions{})
			frames[data] = fr
		}
		f, err := ParseFormula(text)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Build(f, fr, BuildOptions{})
		if len(v.Dropped) > 0 {
			// lme4 drops aliased columns; Build refuses them, naming them.
			if err == nil {
				t.Errorf("%s: no error; lme4 dropped %q", text, v.Dropped)
				continue
			}
			for _, c := range v.Dropped {
				if !strings.Contains(err.Error(), `column "`+c+`" is a linear combination`) {
					t.Errorf("%s: error %q does not name %q", text, err, c)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		if d.N != v.Nobs[0] {
			t.Errorf("%s: N %d, want %d", text, d.N, v.Nobs[0])
		}
		if !slices.Equal(d.XNames, v.XNames) || !slices.Equal(d.XNames, v.MMNames) {
			t.Errorf("%s: XNames %q, want %q", text, d.XNames, v.XNames)
		}
		checkTermConsistency(t, d)
		// lme4 orders terms by decreasing number of levels; match by
		// group and effect names. lme4 names the inner factor of a/b
		// "b:a" where the formula AST says a:b; compare those as the
		// same set of (reversed) labels.
		for _, rt := range v.Terms {
			group := rt.Group[0]
			var match *ReTerm
			reversed := false
			for _, term := range d.Terms {
				if slices.Equal(term.Names, rt.Names) && term.Group == group {
					match = term
				}
			}
			if match == nil && strings.Contains(text, "/") {
				parts := strings.Split(group, ":")
				slices.Reverse(parts)
				for _, term := range d.Terms {
					if slices.Equal(term.Names, rt.Names) && term.Group == strings.Join(parts, ":") {
						match, reversed = term, true
					}
				}
			}
			if match == nil {
				t.Errorf("%s: no term %s with effects %q", text, group, rt.Names)
				continue
			}
			want := rt.Levels
			if reversed {
				want = nil
				for _, l := range rt.Levels {
					p := strings.Split(l, ":")
					slices.Reverse(p)
					want = append(want, strings.Join(p, ":"))
				}
				got := slices.Clone(match.Levels)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: %s levels %q, want (as a set) %q", text, match.Group, match.Levels, want)
				}
				continue
			}
			if !slices.Equal(match.Levels, want) {
				t.Errorf("%s: %s levels %q, want %q", text, group, match.Levels, want)
			}
		}
	}
}

// TestBuildMatrices compares X with lme4's fixed-effects matrix value by
// value. The entries are the data values, 0/1 indicators, or products of
// up to three data values, so they agree to a few rounding errors.
func TestBuildMatrices(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "design", "matrices.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ms []struct {
		Formula string      `json:"formula"`
		Data    string      `json:"data"`
		X       [][]float64 `json:"x"`
		Rows    []int       `json:"rows"`
	}
	if err := json.Unmarshal(raw, &ms); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		fr := readTestFrame(t, m.Data, FrameOptions{})
		d := mustBuild(t, m.Formula, fr, BuildOptions{})
		if len(m.Rows) != d.N {
			t.Fatalf("%s: N %d, want %d", m.Formula, d.N, len(m.Rows))
		}
		for i := range d.N {
			if d.Rows[i]+1 != m.Rows[i] {
				t.Fatalf("%s: row %d is data row %d, want %d", m.Formula, i, d.Rows[i]+1, m.Rows[i])
			}
			for j, want := range m.X[i] {
				got := d.X.At(i, j)
				if math.Abs(got-want) > 4e-16*math.Abs(want) {
					t.Errorf("%s: X[%d,%d] = %v, want %v", m.Formula, i, j, got, want)
				}
			}
		}
	}
}

func TestBuildSleepstudyZ(t *testing.T) {
	fr := readTestFrame(t, "sleepstudy.csv", FrameOptions{})
	d := mustBuild(t, "Reaction ~ Days + (Days | Subject)", fr, BuildOptions{})
	if len(d.Terms) != 1 {
		t.Fatalf("%d terms", len(d.Terms))
	}
	r := d.Terms[0]
	if r.K != 2 || !r.Correlated || !slices.Equal(r.Names, []string{"(Intercept)", "Days"}) {
		t.Fatalf("term %+v", r)
	}
	days, subj, react := fr.Column("Days"), fr.Column("Subject"), fr.Column("Reaction")
	for i := range d.N {
		if r.Z[i] != 1 || r.Z[d.N+i] != days.Num[i] || r.Levels[r.Refs[i]] != subj.Str[i] || d.Y[i] != react.Num[i] {
			t.Fatalf("row %d: Z %v %v, level %s, Y %v", i, r.Z[i], r.Z[d.N+i], r.Levels[r.Refs[i]], d.Y[i])
		}
	}
	d = mustBuild(t, "Reaction ~ Days + (Days || Subject)", fr, BuildOptions{})
	if len(d.Terms) != 2 || d.Terms[0].Correlated || d.Terms[1].Correlated || d.Terms[1].Names[0] != "Days" {
		t.Errorf("|| terms: %+v %+v", d.Terms[0], d.Terms[1])
	}
}

func TestBuildNADropAndReference(t *testing.T) {
	fr := readTestFrame(t, "politeness.csv", FrameOptions{Factors: []string{"scenario"}})
	d := mustBuild(t, "frequency ~ attitude + gender + (1|subject) + (1|scenario)", fr,
		BuildOptions{Reference: map[string]string{"attitude": "pol", "scenario": "7"}})
	if d.N != 83 || d.Dropped != 1 || slices.Contains(d.Rows, 38) {
		t.Errorf("N %d Dropped %d; row 38 (frequency NA) must be dropped", d.N, d.Dropped)
	}
	if want := []string{"(Intercept)", "attitudeinf", "genderM"}; !slices.Equal(d.XNames, want) {
		t.Errorf("XNames %q, want %q", d.XNames, want)
	}
	for _, r := range d.Terms {
		if r.Group == "scenario" && !slices.Equal(r.Levels, []string{"7", "1", "2", "3", "4", "5", "6"}) {
			t.Errorf("scenario levels with reference 7: %q", r.Levels)
		}
	}
}

func TestBuildRankDeficient(t *testing.T) {
	in := "y,x,w,g\n"
	rows := []string{"1,1,2,a", "2,2,4,a", "3,3,6,b", "5,4,8,b", "4,5,10,c", "6,6,12,c"}
	fr := frameFromString(t, in+strings.Join(rows, "\n")+"\n", FrameOptions{})
	f, _ := ParseFormula("y ~ x + w + (1|g)")
	_, err := Build(f, fr, BuildOptions{})
	want := `t.csv: formula "y ~ x + w + (1|g)": fixed-effects model matrix is rank deficient (rank 2 < 3 columns): column "w" is a linear combination of other columns: w = 2*x`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}

	mixed := readTestFrame(t, "design/mixed.csv", FrameOptions{})
	f, _ = ParseFormula("y ~ a:b + (1 | g)")
	_, err = Build(f, mixed, BuildOptions{})
	want = `design/mixed.csv: formula "y ~ a:b + (1 | g)": fixed-effects model matrix is rank deficient (rank 6 < 7 columns): column "amid:bv" is a linear combination of other columns: amid:bv = 1*(Intercept) - 1*aHigh:bu - 1*alow:bu - 1*amid:bu - 1*aHigh:bv - 1*alow:bv`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestBuildErrors(t *testing.T) {
	mixed := readTestFrame(t, "design/mixed.csv", FrameOptions{})
	twoRows := frameFromString(t, "y,x,g,one\n1,2,a,k\n2,3,b,k\n3,5,c,k\n", FrameOptions{})
	cases := []struct {
		formula string
		fr      *Frame
		opt     BuildOptions
		want    string
	}{
		{"f ~ x + (1|g)", mixed, BuildOptions{},
			`design/mixed.csv: response "f" must be numeric, but it is categorical (for example "b" on line 2)`},
		{"y ~ x + (1|gg)", mixed, BuildOptions{}, "design/mixed.csv: "},
		{"y ~ x + a + (1|g)", mixed, BuildOptions{Reference: map[string]string{"A": "low"}},
			`design/mixed.csv: reference level given for column "A", which is not in the data (did you mean "a"?)`},
		{"y ~ x + a + (1|g)", mixed, BuildOptions{Reference: map[string]string{"z": "1"}},
			`design/mixed.csv: reference level given for column "z", which is not a factor in formula "y ~ x + a + (1|g)"`},
		{"y ~ x + a + (1|g)", mixed, BuildOptions{Reference: map[string]string{"a": "Low"}},
			`design/mixed.csv: reference level "Low" of column "a" is not among its levels in the used rows (High, low, mid) (did you mean "low"?)`},
		{"y ~ x + (1|one)", twoRows, BuildOptions{},
			`t.csv: random term (1 | one): grouping factor "one" has 1 level in the used rows; it must have more than 1`},
		{"y ~ x + (1|g)", twoRows, BuildOptions{},
			`t.csv: random term (1 | g): grouping factor "g" has 3 levels for 3 observations; the number of levels of each grouping factor must be < number of observations`},
		{"y ~ one + (1|g)", twoRows, BuildOptions{},
			`t.csv: fixed effects: term "one": factor "one" has 1 level in the used rows; contrasts need 2 or more`},
		{"y ~ 1 + (x|a)", mixed, BuildOptions{}, ""},
	}
	for _, c := range cases {
		f, err := ParseFormula(c.formula)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Build(f, c.fr, c.opt)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.formula, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error, want %q", c.formula, c.want)
			continue
		}
		if !strings.HasSuffix(c.want, ": ") && err.Error() != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.formula, err, c.want)
		}
		// An unknown column is the parser's *FormulaError, wrapped.
		var fe *FormulaError
		if strings.HasSuffix(c.want, ": ") && (!strings.HasPrefix(err.Error(), c.want) || !errors.As(err, &fe) ||
			!strings.Contains(err.Error(), `"gg"`) || !strings.Contains(err.Error(), `did you mean "g"`)) {
			t.Errorf("%s: got %q, want a FormulaError naming gg and g, prefixed %q", c.formula, err, c.want)
		}
	}

	// K·levels >= N: 3 groups × 2 effects with 6 observations.
	fr := frameFromString(t, "y,x,g\n1,1,a\n2,3,a\n3,2,b\n4,5,b\n5,1,c\n7,4,c\n", FrameOptions{})
	f, _ := ParseFormula("y ~ x + (x | g)")
	_, err := Build(f, fr, BuildOptions{})
	want := `t.csv: random term (x | g): number of observations (6) <= number of random effects (6 = 2 effects × 3 levels); the random-effects parameters and the residual variance are probably unidentifiable`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestCollate(t *testing.T) {
	// R 4.2.2 (ICU) sort of these strings, except that ICU orders
	// punctuation by its own table ("_a" "-a" ":x" "~y") where collate
	// uses code points, and folds accents.
	want := []string{"-a", ":x", "_a", "~y", "1", "10", "9", "a b", "a.b", "a1", "ab", "Ab", "ab1", "e", "f", "Z", "z1"}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, collate)
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// BenchmarkBuildInsteval times Build on the largest data set (73,421
// rows, three crossed grouping factors).
func BenchmarkBuildInsteval(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "insteval.csv"))
	if err != nil {
		b.Fatal(err)
	}
	fr, err := ReadFrame(bytes.NewReader(raw), "insteval.csv", FrameOptions{Factors: []string{"s", "d", "studage", "lectage", "service", "dept"}})
	if err != nil {
		b.Fatal(err)
	}
	f, err := ParseFormula("y ~ service + (1|s) + (1|d) + (1|dept:service)")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(f, fr, BuildOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFrameInsteval times reading the largest data set.
func BenchmarkReadFrameInsteval(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "insteval.csv"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ReadFrame(bytes.NewReader(raw), "insteval.csv", FrameOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

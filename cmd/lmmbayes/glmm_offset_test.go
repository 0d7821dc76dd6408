package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/draws"
)

// insuranceConfig writes configs/insurance.toml into dir with its data path
// made absolute, short chains and its output in dir/out; it returns the
// config's path.
func insuranceConfig(t *testing.T, dir string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "configs", "insurance.toml"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "glmm", "insurance.csv"))
	text := strings.NewReplacer(`"../testdata/glmm/insurance.csv"`, `"`+filepath.ToSlash(data)+`"`,
		"chains = 4", "chains = 2", "warmup = 1000", "warmup = 300", "draws = 2000", "draws = 500",
		`"out/insurance"`, `"`+filepath.ToSlash(filepath.Join(dir, "out"))+`"`).Replace(string(raw))
	if !strings.Contains(text, filepath.ToSlash(data)) || !strings.Contains(text, "draws = 500") {
		t.Fatalf("configs/insurance.toml changed shape:\n%s", raw)
	}
	p := filepath.Join(dir, "insurance.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// insuranceRows reads testdata/glmm/insurance.csv: per row District, Group,
// Age, Holders and Claims.
func insuranceRows(t *testing.T) [][]string {
	t.Helper()
	head, recs := readCSVT(t, filepath.Join("..", "..", "testdata", "glmm", "insurance.csv"))
	if !slices.Equal(head, []string{"District", "Group", "Age", "Holders", "Claims"}) {
		t.Fatalf("insurance.csv header %v", head)
	}
	return recs
}

// insuranceCols maps the labels of the insurance model's coefficients
// ("(Intercept)", "Age>35", …) and its districts ("1", …) to their draws
// columns, as draws.ColumnNames names them.
type insuranceCols struct{ b, r map[string]string }

func insuranceNames(t *testing.T, cfg string) insuranceCols {
	t.Helper()
	_, d := loadDesignT(t, cfg)
	names := draws.ColumnNames(d, true)
	c := insuranceCols{b: map[string]string{}, r: map[string]string{}}
	for j, x := range d.XNames {
		c.b[x] = names.B[j]
	}
	for _, re := range names.RE {
		c.r[re.Level] = re.Column
	}
	return c
}

// insuranceEta returns η (without the offset) of a row (District, Group,
// Age) for draw r, from the draws' columns: treatment contrasts with the
// reference levels "<1l" and "<25", and the district's r_ column when it
// was seen.
func insuranceEta(t *testing.T, names insuranceCols, head []string, r []float64, district, group, age string) float64 {
	t.Helper()
	col := func(n string) float64 {
		j := slices.Index(head, n)
		if j < 0 {
			t.Fatalf("no column %q in %v", n, head)
		}
		return r[j]
	}
	e := col(names.b["(Intercept)"])
	if group != "<1l" {
		e += col(names.b["Group"+group])
	}
	if age != "<25" {
		e += col(names.b["Age"+age])
	}
	if rc, ok := names.r[district]; ok {
		e += col(rc)
	}
	return e
}

// TestRunGLMMOffset runs configs/insurance.toml (a Poisson GLMM with
// offset(log(Holders)); 2 chains × 500 draws) end to end and checks the
// offset everywhere against exact identities or references:
//   - ml_fit.json equals glmer with the offset (testdata/glmm/insurance_tight.json):
//     −2 logLik to 1e-5 relative, fixed effects to 1e-3 SE, θ to 1e-3;
//   - each fixed effect's posterior mean within 0.5 SD + 4 MCSE of the ML
//     fit (as TestRunGLMMFamilies; ignoring the offset moves the intercept
//     by about 6, hundreds of SDs);
//   - lp__ of every draw equals Σ log dpois(Claims | Holders·exp(η)), η
//     computed here from the draw's columns (1e-9 relative);
//   - ppc.csv's epred_mean of each row equals the mean over the draws of
//     Holders·exp(η), and pred_mean is within 5 Monte Carlo SEs of it;
//   - predict on new rows: epred_mean is the mean of Holders·exp(η) with the
//     new rows' Holders (ten times the holders, ten times the claims),
//     --scale link gives the mean of η + log(Holders);
//   - compare runs and reports ml_fit.json's estimates.
func TestRunGLMMOffset(t *testing.T) {
	dir := t.TempDir()
	cfg := insuranceConfig(t, dir)
	if code, _, errs := runCLI(t, "run", cfg, "--quiet"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	out := filepath.Join(dir, "out")
	names := insuranceNames(t, cfg)

	// ml_fit.json against glmer.
	var ml, ref struct {
		Objective float64            `json:"objective"`
		Theta     []float64          `json:"theta"`
		Fixef     map[string]float64 `json:"fixef"`
		FixefSE   map[string]float64 `json:"fixef_se"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "ml_fit.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ml); err != nil {
		t.Fatal(err)
	}
	raw, err = os.ReadFile(filepath.Join("..", "..", "testdata", "glmm", "insurance_tight.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if math.Abs(ml.Objective-ref.Objective) > 1e-5*ref.Objective || math.Abs(ml.Theta[0]-ref.Theta[0]) > 1e-3*ref.Theta[0] {
		t.Errorf("ml_fit.json: objective %.10g theta %v, glmer %.10g %v", ml.Objective, ml.Theta, ref.Objective, ref.Theta)
	}
	for k, v := range ref.Fixef {
		if math.Abs(ml.Fixef[k]-v) > 1e-3*ref.FixefSE[k] {
			t.Errorf("ml_fit.json: fixef %s = %.7g, glmer %.7g", k, ml.Fixef[k], v)
		}
	}

	// Posterior means near the ML fit.
	checkMeansNearML(t, readSummaryT(t, filepath.Join(out, "summary.csv")), ml.Fixef, func(name string) string { return names.b[name] })

	// lp__ and ppc.csv from the draws by hand.
	head, rows := allDraws(t, out)
	S := float64(len(rows))
	data := insuranceRows(t)
	mu := func(r []float64, d []string) float64 {
		return num(d[3]) * math.Exp(insuranceEta(t, names, head, r, d[0], d[1], d[2]))
	}
	for s, r := range rows {
		var ll float64
		for _, d := range data {
			y := num(d[4])
			lg, _ := math.Lgamma(y + 1)
			m := mu(r, d)
			ll += y*math.Log(m) - m - lg
		}
		if got := r[0]; math.Abs(got-ll) > 1e-9*math.Abs(ll) {
			t.Fatalf("draw %d: lp__ %.12g, Σ log dpois(Claims | Holders·exp(η)) %.12g", s+1, got, ll)
		}
	}
	ph, pp := readCSVT(t, filepath.Join(out, "ppc.csv"))
	if len(pp) != len(data) {
		t.Fatalf("ppc.csv: %d rows, data %d", len(pp), len(data))
	}
	for i, d := range data {
		var want float64
		for _, r := range rows {
			want += mu(r, d) / S
		}
		get := func(n string) float64 { return num(pp[i][slices.Index(ph, n)]) }
		if got := get("epred_mean"); math.Abs(got-want) > 1e-9*want {
			t.Errorf("ppc.csv row %d: epred_mean %.12g, mean of Holders·exp(η) %.12g", i+1, got, want)
		}
		if dd := math.Abs(get("pred_mean") - want); dd > 5*get("pred_sd")/math.Sqrt(S) {
			t.Errorf("ppc.csv row %d: pred_mean %g, epred %g: beyond 5 MCSE", i+1, get("pred_mean"), want)
		}
	}

	// The rootogram of the count families is drawn from the same
	// replicates: every training row is counted once.
	rh, rr := readCSVT(t, filepath.Join(out, "ppc_rootogram.csv"))
	var nobs float64
	for _, r := range rr {
		nobs += num(r[slices.Index(rh, "observed")])
	}
	if int(nobs) != len(data) {
		t.Errorf("ppc_rootogram.csv: observed counts sum to %g, rows %d", nobs, len(data))
	}

	// predict with the new rows' exposure; District 9 is new (its effect
	// drawn), so only rows 1–3 are compared exactly.
	nd := filepath.Join(dir, "new.csv")
	newRows := [][]string{{"2", "1-1.5l", "25-29", "100"}, {"2", "1-1.5l", "25-29", "1000"}, {"4", ">2l", ">35", "37"}, {"9", "<1l", "<25", "50"}}
	var b strings.Builder
	b.WriteString("District,Group,Age,Holders\n")
	for _, r := range newRows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	if err := os.WriteFile(nd, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, link := range []bool{false, true} {
		pf := filepath.Join(dir, "pred.csv")
		args := []string{"predict", cfg, "--newdata", nd, "--out", pf}
		if link {
			args = append(args, "--scale", "link")
		}
		if code, _, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("predict %v: exit %d: %s", args, code, errs)
		}
		h, recs := readCSVT(t, pf)
		for i, nr := range newRows[:3] {
			var want float64
			for _, r := range rows {
				e := insuranceEta(t, names, head, r, nr[0], nr[1], nr[2]) + math.Log(num(nr[3]))
				if !link {
					e = math.Exp(e)
				}
				want += e / S
			}
			get := func(n string) float64 { return num(recs[i][slices.Index(h, n)]) }
			if got := get("epred_mean"); math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
				t.Errorf("link %v, new row %d: epred_mean %.15g, from the draws %.15g", link, i+1, got, want)
			}
			if !link {
				if dd := math.Abs(get("pred_mean") - want); dd > 5*get("pred_sd")/math.Sqrt(S) {
					t.Errorf("new row %d: pred_mean %g, epred %g: beyond 5 MCSE", i+1, get("pred_mean"), want)
				}
			}
		}
		if !link {
			e1, e2 := num(recs[0][slices.Index(h, "epred_mean")]), num(recs[1][slices.Index(h, "epred_mean")])
			if math.Abs(e2/e1-10) > 1e-12 {
				t.Errorf("ten times the holders: epred %g and %g, ratio %.15g", e1, e2, e2/e1)
			}
		}
	}
	// New data without Holders: an error naming the column.
	os.WriteFile(nd, []byte("District,Group,Age\n2,<1l,<25\n"), 0o644)
	if code, _, errs := runCLI(t, "predict", cfg, "--newdata", nd, "--out", filepath.Join(dir, "p2.csv")); code != 2 || !strings.Contains(errs, "Holders") {
		t.Errorf("new data without Holders: exit %d: %s", code, errs)
	}

	// compare: the glmer-style fit beside the posterior.
	code, cmpOut, errs := runCLI(t, "compare", cfg, "--format", "csv")
	if code != 0 {
		t.Fatalf("compare: %s", errs)
	}
	ch, crecs, _ := parseCompareCSV(t, cmpOut)
	r, ok := crecs["b_Intercept"]
	if !ok {
		t.Fatalf("compare has no b_Intercept:\n%s", cmpOut)
	}
	if got := mustFloat(t, r[slices.Index(ch, "ml_estimate")]); math.Abs(got-ml.Fixef["(Intercept)"]) > 1e-9 {
		t.Errorf("compare b_Intercept ml_estimate %g, ml_fit.json %g", got, ml.Fixef["(Intercept)"])
	}
}

// TestGLMMOffsetColumn: `[data] offset = "logH"` (a column) fits the same
// model as offset(log(Holders)) (fit --json's −2 logLik to 1e-9 relative,
// and the column named in its JSON); a run records the column in
// run.json (levels.offset_column) and predict then needs it in the new
// data.
func TestGLMMOffsetColumn(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("District,Group,Age,Holders,Claims,logH\n")
	for _, d := range insuranceRows(t) {
		b.WriteString(strings.Join(d, ",") + "," + strconv.FormatFloat(math.Log(num(d[3])), 'g', -1, 64) + "\n")
	}
	data := filepath.Join(dir, "ins.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	fitJSON := func(args ...string) (float64, string) {
		code, out, errs := runCLI(t, append([]string{"fit", "--data", data, "--factors", "District", "--family", "poisson", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("fit %v: exit %d: %s", args, code, errs)
		}
		var f struct {
			Objective float64 `json:"objective"`
			Offset    string  `json:"offset"`
		}
		if err := json.Unmarshal([]byte(out), &f); err != nil {
			t.Fatal(err)
		}
		return f.Objective, f.Offset
	}
	want, _ := fitJSON("--formula", "Claims ~ Age + Group + offset(log(Holders)) + (1 | District)")
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte("[data]\npath = \"ins.csv\"\nfactors = [\"District\"]\noffset = \"logH\"\n[model]\nformula = \"Claims ~ Age + Group + (1 | District)\"\nfamily = \"poisson\"\n"+
		"[sampler]\nchains = 1\nwarmup = 100\ndraws = 100\nseed = 2\n[output]\ndir = \"out\"\nml_fit = false\n"), 0o644)
	code, out, errs := runCLI(t, "fit", cfg, "--json")
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, errs)
	}
	var f struct {
		Objective float64 `json:"objective"`
		Offset    string  `json:"offset"`
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.Objective-want) > 1e-9*want || f.Offset != "logH" {
		t.Errorf("offset column: objective %.12g (offset %q), offset(log(Holders)) %.12g", f.Objective, f.Offset, want)
	}
	if code, _, errs := runCLI(t, "run", cfg, "--quiet"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	var meta struct {
		Levels struct {
			OffsetColumn string `json:"offset_column"`
		} `json:"levels"`
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "out", "run.json"))
	if err := json.Unmarshal(raw, &meta); err != nil || meta.Levels.OffsetColumn != "logH" {
		t.Errorf("run.json levels.offset_column %q (%v)", meta.Levels.OffsetColumn, err)
	}
	nd := filepath.Join(dir, "nd.csv")
	os.WriteFile(nd, []byte("District,Group,Age\n1,<1l,<25\n"), 0o644)
	if code, _, errs := runCLI(t, "predict", cfg, "--newdata", nd, "--out", filepath.Join(dir, "p.csv")); code != 2 || !strings.Contains(errs, "logH") {
		t.Errorf("new data without the offset column: exit %d: %s", code, errs)
	}
	os.WriteFile(nd, []byte("District,Group,Age,logH\n1,<1l,<25,0\n1,<1l,<25,1\n"), 0o644)
	pf := filepath.Join(dir, "p.csv")
	if code, _, errs := runCLI(t, "predict", cfg, "--newdata", nd, "--out", pf, "--scale", "link"); code != 0 {
		t.Fatalf("predict: exit %d: %s", code, errs)
	}
	h, recs := readCSVT(t, pf)
	e0, e1 := num(recs[0][slices.Index(h, "epred_mean")]), num(recs[1][slices.Index(h, "epred_mean")])
	if math.Abs(e1-e0-1) > 1e-12 {
		t.Errorf("link scale: epred %g at logH = 0 and %g at logH = 1: differ by %.15g, want 1", e0, e1, e1-e0)
	}
}

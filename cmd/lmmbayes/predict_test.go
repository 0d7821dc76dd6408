package main

import (
	"bytes"
	"encoding/csv"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/posterior"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
)

// wide priors of configs/ (normal(0, 1000) on b, half-t(3, 0, 50) on SDs).
const widePriors = "[priors]\nb = \"normal(0, 1000)\"\nIntercept = \"normal(0, 1000)\"\nsigma = \"student_t(3, 0, 50)\"\nsd = \"student_t(3, 0, 50)\"\n"

// predRun describes a run made for a test.
type predRun struct {
	cfg, out string // config path and output dir
}

// makeRun writes a config for data (absolute path) and formula into a new
// temp dir and runs "lmmbayes run" on it.
func makeRun(t *testing.T, data, formula string, factors []string, priors, sampler, output string) predRun {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("[data]\npath = " + strconv.Quote(data) + "\n")
	if len(factors) > 0 {
		b.WriteString("factors = [\"" + strings.Join(factors, "\", \"") + "\"]\n")
	}
	b.WriteString("[model]\nformula = " + strconv.Quote(formula) + "\n")
	b.WriteString(priors)
	b.WriteString("[sampler]\n" + sampler + "\n")
	b.WriteString("[output]\ndir = \"out\"\n" + output + "\n")
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "run", cfg, "--quiet"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	return predRun{cfg: cfg, out: filepath.Join(dir, "out")}
}

// testdataPath returns the absolute path of testdata/name.
func testdataPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// readCSVT reads a CSV file into its header and records.
func readCSVT(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s: empty", path)
	}
	return recs[0], recs[1:]
}

// colT returns the float values of column name.
func colT(t *testing.T, header []string, recs [][]string, name string) []float64 {
	t.Helper()
	j := slices.Index(header, name)
	if j < 0 {
		t.Fatalf("no column %q in %v", name, header)
	}
	out := make([]float64, len(recs))
	for i, r := range recs {
		v, err := strconv.ParseFloat(r[j], 64)
		if err != nil {
			t.Fatalf("row %d column %s: %v", i+1, name, err)
		}
		out[i] = v
	}
	return out
}

// splitSleepstudy writes the sleepstudy rows of the held-out subjects to
// test.csv and the rest to train.csv in dir.
func splitSleepstudy(t *testing.T, dir string, held []string) (train, test string) {
	t.Helper()
	raw, err := os.ReadFile(testdataPath(t, "sleepstudy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var tr, te []string
	tr, te = append(tr, lines[0]), append(te, lines[0])
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if slices.Contains(held, strings.Trim(f[2], `"`)) {
			te = append(te, l)
		} else {
			tr = append(tr, l)
		}
	}
	train, test = filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	os.WriteFile(train, []byte(strings.Join(tr, "\n")+"\n"), 0o644)
	os.WriteFile(test, []byte(strings.Join(te, "\n")+"\n"), 0o644)
	return train, test
}

// loadDesignT builds the design of a config.
func loadDesignT(t *testing.T, cfgPath string) (*config, *model.Design) {
	t.Helper()
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := buildDesign(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, d
}

// TestPredictHeldOutSubjects trains on 14 sleepstudy subjects and
// predicts the 4 held out (new levels) at all 10 days, against the REML
// plug-in interval of the same 14 subjects.
func TestPredictHeldOutSubjects(t *testing.T) {
	held := []string{"309", "333", "350", "371"}
	dir := t.TempDir()
	train, test := splitSleepstudy(t, dir, held)
	r := makeRun(t, train, "Reaction ~ Days + (Days | Subject)", []string{"Subject"},
		widePriors+"cor = \"lkj(2)\"\n", "chains = 4\nwarmup = 500\ndraws = 1000\nseed = 7", "")
	// Held-out rows plus the rows of one training subject (308).
	raw, _ := os.ReadFile(train)
	trainLines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	testRaw, _ := os.ReadFile(test)
	newdata := filepath.Join(dir, "new.csv")
	content := strings.TrimSpace(string(testRaw)) + "\n" + strings.Join(trainLines[1:11], "\n") + "\n"
	os.WriteFile(newdata, []byte(content), 0o644)

	pred := filepath.Join(dir, "pred.csv")
	popu := filepath.Join(dir, "pop.csv")
	if code, _, stderr := runCLI(t, "predict", r.cfg, "--newdata", newdata, "--out", pred); code != 0 {
		t.Fatalf("predict: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "predict", r.cfg, "--newdata", newdata, "--out", popu, "--re-form", "NA"); code != 0 {
		t.Fatalf("predict --re-form NA: exit %d: %s", code, stderr)
	}
	h, recs := readCSVT(t, pred)
	if want := append([]string{"Reaction", "Days", "Subject"}, posterior.PredColumns...); !slices.Equal(h, want) {
		t.Fatalf("header %v, want %v", h, want)
	}
	hp, recsP := readCSVT(t, popu)
	y := colT(t, h, recs, "Reaction")
	days := colT(t, h, recs, "Days")
	lo, hi := colT(t, h, recs, "pred_q2.5"), colT(t, h, recs, "pred_q97.5")
	em, esd := colT(t, h, recs, "epred_mean"), colT(t, h, recs, "epred_sd")
	elo, ehi := colT(t, h, recs, "epred_q2.5"), colT(t, h, recs, "epred_q97.5")
	pm := colT(t, hp, recsP, "epred_mean")
	nHeld := 40
	if len(recs) != nHeld+10 {
		t.Fatalf("%d prediction rows, want 50", len(recs))
	}

	// REML plug-in on the same 14 subjects.
	_, d := loadDesignT(t, r.cfg)
	fit, err := model.Fit(d, model.FitOptions{REML: true})
	if err != nil {
		t.Fatal(err)
	}
	var v0, v1, c01 float64
	for _, vc := range fit.VarCorr {
		switch {
		case vc.Group == "Subject" && vc.Var1 == "(Intercept)" && vc.Var2 == "":
			v0 = vc.Vcov
		case vc.Group == "Subject" && vc.Var1 == "Days" && vc.Var2 == "":
			v1 = vc.Vcov
		case vc.Group == "Subject" && vc.Var2 != "":
			c01 = vc.Vcov
		}
	}
	V := fit.Vcov
	covered := 0
	var width, plugWidth float64
	for i := range nHeld {
		x := days[i]
		se := math.Sqrt(v0 + 2*x*c01 + x*x*v1 + fit.Sigma*fit.Sigma + V[0][0] + 2*x*V[0][1] + x*x*V[1][1])
		plugWidth += 2 * 1.96 * se
		width += hi[i] - lo[i]
		if y[i] >= lo[i] && y[i] <= hi[i] {
			covered++
		}
	}
	width /= float64(nHeld)
	plugWidth /= float64(nHeld)
	t.Logf("held-out coverage %d/%d, mean width %.1f, plug-in %.1f (ratio %.3f)", covered, nHeld, width, plugWidth, width/plugWidth)
	if covered < 36 {
		t.Errorf("95%% predictive intervals cover %d of %d held-out observations, want ≥ 36", covered, nHeld)
	}
	if width > 1.25*plugWidth {
		t.Errorf("mean interval width %.2f > 1.25 × plug-in %.2f", width, plugWidth)
	}
	// A new subject's epred mean is the population line: they differ by
	// the Monte Carlo mean of z·b_new, independent draws with SD < epred_sd.
	s := 4000.0
	for i := range nHeld {
		if tol := 4 * esd[i] / math.Sqrt(s); math.Abs(em[i]-pm[i]) > tol {
			t.Errorf("row %d (new subject, day %g): epred mean %.3f, population %.3f (tolerance %.3f)", i+1, days[i], em[i], pm[i], tol)
		}
	}
	// Its epred interval is wider than that of a seen subject on the same day.
	for i := range 10 {
		j := nHeld + i // subject 308, day i
		if days[j] != days[i] {
			t.Fatalf("row layout: day %g vs %g", days[j], days[i])
		}
		if ehi[i]-elo[i] <= ehi[j]-elo[j] {
			t.Errorf("day %g: new-subject epred interval %.2f not wider than seen subject's %.2f", days[i], ehi[i]-elo[i], ehi[j]-elo[j])
		}
	}
}

// TestPredictIdentities checks, draw by draw against the draws files,
// that --re-form NA on the training rows gives exactly Xβ, and that seen
// levels give xβ + zb; and that pred − epred has SD σ across rows.
func TestPredictIdentities(t *testing.T) {
	r := makeRun(t, testdataPath(t, "sleepstudy.csv"), "Reaction ~ Days + (Days | Subject)", []string{"Subject"},
		widePriors+"cor = \"lkj(2)\"\n", "chains = 2\nwarmup = 200\ndraws = 100\nseed = 3", "")
	cfg, d := loadDesignT(t, r.cfg)
	post, err := draws.Read(cfg.resolve(cfg.Output.Dir), d, draws.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nd := posterior.TrainingRows(d, 0, d.N)
	pop, err := posterior.Predict(d, nd, post, model.PredictOptions{Population: true}, 1, posterior.PredictStream)
	if err != nil {
		t.Fatal(err)
	}
	full, err := posterior.Predict(d, nd, post, model.PredictOptions{}, 1, posterior.PredictStream)
	if err != nil {
		t.Fatal(err)
	}
	n := post.Names
	col := func(name string) int { return slices.Index(n.Columns, name) }
	ib0, ib1 := col("b_Intercept"), col("b_Days")
	for k := range post.NumDraws() {
		row := post.Row(k)
		for i := range d.N {
			xb := 0.0
			xb += d.X.At(i, 0) * row[ib0]
			xb += d.X.At(i, 1) * row[ib1]
			if got := pop.Epred[i*pop.S+k]; got != xb {
				t.Fatalf("draw %d row %d: re-form NA epred %v, Xβ %v", k, i, got, xb)
			}
			tm := d.Terms[0]
			j := int(tm.Refs[i]) + 1
			zb := tm.Z[i]*row[col("r_Subject."+strconv.Itoa(j)+".1")] + tm.Z[d.N+i]*row[col("r_Subject."+strconv.Itoa(j)+".2")]
			want := xb + zb
			if got := full.Epred[i*full.S+k]; math.Abs(got-want) > 1e-12*math.Abs(want) {
				t.Fatalf("draw %d row %d: epred %v, xβ + zb %v", k, i, got, want)
			}
		}
	}
	// pred − epred is N(0, σ²): its mean square over rows and draws
	// relative to σ² has SD ≈ √(2/(N·S)) ≈ 0.007.
	var ss float64
	for k := range post.NumDraws() {
		sig := post.Row(k)[col("sigma")]
		for i := range d.N {
			e := (full.Pred[i*full.S+k] - full.Epred[i*full.S+k]) / sig
			ss += e * e
		}
	}
	ms := ss / float64(d.N*post.NumDraws())
	if math.Abs(ms-1) > 5*math.Sqrt(2/float64(d.N*post.NumDraws())) {
		t.Errorf("mean square of standardised noise %.4f, want 1", ms)
	}
}

// TestPredictReproducibleAndDraws checks that the same seed gives an
// identical file, another seed another file, and the --draws-out layout.
func TestPredictReproducibleAndDraws(t *testing.T) {
	r := makeRun(t, testdataPath(t, "sleepstudy.csv"), "Reaction ~ Days + (Days | Subject)", []string{"Subject"},
		widePriors+"cor = \"lkj(2)\"\n", "chains = 2\nwarmup = 100\ndraws = 50\nseed = 5", "")
	dir := t.TempDir()
	nd := filepath.Join(dir, "new.csv")
	os.WriteFile(nd, []byte("Days,Subject\n0,308\n5,308\n3,999\n9,999\n"), 0o644)
	get := func(name string, extra ...string) string {
		out := filepath.Join(dir, name)
		args := append([]string{"predict", r.cfg, "--newdata", nd, "--out", out}, extra...)
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("predict %v: exit %d: %s", extra, code, stderr)
		}
		return readFileT(t, out)
	}
	a := get("a.csv", "--seed", "11", "--draws-out", filepath.Join(dir, "draws.csv"))
	b := get("b.csv", "--seed", "11")
	c := get("c.csv", "--seed", "12")
	def1, def2 := get("d1.csv"), get("d2.csv")
	if a != b {
		t.Error("same seed, different predictions")
	}
	if a == c {
		t.Error("different seeds, identical predictions")
	}
	if def1 != def2 {
		t.Error("default seed (the run's) not reproducible")
	}
	if def1 == a {
		t.Error("default seed should be the run's (5), not 11")
	}
	h, recs := readCSVT(t, filepath.Join(dir, "draws.csv"))
	if !slices.Equal(h, []string{"pred_1", "pred_2", "pred_3", "pred_4"}) || len(recs) != 100 {
		t.Fatalf("draws-out: header %v, %d rows; want pred_1..pred_4 and 100 rows", h, len(recs))
	}
	// The summary columns are the summaries of those draws.
	ph, prec := readCSVT(t, filepath.Join(dir, "a.csv"))
	for i := range 4 {
		x := colT(t, h, recs, "pred_"+strconv.Itoa(i+1))
		var m float64
		for _, v := range x {
			m += v
		}
		m /= float64(len(x))
		if got := colT(t, ph, prec, "pred_mean")[i]; math.Abs(got-m) > 1e-9*math.Abs(m) {
			t.Errorf("row %d: pred_mean %v, mean of draws %v", i+1, got, m)
		}
	}
	// The response is not needed: the output keeps the given columns.
	if !slices.Equal(ph[:2], []string{"Days", "Subject"}) {
		t.Errorf("header starts %v", ph[:2])
	}
}

// TestPredictCoef checks coef.csv against b + r from the draws files.
func TestPredictCoef(t *testing.T) {
	r := makeRun(t, testdataPath(t, "sleepstudy.csv"), "Reaction ~ Days + (Days | Subject)", []string{"Subject"},
		widePriors+"cor = \"lkj(2)\"\n", "chains = 2\nwarmup = 100\ndraws = 50\nseed = 5", "")
	code, stdout, stderr := runCLI(t, "predict", r.cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "Subject") || !strings.Contains(stdout, "q97.5") {
		t.Errorf("printed coef table lacks its columns:\n%s", stdout)
	}
	h, recs := readCSVT(t, filepath.Join(r.out, "coef.csv"))
	if !slices.Equal(h, posterior.CoefColumns) || len(recs) != 36 {
		t.Fatalf("coef.csv: header %v, %d rows", h, len(recs))
	}
	cfg, d := loadDesignT(t, r.cfg)
	post, err := draws.Read(cfg.resolve(cfg.Output.Dir), d, draws.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	means := colT(t, h, recs, "mean")
	for i, rec := range recs {
		j := slices.Index(d.Terms[0].Levels, rec[1]) + 1
		e, fixed := 1, "b_Intercept"
		if rec[2] == "Days" {
			e, fixed = 2, "b_Days"
		}
		var m float64
		bx, rx := post.Column(fixed), post.Column("r_Subject."+strconv.Itoa(j)+"."+strconv.Itoa(e))
		for c := range bx {
			for k := range bx[c] {
				m += bx[c][k] + rx[c][k]
			}
		}
		m /= float64(post.NumDraws())
		if math.Abs(means[i]-m) > 1e-9*math.Abs(m) {
			t.Errorf("%s %s: coef mean %v, b + r %v", rec[1], rec[2], means[i], m)
		}
	}
}

// TestPredictBadInput checks each bad input: exit 2, a message naming
// the item, and no predictions file.
func TestPredictBadInput(t *testing.T) {
	r := makeRun(t, testdataPath(t, "politeness.csv"), "frequency ~ attitude + gender + (1|subject) + (1|scenario)", []string{"scenario"},
		widePriors, "chains = 1\nwarmup = 50\ndraws = 20\nseed = 1", "")
	noRE := makeRun(t, testdataPath(t, "politeness.csv"), "frequency ~ attitude + gender + (1|subject) + (1|scenario)", []string{"scenario"},
		widePriors, "chains = 1\nwarmup = 50\ndraws = 20\nseed = 1", "random_effects = false")
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	good := write("good.csv", "subject,gender,scenario,attitude\nF1,F,1,pol\nM9,M,2,inf\n")
	noRun := filepath.Join(dir, "norun.toml")
	cfgText := readFileT(t, r.cfg)
	os.WriteFile(noRun, []byte(strings.Replace(cfgText, `dir = "out"`, `dir = "empty_out"`, 1)), 0o644)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unseen fixed level", []string{r.cfg, "--newdata", write("lev.csv", "subject,gender,scenario,attitude\nF1,F,1,neutral\n")}, []string{"lev.csv:2", `"attitude"`, `"neutral"`}},
		{"missing predictor", []string{r.cfg, "--newdata", write("nog.csv", "subject,scenario,attitude\nF1,1,pol\n")}, []string{"nog.csv", `"gender"`}},
		{"missing grouping column", []string{r.cfg, "--newdata", write("nos.csv", "gender,scenario,attitude\nF,1,pol\n")}, []string{"nos.csv", `"subject"`}},
		{"NA predictor", []string{r.cfg, "--newdata", write("na.csv", "subject,gender,scenario,attitude\nF1,NA,1,pol\n")}, []string{"na.csv:2", `"gender"`, "NA"}},
		{"unknown re-form", []string{r.cfg, "--newdata", good, "--re-form", "foo"}, []string{"--re-form", `"foo"`}},
		{"unknown new-levels", []string{r.cfg, "--newdata", good, "--new-levels", "drop"}, []string{"--new-levels", `"drop"`}},
		{"newdata missing", []string{r.cfg, "--newdata", filepath.Join(dir, "nope.csv")}, []string{"--newdata", "nope.csv"}},
		{"no run", []string{noRun, "--newdata", good}, []string{"empty_out", "no run"}},
		{"refused new level", []string{r.cfg, "--newdata", good, "--new-levels", "error"}, []string{`"subject"`, "M9"}},
		{"no r_ columns", []string{noRE.cfg, "--newdata", good}, []string{"random_effects = false", "--re-form NA"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"predict"}, c.args...)...)
			if code != exitInput {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr)
			}
			first := strings.SplitN(stderr, "\n", 2)[0]
			t.Log(first)
			for _, w := range c.want {
				if !strings.Contains(first, w) {
					t.Errorf("message %q lacks %q", first, w)
				}
			}
			for _, out := range []string{r.out, noRE.out} {
				if _, err := os.Stat(filepath.Join(out, "predictions.csv")); err == nil {
					t.Errorf("predictions.csv written in %s", out)
				}
			}
		})
	}
	// Population predictions do work without r_ columns.
	if code, _, stderr := runCLI(t, "predict", noRE.cfg, "--newdata", good, "--re-form", "NA"); code != 0 {
		t.Errorf("--re-form NA on a run without r_ columns: exit %d: %s", code, stderr)
	}
}

// TestPredictReadsOnlyNeededLevels checks that predict's draws, read with
// only the r_ columns of the levels the new rows refer to, give the same
// predictive draws as the whole draws, and that those columns are all
// that was read.
func TestPredictReadsOnlyNeededLevels(t *testing.T) {
	r := makeRun(t, testdataPath(t, "sleepstudy.csv"), "Reaction ~ Days + (Days | Subject)", []string{"Subject"},
		widePriors+"cor = \"lkj(2)\"\n", "chains = 2\nwarmup = 100\ndraws = 50\nseed = 5", "")
	cfg, d := loadDesignT(t, r.cfg)
	dir := t.TempDir()
	path := filepath.Join(dir, "new.csv")
	os.WriteFile(path, []byte("Days,Subject\n0,308\n5,308\n3,999\n9,335\n"), 0o644)
	fr, err := readNewFrame(cfg, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	nd, err := d.NewData(fr)
	if err != nil {
		t.Fatal(err)
	}
	all, err := draws.Read(r.out, d, draws.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	some, err := draws.Read(r.out, d, draws.ReadOptions{KeepRE: posterior.LevelsIn(nd)})
	if err != nil {
		t.Fatal(err)
	}
	var re []string
	for _, rc := range some.Names.RE {
		re = append(re, rc.Summary)
	}
	want := []string{"r_Subject[308,Intercept]", "r_Subject[335,Intercept]", "r_Subject[308,Days]", "r_Subject[335,Days]"}
	if !slices.Equal(re, want) || len(some.Names.Columns) != len(all.Names.Columns)-36+4 {
		t.Fatalf("read r_ columns %v (%d columns), want %v", re, len(some.Names.Columns), want)
	}
	a, err := posterior.Predict(d, nd, all, model.PredictOptions{}, 3, posterior.PredictStream)
	if err != nil {
		t.Fatal(err)
	}
	b, err := posterior.Predict(d, nd, some, model.PredictOptions{}, 3, posterior.PredictStream)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Epred, b.Epred) || !slices.Equal(a.Pred, b.Pred) {
		t.Error("predictions from the needed columns differ from those from every column")
	}
}

// TestPredictFromRunDirAlone: `predict --run DIR` without a config file
// takes the formula, family and levels from run.json and gives the same
// predictions as with the run's config.
func TestPredictFromRunDirAlone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, stderr := runIn(t, dir); code != 0 {
		t.Fatalf("run: %s", stderr)
	}
	nd := filepath.Join(t.TempDir(), "new.csv")
	if err := os.WriteFile(nd, []byte("Days,Subject\n0,308\n5,308\n3,999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join("..", "..", "configs", "sleepstudy.toml")
	a, b := filepath.Join(t.TempDir(), "a.csv"), filepath.Join(t.TempDir(), "b.csv")
	if code, _, stderr := runCLI(t, "predict", cfg, "--run", dir, "--newdata", nd, "--out", a); code != 0 {
		t.Fatalf("predict with config: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "predict", "--run", dir, "--newdata", nd, "--out", b); code != 0 {
		t.Fatalf("predict --run alone: exit %d: %s", code, stderr)
	}
	ra, _ := os.ReadFile(a)
	rb, _ := os.ReadFile(b)
	if len(ra) == 0 || !bytes.Equal(ra, rb) {
		t.Errorf("predictions differ:\n%s\n%s", ra, rb)
	}
	// A directory given as the config names the flag to use.
	code, _, stderr := runCLI(t, "predict", dir, "--newdata", nd)
	if code != 2 || !strings.Contains(stderr, "give it with --run") {
		t.Errorf("run dir as config: exit %d: %s", code, stderr)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/lmmbayes/lmmbayes/model"
)

// copySleepstudy writes sleepstudy.csv into a new temp dir and returns
// its path.
func copySleepstudy(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(testdataPath(t, "sleepstudy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "sleep.csv")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// renameSubject rewrites the data file with subject from renamed to to.
func renameSubject(t *testing.T, path, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	n := 0
	for i, l := range lines {
		f := strings.Split(l, ",")
		if len(f) == 3 && strings.Trim(f[2], `"`) == from {
			f[2] = to
			lines[i] = strings.Join(f, ",")
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no subject %s in %s", from, path)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readBytesT(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestPredictUsesStoredLevels is issue 13, defect A: predict codes the
// new rows with the levels the run recorded in run.json, not with the
// training CSV as it is now. Renaming a subject in the CSV (which moved
// every seen subject onto another's effects), and then moving the CSV
// away, leave the predictions and coef.csv byte for byte as they were.
func TestPredictUsesStoredLevels(t *testing.T) {
	data := copySleepstudy(t)
	r := makeRun(t, data, "Reaction ~ Days + (Days | Subject)", []string{"Subject"},
		widePriors, "chains = 2\nwarmup = 100\ndraws = 50\nseed = 11", "ml_fit = false\nplots = false")
	var meta struct {
		Levels *struct {
			Groups []struct{ Levels []string }
		}
		DataFile *struct {
			Name        string
			Size        int64
			SHA256      string
			RowsRead    int `json:"rows_read"`
			RowsDropped int `json:"rows_dropped"`
		} `json:"data_file"`
	}
	if err := json.Unmarshal(readBytesT(t, filepath.Join(r.out, "run.json")), &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Levels == nil || len(meta.Levels.Groups) != 1 || len(meta.Levels.Groups[0].Levels) != 18 || meta.Levels.Groups[0].Levels[0] != "308" {
		t.Errorf("run.json levels: %+v", meta.Levels)
	}
	if df := meta.DataFile; df == nil || df.Name != "sleep.csv" || df.RowsRead != 180 || df.RowsDropped != 0 || len(df.SHA256) != 64 || df.Size != int64(len(readBytesT(t, data))) {
		t.Errorf("run.json data_file: %+v", meta.DataFile)
	}
	nd := filepath.Join(t.TempDir(), "new.csv")
	os.WriteFile(nd, []byte("Days,Subject\n0,308\n9,308\n4,335\n2,372\n5,999\n"), 0o644)
	predict := func(out string) []byte {
		t.Helper()
		code, _, stderr := runCLI(t, "predict", r.cfg, "--run", r.out, "--newdata", nd, "--out", out)
		if code != 0 {
			t.Fatalf("predict: exit %d: %s", code, stderr)
		}
		if stderr != "" {
			t.Errorf("predict: stderr %q", stderr)
		}
		return readBytesT(t, out)
	}
	coef := func() []byte {
		t.Helper()
		if code, _, stderr := runCLI(t, "predict", r.cfg, "--run", r.out); code != 0 {
			t.Fatalf("predict (coef): exit %d: %s", code, stderr)
		}
		return readBytesT(t, filepath.Join(r.out, "coef.csv"))
	}
	tmp := t.TempDir()
	before, coefBefore := predict(filepath.Join(tmp, "p1.csv")), coef()

	// Subject 308 renamed 400: today's index rebuild shifts every subject.
	renameSubject(t, data, "308", "400")
	if after := predict(filepath.Join(tmp, "p2.csv")); !bytes.Equal(after, before) {
		t.Errorf("a renamed level in the training CSV changed the predictions:\n%s\nwant\n%s", after, before)
	}
	if c := coef(); !bytes.Equal(c, coefBefore) {
		t.Errorf("a renamed level in the training CSV changed coef.csv")
	}

	// The training CSV moved away: predict does not need it.
	if err := os.Rename(data, data+".moved"); err != nil {
		t.Fatal(err)
	}
	if after := predict(filepath.Join(tmp, "p3.csv")); !bytes.Equal(after, before) {
		t.Errorf("predictions without the training CSV differ:\n%s\nwant\n%s", after, before)
	}
	if c := coef(); !bytes.Equal(c, coefBefore) {
		t.Errorf("coef.csv without the training CSV differs")
	}
}

// TestChangedDataRefused is issue 13, defect A: compare and the PPC plot,
// which read the training data, refuse a data file whose size or SHA-256
// differ from those the run recorded (exit 2, one line naming the file).
func TestChangedDataRefused(t *testing.T) {
	data := copySleepstudy(t)
	r := makeRun(t, data, "Reaction ~ Days + (Days | Subject)", []string{"Subject"},
		widePriors, "chains = 2\nwarmup = 100\ndraws = 50\nseed = 11", "plots = false")
	if code, _, stderr := runCLI(t, "compare", r.cfg); code != 0 || stderr != "" {
		t.Fatalf("compare on the unchanged data: exit %d: %s", code, stderr)
	}
	renameSubject(t, data, "308", "400")
	for _, args := range [][]string{{"compare", r.cfg}, {"compare", r.cfg, "--run", r.out}, {"plot", r.out, "--out", t.TempDir()}} {
		code, stdout, stderr := runCLI(t, args...)
		lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], data) || !strings.Contains(lines[0], "changed since the run") {
			t.Errorf("%s on changed data: exit %d, stdout %q, stderr %q; want exit 2 and one line naming %s", args[0], code, stdout, stderr, data)
		}
	}
}

// TestOldRunDirWithoutLevels: a run dir whose run.json records no levels
// and no data fingerprint (made before they were recorded) is still
// read: predict rebuilds the levels from the data file and compare runs
// unchecked, each with a warning on stderr.
func TestOldRunDirWithoutLevels(t *testing.T) {
	data := copySleepstudy(t)
	r := makeRun(t, data, "Reaction ~ Days + (Days | Subject)", []string{"Subject"},
		widePriors, "chains = 1\nwarmup = 100\ndraws = 50\nseed = 11", "plots = false")
	nd := filepath.Join(t.TempDir(), "new.csv")
	os.WriteFile(nd, []byte("Days,Subject\n0,308\n5,999\n"), 0o644)
	out1 := filepath.Join(t.TempDir(), "p1.csv")
	if code, _, stderr := runCLI(t, "predict", r.cfg, "--newdata", nd, "--out", out1); code != 0 {
		t.Fatalf("predict: exit %d: %s", code, stderr)
	}
	path := filepath.Join(r.out, "run.json")
	var m map[string]json.RawMessage
	if err := json.Unmarshal(readBytesT(t, path), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "levels")
	delete(m, "data_file")
	delete(m, "categorical_columns")
	raw, _ := json.Marshal(m)
	os.WriteFile(path, raw, 0o644)

	out2 := filepath.Join(t.TempDir(), "p2.csv")
	code, _, stderr := runCLI(t, "predict", r.cfg, "--newdata", nd, "--out", out2)
	if code != 0 || !strings.Contains(stderr, "warning") || !strings.Contains(stderr, "records no factor levels") {
		t.Errorf("predict on an old run dir: exit %d, stderr %q; want exit 0 and a warning", code, stderr)
	}
	if !bytes.Equal(readBytesT(t, out1), readBytesT(t, out2)) {
		t.Errorf("predict on an old run dir with unchanged data gives other predictions")
	}
	code, _, stderr = runCLI(t, "compare", r.cfg)
	if code != 0 || !strings.Contains(stderr, "records no fingerprint") {
		t.Errorf("compare on an old run dir: exit %d, stderr %q; want exit 0 and a warning", code, stderr)
	}
}

// TestLevelMapCodesAsTraining: a design rebuilt from its level map as
// run.json stores it (model.FromLevels) codes the training rows exactly
// as the training design does, for numeric and categorical grouping
// factors, a reference level, factors in random terms and an a:b group.
func TestLevelMapCodesAsTraining(t *testing.T) {
	cases := []struct {
		data, formula string
		ref           map[string]string
	}{
		{"sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", map[string]string{"Subject": "330"}},
		{"design/cake.csv", "angle ~ recipe * temp + (1 | recipe:replicate) + (0 + temp | replicate)", nil},
		{"design/mixed.csv", "y ~ x + x:f + a*b + (1 + x | g) + (0 + b | h)", nil},
		{"design/mixed.csv", "y ~ x + f + (1 | g) + (1 | a:b)", nil},
	}
	for _, c := range cases {
		raw := readBytesT(t, testdataPath(t, c.data))
		var keep []string
		for _, l := range strings.Split(string(raw), "\n") {
			if !strings.Contains(l, "NA") { // new data may hold no NA
				keep = append(keep, l)
			}
		}
		fr, err := model.ReadFrame(strings.NewReader(strings.Join(keep, "\n")), c.data, model.FrameOptions{})
		if err != nil {
			t.Fatal(err)
		}
		f, err := model.ParseFormula(c.formula)
		if err != nil {
			t.Fatal(err)
		}
		d, err := model.Build(f, fr, model.BuildOptions{Reference: c.ref})
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(d.LevelMap())
		if err != nil {
			t.Fatal(err)
		}
		var lm model.LevelMap
		if err := json.Unmarshal(js, &lm); err != nil {
			t.Fatal(err)
		}
		d2, err := model.FromLevels(f, &lm)
		if err != nil {
			t.Fatalf("%s: FromLevels: %v", c.formula, err)
		}
		if !slices.Equal(d2.XNames, d.XNames) || len(d2.Terms) != len(d.Terms) {
			t.Fatalf("%s: columns %v, want %v", c.formula, d2.XNames, d.XNames)
		}
		nd, err := d.NewData(fr)
		if err != nil {
			t.Fatal(err)
		}
		nd2, err := d2.NewData(fr)
		if err != nil {
			t.Fatalf("%s: NewData on the stored levels: %v", c.formula, err)
		}
		if !mat.Equal(nd.X, nd2.X) {
			t.Errorf("%s: X differs", c.formula)
		}
		for k, tt := range d.Terms {
			t2 := d2.Terms[k]
			if tt.Group != t2.Group || !slices.Equal(tt.Levels, t2.Levels) || !slices.Equal(tt.Names, t2.Names) || tt.K != t2.K || tt.Correlated != t2.Correlated {
				t.Errorf("%s: term %d differs: %s %v, want %s %v", c.formula, k, t2.Group, t2.Levels, tt.Group, tt.Levels)
			}
			if !slices.Equal(nd.Terms[k].Refs, nd2.Terms[k].Refs) || !slices.Equal(nd.Terms[k].Z, nd2.Terms[k].Z) || len(nd2.Terms[k].NewLevels) != 0 {
				t.Errorf("%s: term %s codes rows differently", c.formula, tt.Group)
			}
		}
	}
}

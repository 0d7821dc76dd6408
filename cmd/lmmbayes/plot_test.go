package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"github.com/lmmbayes/lmmbayes/draws"
	"html"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/plots"
)

// plotRunDir makes a small sleepstudy run (4 chains, 200 warmup, 200
// draws, seed fixed by the config) in a temporary dir and returns the
// dir; it takes about half a second.
func plotRunDir(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "run")
	var so, se bytes.Buffer
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &so, stderr: &se}
	if code := dispatch(e, []string{"run", "../../configs/sleepstudy.toml", "--out", out, "--draws", "200", "--warmup", "200", "--quiet"}); code != 0 {
		t.Fatalf("run failed: %s", se.String())
	}
	return out
}

// runPlot runs cmdPlot and maps its error to an exit code as dispatch
// does.
func runPlot(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	return exitCode(e, cmdPlot(e, args)), out.String(), errb.String()
}

// checkPNG decodes a PNG file and checks its pixel size.
func checkPNG(t *testing.T, path string, minW, minH int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() < minW || b.Dy() < minH || b.Dx() > 4000 || b.Dy() > 4000 {
		t.Errorf("%s: %d×%d pixels", path, b.Dx(), b.Dy())
	}
}

// checkSVGFile parses an SVG file as XML with an <svg> root holding text.
func checkSVGFile(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	root, texts := "", 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "text" {
				texts++
			}
		}
	}
	if root != "svg" || texts < 5 {
		t.Errorf("%s: root %q with %d text elements", path, root, texts)
	}
}

// TestPlotWritesEveryKind plots the run in both formats: every kind is
// written, PNGs decode at a sane size, SVGs parse.
func TestPlotWritesEveryKind(t *testing.T) {
	src := plotRunDir(t)
	want := map[string][2]int{ // file → minimum pixel size
		"trace_1": {1000, 500}, "density_1": {1000, 500}, "rank_1": {1000, 500},
		"ppc_density": {600, 400}, "caterpillar_Subject_Intercept": {500, 300}, "caterpillar_Subject_Days": {500, 300},
	}
	for _, f := range []string{"png", "svg"} {
		out := filepath.Join(t.TempDir(), "plots")
		code, stdout, stderr := runPlot(t, src, "--format", f, "--out", out)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, stderr)
		}
		ents, _ := os.ReadDir(out)
		if len(ents) != len(want) {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Errorf("%s: wrote %v, want the %d files %v", f, names, len(want), want)
		}
		for name, size := range want {
			path := filepath.Join(out, name+"."+f)
			if !strings.Contains(stdout, path) {
				t.Errorf("stdout does not list %s", path)
			}
			if f == "png" {
				checkPNG(t, path, size[0], size[1])
			} else {
				checkSVGFile(t, path)
			}
		}
		if _, err := os.Stat(filepath.Join(src, "report.html")); err == nil {
			t.Errorf("report.html written without --report")
		}
	}
}

// TestPlotVars checks --vars: it matches r_ columns by their summary
// names, and more than 9 variables take several pages.
func TestPlotVars(t *testing.T) {
	src := plotRunDir(t)
	for _, c := range []struct {
		re    string
		pages int
	}{
		{`^r_Subject\[30[89],`, 1}, // 4 variables: 308 and 309, Intercept and Days
		{`^r_.*Intercept`, 2},      // 18 variables
		{`^sigma$`, 1},
	} {
		out := filepath.Join(t.TempDir(), "p")
		if code, _, stderr := runPlot(t, src, "--vars", c.re, "--out", out); code != 0 {
			t.Fatalf("--vars %s: exit %d: %s", c.re, code, stderr)
		}
		for k := 1; k <= c.pages+1; k++ {
			_, err := os.Stat(filepath.Join(out, "trace_"+string(rune('0'+k))+".png"))
			if exists := err == nil; exists != (k <= c.pages) {
				t.Errorf("--vars %s: trace_%d.png exists = %v, want %d pages", c.re, k, exists, c.pages)
			}
		}
	}
}

// TestPlotReport checks report.html: self-contained (no external
// resource), every plot embedded and decodable, the config, priors,
// summary and ML comparison present.
func TestPlotReport(t *testing.T) {
	dir := plotRunDir(t)
	if code, _, stderr := runPlot(t, dir, "--report"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(raw)
	text := html.UnescapeString(page)
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:|//)|<script|<link|@import|url\(`).FindString(page); m != "" {
		t.Errorf("report refers outside itself: %q", m)
	}
	imgs := regexp.MustCompile(`src="data:image/png;base64,([A-Za-z0-9+/=]+)"`).FindAllStringSubmatch(page, -1)
	if len(imgs) != 6 {
		t.Errorf("%d embedded PNGs, want 6 (trace, density, rank, ppc, 2 caterpillars)", len(imgs))
	}
	for i, m := range imgs {
		b, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatalf("image %d: %v", i+1, err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("image %d: %v", i+1, err)
		}
	}
	for _, s := range []string{
		"Reaction ~ Days + (Days | Subject)",                                              // formula
		"[sampler]",                                                                       // the config's text
		"student_t(3, 0, 50)",                                                             // a prior
		"<td>b_Intercept</td>", "<td>cor_Subject__Intercept__Days</td>", "<td>sigma</td>", // summary rows
		"Random effects summary", "r_Subject[308,Intercept]",
		"Posterior against the ML fit", "Posterior predictive statistics",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("report lacks %q", s)
		}
	}
	// The plots of the report are written too.
	if _, err := os.Stat(filepath.Join(dir, "plots", "trace_1.png")); err != nil {
		t.Error(err)
	}
}

// TestWriteReportFromRun calls writeReport as run does, with the design
// and draws in memory, and without them (read back from the dir): the
// two reports embed the same images.
func TestWriteReportFromRun(t *testing.T) {
	a, b := plotRunDir(t), plotRunDir(t)
	cfg, err := loadConfig("../../configs/sleepstudy.toml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := buildDesign(cfg)
	if err != nil {
		t.Fatal(err)
	}
	post, err := draws.Read(a, d, draws.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeReport(a, d, post); err != nil {
		t.Fatal(err)
	}
	if err := writeReport(b, nil, nil); err != nil {
		t.Fatal(err)
	}
	imgRE := regexp.MustCompile(`src="data:[^"]+"`)
	ra, _ := os.ReadFile(filepath.Join(a, "report.html"))
	rb, _ := os.ReadFile(filepath.Join(b, "report.html"))
	for _, r := range [][]byte{ra, rb} {
		if !strings.Contains(html.UnescapeString(string(r)), "[sampler]") {
			t.Error("report lacks the config's text")
		}
	}
	ia, ib := imgRE.FindAllString(string(ra), -1), imgRE.FindAllString(string(rb), -1)
	if len(ia) != 6 || len(ia) != len(ib) {
		t.Fatalf("%d and %d images", len(ia), len(ib))
	}
	for i := range ia {
		if ia[i] != ib[i] {
			t.Errorf("image %d differs between the in-memory and the read-back report", i+1)
		}
	}
}

// TestSummaryWarnings checks the highlighting rule on a synthetic
// summary: R-hat > 1.01 and ESS < 400 are flagged, the boundary values
// are not.
func TestSummaryWarnings(t *testing.T) {
	r := &plotRun{
		sumHeader: []string{"variable", "mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk", "ess_tail", "mcse_mean"},
		summary: [][]string{
			{"b_x", "1", "1", "0", "2", "1.01", "400", "400", "0.1"},
			{"b_y", "1", "1", "0", "2", "1.0101", "399.9", "5000", "0.1"},
			{"sigma", "1", "1", "0", "2", "NA", "1000", "12", "0.1"},
			{"r_g[a,Intercept]", "1", "1", "0", "2", "1.2", "1000", "1000", "0.1"},
		},
	}
	opt, err := parsePlotOptions("d", "", "png", "")
	if err != nil {
		t.Fatal(err)
	}
	main, re, n := r.summaryTables(opt)
	if len(main.Rows) != 3 || re == nil || len(re.Rows) != 1 {
		t.Fatalf("rows: main %d, re %v", len(main.Rows), re)
	}
	warn := func(row []plots.Cell) string {
		var s string
		for i, c := range row {
			if c.Warn {
				s += main.Header[i] + " "
			}
		}
		return s
	}
	for i, want := range []string{"", "rhat ess_bulk ", "ess_tail "} {
		if got := warn(main.Rows[i]); got != want {
			t.Errorf("row %s: flagged %q, want %q", main.Rows[i][0].Text, got, want)
		}
	}
	if got := warn(re.Rows[0]); got != "rhat " {
		t.Errorf("random effect: flagged %q", got)
	}
	if n != 4 {
		t.Errorf("%d flagged cells, want 4", n)
	}
}

// TestPlotBadInput checks that bad input exits with 2, names the item
// and writes nothing.
func TestPlotBadInput(t *testing.T) {
	src := plotRunDir(t)
	empty := t.TempDir()
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"missing dir", []string{filepath.Join(empty, "nope")}, []string{"nope", "does not exist"}},
		{"no draws", []string{empty}, []string{empty, "no draws_*.csv"}},
		{"bad regex", []string{src, "--vars", "b_(("}, []string{"--vars", `"b_(("`}},
		{"no match", []string{src, "--vars", "^zzz"}, []string{"--vars", "^zzz", "matches no variable", "b_Intercept"}},
		{"unknown format", []string{src, "--format", "gif"}, []string{"--format", `"gif"`}},
		{"near format", []string{src, "--format", "pgn"}, []string{"--format", `did you mean "png"?`}},
		{"two dirs", []string{src, src}, []string{"expected one run dir"}},
		{"unknown flag", []string{src, "--bins", "3"}, []string{"-bins"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "plots")
			code, stdout, stderr := runPlot(t, append(c.args, "--out", out)...)
			if code != exitInput {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitInput, stderr)
			}
			line, _, _ := strings.Cut(stderr, "\n")
			for _, w := range c.want {
				if !strings.Contains(line, w) {
					t.Errorf("first stderr line %q lacks %q", line, w)
				}
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("plot dir %s was created", out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(src, "report.html")); err == nil {
		t.Error("report.html written")
	}
}

// TestPlotMemoryBudget checks that plot with a budget smaller than the
// draws plots one draw in k of each chain and says so in the report.
func TestPlotMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("renders plots")
	}
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, stderr := runIn(t, dir); code != 0 {
		t.Fatalf("run: %d %s", code, stderr)
	}
	// 4 chains × 400 draws × 43 columns × 8 bytes, twice: 1.1 MB > 1 MiB.
	if code, _, stderr := runCLI(t, "plot", dir, "--memory-mb", "1", "--report"); code != 0 {
		t.Fatalf("plot: %d %s", code, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(raw), "one draw in 2 of each chain is plotted") {
		t.Errorf("report.html does not note the thinning (%v)", err)
	}
	if code, _, stderr := runCLI(t, "plot", dir, "--memory-mb", "0"); code != exitInput || !strings.Contains(stderr, "--memory-mb must be positive") {
		t.Errorf("--memory-mb 0: %d %s", code, stderr)
	}
}

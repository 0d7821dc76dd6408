package posterior

import (
	"context"
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
	"github.com/lmmbayes/lmmbayes/sampler"
)

func testdataPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func readFileT(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
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

// TestWritePPC checks ppc.csv and ppc_stats.csv written from a sampler
// result in memory (run's path): the observed rows, epred means equal to
// the mean over draws of xβ + zb, and the statistics against the same
// draws read back through the files' path.
func TestWritePPC(t *testing.T) {
	f, err := os.Open(testdataPath(t, "sleepstudy.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := model.ReadFrame(f, "sleepstudy.csv", model.FrameOptions{Factors: []string{"Subject"}})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	fo, _ := model.ParseFormula("Reaction ~ Days + (Days | Subject)")
	d, err := model.Build(fo, fr, model.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := &sampler.Spec{Design: d, Sigma: priors.StudentT{Nu: 3, Sigma: 50}, CorEta: []float64{2},
		Fixed: []priors.Univariate{priors.Normal{Sigma: 1000}, priors.Normal{Sigma: 1000}},
		SD:    [][]priors.ScalePrior{{priors.StudentT{Nu: 3, Sigma: 50}, priors.StudentT{Nu: 3, Sigma: 50}}}}
	res, err := sampler.Run(context.Background(), spec, sampler.Options{Chains: 2, Warmup: 200, Draws: 500, Seed: 4, RandomEffects: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	post := postFromResult(res)
	if err := WritePPC(dir, d, post, 9); err != nil {
		t.Fatal(err)
	}
	h, recs := readCSVT(t, filepath.Join(dir, "ppc.csv"))
	if want := append([]string{"row", "y"}, PredColumns...); !slices.Equal(h, want) || len(recs) != d.N {
		t.Fatalf("ppc.csv: header %v, %d rows", h, len(recs))
	}
	y, em := colT(t, h, recs, "y"), colT(t, h, recs, "epred_mean")
	lo, hi := colT(t, h, recs, "pred_q2.5"), colT(t, h, recs, "pred_q97.5")
	lay, err := post.Layout(d)
	if err != nil {
		t.Fatal(err)
	}
	pd := draws.NewParamDraw(d, true)
	S := post.NumDraws()
	covered := 0
	for i := range d.N {
		if y[i] != d.Y[i] {
			t.Fatalf("row %d: y %v, data %v", i+1, y[i], d.Y[i])
		}
		var m float64
		for k := range S {
			lay.Fill(post.Row(k), pd)
			v := d.X.At(i, 0)*pd.Beta[0] + d.X.At(i, 1)*pd.Beta[1]
			l := int(d.Terms[0].Refs[i])
			v += d.Terms[0].Z[i]*pd.B[0][2*l] + d.Terms[0].Z[d.N+i]*pd.B[0][2*l+1]
			m += v
		}
		m /= float64(S)
		if math.Abs(em[i]-m) > 1e-9*math.Abs(m) {
			t.Errorf("row %d: epred_mean %v, mean of xβ + zb %v", i+1, em[i], m)
		}
		if y[i] >= lo[i] && y[i] <= hi[i] {
			covered++
		}
	}
	// In-sample 95% intervals cover about 95% (sleepstudy has a few
	// outliers; binomial SD of the count ≈ 3).
	t.Logf("in-sample coverage %d/%d", covered, d.N)
	if covered < 160 {
		t.Errorf("in-sample 95%% predictive intervals cover %d of %d", covered, d.N)
	}
	sh, srec := readCSVT(t, filepath.Join(dir, "ppc_stats.csv"))
	if !slices.Equal(sh, []string{"statistic", "observed", "rep_mean", "rep_q2.5", "rep_q97.5", "p_value"}) || len(srec) != 4 {
		t.Fatalf("ppc_stats.csv: %v, %d rows", sh, len(srec))
	}
	obs := colT(t, sh, srec, "observed")
	pv := colT(t, sh, srec, "p_value")
	ys := slices.Sorted(slices.Values(d.Y))
	var ym float64
	for _, v := range d.Y {
		ym += v
	}
	ym /= float64(d.N)
	if math.Abs(obs[0]-ym) > 1e-12*ym || obs[2] != ys[0] || obs[3] != ys[len(ys)-1] {
		t.Errorf("observed statistics %v; mean %v min %v max %v", obs, ym, ys[0], ys[len(ys)-1])
	}
	// With a free intercept, T = mean has a posterior predictive p-value
	// near 1/2 (the replicated mean is centred on the fitted mean).
	t.Logf("ppc p-values (mean, sd, min, max): %v", pv)
	if pv[0] < 0.2 || pv[0] > 0.8 {
		t.Errorf("p-value of the mean %v, want near 0.5", pv[0])
	}
	for _, p := range pv {
		if p < 0 || p > 1 {
			t.Errorf("p-value %v outside [0, 1]", p)
		}
	}
	// Same seed, same files; the chunked path gives the same summaries
	// whatever the memory bound (here one chunk).
	dir2 := t.TempDir()
	if err := WritePPC(dir2, d, post, 9); err != nil {
		t.Fatal(err)
	}
	if readFileT(t, filepath.Join(dir, "ppc.csv")) != readFileT(t, filepath.Join(dir2, "ppc.csv")) {
		t.Error("WritePPC is not reproducible")
	}
	if _, err := WriteCoef(dir, d, post); err != nil {
		t.Fatal(err)
	}
	if _, crec := readCSVT(t, filepath.Join(dir, "coef.csv")); len(crec) != 36 {
		t.Errorf("coef.csv from a sampler result: %d rows, want 36", len(crec))
	}
}

// postFromResult wraps an in-memory sampler result (no copy).
func postFromResult(res *sampler.Result) *draws.Draws {
	p := draws.New(res.Names, len(res.Names.RE) > 0, "sampler")
	for _, ch := range res.Chains {
		p.AddChain(ch.NDraws, ch.Draws)
	}
	return p
}

// TestMeanSD checks meanSD against diagnostics.Mean and SD bit for bit.
func TestMeanSD(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 50 {
		x := make([]float64, n*37)
		for i := range x {
			x[i] = 250 + 40*rng.NormFloat64()
		}
		m, sd := meanSD(x)
		wm, wsd := diagnostics.Mean(x), diagnostics.SD(x)
		if !(m == wm || math.IsNaN(m) && math.IsNaN(wm)) || !(sd == wsd || math.IsNaN(sd) && math.IsNaN(wsd)) {
			t.Fatalf("n=%d: meanSD %v %v, diagnostics %v %v", len(x), m, sd, wm, wsd)
		}
	}
}

// TestWritePPCCores checks that ppc.csv and ppc_stats.csv of a design of
// several chunks are byte-identical on one core and on several (chunks
// run in parallel; their statistics are folded in chunk order), and that
// the progress callback ends at the total.
func TestWritePPCCores(t *testing.T) {
	t.Run("gaussian", func(t *testing.T) { testWritePPCCores(t, model.Gaussian) })
	t.Run("poisson", func(t *testing.T) { testWritePPCCores(t, model.Poisson) })
}

func testWritePPCCores(t *testing.T, fam model.Family) {
	d, post := benchPostFamily(t, 1500, 2000, fam) // 2 chunks of 1048 rows
	dirs := []string{t.TempDir(), t.TempDir()}
	for i, procs := range []int{1, 3} {
		old := runtime.GOMAXPROCS(procs)
		last := 0
		err := WritePPCProgress(dirs[i], d, post, 5, func(done, total int) {
			if done < last || total != d.N {
				t.Errorf("progress %d of %d after %d", done, total, last)
			}
			last = done
		})
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		if last != d.N {
			t.Errorf("GOMAXPROCS %d: progress ended at %d of %d", procs, last, d.N)
		}
	}
	files := []string{"ppc.csv", "ppc_stats.csv"}
	if fam.Count() {
		files = append(files, "ppc_rootogram.csv")
	}
	for _, f := range files {
		if readFileT(t, filepath.Join(dirs[0], f)) != readFileT(t, filepath.Join(dirs[1], f)) {
			t.Errorf("%s differs between 1 and 3 cores", f)
		}
	}
	if _, recs := readCSVT(t, filepath.Join(dirs[0], "ppc.csv")); len(recs) != d.N {
		t.Errorf("ppc.csv: %d rows, want %d", len(recs), d.N)
	}
}

// fileExistsT reports whether path exists.
func fileExistsT(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

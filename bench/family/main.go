// Command family writes a seeded family of simulated mixed-model data sets
// for validating a sampler on "maximal" random-effects models (issue 12),
// together with truth.json, the parameter values each set was drawn from
// (brms-style names: b_Intercept, b_A, b_A:B, sd_subj__Intercept,
// cor_subj__Intercept__A, sigma, ...).
//
// Usage:
//
//	go run ./bench/family -out testdata/family
//
// Every data set has its own fixed seed (math/rand/v2 PCG), so the files are
// identical on every run. Numbers are written with strconv 'g' -1.
//
// The data sets:
//
//   - maximal.csv (seed 1201): a 2×2 within-subject, within-item experiment
//     in a Latin square. 40 subjects × 32 items = 1280 rows: every subject
//     sees every item once, in condition c = (s + i) mod 4 (s, i counted from
//     0), so each subject sees each condition 8 times and each item each
//     condition 10 times. A = −0.5 for c ∈ {0, 1}, else +0.5; B = −0.5 for
//     even c, else +0.5. Columns subj ("s01"…), item ("i01"…), A, B, rt.
//     Model rt ~ A * B + (1 + A * B | subj) + (1 + A * B | item); the A:B
//     column is the product A·B (±0.25). Truth: b = (600, 30, 20, 15) for
//     Intercept, A, B, A:B; subject SDs (80, 30, 25, 20), item SDs
//     (40, 20, 15, 10), each with the fixed 4×4 correlation matrix below;
//     sigma 100.
//   - maximal_zero.csv (seed 1202): the same design, fixed effects and
//     correlation matrices, but item SDs (40, 0, 0, 0) and subject SDs
//     (80, 30, 0, 0): the item slopes and the subject B and A:B slopes are
//     truly zero, so lme4 should report a singular fit. Correlations that
//     involve a zero SD are undefined and left out of truth.json.
//   - threeway.csv (seed 1203): 2×2×2 within subjects, 36 subjects × 8
//     conditions × 5 replicates = 1440 rows. Columns subj, A, B, C (±0.5),
//     y. Model y ~ A * B * C + (1 + A * B * C | subj), an 8×8 covariance
//     with SDs (1, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2, 0.2) in R's column order
//     Intercept, A, B, C, A:B, A:C, B:C, A:B:C; the correlation matrix is a
//     seeded mild draw (W·Wᵀ + I scaled to unit diagonal, W 8×2 with
//     N(0, 0.5²) entries, rounded to 2 decimals; all |r| ≤ 0.41) printed in
//     truth.json. b = (5, 0.3, −0.3, 0.2, 0.3, −0.2,
//     0.1, 0.2), sigma 1.
//   - factor4.csv (seed 1204): a 4-level factor slope, y ~ f + (0 + f | g).
//     f has levels "a", "b", "c", "d" (a string column); 30 groups ("g01"…)
//     × 4 levels × 6 replicates = 720 rows. Each group's deviations from the
//     4 level means are correlated normal, SDs (1, 1.2, 0.8, 1) and
//     correlations around 0.5; sigma 1. Fixed effects in R's default
//     treatment contrasts: b_Intercept = 2 (level a's mean), b_fb = 0.5,
//     b_fc = −0.5, b_fd = 1.
//
// Subject/item/group effects are drawn first (level by level, in level
// order), then the residuals in row order.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// truth is one data set's entry in truth.json.
type truth struct {
	File    string             `json:"file"`
	Formula string             `json:"formula"`
	Seed    uint64             `json:"seed"`
	Rows    int                `json:"rows"`
	Params  map[string]float64 `json:"params"`
	Order   []string           `json:"order"` // the keys of Params, in model order
	Note    string             `json:"note,omitempty"`
}

func (t *truth) set(name string, v float64) {
	if t.Params == nil {
		t.Params = map[string]float64{}
	}
	t.Params[name] = v
	t.Order = append(t.Order, name)
}

// term is one random-effects term: a grouping factor with correlated
// coefficients.
type term struct {
	group string
	names []string    // coefficient names, e.g. Intercept, A, A:B
	sd    []float64   // true SDs
	cor   [][]float64 // true correlation matrix
}

// addTo records the SDs and the correlations (lower triangle, column by
// column, as brms orders them; those with a zero SD are undefined and left
// out) in t.
func (r term) addTo(t *truth) {
	for k, n := range r.names {
		t.set("sd_"+r.group+"__"+n, r.sd[k])
	}
	for j := range r.names {
		for i := j + 1; i < len(r.names); i++ {
			if r.sd[i] > 0 && r.sd[j] > 0 {
				t.set("cor_"+r.group+"__"+r.names[j]+"__"+r.names[i], r.cor[i][j])
			}
		}
	}
}

// draw returns n draws from N(0, diag(sd)·cor·diag(sd)), one row per level.
func (r term) draw(rng *rand.Rand, n int) ([][]float64, error) {
	L, err := cholesky(r.cor)
	if err != nil {
		return nil, fmt.Errorf("%s correlation: %w", r.group, err)
	}
	k := len(r.sd)
	out := make([][]float64, n)
	z := make([]float64, k)
	for l := range out {
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		out[l] = make([]float64, k)
		for i := range k {
			s := 0.0
			for j := 0; j <= i; j++ {
				s += L[i][j] * z[j]
			}
			out[l][i] = r.sd[i] * s
		}
	}
	return out, nil
}

// cholesky returns the lower-triangular L with L·Lᵀ = a, or an error if a is
// not positive definite.
func cholesky(a [][]float64) ([][]float64, error) {
	n := len(a)
	L := make([][]float64, n)
	for i := range L {
		L[i] = make([]float64, n)
		for j := 0; j <= i; j++ {
			s := a[i][j]
			for k := range j {
				s -= L[i][k] * L[j][k]
			}
			if i == j {
				if s <= 0 {
					return nil, errors.New("not positive definite")
				}
				L[i][i] = math.Sqrt(s)
			} else {
				L[i][j] = s / L[j][j]
			}
		}
	}
	return L, nil
}

// corMatrix builds a symmetric matrix with unit diagonal from the lower
// triangle given row by row: (2,1), (3,1), (3,2), (4,1), ...
func corMatrix(n int, lower ...float64) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
		m[i][i] = 1
	}
	k := 0
	for i := 1; i < n; i++ {
		for j := range i {
			m[i][j], m[j][i] = lower[k], lower[k]
			k++
		}
	}
	return m
}

// levels gives zero-padded labels (s01, …) so that sorted order is numeric.
func levels(prefix string, n int) []string {
	w := len(strconv.Itoa(n))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%0*d", prefix, w, i+1)
	}
	return out
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func pm(b bool) float64 {
	if b {
		return 0.5
	}
	return -0.5
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xfa3117)) }

// dataset is a generated table with its truth.
type dataset struct {
	header []string
	rows   [][]string
	truth  truth
}

// The correlation matrices of the 2×2 designs, order Intercept, A, B, A:B.
var (
	subjCor = corMatrix(4, 0.3, -0.2, 0.2, 0.1, 0.1, -0.1)
	itemCor = corMatrix(4, -0.3, 0.2, -0.1, 0.1, 0.2, 0.1)
)

// latin is the 2×2 Latin-square design (maximal.csv, maximal_zero.csv).
func latin(file string, seed uint64, subjSD, itemSD []float64, note string) (dataset, error) {
	const nSubj, nItem, sigma = 40, 32, 100.0
	b := []float64{600, 30, 20, 15}
	names := []string{"Intercept", "A", "B", "A:B"}
	subj := term{"subj", names, subjSD, subjCor}
	item := term{"item", names, itemSD, itemCor}
	d := dataset{header: []string{"subj", "item", "A", "B", "rt"}}
	d.truth = truth{File: file, Seed: seed, Rows: nSubj * nItem, Note: note,
		Formula: "rt ~ A * B + (1 + A * B | subj) + (1 + A * B | item)"}
	for k, n := range names {
		d.truth.set("b_"+n, b[k])
	}
	subj.addTo(&d.truth)
	item.addTo(&d.truth)
	d.truth.set("sigma", sigma)

	rng := newRand(seed)
	us, err := subj.draw(rng, nSubj)
	if err != nil {
		return d, err
	}
	ui, err := item.draw(rng, nItem)
	if err != nil {
		return d, err
	}
	sn, in := levels("s", nSubj), levels("i", nItem)
	for s := range nSubj {
		for i := range nItem {
			c := (s + i) % 4
			x := []float64{1, pm(c >= 2), pm(c%2 == 1), 0}
			x[3] = x[1] * x[2]
			y := sigma * rng.NormFloat64()
			for k := range x {
				y += x[k] * (b[k] + us[s][k] + ui[i][k])
			}
			d.rows = append(d.rows, []string{sn[s], in[i], num(x[1]), num(x[2]), num(y)})
		}
	}
	return d, nil
}

// threeway is the 2×2×2 within-subject design (threeway.csv).
func threeway(seed uint64) (dataset, error) {
	const nSubj, reps, sigma = 36, 5, 1.0
	names := []string{"Intercept", "A", "B", "C", "A:B", "A:C", "B:C", "A:B:C"}
	b := []float64{5, 0.3, -0.3, 0.2, 0.3, -0.2, 0.1, 0.2}
	rng := newRand(seed)
	// Correlation: W·Wᵀ + I normalised to unit diagonal, rounded to 2
	// decimals (checked positive definite by draw's Cholesky).
	const k = 8
	w := make([][2]float64, k)
	for i := range w {
		w[i] = [2]float64{0.5 * rng.NormFloat64(), 0.5 * rng.NormFloat64()}
	}
	cov := func(i, j int) float64 {
		v := w[i][0]*w[j][0] + w[i][1]*w[j][1]
		if i == j {
			v++
		}
		return v
	}
	cor := make([][]float64, k)
	for i := range cor {
		cor[i] = make([]float64, k)
		for j := range cor[i] {
			cor[i][j] = math.Round(100*cov(i, j)/math.Sqrt(cov(i, i)*cov(j, j))) / 100
		}
	}
	subj := term{"subj", names, []float64{1, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2, 0.2}, cor}
	d := dataset{header: []string{"subj", "A", "B", "C", "y"}}
	d.truth = truth{File: "threeway.csv", Seed: seed, Rows: nSubj * 8 * reps,
		Formula: "y ~ A * B * C + (1 + A * B * C | subj)"}
	for i, n := range names {
		d.truth.set("b_"+n, b[i])
	}
	subj.addTo(&d.truth)
	d.truth.set("sigma", sigma)

	us, err := subj.draw(rng, nSubj)
	if err != nil {
		return d, err
	}
	sn := levels("s", nSubj)
	for s := range nSubj {
		for c := range 8 {
			a, bb, cc := pm(c&4 != 0), pm(c&2 != 0), pm(c&1 != 0)
			x := []float64{1, a, bb, cc, a * bb, a * cc, bb * cc, a * bb * cc}
			for range reps {
				y := sigma * rng.NormFloat64()
				for i := range x {
					y += x[i] * (b[i] + us[s][i])
				}
				d.rows = append(d.rows, []string{sn[s], num(a), num(bb), num(cc), num(y)})
			}
		}
	}
	return d, nil
}

// factor4 is the 4-level factor slope design (factor4.csv).
func factor4(seed uint64) (dataset, error) {
	const nGroup, reps, sigma = 30, 6, 1.0
	lv := []string{"a", "b", "c", "d"}
	mean := []float64{2, 2.5, 1.5, 3} // level means; b = (2, 0.5, −0.5, 1)
	g := term{"g", []string{"fa", "fb", "fc", "fd"}, []float64{1, 1.2, 0.8, 1},
		corMatrix(4, 0.5, 0.4, 0.6, 0.5, 0.45, 0.55)}
	d := dataset{header: []string{"g", "f", "y"}}
	d.truth = truth{File: "factor4.csv", Seed: seed, Rows: nGroup * 4 * reps,
		Formula: "y ~ f + (0 + f | g)",
		Note:    "treatment contrasts: b_Intercept is level a's mean, b_fX = mean(X) - mean(a); sd_g__fX is the SD of group deviations at level X"}
	d.truth.set("b_Intercept", mean[0])
	for i := 1; i < 4; i++ {
		d.truth.set("b_f"+lv[i], mean[i]-mean[0])
	}
	g.addTo(&d.truth)
	d.truth.set("sigma", sigma)

	rng := newRand(seed)
	u, err := g.draw(rng, nGroup)
	if err != nil {
		return d, err
	}
	gn := levels("g", nGroup)
	for j := range nGroup {
		for l := range lv {
			for range reps {
				y := mean[l] + u[j][l] + sigma*rng.NormFloat64()
				d.rows = append(d.rows, []string{gn[j], lv[l], num(y)})
			}
		}
	}
	return d, nil
}

func writeCSV(path string, d dataset) error {
	var sb strings.Builder
	sb.WriteString(strings.Join(d.header, ",") + "\n")
	for _, r := range d.rows {
		sb.WriteString(strings.Join(r, ",") + "\n")
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

func run(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	makers := []func() (dataset, error){
		func() (dataset, error) {
			return latin("maximal.csv", 1201, []float64{80, 30, 25, 20}, []float64{40, 20, 15, 10}, "")
		},
		func() (dataset, error) {
			return latin("maximal_zero.csv", 1202, []float64{80, 30, 0, 0}, []float64{40, 0, 0, 0},
				"item slopes and subject B, A:B slopes are truly zero (singular); correlations involving them are undefined")
		},
		func() (dataset, error) { return threeway(1203) },
		func() (dataset, error) { return factor4(1204) },
	}
	all := map[string]truth{}
	for _, mk := range makers {
		d, err := mk()
		if err != nil {
			return err
		}
		if err := writeCSV(filepath.Join(out, d.truth.File), d); err != nil {
			return err
		}
		all[strings.TrimSuffix(d.truth.File, ".csv")] = d.truth
		fmt.Printf("%s: %d rows\n", d.truth.File, len(d.rows))
	}
	js, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "truth.json"), append(js, '\n'), 0o644)
}

func main() {
	out := flag.String("out", "testdata/family", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

package posterior

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
)

// CompareColumns is the header of compare's CSV output and the keys of
// its JSON rows: the variable, then CompareRow.Values in order.
var CompareColumns = []string{"variable", "ml_estimate", "ml_se", "post_mean", "post_sd", "post_q2.5", "post_q97.5", "diff_sd"}

// CompareRow is one parameter of the comparison: the ML estimate and its
// standard error (NaN when not reported: the ML fit reports it for fixed
// effects only), the posterior mean, SD and 95% interval, and
// DiffSD = (Mean − ML) / SD.
type CompareRow struct {
	Variable string
	ML, MLSE float64 // MLSE NaN when not reported
	Mean, SD float64
	Lo, Hi   float64
	DiffSD   float64
}

// RanefCorr is the correlation over levels of ML modes and posterior
// means of one effect of one grouping factor.
type RanefCorr struct {
	Group  string  `json:"group"`
	Effect string  `json:"effect"`
	Levels int     `json:"levels"`
	Corr   float64 `json:"correlation"`
}

// MLFit is the part of an ML fit that Compare uses: from a
// model.FitResult (MLFromResult) or its JSON form, ml_fit.json
// (ReadMLFit).
type MLFit struct {
	fixef, se map[string]float64
	varcorr   []model.VarCorrRow
	sigma     float64
	ranef     map[string]mlRanef // per group
}

type mlRanef struct {
	levels []string
	values map[string][]float64
}

// MLFromResult takes what Compare needs from a FitResult.
func MLFromResult(r *model.FitResult) *MLFit {
	m := &MLFit{fixef: map[string]float64{}, se: map[string]float64{}, varcorr: r.VarCorr, sigma: r.Sigma, ranef: map[string]mlRanef{}}
	for i, n := range r.Fixef.Names {
		m.fixef[n] = r.Fixef.Values[i]
	}
	for i, n := range r.FixefSE.Names {
		m.se[n] = r.FixefSE.Values[i]
	}
	for _, g := range r.Ranef {
		re := mlRanef{levels: g.Levels, values: map[string][]float64{}}
		for j, n := range g.Names {
			re.values[n] = g.Values[j]
		}
		m.ranef[g.Group] = re
	}
	return m
}

// ReadMLFit reads ml_fit.json (FitResult's JSON form); a file that is not
// one is an *draws.InputError, a missing file an error satisfying
// errors.Is(err, os.ErrNotExist).
func ReadMLFit(path string) (*MLFit, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var j struct {
		Fixef   map[string]float64 `json:"fixef"`
		FixefSE map[string]float64 `json:"fixef_se"`
		Sigma   float64            `json:"sigma"`
		VarCorr []struct {
			Group string          `json:"group"`
			Var1  json.RawMessage `json:"var1"`
			Var2  json.RawMessage `json:"var2"`
			Vcov  float64         `json:"vcov"`
			SDCor float64         `json:"sdcor"`
		} `json:"varcorr"`
		Ranef map[string]struct {
			Levels []string             `json:"levels"`
			Values map[string][]float64 `json:"values"`
		} `json:"ranef"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, draws.Inputf("%s: %v", path, err)
	}
	if j.Fixef == nil || j.Sigma <= 0 {
		return nil, draws.Inputf("%s: not an ML fit (no fixef or sigma)", path)
	}
	m := &MLFit{fixef: j.Fixef, se: j.FixefSE, sigma: j.Sigma, ranef: map[string]mlRanef{}}
	for _, v := range j.VarCorr {
		r := model.VarCorrRow{Group: v.Group, Vcov: v.Vcov, SDCor: v.SDCor}
		// Names are strings; null, or {} as R's jsonlite writes NA, mean none.
		json.Unmarshal(v.Var1, &r.Var1)
		json.Unmarshal(v.Var2, &r.Var2)
		m.varcorr = append(m.varcorr, r)
	}
	for g, re := range j.Ranef {
		m.ranef[g] = mlRanef{levels: re.Levels, values: re.Values}
	}
	return m, nil
}

var uniqueSuffixRE = regexp.MustCompile(`^\.\d+$`)

// mlVarCorr finds the VarCorr row of group g (or g made unique, "g.1")
// with var1 and var2, skipping the first skip matches (for terms sharing
// a grouping factor and effect names).
func mlVarCorr(rows []model.VarCorrRow, g, v1, v2 string, skip int) (float64, bool) {
	for _, r := range rows {
		if r.Var1 != v1 || r.Var2 != v2 {
			continue
		}
		if r.Group != g && !(len(r.Group) > len(g) && r.Group[:len(g)] == g && uniqueSuffixRE.MatchString(r.Group[len(g):])) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		return r.SDCor, true
	}
	return math.NaN(), false
}

// Compare sets the posterior post of design d beside the ML fit ml: one
// row per parameter (b_, sd_, cor_, sigma, in draws-column order) and,
// when post holds r_ columns or reMeans are given (ReadREMeans), per
// grouping factor and effect the correlation over levels of the ML
// conditional modes with the posterior means.
func Compare(d *model.Design, post *draws.Draws, ml *MLFit, reMeans []REMean) ([]CompareRow, []RanefCorr) {
	n := post.Names
	var rows []CompareRow
	add := func(name string, est, se float64, ok bool) {
		x := post.Column(name)
		var flat []float64
		for _, c := range x {
			flat = append(flat, c...)
		}
		s := diagnostics.Summarize(x)
		r := CompareRow{Variable: name, ML: est, MLSE: se, Mean: diagnostics.Mean(flat), SD: diagnostics.SD(flat), Lo: s.Q2_5, Hi: s.Q97_5}
		r.DiffSD = (r.Mean - r.ML) / r.SD
		if !ok {
			r.ML, r.DiffSD = math.NaN(), math.NaN()
		}
		rows = append(rows, r)
	}
	for j, x := range d.XNames {
		est, ok := ml.fixef[x]
		se, sok := ml.se[x]
		if !sok {
			se = math.NaN()
		}
		add(n.B[j], est, se, ok)
	}
	sdi := 0
	seen := map[[3]string]int{}
	for _, t := range d.Terms {
		for _, e := range t.Names {
			key := [3]string{t.Group, e, ""}
			v, ok := mlVarCorr(ml.varcorr, t.Group, e, "", seen[key])
			seen[key]++
			add(n.SD[sdi], v, math.NaN(), ok)
			sdi++
		}
	}
	ci := 0
	for _, t := range d.Terms {
		if t.K < 2 || !t.Correlated {
			continue
		}
		for i := 1; i < t.K; i++ {
			for j := 0; j < i; j++ {
				key := [3]string{t.Group, t.Names[j], t.Names[i]}
				v, ok := mlVarCorr(ml.varcorr, t.Group, t.Names[j], t.Names[i], seen[key])
				seen[key]++
				add(n.Cor[ci], v, math.NaN(), ok)
				ci++
			}
		}
	}
	add("sigma", ml.sigma, math.NaN(), true)
	return rows, ranefCorrs(post, ml, reMeans)
}

// ranefCorrs correlates, per grouping factor and effect, the ML modes
// with the posterior means of the r_ columns over the levels.
func ranefCorrs(post *draws.Draws, ml *MLFit, reMeans []REMean) []RanefCorr {
	if !post.HasRE {
		return nil
	}
	type key struct{ g, e string }
	means := map[key]map[string]float64{}
	var order []key
	add := func(rc draws.REColumn, m float64) {
		k := key{rc.Group, rc.Effect}
		if means[k] == nil {
			means[k] = map[string]float64{}
			order = append(order, k)
		}
		means[k][rc.Level] = m
	}
	for _, rm := range reMeans {
		add(rm.Column, rm.Mean)
	}
	for _, rc := range post.Names.RE {
		add(rc, drawsMean(post.Column(rc.Column)))
	}
	var out []RanefCorr
	for _, k := range order {
		re, ok := ml.ranef[k.g]
		if !ok {
			continue
		}
		v, ok := re.values[k.e]
		if !ok || len(v) != len(re.levels) {
			continue
		}
		var a, b []float64
		for i, lev := range re.levels {
			if m, ok := means[k][lev]; ok {
				a = append(a, v[i])
				b = append(b, m)
			}
		}
		out = append(out, RanefCorr{Group: k.g, Effect: k.e, Levels: len(a), Corr: pearson(a, b)})
	}
	return out
}

// pearson is the sample correlation of a and b (NaN when either is
// constant or shorter than 2).
func pearson(a, b []float64) float64 {
	if len(a) < 2 || len(a) != len(b) {
		return math.NaN()
	}
	ma, mb := diagnostics.Mean(a), diagnostics.Mean(b)
	var sab, saa, sbb float64
	for i := range a {
		x, y := a[i]-ma, b[i]-mb
		sab += x * y
		saa += x * x
		sbb += y * y
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	return sab / math.Sqrt(saa*sbb)
}

// Values returns the row's numbers in CompareColumns order (after
// variable).
func (r CompareRow) Values() []float64 {
	return []float64{r.ML, r.MLSE, r.Mean, r.SD, r.Lo, r.Hi, r.DiffSD}
}

// drawsMean is the mean of the draws of all chains, in chain order.
func drawsMean(x [][]float64) float64 {
	var flat []float64
	for _, c := range x {
		flat = append(flat, c...)
	}
	return diagnostics.Mean(flat)
}

// REMean is the posterior mean of one r_ column.
type REMean struct {
	Column draws.REColumn
	Mean   float64
}

// ReadREMeans returns the posterior mean of every r_ column of the run in
// dir (design d), reading as many columns at a time as fit in budget
// bytes: Compare needs only these of the r_ columns.
func ReadREMeans(dir string, d *model.Design, budget int64) ([]REMean, error) {
	files, err := draws.Files(dir)
	if err != nil {
		return nil, err
	}
	names := draws.ColumnNames(d, true)
	nHead := len(names.Columns) - len(names.RE)
	total, err := draws.CountAllRows(files)
	if err != nil {
		return nil, err
	}
	cols := make([]int, len(names.RE))
	for i := range cols {
		cols[i] = nHead + i
	}
	out := make([]REMean, 0, len(names.RE))
	err = draws.ReadColumnBatches(files, cols, total, budget, func(dr *diagnostics.Draws) {
		for i := range dr.Names {
			out = append(out, REMean{names.RE[len(out)], drawsMean(dr.Variable(i))})
		}
	})
	if err != nil {
		return nil, draws.AsInput(fmt.Errorf("reading the run in %s: %w", dir, err))
	}
	return out, nil
}

package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
	"gonum.org/v1/gonum/mat"
)

// predStream is the PCG stream id of predictive draws; the seed is the
// other half of the PCG state. Chunk c of the training rows (writePPC)
// uses stream predStream+c.
const predStream = 0x707265646963 // "predic"

// ppcChunkValues bounds rows × draws held in memory at once by writePPC.
const ppcChunkValues = 1 << 23

// predDraws holds the predictive draws of N rows: row i's S draws are
// contiguous (epred[i*S+s]).
type predDraws struct {
	n, s         int
	epred, pred  []float64
	population   bool
	newLevelRows int
}

// simulate draws epred and pred of every row of nd for every posterior
// draw of post (chains in order) with one PCG stream seeded by
// (seed, stream), so that the same seed gives the same draws.
func simulate(d *model.Design, nd *model.NewData, post *postDraws, opt model.PredictOptions, seed, stream uint64) (*predDraws, error) {
	pr, err := model.NewPredictor(d, nd, opt)
	if err != nil {
		return nil, err
	}
	lay, err := post.layout(d)
	if err != nil {
		return nil, err
	}
	s := post.numDraws()
	n := nd.N
	out := &predDraws{n: n, s: s, epred: make([]float64, n*s), pred: make([]float64, n*s), population: opt.Population}
	pd := newParamDraw(d, post.hasRE && !opt.Population)
	rng := rand.New(rand.NewPCG(seed, stream))
	ep := make([]float64, n)
	pp := make([]float64, n)
	for k := range s {
		lay.fill(post.row(k), pd)
		if err := pr.Draw(pd, rng, ep, pp); err != nil {
			return nil, err
		}
		for i := range n {
			out.epred[i*s+k] = ep[i]
			out.pred[i*s+k] = pp[i]
		}
	}
	return out, nil
}

// seenLevelsNeedRE returns an input error when nd has rows of seen levels
// but the draws hold no r_ columns.
func seenLevelsNeedRE(d *model.Design, nd *model.NewData, post *postDraws, opt model.PredictOptions) error {
	if opt.Population || post.hasRE {
		return nil
	}
	for t, term := range d.Terms {
		for _, r := range nd.Terms[t].Refs {
			if int(r) < len(term.Levels) {
				return inputErrorf("the run in %s was made with [output] random_effects = false, so its draws hold no effects of the %q levels seen in training; predict with --re-form NA, or run again with random_effects = true",
					post.source, term.Group)
			}
		}
	}
	return nil
}

// rowSummary is the posterior summary of one row's draws.
type rowSummary struct {
	epredMean, epredSD, epredLo, epredHi      float64
	predMean, predSD, predLo, predMed, predHi float64
}

// predColumns are the summary columns of predictions.csv and ppc.csv.
var predColumns = []string{"epred_mean", "epred_sd", "epred_q2.5", "epred_q97.5", "pred_mean", "pred_sd", "pred_q2.5", "pred_q50", "pred_q97.5"}

func (r rowSummary) values() []float64 {
	return []float64{r.epredMean, r.epredSD, r.epredLo, r.epredHi, r.predMean, r.predSD, r.predLo, r.predMed, r.predHi}
}

// summarizeRow summarises row i of pd.
func (pd *predDraws) summarizeRow(i int) rowSummary {
	e := pd.epred[i*pd.s : (i+1)*pd.s]
	p := pd.pred[i*pd.s : (i+1)*pd.s]
	eq := diagnostics.Quantiles(e, []float64{0.025, 0.975})
	pq := diagnostics.Quantiles(p, []float64{0.025, 0.5, 0.975})
	return rowSummary{
		epredMean: diagnostics.Mean(e), epredSD: diagnostics.SD(e),
		epredLo: eq[0], epredHi: eq[1],
		predMean: diagnostics.Mean(p), predSD: diagnostics.SD(p),
		predLo: pq[0], predMed: pq[1], predHi: pq[2],
	}
}

// summarizeRows summarises rows 0 … n−1 of pd on every core, in row
// order.
func (pd *predDraws) summarizeRows(n int) []rowSummary {
	out := make([]rowSummary, n)
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				out[i] = pd.summarizeRow(i)
			}
		}()
	}
	wg.Wait()
	return out
}

func sortedCopy(x []float64) []float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s
}

// formatNum writes a number for the output CSVs (shortest exact form,
// "NA" for NaN).
func formatNum(v float64) string {
	if math.IsNaN(v) {
		return "NA"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// saveAtomically writes path through write into a temporary file in the
// same directory and renames it into place, so that readers never see a
// partial file and a failed write leaves no file behind.
func saveAtomically(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := createTemp(dir, "."+filepath.Base(path)+".tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 1<<16)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// trainingRows returns rows [lo, hi) of the training design as NewData,
// with every level seen.
func trainingRows(d *model.Design, lo, hi int) *model.NewData {
	m := hi - lo
	_, p := d.X.Dims()
	nd := &model.NewData{N: m, X: d.X.Slice(lo, hi, 0, p).(*mat.Dense), Y: d.Y[lo:hi]}
	if d.Offset != nil {
		nd.Offset = d.Offset[lo:hi]
	}
	if d.Weights != nil {
		nd.Weights = d.Weights[lo:hi] // replicates have residual sd σ/√w
	}
	for _, t := range d.Terms {
		nt := &model.NewReTerm{Refs: t.Refs[lo:hi], Z: make([]float64, t.K*m)}
		for e := range t.K {
			copy(nt.Z[e*m:(e+1)*m], t.Z[e*d.N+lo:e*d.N+hi])
		}
		nd.Terms = append(nd.Terms, nt)
	}
	return nd
}

// ppcStat is one test statistic T of the posterior predictive check.
type ppcStat struct {
	name string
	obs  float64
	rep  []float64 // per draw
}

// ppcMaxDraws caps the posterior draws behind ppc.csv and ppc_stats.csv:
// beyond a few thousand, more draws move the predictive summaries by far
// less than their predictive spread, and the checks would cost more than
// the sampling (evenly thinned within each chain; predict uses every draw).
const ppcMaxDraws = 4000

// writePPC writes the posterior predictive check of the training rows
// into dir: ppc.csv (per used row: row, its 1-based index among the data
// file's rows, the observed y, and the epred/pred summaries of
// predColumns) and ppc_stats.csv (for T in mean, sd, min, max: T(y), the
// mean and 2.5%/97.5% quantiles of T(y_rep), and the posterior predictive
// p-value P(T(y_rep) ≥ T(y))). At most ppcMaxDraws posterior draws are used; draws are
// seeded by seed. run calls it with the run's draws (in memory or read back), predict could with
// readPostDraws: both take the same path.
func writePPC(dir string, d *model.Design, post *postDraws, seed uint64) error {
	post = post.thinned(ppcMaxDraws)
	s := post.numDraws()
	if s == 0 {
		return fmt.Errorf("ppc: no draws")
	}
	chunk := max(1, ppcChunkValues/s)
	sums := make([]float64, s)
	sq := make([]float64, s)
	mins := make([]float64, s)
	maxs := make([]float64, s)
	for k := range s {
		mins[k], maxs[k] = math.Inf(1), math.Inf(-1)
	}
	rows := make([]rowSummary, 0, d.N)
	for c, lo := 0, 0; lo < d.N; c, lo = c+1, lo+chunk {
		hi := min(d.N, lo+chunk)
		nd := trainingRows(d, lo, hi)
		pd, err := simulate(d, nd, post, model.PredictOptions{}, seed, predStream+uint64(c)+1)
		if err != nil {
			return fmt.Errorf("ppc: %w", err)
		}
		rows = append(rows, pd.summarizeRows(nd.N)...)
		for i := range nd.N {
			r := pd.pred[i*s : (i+1)*s]
			for k, v := range r {
				sums[k] += v
				sq[k] += v * v
				mins[k] = math.Min(mins[k], v)
				maxs[k] = math.Max(maxs[k], v)
			}
		}
	}
	n := float64(d.N)
	sds := make([]float64, s)
	for k := range s {
		m := sums[k] / n
		sds[k] = math.Sqrt(math.Max(0, (sq[k]-n*m*m)/(n-1)))
		sums[k] = m
	}
	ys := sortedCopy(d.Y)
	stats := []ppcStat{
		{"mean", diagnostics.Mean(d.Y), sums},
		{"sd", diagnostics.SD(d.Y), sds},
		{"min", ys[0], mins},
		{"max", ys[len(ys)-1], maxs},
	}
	err := saveAtomically(filepath.Join(dir, "ppc.csv"), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(append([]string{"row", "y"}, predColumns...))
		for i, r := range rows {
			rec := []string{strconv.Itoa(d.Rows[i] + 1), formatNum(d.Y[i])}
			for _, v := range r.values() {
				rec = append(rec, formatNum(v))
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	return saveAtomically(filepath.Join(dir, "ppc_stats.csv"), func(w io.Writer) error {
		return writePPCStats(w, stats)
	})
}

// writePPCStats writes the statistic table of ppc_stats.csv.
func writePPCStats(w io.Writer, stats []ppcStat) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"statistic", "observed", "rep_mean", "rep_q2.5", "rep_q97.5", "p_value"})
	for _, st := range stats {
		ge := 0
		for _, v := range st.rep {
			if v >= st.obs {
				ge++
			}
		}
		sr := sortedCopy(st.rep)
		cw.Write([]string{st.name, formatNum(st.obs), formatNum(diagnostics.Mean(st.rep)),
			formatNum(diagnostics.Quantile(sr, 0.025)), formatNum(diagnostics.Quantile(sr, 0.975)),
			formatNum(float64(ge) / float64(len(st.rep)))})
	}
	cw.Flush()
	return cw.Error()
}

// coefRow is the posterior of one coefficient of one level.
type coefRow struct {
	group, level, effect string
	mean, sd, lo, hi     float64
}

// coefColumns is the header of coef.csv.
var coefColumns = []string{"group", "level", "effect", "mean", "sd", "q2.5", "q97.5"}

// posteriorCoef returns, per grouping term and level, the posterior of
// the coefficient as lme4's coef() defines it: the fixed effect of the
// same name plus the level's random effect (the random effect alone when
// no fixed effect has its name; fixed effects without a random effect
// appear with their population draws). Needs the r_ columns.
func posteriorCoef(d *model.Design, post *postDraws) ([]coefRow, error) {
	if !post.hasRE {
		return nil, inputErrorf("the run in %s was made with [output] random_effects = false: its draws hold no per-level effects, so coef cannot be computed", post.source)
	}
	lay, err := post.layout(d)
	if err != nil {
		return nil, err
	}
	s := post.numDraws()
	v := make([]float64, s)
	var out []coefRow
	for ti, t := range d.Terms {
		fixedOf := make([]int, t.K)
		for e, name := range t.Names {
			fixedOf[e] = slices.Index(d.XNames, name)
		}
		for j, lev := range t.Levels {
			emit := func(effect string, get func(row []float64) float64) {
				for k := range s {
					v[k] = get(post.row(k))
				}
				q := diagnostics.Quantiles(v, []float64{0.025, 0.975})
				out = append(out, coefRow{t.Group, lev, effect, diagnostics.Mean(v), diagnostics.SD(v), q[0], q[1]})
			}
			for xi, xn := range d.XNames {
				e := slices.Index(t.Names, xn)
				if e < 0 {
					if ti == firstTermOf(d, t.Group) && !groupHasEffect(d, t.Group, xn) {
						emit(xn, func(row []float64) float64 { return row[lay.beta[xi]] })
					}
					continue
				}
				rc := lay.re[ti][j*t.K+e]
				emit(xn, func(row []float64) float64 { return row[lay.beta[xi]] + row[rc] })
			}
			for e, name := range t.Names {
				if fixedOf[e] >= 0 {
					continue
				}
				rc := lay.re[ti][j*t.K+e]
				emit(name, func(row []float64) float64 { return row[rc] })
			}
		}
	}
	return out, nil
}

// firstTermOf returns the index of the first term grouped by g.
func firstTermOf(d *model.Design, g string) int {
	for i, t := range d.Terms {
		if t.Group == g {
			return i
		}
	}
	return -1
}

// groupHasEffect reports whether some term grouped by g has effect name.
func groupHasEffect(d *model.Design, g, name string) bool {
	for _, t := range d.Terms {
		if t.Group == g && slices.Contains(t.Names, name) {
			return true
		}
	}
	return false
}

// writeCoef writes coef.csv (columns coefColumns) into dir and returns
// the rows; run calls it with the run's draws, predict with the draws
// read back.
func writeCoef(dir string, d *model.Design, post *postDraws) ([]coefRow, error) {
	rows, err := posteriorCoef(d, post)
	if err != nil {
		return nil, err
	}
	err = saveAtomically(filepath.Join(dir, "coef.csv"), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(coefColumns)
		for _, r := range rows {
			cw.Write([]string{r.group, r.level, r.effect, formatNum(r.mean), formatNum(r.sd), formatNum(r.lo), formatNum(r.hi)})
		}
		cw.Flush()
		return cw.Error()
	})
	return rows, err
}

package posterior

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/internal/outfile"
	"github.com/lmmbayes/lmmbayes/model"
	"gonum.org/v1/gonum/mat"
)

// PredictStream is the PCG stream id of predictive draws; the seed is the
// other half of the PCG state. Chunk c of the training rows (WritePPC)
// uses stream PredictStream+c+1, the PPC plot PredictStream−1.
const PredictStream = 0x707265646963 // "predic"

// ppcChunkValues bounds rows × draws of one chunk of WritePPC: each
// worker holds its epred and pred draws (2 × 16 MiB).
const ppcChunkValues = 1 << 21

// ppcMinChunks is the number of chunks WritePPC splits the rows into at
// least (rows permitting), so that small data are simulated on every
// core too. A constant, not the number of cores, so that the files stay
// the same on any machine.
const ppcMinChunks = 8

// ppcChunkRows returns the rows of one chunk of WritePPC for n rows and
// s draws: at most ppcChunkValues/s, and small enough to make
// ppcMinChunks chunks.
func ppcChunkRows(n, s int) int {
	return max(1, min(ppcChunkValues/s, (n+ppcMinChunks-1)/ppcMinChunks))
}

// Predictions holds the predictive draws of N rows: row i's S draws are
// contiguous (Epred[i*S+s], Pred[i*S+s]). Epred is the expected response
// xβ + zb, Pred adds the residual N(0, σ²).
type Predictions struct {
	N, S        int
	Epred, Pred []float64
}

// Predict draws epred and pred of every row of nd for every posterior
// draw of post (chains in order) with one PCG stream seeded by
// (seed, stream), so that the same seed gives the same draws. Rows of
// levels seen in training use their drawn effects (post must hold them:
// see CheckSeenLevels), unseen levels as opt says.
func Predict(d *model.Design, nd *model.NewData, post *draws.Draws, opt model.PredictOptions, seed, stream uint64) (*Predictions, error) {
	pr, err := model.NewPredictor(d, nd, opt)
	if err != nil {
		return nil, err
	}
	lay, err := post.Layout(d)
	if err != nil {
		return nil, err
	}
	out := &Predictions{}
	pd := draws.NewParamDraw(d, post.HasRE && !opt.Population)
	if err := predictInto(out, pr, lay, pd, nd.N, post, seed, stream); err != nil {
		return nil, err
	}
	return out, nil
}

// predictInto is Predict with the predictor, layout and parameter
// buffer made, reusing out's slices when they are long enough.
func predictInto(out *Predictions, pr *model.Predictor, lay *draws.Layout, pd *model.ParamDraw, n int, post *draws.Draws, seed, stream uint64) error {
	s := post.NumDraws()
	out.N, out.S = n, s
	if cap(out.Epred) < n*s {
		out.Epred, out.Pred = make([]float64, n*s), make([]float64, n*s)
	}
	out.Epred, out.Pred = out.Epred[:n*s], out.Pred[:n*s]
	rng := rand.New(rand.NewPCG(seed, stream))
	ep := make([]float64, n)
	pp := make([]float64, n)
	for k := range s {
		lay.Fill(post.Row(k), pd)
		if err := pr.Draw(pd, rng, ep, pp); err != nil {
			return err
		}
		for i := range n {
			out.Epred[i*s+k] = ep[i]
			out.Pred[i*s+k] = pp[i]
		}
	}
	return nil
}

// CheckSeenLevels returns an *draws.InputError when nd has rows of
// levels seen in training but post holds no r_ columns (a run made with
// [output] random_effects = false), unless opt.Population.
func CheckSeenLevels(d *model.Design, nd *model.NewData, post *draws.Draws, opt model.PredictOptions) error {
	if opt.Population || post.HasRE {
		return nil
	}
	for t, term := range d.Terms {
		for _, r := range nd.Terms[t].Refs {
			if int(r) < len(term.Levels) {
				return draws.Inputf("the run in %s was made with [output] random_effects = false, so its draws hold no effects of the %q levels seen in training; predict with --re-form NA, or run again with random_effects = true",
					post.Source, term.Group)
			}
		}
	}
	return nil
}

// RowSummary is the posterior summary of one row's draws, in the order
// of PredColumns.
type RowSummary struct {
	EpredMean, EpredSD, EpredLo, EpredHi      float64
	PredMean, PredSD, PredLo, PredMed, PredHi float64
}

// PredColumns are the summary columns of predictions.csv and ppc.csv.
var PredColumns = []string{"epred_mean", "epred_sd", "epred_q2.5", "epred_q97.5", "pred_mean", "pred_sd", "pred_q2.5", "pred_q50", "pred_q97.5"}

// Values returns the summary in the order of PredColumns.
func (r RowSummary) Values() []float64 {
	return []float64{r.EpredMean, r.EpredSD, r.EpredLo, r.EpredHi, r.PredMean, r.PredSD, r.PredLo, r.PredMed, r.PredHi}
}

// Summary summarises the draws of row i: means, SDs and 2.5%/97.5%
// quantiles (and the predictive median).
func (pd *Predictions) Summary(i int) RowSummary {
	e := pd.Epred[i*pd.S : (i+1)*pd.S]
	p := pd.Pred[i*pd.S : (i+1)*pd.S]
	eq := diagnostics.Quantiles(e, []float64{0.025, 0.975})
	pq := diagnostics.Quantiles(p, []float64{0.025, 0.5, 0.975})
	return RowSummary{
		EpredMean: diagnostics.Mean(e), EpredSD: diagnostics.SD(e),
		EpredLo: eq[0], EpredHi: eq[1],
		PredMean: diagnostics.Mean(p), PredSD: diagnostics.SD(p),
		PredLo: pq[0], PredMed: pq[1], PredHi: pq[2],
	}
}

// summaryInPlace is Summary reordering row i's draws in place (the
// quantiles select instead of copying); the summary is the same.
func (pd *Predictions) summaryInPlace(i int) RowSummary {
	e := pd.Epred[i*pd.S : (i+1)*pd.S]
	p := pd.Pred[i*pd.S : (i+1)*pd.S]
	var r RowSummary
	r.EpredMean, r.EpredSD = meanSD(e)
	r.PredMean, r.PredSD = meanSD(p)
	eq := diagnostics.QuantilesInPlace(e, []float64{0.025, 0.975})
	pq := diagnostics.QuantilesInPlace(p, []float64{0.025, 0.5, 0.975})
	r.EpredLo, r.EpredHi = eq[0], eq[1]
	r.PredLo, r.PredMed, r.PredHi = pq[0], pq[1], pq[2]
	return r
}

// meanSD returns diagnostics.Mean(x) and diagnostics.SD(x) (the same
// values, bit for bit) with the mean computed once.
func meanSD(x []float64) (float64, float64) {
	m := diagnostics.Mean(x)
	if len(x) < 2 {
		return m, math.NaN()
	}
	var ss float64
	for _, v := range x {
		d := v - m
		ss += d * d
	}
	return m, math.Sqrt(ss / float64(len(x)-1))
}

// Summaries summarises rows 0 … n−1 on every core, in row order.
func (pd *Predictions) Summaries(n int) []RowSummary {
	out := make([]RowSummary, n)
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				out[i] = pd.Summary(i)
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
func formatNum(v float64) string { return diagnostics.FormatValue(v, "NA") }

// TrainingRows returns rows [lo, hi) of the training design as NewData,
// with every level seen.
func TrainingRows(d *model.Design, lo, hi int) *model.NewData {
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

// PPCMaxDraws caps the posterior draws behind ppc.csv and ppc_stats.csv:
// beyond a few thousand, more draws move the predictive summaries by far
// less than their predictive spread, and the checks would cost more than
// the sampling (evenly thinned within each chain; predict uses every draw).
const PPCMaxDraws = 4000

// WritePPC writes the posterior predictive check of the training rows
// into dir: ppc.csv (per used row: row, its 1-based index among the data
// file's rows, the observed y, and the epred/pred summaries of
// PredColumns) and ppc_stats.csv (for T in mean, sd, min, max: T(y), the
// mean and 2.5%/97.5% quantiles of T(y_rep), and the posterior predictive
// p-value P(T(y_rep) ≥ T(y))), and for the count families
// ppc_rootogram.csv (RootogramColumns: per count k = 0 … K−1 and the
// tail "K+", the observed number of rows with that count and the mean
// and 2.5%/97.5% quantiles over draws of that number in y_rep; K as
// rootogramK chooses). At most PPCMaxDraws posterior draws are
// used (evenly thinned); the rows are split into chunks (ppcChunkRows),
// draws are seeded by seed, chunk c of the rows with stream PredictStream+c+1, so that the files do not depend on the
// number of cores. Each file is written atomically.
func WritePPC(dir string, d *model.Design, post *draws.Draws, seed uint64) error {
	return WritePPCProgress(dir, d, post, seed, nil)
}

// WritePPCProgress is WritePPC calling progress (when not nil) with the
// rows done so far and d.N, from the calling goroutine, as the rows are
// simulated and summarised, and once more (done = total) before the
// files are written.
func WritePPCProgress(dir string, d *model.Design, post *draws.Draws, seed uint64, progress func(done, total int)) error {
	post = post.Thinned(PPCMaxDraws)
	s := post.NumDraws()
	if s == 0 {
		return fmt.Errorf("ppc: no draws")
	}
	lay, err := post.Layout(d)
	if err != nil {
		return fmt.Errorf("ppc: %w", err)
	}
	chunk := ppcChunkRows(d.N, s)
	nChunks := (d.N + chunk - 1) / chunk
	workers := max(1, min(runtime.GOMAXPROCS(0), nChunks))
	sums := make([]float64, s)
	sq := make([]float64, s)
	mins := make([]float64, s)
	maxs := make([]float64, s)
	for k := range s {
		mins[k], maxs[k] = math.Inf(1), math.Inf(-1)
	}
	rows := make([]RowSummary, d.N)
	// Each worker simulates and summarises whole chunks into buffers of
	// its own; the chunks' statistics are folded in chunk order, so that
	// the result does not depend on the number of workers.
	fs := newFamilyStats(d, s)
	type work struct {
		pd                    Predictions
		psum, psq, pmin, pmax []float64
		fam                   *familyStats
		err                   error
	}
	ws := make([]*work, workers)
	for w := range ws {
		ws[w] = &work{psum: make([]float64, s), psq: make([]float64, s), pmin: make([]float64, s), pmax: make([]float64, s), fam: newFamilyStats(d, s)}
	}
	run := func(wk *work, c int) {
		lo := c * chunk
		hi := min(d.N, lo+chunk)
		nd := TrainingRows(d, lo, hi)
		opt := model.PredictOptions{}
		if d.Trials != nil {
			opt.Trials = d.Trials[lo:hi]
		}
		pr, err := model.NewPredictor(d, nd, opt)
		if err != nil {
			wk.err = err
			return
		}
		pdraw := draws.NewParamDraw(d, post.HasRE)
		if err := predictInto(&wk.pd, pr, lay, pdraw, nd.N, post, seed, PredictStream+uint64(c)+1); err != nil {
			wk.err = err
			return
		}
		for k := range s {
			wk.psum[k], wk.psq[k], wk.pmin[k], wk.pmax[k] = 0, 0, math.Inf(1), math.Inf(-1)
		}
		wk.fam.reset()
		for i := range nd.N {
			r := wk.pd.Pred[i*s : (i+1)*s]
			for k, v := range r {
				wk.psum[k] += v
				wk.psq[k] += v * v
				wk.pmin[k] = math.Min(wk.pmin[k], v)
				wk.pmax[k] = math.Max(wk.pmax[k], v)
			}
			wk.fam.add(lo+i, r)
		}
		if workers == 1 && nChunks == 1 {
			// One chunk: summarise its rows on every core.
			pd := &wk.pd
			nw := min(runtime.GOMAXPROCS(0), nd.N)
			var wg sync.WaitGroup
			for w := range nw {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < nd.N; i += nw {
						rows[lo+i] = pd.summaryInPlace(i)
					}
				}()
			}
			wg.Wait()
			return
		}
		for i := range nd.N {
			rows[lo+i] = wk.pd.summaryInPlace(i)
		}
	}
	for c0 := 0; c0 < nChunks; c0 += workers {
		var wg sync.WaitGroup
		for w := range min(workers, nChunks-c0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				run(ws[w], c0+w)
			}()
		}
		wg.Wait()
		for w := range min(workers, nChunks-c0) {
			wk := ws[w]
			if wk.err != nil {
				return fmt.Errorf("ppc: %w", wk.err)
			}
			fs.fold(wk.fam)
			for k := range s {
				sums[k] += wk.psum[k]
				sq[k] += wk.psq[k]
				mins[k] = math.Min(mins[k], wk.pmin[k])
				maxs[k] = math.Max(maxs[k], wk.pmax[k])
			}
		}
		if progress != nil {
			progress(min(d.N, (c0+workers)*chunk), d.N)
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
	stats = append(stats, fs.stats()...)
	root, err := fs.rootogram()
	if err != nil {
		return err
	}
	err = outfile.SaveAtomically(filepath.Join(dir, "ppc.csv"), func(w io.Writer) error {
		return writePPCRows(w, d, rows)
	})
	if err != nil {
		return err
	}
	err = outfile.SaveAtomically(filepath.Join(dir, "ppc_stats.csv"), func(w io.Writer) error {
		return writePPCStats(w, stats)
	})
	if err != nil || root == nil {
		return err
	}
	return outfile.SaveAtomically(filepath.Join(dir, "ppc_rootogram.csv"), func(w io.Writer) error {
		return writeRootogram(w, root)
	})
}

// writePPCRows writes ppc.csv's header and rows: numbers need no
// quoting, so each line is appended into one reused buffer (what
// csv.Writer would write, without a string per value).
func writePPCRows(w io.Writer, d *model.Design, rows []RowSummary) error {
	buf := make([]byte, 0, 512)
	buf = append(buf, "row,y"...)
	for _, c := range PredColumns {
		buf = append(buf, ',')
		buf = append(buf, c...)
	}
	buf = append(buf, '\n')
	if _, err := w.Write(buf); err != nil {
		return err
	}
	for i, r := range rows {
		buf = strconv.AppendInt(buf[:0], int64(d.Rows[i]+1), 10)
		buf = append(buf, ',')
		buf = appendNum(buf, d.Y[i])
		for _, v := range [...]float64{r.EpredMean, r.EpredSD, r.EpredLo, r.EpredHi, r.PredMean, r.PredSD, r.PredLo, r.PredMed, r.PredHi} {
			buf = append(buf, ',')
			buf = appendNum(buf, v)
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// appendNum appends formatNum(v).
func appendNum(b []byte, v float64) []byte {
	if math.IsNaN(v) {
		return append(b, "NA"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
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

// CoefRow is the posterior of one coefficient of one level: mean, SD
// and the 2.5% and 97.5% quantiles.
type CoefRow struct {
	Group, Level, Effect string
	Mean, SD, Lo, Hi     float64
}

// CoefColumns is the header of coef.csv.
var CoefColumns = []string{"group", "level", "effect", "mean", "sd", "q2.5", "q97.5"}

// Coef returns, per grouping term and level, the posterior of the
// coefficient as lme4's coef() defines it: the fixed effect of the same
// name plus the level's random effect (the random effect alone when no
// fixed effect has its name; fixed effects without a random effect
// appear with their population draws). It needs the r_ columns (an
// *draws.InputError without them).
func Coef(d *model.Design, post *draws.Draws) ([]CoefRow, error) {
	if !post.HasRE {
		return nil, draws.Inputf("the run in %s was made with [output] random_effects = false: its draws hold no per-level effects, so coef cannot be computed", post.Source)
	}
	lay, err := post.Layout(d)
	if err != nil {
		return nil, err
	}
	s := post.NumDraws()
	v := make([]float64, s)
	var out []CoefRow
	for ti, t := range d.Terms {
		fixedOf := make([]int, t.K)
		for e, name := range t.Names {
			fixedOf[e] = slices.Index(d.XNames, name)
		}
		for j, lev := range t.Levels {
			emit := func(effect string, get func(row []float64) float64) {
				for k := range s {
					v[k] = get(post.Row(k))
				}
				m, sd := meanSD(v)
				q := diagnostics.QuantilesInPlace(v, []float64{0.025, 0.975})
				out = append(out, CoefRow{t.Group, lev, effect, m, sd, q[0], q[1]})
			}
			for xi, xn := range d.XNames {
				e := slices.Index(t.Names, xn)
				if e < 0 {
					if ti == firstTermOf(d, t.Group) && !groupHasEffect(d, t.Group, xn) {
						emit(xn, func(row []float64) float64 { return row[lay.Beta(xi)] })
					}
					continue
				}
				rc := lay.RE(ti, j, e)
				emit(xn, func(row []float64) float64 { return row[lay.Beta(xi)] + row[rc] })
			}
			for e, name := range t.Names {
				if fixedOf[e] >= 0 {
					continue
				}
				rc := lay.RE(ti, j, e)
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

// WriteCoef writes coef.csv (columns CoefColumns) into dir, atomically,
// and returns the rows.
func WriteCoef(dir string, d *model.Design, post *draws.Draws) ([]CoefRow, error) {
	rows, err := Coef(d, post)
	if err != nil {
		return nil, err
	}
	err = outfile.SaveAtomically(filepath.Join(dir, "coef.csv"), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(CoefColumns)
		for _, r := range rows {
			cw.Write([]string{r.Group, r.Level, r.Effect, formatNum(r.Mean), formatNum(r.SD), formatNum(r.Lo), formatNum(r.Hi)})
		}
		cw.Flush()
		return cw.Error()
	})
	return rows, err
}

// maxPPCGroupLevels is the most levels a grouping factor may have for
// ppc_stats.csv to hold its per-level proportions of ones.
const maxPPCGroupLevels = 100

// familyStats accumulates, per posterior draw, the family's own test
// statistics of the replicated data: for bernoulli and binomial the
// proportion of ones (successes over trials) overall and per level of
// each grouping factor with at most maxPPCGroupLevels levels; for the
// count families the proportion of zeros. Nil for the Gaussian.
type familyStats struct {
	d      *model.Design
	s      int
	terms  []int       // Design.Terms index of each grouping factor kept
	num    []float64   // per draw: ones (successes) or zeros
	numG   [][]float64 // per (factor, level): per draw, successes
	denG   [][]float64 // per factor: trials per level
	nameG  []string
	obsG   []float64
	den    float64
	obs    float64
	counts bool
	// The rootogram of the count families: bins 0 … rootK, bin k < rootK
	// the rows whose count is k, bin rootK those whose count is at least
	// rootK. freq[k*s+j] is the number of rows of draw j's replicated
	// data in bin k (whole numbers: exact in any order of addition),
	// obsFreq[k] that of the observed data.
	rootK   int
	freq    []uint32
	obsFreq []float64
}

func newFamilyStats(d *model.Design, s int) *familyStats {
	if d.Family == model.Gaussian {
		return nil
	}
	f := &familyStats{d: d, s: s, num: make([]float64, s), counts: d.Family.Count()}
	trials := func(i int) float64 {
		if d.Trials != nil {
			return d.Trials[i]
		}
		return 1
	}
	for i, y := range d.Y {
		if f.counts {
			f.den++
			if y == 0 {
				f.obs++
			}
			continue
		}
		f.den += trials(i)
		f.obs += y
	}
	if f.counts {
		f.rootK = rootogramK(d.Y)
		f.freq = make([]uint32, (f.rootK+1)*s)
		f.obsFreq = make([]float64, f.rootK+1)
		for _, y := range d.Y {
			f.obsFreq[f.rootBin(y)]++
		}
		return f
	}
	seen := map[string]bool{}
	for ti, t := range d.Terms {
		if seen[t.Group] || len(t.Levels) > maxPPCGroupLevels {
			continue
		}
		seen[t.Group] = true
		f.terms = append(f.terms, ti)
		den := make([]float64, len(t.Levels))
		obs := make([]float64, len(t.Levels))
		for i, r := range t.Refs {
			den[r] += trials(i)
			obs[r] += d.Y[i]
		}
		f.denG = append(f.denG, den)
		for l, lev := range t.Levels {
			f.numG = append(f.numG, make([]float64, s))
			f.nameG = append(f.nameG, "prop_ones["+t.Group+"="+lev+"]")
			f.obsG = append(f.obsG, obs[l]/den[l])
		}
	}
	return f
}

// reset zeroes the per-draw sums.
func (f *familyStats) reset() {
	if f == nil {
		return
	}
	clear(f.num)
	for _, v := range f.numG {
		clear(v)
	}
	clear(f.freq)
}

// add adds training row i's replicated values r (one per draw).
func (f *familyStats) add(i int, r []float64) {
	if f == nil {
		return
	}
	if f.counts {
		for k, v := range r {
			if v == 0 {
				f.num[k]++
			}
			f.freq[f.rootBin(v+float64(rootogramShiftBug))*f.s+k]++
		}
		return
	}
	for k, v := range r {
		f.num[k] += v
	}
	off := 0
	for _, ti := range f.terms {
		t := f.d.Terms[ti]
		g := f.numG[off+int(t.Refs[i])]
		for k, v := range r {
			g[k] += v
		}
		off += len(t.Levels)
	}
}

// fold adds a chunk's sums (whole numbers: exact in any order).
func (f *familyStats) fold(c *familyStats) {
	if f == nil {
		return
	}
	for k, v := range c.num {
		f.num[k] += v
	}
	for k, v := range c.freq {
		f.freq[k] += v
	}
	for j, g := range c.numG {
		for k, v := range g {
			f.numG[j][k] += v
		}
	}
}

// stats returns the statistics for ppc_stats.csv.
func (f *familyStats) stats() []ppcStat {
	if f == nil {
		return nil
	}
	name := "prop_ones"
	if f.counts {
		name = "prop_zeros"
	}
	rep := make([]float64, f.s)
	for k, v := range f.num {
		rep[k] = v / f.den
	}
	out := []ppcStat{{name, f.obs / f.den, rep}}
	j := 0
	for a, ti := range f.terms {
		for l := range f.d.Terms[ti].Levels {
			r := make([]float64, f.s)
			for k, v := range f.numG[j] {
				r[k] = v / f.denG[a][l]
			}
			out = append(out, ppcStat{f.nameG[j], f.obsG[j], r})
			j++
		}
	}
	return out
}

// Rootogram bins: K is the largest observed count when that is at most
// rootogramFullMax; beyond it the counts are long-tailed for a bar per
// count, and K is the larger of rootogramFullMax and the 99 % quantile
// of the observed counts (the smallest observed count at or below which
// at least 99 % of the rows lie), at most rootogramMaxK. K is at least 1.
const (
	rootogramFullMax = 50
	rootogramMaxK    = 500
)

// rootogramShiftBug is added to every replicated count before it is
// binned (0; the tests' planted off-by-one bug).
var rootogramShiftBug = 0

// rootogramK returns the last bin K of the rootogram of the observed
// counts y (see rootogramFullMax): bins 0 … K−1 hold one count each, bin
// K every count ≥ K.
func rootogramK(y []float64) int {
	if len(y) == 0 {
		return 1
	}
	ys := sortedCopy(y)
	top := ys[len(ys)-1]
	if top <= rootogramFullMax {
		return max(1, int(top))
	}
	q99 := ys[int(math.Ceil(0.99*float64(len(ys))))-1]
	return int(min(rootogramMaxK, max(rootogramFullMax, q99)))
}

// rootBin returns the rootogram bin of count v: v itself below rootK,
// rootK at or above it.
func (f *familyStats) rootBin(v float64) int {
	if v < float64(f.rootK) {
		return int(v)
	}
	return f.rootK
}

// RootogramRow is one row of ppc_rootogram.csv: the observed number of
// rows whose count falls in the bin (Count, or at least Count when Tail),
// and the mean and 2.5 %/97.5 % quantiles over posterior draws of that
// number in the replicated data.
type RootogramRow struct {
	Count              int
	Tail               bool
	Observed, Expected float64
	Lo, Hi             float64
}

// RootogramColumns is the header of ppc_rootogram.csv.
var RootogramColumns = []string{"count", "observed", "expected", "q2.5", "q97.5"}

// Label is the row's count as ppc_rootogram.csv writes it: "3", or
// "12+" for the tail bin.
func (r RootogramRow) Label() string {
	s := strconv.Itoa(r.Count)
	if r.Tail {
		s += "+"
	}
	return s
}

// rootogram returns the rows of the rootogram, after checking that
// every draw's replicated data fill the bins with exactly the d.N rows.
func (f *familyStats) rootogram() ([]RootogramRow, error) {
	if f == nil || !f.counts {
		return nil, nil
	}
	for j := range f.s {
		var n int
		for k := range f.rootK + 1 {
			n += int(f.freq[k*f.s+j])
		}
		if n != f.d.N {
			return nil, fmt.Errorf("ppc rootogram: draw %d has %d replicated rows in the bins, the data %d", j+1, n, f.d.N)
		}
	}
	out := make([]RootogramRow, f.rootK+1)
	v := make([]float64, f.s)
	for k := range out {
		var sum int64 // exact: the mean is the correctly rounded quotient
		for j, c := range f.freq[k*f.s : (k+1)*f.s] {
			v[j] = float64(c)
			sum += int64(c)
		}
		out[k] = RootogramRow{Count: k, Tail: k == f.rootK, Observed: f.obsFreq[k],
			Expected: float64(sum) / float64(f.s), Lo: diagnostics.Quantile(v, 0.025), Hi: diagnostics.Quantile(v, 0.975)}
	}
	return out, nil
}

// writeRootogram writes ppc_rootogram.csv's header and rows.
func writeRootogram(w io.Writer, rows []RootogramRow) error {
	cw := csv.NewWriter(w)
	cw.Write(RootogramColumns)
	for _, r := range rows {
		cw.Write([]string{r.Label(), formatNum(r.Observed), formatNum(r.Expected), formatNum(r.Lo), formatNum(r.Hi)})
	}
	cw.Flush()
	return cw.Error()
}

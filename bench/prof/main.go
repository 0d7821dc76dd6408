// Command prof times and profiles the two kernels behind lmmbayes' cost on
// one model, outside the CLI:
//
//	prof factor -data CSV -formula F [-factors a,b] [-n 20]
//	    builds model.NewMixedModel and times SetTheta (one blocked Cholesky
//	    factorisation), Objective and Draw, n times each, at θ = 0.5 on the
//	    diagonal of Λ (as model/bench_test.go does): medians of the wall
//	    times, and the mean process CPU time of SetTheta (settheta_cpu_s).
//	prof sample -data CSV -formula F [-factors a,b] [-method auto|collapsed|crossed]
//	            [-chains 4 -parallel 0 -warmup 500 -draws 500 -seed 1] [-factor N] [-cpuprofile FILE]
//	    runs sampler.Run with brms's default priors (priors.Defaults) and
//	    prints, as key=value pairs, the method that ran (and on a second
//	    line why: Result.MethodReason), the wall and process CPU time of
//	    the run and of the chains' iterations alone (clocked by a
//	    sampler.DrawSink from the first iteration to the last draw), the
//	    set-up outside them (the mode search), the wall and CPU time per
//	    iteration of one chain, the min bulk-ESS and max R-hat over the b,
//	    sd, cor and sigma columns, and ESS per second of the iterations'
//	    wall (ess_per_s) and CPU (ess_per_cpu_s) time and of the whole run
//	    (ess_per_s_total). With -parallel 1 the chains run one at a time,
//	    so the process CPU is the running chain's. -factor N also times N
//	    SetTheta calls just before and just after the run (as prof factor)
//	    and prints the CPU per iteration in factorisations measured in the
//	    same process (cpu_per_factorisation), which a shared machine skews
//	    less than two separate measurements; -cpuprofile writes a pprof CPU
//	    profile of the run.
//
// It is a benchmarking aid for bench/run.sh and docs/benchmarks.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// common holds the flags of both subcommands.
type common struct {
	data, formula, factors string
}

func (c *common) add(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", "", "CSV file with a header row (required)")
	fs.StringVar(&c.formula, "formula", "", "lme4-style formula (required)")
	fs.StringVar(&c.factors, "factors", "", "comma-separated columns to read as factors")
}

func (c *common) design() (*model.Design, error) {
	if c.data == "" || c.formula == "" {
		return nil, errors.New("-data and -formula are required")
	}
	f, err := os.Open(c.data)
	if err != nil {
		return nil, fmt.Errorf("-data: %w", err)
	}
	defer f.Close()
	var opt model.FrameOptions
	if c.factors != "" {
		opt.Factors = strings.Split(c.factors, ",")
	}
	fr, err := model.ReadFrame(f, c.data, opt)
	if err != nil {
		return nil, err
	}
	fm, err := model.ParseFormula(c.formula)
	if err != nil {
		return nil, fmt.Errorf("-formula: %w", err)
	}
	return model.Build(fm, fr, model.BuildOptions{})
}

// median returns the median of xs (sorted in place).
func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func runFactor(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("factor", flag.ContinueOnError)
	var c common
	c.add(fs)
	n := fs.Int("n", 20, "repeats of each kernel")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return fmt.Errorf("-n %d: need at least 1", *n)
	}
	d, err := c.design()
	if err != nil {
		return err
	}
	t0 := time.Now()
	m, err := model.NewMixedModel(d)
	if err != nil {
		return err
	}
	build := time.Since(t0)
	th := make([]float64, m.ThetaLen())
	for i, lb := range m.ThetaLower() {
		if lb == 0 {
			th[i] = 0.5
		}
	}
	z := make([]float64, m.Q()+m.P())
	for i := range z {
		z[i] = float64(i%7) - 3
	}
	u, beta := make([]float64, m.Q()), make([]float64, m.P())
	set, obj, draw := make([]float64, *n), make([]float64, *n), make([]float64, *n)
	var setCPU float64
	for i := range *n {
		th[0] += 1e-3 // a new θ each time, so nothing is cached
		c := cpuSeconds()
		t := time.Now()
		if err := m.SetTheta(th); err != nil {
			return err
		}
		set[i] = time.Since(t).Seconds()
		setCPU += cpuSeconds() - c
		t = time.Now()
		_ = m.Objective(false)
		obj[i] = time.Since(t).Seconds()
		t = time.Now()
		m.Draw(z, 1, u, beta)
		draw[i] = time.Since(t).Seconds()
	}
	fmt.Fprintf(w, "rows=%d q=%d p=%d theta=%d gomaxprocs=%d build_s=%.4f settheta_s=%.6f settheta_cpu_s=%.6f objective_s=%.6f draw_s=%.6f\n",
		m.N(), m.Q(), m.P(), m.ThetaLen(), runtime.GOMAXPROCS(0), build.Seconds(), median(set), setCPU/float64(*n), median(obj), median(draw))
	return nil
}

// factorCost builds model.NewMixedModel(d) and returns the median wall and
// the mean process CPU time of n SetTheta calls (one blocked Cholesky
// factorisation each) at θ = 0.5 on the diagonal of Λ, moved by 1e-3 each
// time so that nothing is cached.
func factorCost(d *model.Design, n int) (wall, cpu float64, err error) {
	m, err := model.NewMixedModel(d)
	if err != nil {
		return 0, 0, err
	}
	th := make([]float64, m.ThetaLen())
	for i, lb := range m.ThetaLower() {
		if lb == 0 {
			th[i] = 0.5
		}
	}
	walls := make([]float64, n)
	for i := range n {
		th[0] += 1e-3
		c := cpuSeconds()
		t := time.Now()
		if err := m.SetTheta(th); err != nil {
			return 0, 0, err
		}
		walls[i] = time.Since(t).Seconds()
		cpu += cpuSeconds() - c
	}
	return median(walls), cpu / float64(n), nil
}

// defaultSpec resolves brms's default priors for d, as "lmmbayes run" does
// for a config without a [priors] table.
func defaultSpec(d *model.Design) (*sampler.Spec, error) {
	ps := sampler.ParamSetOf(d)
	asg, err := priors.Resolve(nil, ps, priors.Defaults(d.Y))
	if err != nil {
		return nil, fmt.Errorf("priors: %w", err)
	}
	spec := &sampler.Spec{Design: d}
	for _, e := range asg.Fixed {
		u, ok := e.Prior.(priors.Univariate)
		if !ok {
			return nil, fmt.Errorf("prior %s on %s: not univariate", e.Prior, e.Param)
		}
		spec.Fixed = append(spec.Fixed, u)
	}
	sp, ok := asg.Sigma.Prior.(priors.ScalePrior)
	if !ok {
		return nil, fmt.Errorf("prior %s on sigma: not a scale prior", asg.Sigma.Prior)
	}
	spec.Sigma = sp
	for _, tp := range asg.Terms {
		var sds []priors.ScalePrior
		for _, e := range tp.SD {
			s, ok := e.Prior.(priors.ScalePrior)
			if !ok {
				return nil, fmt.Errorf("prior %s on %s: not a scale prior", e.Prior, e.Param)
			}
			sds = append(sds, s)
		}
		spec.SD = append(spec.SD, sds)
		eta := 1.0
		if tp.Cor != nil {
			if l, ok := tp.Cor.Prior.(priors.LKJ); ok {
				eta = l.Eta
			}
		}
		spec.CorEta = append(spec.CorEta, eta)
	}
	return spec, nil
}

// sampleStats is what "prof sample" reports about one run.
type sampleStats struct {
	// method and reason are Result.Method and Result.MethodReason.
	method, reason string
	// runWall and runCPU are the wall and process CPU time of the whole
	// sampler.Run; iterWall and iterCPU the same summed over the chains'
	// iterations only (from the first iteration to the last draw, chain
	// construction excluded); setup = runWall − iterWall when the chains
	// run one at a time (the mode search of the collapsed method and the
	// chains' construction), NaN otherwise.
	runWall, runCPU, iterWall, iterCPU, setup float64
	// perIter and cpuPerIter are iterWall and iterCPU over chains ×
	// (warmup + draws); CPU is process-wide, so it is the chain's own
	// only when the chains run one at a time.
	perIter, cpuPerIter float64
	// minESS is the min bulk-ESS over the b, sd, cor and sigma columns,
	// minVar its column; maxRhat the max rank-normalised split R-hat over
	// the same columns (split chains, so defined for one chain too).
	minESS  float64
	minVar  string
	maxRhat float64
	rhatVar string
}

// summaryColumns returns the indices of the b, sd, cor and sigma columns.
func summaryColumns(n *sampler.Names) []int {
	want := map[string]bool{"sigma": true}
	for _, l := range [][]string{n.B, n.SD, n.Cor} {
		for _, c := range l {
			want[c] = true
		}
	}
	var out []int
	for j, c := range n.Columns {
		if want[c] {
			out = append(out, j)
		}
	}
	return out
}

// chainRecord is a sampler.DrawSink that keeps the b, sd, cor and sigma
// columns of one chain and clocks its iterations: the sink is made just
// before the chain's first iteration and receives its last draw at the
// end of its last one.
type chainRecord struct {
	cols             []int
	vals             [][]float64
	wall0, wall1     time.Time
	cpu0, cpu1       float64
	names            []string
	draws, wantDraws int
}

// WriteDraw implements sampler.DrawSink.
func (c *chainRecord) WriteDraw(row sampler.Row) error {
	for i, j := range c.cols {
		c.vals[i] = append(c.vals[i], row.At(j))
	}
	c.draws++
	if c.draws == c.wantDraws {
		c.wall1, c.cpu1 = time.Now(), cpuSeconds()
	}
	return nil
}

// recorder makes one chainRecord per chain (Options.Sink).
type recorder struct {
	mu        sync.Mutex
	wantDraws int
	chains    map[int]*chainRecord
}

func (r *recorder) sink(info sampler.ChainInfo) (sampler.DrawSink, error) {
	cols := summaryColumns(info.Names)
	if len(cols) == 0 {
		return nil, errors.New("no b, sd, cor or sigma column in the draws")
	}
	c := &chainRecord{cols: cols, vals: make([][]float64, len(cols)), wantDraws: r.wantDraws}
	for _, j := range cols {
		c.names = append(c.names, info.Names.Columns[j])
	}
	r.mu.Lock()
	r.chains[info.ID] = c
	r.mu.Unlock()
	c.wall0, c.cpu0 = time.Now(), cpuSeconds()
	return c, nil
}

// stats computes the figures of one run of iters iterations per chain
// with the given Options.Parallel from the chains' records.
func stats(res *sampler.Result, rec *recorder, runWall, runCPU float64, iters, parallel int) (sampleStats, error) {
	s := sampleStats{method: res.Method, reason: res.MethodReason, runWall: runWall, runCPU: runCPU,
		minESS: math.Inf(1), maxRhat: math.Inf(-1)}
	var chs []*chainRecord
	for _, ch := range res.Chains {
		c := rec.chains[ch.ID]
		if c == nil || c.draws != c.wantDraws {
			return s, fmt.Errorf("chain %d: the sink has no complete record", ch.ID)
		}
		chs = append(chs, c)
		s.iterWall += c.wall1.Sub(c.wall0).Seconds()
		s.iterCPU += c.cpu1 - c.cpu0
	}
	if len(chs) == 0 {
		return s, errors.New("no chains")
	}
	s.setup = math.NaN()
	if parallel == 1 || len(chs) == 1 {
		s.setup = runWall - s.iterWall
	}
	n := float64(len(chs) * iters)
	s.perIter, s.cpuPerIter = s.iterWall/n, s.iterCPU/n
	for i, name := range chs[0].names {
		x := make([][]float64, len(chs))
		for c, ch := range chs {
			x[c] = ch.vals[i]
		}
		if e := diagnostics.ESSBulk(x); e < s.minESS || math.IsNaN(e) {
			s.minESS, s.minVar = e, name
		}
		if r := diagnostics.Rhat(x); r > s.maxRhat || math.IsNaN(r) {
			s.maxRhat, s.rhatVar = r, name
		}
	}
	return s, nil
}

// cpuSeconds returns the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func runSample(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	var c common
	c.add(fs)
	chains := fs.Int("chains", 4, "chains")
	parallel := fs.Int("parallel", 0, "chains run at once (0: all; 1 makes the per-iteration figures each chain's own)")
	warmup := fs.Int("warmup", 500, "warmup iterations per chain")
	draws := fs.Int("draws", 500, "draws per chain")
	seed := fs.Uint64("seed", 1, "seed")
	method := fs.String("method", "auto", "sampler method: auto, collapsed, nuts or crossed")
	prof := fs.String("cpuprofile", "", "write a CPU profile to this file")
	nFactor := fs.Int("factor", 0, "time this many SetTheta calls just before and just after the run (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nFactor < 0 {
		return fmt.Errorf("-factor %d: want ≥ 0", *nFactor)
	}
	switch *method {
	case "auto", "collapsed", "crossed", "nuts":
	default:
		return fmt.Errorf("-method %q: want auto, collapsed, nuts or crossed", *method)
	}
	d, err := c.design()
	if err != nil {
		return err
	}
	spec, err := defaultSpec(d)
	if err != nil {
		return err
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var fWall, fCPU [2]float64
	if *nFactor > 0 {
		if fWall[0], fCPU[0], err = factorCost(d, *nFactor); err != nil {
			return fmt.Errorf("-factor: %w", err)
		}
	}
	rec := &recorder{wantDraws: *draws, chains: map[int]*chainRecord{}}
	cpu0 := cpuSeconds()
	t0 := time.Now()
	res, err := sampler.Run(context.Background(), spec, sampler.Options{
		Chains: *chains, Parallel: *parallel, Warmup: *warmup, Draws: *draws, Seed: *seed, Method: *method,
		Sink: rec.sink,
	})
	if err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	wall := time.Since(t0).Seconds()
	cpu := cpuSeconds() - cpu0
	s, err := stats(res, rec, wall, cpu, *warmup+*draws, *parallel)
	if err != nil {
		return err
	}
	if *nFactor > 0 {
		if fWall[1], fCPU[1], err = factorCost(d, *nFactor); err != nil {
			return fmt.Errorf("-factor: %w", err)
		}
		fc := (fCPU[0] + fCPU[1]) / 2
		fmt.Fprintf(w, "settheta_s=%.6f settheta_cpu_s=%.6f settheta_cpu_before_s=%.6f settheta_cpu_after_s=%.6f cpu_per_factorisation=%.4f ",
			(fWall[0]+fWall[1])/2, fc, fCPU[0], fCPU[1], s.cpuPerIter/fc)
	}
	// One key=value line for bench/run.sh; the reason (free text) on its
	// own line.
	fmt.Fprintf(w, "method=%s chains=%d parallel=%d warmup=%d draws=%d gomaxprocs=%d run_wall_s=%.4f run_cpu_s=%.4f iter_wall_s=%.4f iter_cpu_s=%.4f setup_s=%.4f s_per_iter=%.7f cpu_per_iter=%.7f min_ess_bulk=%.1f min_ess_var=%s ess_per_s=%.3f ess_per_cpu_s=%.3f ess_per_s_total=%.3f max_rhat=%.4f max_rhat_var=%s\n",
		s.method, *chains, *parallel, *warmup, *draws, runtime.GOMAXPROCS(0), s.runWall, s.runCPU, s.iterWall, s.iterCPU, s.setup,
		s.perIter, s.cpuPerIter, s.minESS, s.minVar, s.minESS/s.iterWall, s.minESS/s.iterCPU, s.minESS/s.runWall, s.maxRhat, s.rhatVar)
	fmt.Fprintf(w, "reason: %s\n", s.reason)
	for _, ch := range res.Chains {
		if ns := ch.NUTS; ns != nil {
			fmt.Fprintf(w, "chain %d: nuts step=%.4g mean_leapfrog=%.1f warmup_leapfrog=%.1f divergent=%d divergent_warmup=%d max_treedepth=%d accept=%.3f\n",
				ch.ID, ns.StepSize, ns.MeanLeapfrog, ns.MeanLeapfrogWarmup, ns.Divergent, ns.DivergentWarmup, ns.MaxTreeDepth, ch.Accept)
		}
	}
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: prof factor|sample [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "factor":
		err = runFactor(os.Args[2:], os.Stdout)
	case "sample":
		err = runSample(os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "prof:", err)
		os.Exit(2)
	}
}

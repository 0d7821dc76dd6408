// Command prof times and profiles the two kernels behind lmmbayes' cost on
// one model, outside the CLI:
//
//	prof factor -data CSV -formula F [-factors a,b] [-n 20]
//	    builds model.NewMixedModel and times SetTheta (one blocked Cholesky
//	    factorisation), Objective and Draw, n times each, at θ = 0.5 on the
//	    diagonal of Λ (as model/bench_test.go does).
//	prof sample -data CSV -formula F [-factors a,b] [-chains 4 -warmup 500 -draws 500 -seed 1] [-cpuprofile FILE]
//	    runs sampler.Run with brms's default priors (priors.Defaults) and
//	    prints the wall time and time per iteration; -cpuprofile writes a
//	    pprof CPU profile of the run.
//
// It is a benchmarking aid for bench/run.sh and docs/benchmarks.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

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
	for i := range *n {
		th[0] += 1e-3 // a new θ each time, so nothing is cached
		t := time.Now()
		if err := m.SetTheta(th); err != nil {
			return err
		}
		set[i] = time.Since(t).Seconds()
		t = time.Now()
		_ = m.Objective(false)
		obj[i] = time.Since(t).Seconds()
		t = time.Now()
		m.Draw(z, 1, u, beta)
		draw[i] = time.Since(t).Seconds()
	}
	fmt.Fprintf(w, "rows=%d q=%d p=%d theta=%d build_s=%.4f settheta_s=%.6f objective_s=%.6f draw_s=%.6f\n",
		m.N(), m.Q(), m.P(), m.ThetaLen(), build.Seconds(), median(set), median(obj), median(draw))
	return nil
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

func runSample(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	var c common
	c.add(fs)
	chains := fs.Int("chains", 4, "chains")
	warmup := fs.Int("warmup", 500, "warmup iterations per chain")
	draws := fs.Int("draws", 500, "draws per chain")
	seed := fs.Uint64("seed", 1, "seed")
	prof := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
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
	t0 := time.Now()
	res, err := sampler.Run(context.Background(), spec, sampler.Options{
		Chains: *chains, Warmup: *warmup, Draws: *draws, Seed: *seed,
	})
	if err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	wall := time.Since(t0).Seconds()
	iters := float64(*chains * (*warmup + *draws))
	fmt.Fprintf(w, "chains=%d warmup=%d draws=%d wall_s=%.3f s_per_iter_per_chain=%.6f (%d chain results)\n",
		*chains, *warmup, *draws, wall, wall/iters*float64(min(*chains, 2)), len(res.Chains))
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

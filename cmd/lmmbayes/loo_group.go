package main

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/loo"
	"github.com/lmmbayes/lmmbayes/model"
)

// runPosterior is a run's design (rebuilt from the config the run records)
// and its draws, for what loo computes from the parameters: leave-one-group-
// out and Bayesian R².
type runPosterior struct {
	d    *model.Design
	post *draws.Draws
	lay  *draws.Layout
}

// openRunPosterior loads the config recorded in the run's run.json, checks
// that the data file is the one the run read, rebuilds the design and reads
// the draws.
func openRunPosterior(dir string, meta *draws.RunMeta, metaPath string) (*runPosterior, error) {
	if meta == nil || meta.Config == "" {
		return nil, inputErrorf("loo: %s records no config file (run.json \"config\"), needed to rebuild the model", dir)
	}
	cfg, err := loadConfig(meta.Config)
	if err != nil {
		return nil, err
	}
	if _, err := draws.CheckData("loo", cfg.resolve(cfg.Data.Path), dir, meta, metaPath); err != nil {
		return nil, err
	}
	if cfg.Model.Formula != meta.Formula {
		return nil, inputErrorf("loo: %s: its formula %q is not the run's %q (recorded in %s): was the config changed after the run?",
			meta.Config, cfg.Model.Formula, meta.Formula, filepath.Base(metaPath))
	}
	applyRunColumns(cfg, meta) // weights and offset as the run had them (--weights)
	d, err := buildDesign(cfg)
	if err != nil {
		return nil, err
	}
	post, err := draws.Read(dir, d, draws.ReadOptions{})
	if err != nil {
		return nil, err
	}
	if !post.HasRE {
		return nil, inputErrorf("loo: the run in %s kept no random effects ([output] random_effects = false): the conditional fit and the other factors' effects need them", dir)
	}
	lay, err := post.Layout(d)
	if err != nil {
		return nil, err
	}
	return &runPosterior{d: d, post: post, lay: lay}, nil
}

// each calls fn with every draw in chain order.
func (rp *runPosterior) each(fn func(s int, pd *model.ParamDraw) error) error {
	pd := draws.NewParamDraw(rp.d, true)
	for s := range rp.post.NumDraws() {
		rp.lay.Fill(rp.post.Row(s), pd)
		if err := fn(s, pd); err != nil {
			return err
		}
	}
	return nil
}

// r2Summary is the Bayesian R², conditional and marginal, per draw.
type r2Summary struct {
	cond, marg []float64
}

// bayesR2 computes brms's bayes_R2 for every draw, with the random
// effects (conditional) and without (marginal, re_formula = NA), the draws
// split over GOMAXPROCS goroutines (each draw's value depends on that draw
// only, so the result does not depend on the split).
func (rp *runPosterior) bayesR2() (*r2Summary, error) {
	S := rp.post.NumDraws()
	r := &r2Summary{cond: make([]float64, S), marg: make([]float64, S)}
	workers := max(1, min(runtime.GOMAXPROCS(0), S))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pd := draws.NewParamDraw(rp.d, true)
			fixed, full := make([]float64, rp.d.N), make([]float64, rp.d.N)
			for s := w; s < S; s += workers {
				rp.lay.Fill(rp.post.Row(s), pd)
				if err := loo.FittedBoth(rp.d, pd, fixed, full); err != nil {
					errs[w] = err
					return
				}
				// On the response scale (brms's posterior_epred) for a
				// GLMM family.
				loo.ToResponse(rp.d, fixed)
				loo.ToResponse(rp.d, full)
				r.cond[s] = loo.BayesR2(rp.d.Y, full)
				r.marg[s] = loo.BayesR2(rp.d.Y, fixed)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// r2Of summarises draws of R² as brms's posterior_summary.
func r2Of(x []float64) r2JSON {
	q := diagnostics.Quantiles(x, []float64{0.025, 0.975})
	return r2JSON{Estimate: diagnostics.Mean(x), EstError: diagnostics.SD(x), Q2_5: q[0], Q97_5: q[1]}
}

// print writes the R² summary as brms's bayes_R2 prints it (posterior mean,
// SD and 95% interval), one row each for the conditional and the marginal R².
func (r *r2Summary) print(w io.Writer) {
	fmt.Fprintf(w, "\nBayesian R2 (bayes_R2; Gelman, Goodrich, Gabry & Vehtari 2019):\n")
	fmt.Fprintf(w, "%-26s %8s %9s %6s %6s\n", "", "Estimate", "Est.Error", "Q2.5", "Q97.5")
	for _, row := range []struct {
		name string
		x    []float64
	}{{"conditional (with r_)", r.cond}, {"marginal (re_formula = NA)", r.marg}} {
		q := diagnostics.Quantiles(row.x, []float64{0.025, 0.975})
		fmt.Fprintf(w, "%-26s %8.3f %9.3f %6.3f %6.3f\n", row.name, diagnostics.Mean(row.x), diagnostics.SD(row.x), q[0], q[1])
	}
}

// groupLoo is leave-one-group-out for one grouping factor.
type groupLoo struct {
	name string
	rp   *runPosterior
	gll  *loo.GroupLogLik
}

func openGroupLoo(dir string, meta *draws.RunMeta, metaPath, group string) (*groupLoo, error) {
	rp, err := openRunPosterior(dir, meta, metaPath)
	if err != nil {
		return nil, err
	}
	gll, err := loo.NewGroupLogLik(rp.d, group)
	if err != nil {
		return nil, inputErrorf("loo: --group %s: %v", group, err)
	}
	return &groupLoo{name: group, rp: rp, gll: gll}, nil
}

func (g *groupLoo) levels() int          { return len(g.gll.Levels()) }
func (g *groupLoo) levelNames() []string { return g.gll.Levels() }

// compute evaluates each level's marginal log-likelihood for every draw and
// runs PSIS over the levels.
func (g *groupLoo) compute(r *looRun, f *looFlags) error {
	S := g.rp.post.NumDraws()
	G := g.levels()
	cols := make([][]float64, G)
	for j := range cols {
		cols[j] = make([]float64, S)
	}
	out := make([]float64, G)
	err := g.rp.each(func(s int, pd *model.ParamDraw) error {
		if err := g.gll.LogLik(pd, out); err != nil {
			return err
		}
		for j, v := range out {
			cols[j][s] = v
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("loo: %s: %w", r.dir, err)
	}
	lens := g.rp.post.ChainLengths()
	chains := len(lens)
	for _, n := range lens {
		if n != lens[0] {
			return inputErrorf("loo: %s: chains of different lengths", r.dir)
		}
	}
	pw, wp, err := loo.LOOBatch(cols, chains, *f.workers, 0, *f.waic)
	if err != nil {
		return asInput(fmt.Errorf("loo: %s: %w", r.dir, err))
	}
	r.res = loo.Summarize(pw, S)
	if *f.waic {
		r.waic = loo.SummarizeWAIC(wp, S)
	}
	if r.r2, err = g.rp.bayesR2(); err != nil {
		return err
	}
	return nil
}

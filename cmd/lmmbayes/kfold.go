package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/internal/outfile"
	"github.com/lmmbayes/lmmbayes/loo"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/sampler"
)

const kfoldSynopsis = `CONFIG --group NAME --folds K [flags]

Exact grouped K-fold cross-validation: the levels of grouping factor NAME are
split into K folds; the model of CONFIG is refitted K times, each time
without one fold's rows, and those rows' log predictive density is computed
from the refit (the left-out levels' effects integrated out). The fits run as
separate processes ("lmmbayes kfold ... --fold k" each, --jobs at a time), so
they can also be spread over machines like chains; the combined result is
written to DIR/kfold.csv and DIR/kfold.json. See docs/loo.md.`

// kfoldSeedStream is the PCG stream of the fold assignment.
const kfoldSeedStream = 0x6b666f6c64 // "kfold"

func cmdKfold(e *env, args []string) error {
	fs := newFlags("kfold", kfoldSynopsis, e.stdout)
	group := fs.String("group", "", "grouping factor `NAME` whose levels are left out whole (required)")
	folds := fs.Int("folds", 10, "number of folds `K`")
	fold := fs.Int("fold", 0, "fit only fold `k` (1 … K) and write DIR/kfold_k.csv; the other folds' files are combined by a run without --fold")
	out := fs.String("out", "", "output `DIR` (default: the config's output dir with \"_kfold\" appended)")
	jobs := fs.Int("jobs", 1, "folds fitted at the same time (each fit runs its chains in parallel)")
	seed := fs.Int64("seed", -1, "seed of the fold assignment and the fits (default: the config's [sampler] seed, else drawn)")
	force := fs.Bool("force", false, "replace existing fold files")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return inputErrorf("kfold: expected one config file, got %d arguments (see \"lmmbayes kfold -h\")", len(pos))
	}
	if *group == "" {
		return inputErrorf("kfold: --group NAME is required (the grouping factor whose levels are left out)")
	}
	if *folds < 2 {
		return inputErrorf("kfold: --folds must be at least 2, got %d", *folds)
	}
	if *fold < 0 || *fold > *folds {
		return inputErrorf("kfold: --fold must be between 1 and --folds (%d), got %d", *folds, *fold)
	}
	if *jobs < 1 {
		return inputErrorf("kfold: --jobs must be positive, got %d", *jobs)
	}
	cfg, err := loadConfig(pos[0])
	if err != nil {
		return err
	}
	if fam, _ := model.ParseFamily(cfg.Model.Family); fam != model.Gaussian {
		return inputErrorf("%s: family %q: kfold refits the gaussian family only so far (use lmmbayes loo on a run with log_lik = true)", cfg.where("model.family"), fam)
	}
	if *seed >= 0 {
		cfg.Sampler.Seed = *seed
	}
	cfg.ensureSeed()
	dir := *out
	if dir == "" {
		dir = strings.TrimRight(cfg.resolve(cfg.Output.Dir), string(filepath.Separator)) + "_kfold"
	}
	kf, err := newKfold(cfg, *group, *folds)
	if err != nil {
		return err
	}
	if *fold > 0 {
		return kf.fitFold(e, dir, *fold, *force)
	}
	return kf.runAll(e, pos[0], dir, *jobs, *force)
}

// kfoldPlan is the fold assignment of a config's rows.
type kfoldPlan struct {
	cfg     *config
	fr      *model.Frame
	d       *model.Design
	group   string
	term    int // a term of d grouped by group
	K       int
	levelOf []string // per design row, its level of group
	foldOf  map[string]int
}

func newKfold(cfg *config, group string, K int) (*kfoldPlan, error) {
	d, fr, _, err := buildDesignFrame(cfg)
	if err != nil {
		return nil, err
	}
	term := -1
	var groups []string
	for t, tm := range d.Terms {
		if tm.Group == group && term < 0 {
			term = t
		}
		if !slices.Contains(groups, tm.Group) {
			groups = append(groups, tm.Group)
		}
	}
	if term < 0 {
		return nil, inputErrorf("kfold: --group %s: no random-effect term is grouped by %q (the model's grouping factors: %s)%s",
			group, group, strings.Join(groups, ", "), suggest(group, groups))
	}
	tm := d.Terms[term]
	if len(tm.Levels) < K {
		return nil, inputErrorf("kfold: --folds %d is more than the %d levels of %s", K, len(tm.Levels), group)
	}
	p := &kfoldPlan{cfg: cfg, fr: fr, d: d, group: group, term: term, K: K, foldOf: map[string]int{}}
	p.levelOf = make([]string, d.N)
	for i, ref := range tm.Refs {
		p.levelOf[i] = tm.Levels[ref]
	}
	// Levels in the design's order, shuffled by the seed; level at
	// position j of the permutation goes to fold j mod K + 1, so folds
	// differ in size by at most one level.
	rng := rand.New(rand.NewPCG(uint64(cfg.Sampler.Seed), kfoldSeedStream))
	perm := rng.Perm(len(tm.Levels))
	for j, li := range perm {
		p.foldOf[tm.Levels[li]] = j%K + 1
	}
	return p, nil
}

// foldFile is fold k's pointwise result file.
func foldFile(dir string, k int) string { return filepath.Join(dir, fmt.Sprintf("kfold_%d.csv", k)) }

// fitFold refits without fold k and writes kfold_k.csv: for each left-out
// row its data row, level, elpd (log mean over draws of its predictive
// density) and the joint elpd of its level's rows (repeated on each row).
func (p *kfoldPlan) fitFold(e *env, dir string, k int, force bool) error {
	path := foldFile(dir, k)
	if _, err := os.Stat(path); err == nil && !force {
		return inputErrorf("kfold: %s exists; use --force to replace it", path)
	}
	var train, test []int // design rows
	for i, lev := range p.levelOf {
		if p.foldOf[lev] == k {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	frameRows := func(rows []int) []int {
		out := make([]int, len(rows))
		for i, r := range rows {
			out[i] = p.d.Rows[r]
		}
		return out
	}
	f, err := model.ParseFormula(p.cfg.Model.Formula)
	if err != nil {
		return formulaError(p.cfg, err)
	}
	dTrain, err := model.Build(f, p.fr.Subset(frameRows(train)), model.BuildOptions{Reference: p.cfg.Data.Reference})
	if err != nil {
		return asInput(fmt.Errorf("kfold: fold %d: %w", k, err))
	}
	nd, err := dTrain.NewData(p.fr.Subset(frameRows(test)))
	if err != nil {
		return asInput(fmt.Errorf("kfold: fold %d: held-out rows: %w", k, err))
	}
	spec, _, err := buildSpec(p.cfg, dTrain)
	if err != nil {
		return err
	}
	opt := sampler.Options{
		Chains:        int(p.cfg.Sampler.Chains),
		Warmup:        int(p.cfg.Sampler.Warmup),
		Draws:         int(p.cfg.Sampler.Draws),
		Thin:          int(p.cfg.Sampler.Thin),
		Seed:          uint64(p.cfg.Sampler.Seed),
		FirstChain:    1,
		Method:        p.cfg.Sampler.Method,
		RandomEffects: true,
	}
	start := time.Now()
	res, err := sampler.Run(e.ctx, spec, opt)
	if err != nil {
		return samplerInputError(p.cfg, fmt.Errorf("kfold: fold %d: %w", k, err))
	}
	post := draws.New(res.Names, true, fmt.Sprintf("fold %d", k))
	for _, ch := range res.Chains {
		post.AddChain(ch.NDraws, ch.Draws)
	}
	lay, err := post.Layout(dTrain)
	if err != nil {
		return err
	}
	ho, err := loo.NewHeldOut(dTrain, nd, p.termIn(dTrain))
	if err != nil {
		return err
	}
	S := post.NumDraws()
	elpd, err := ho.ELPD(post, lay)
	if err != nil {
		return fmt.Errorf("kfold: fold %d: %w", k, err)
	}
	groups := ho.Groups()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return inputErrorf("kfold: %s: %v", dir, err)
	}
	err = outfile.SaveAtomically(path, func(w io.Writer) error {
		fmt.Fprintf(w, "# fold = %d of %d, group = %s, seed = %d, draws = %d, seconds = %.2f\n", k, p.K, p.group, p.cfg.Sampler.Seed, S, time.Since(start).Seconds())
		io.WriteString(w, "row,"+csvQuote(p.group)+",elpd_kfold,elpd_kfold_group\n")
		for i, r := range test {
			fmt.Fprintf(w, "%d,%s,%s,%s\n", p.d.Rows[r]+1, csvQuote(p.levelOf[r]), formatNum(elpd.Row[i]), formatNum(elpd.Group[elpd.GroupOf[i]]))
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "fold %d of %d: %d rows of %d levels left out, %d draws, %.1f s: %s\n", k, p.K, len(test), len(groups), S, time.Since(start).Seconds(), path)
	return nil
}

// termIn returns the index of a term of d grouped by p.group (−1 if none).
func (p *kfoldPlan) termIn(d *model.Design) int {
	for t, tm := range d.Terms {
		if tm.Group == p.group {
			return t
		}
	}
	return -1
}

// runAll fits every fold as its own process, jobs at a time, then combines
// the fold files.
func (p *kfoldPlan) runAll(e *env, configPath, dir string, jobs int, force bool) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("kfold: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return inputErrorf("kfold: %s: %v", dir, err)
	}
	var todo []int
	for k := 1; k <= p.K; k++ {
		if _, err := os.Stat(foldFile(dir, k)); err == nil && !force {
			fmt.Fprintf(e.stdout, "fold %d of %d: %s exists, kept (--force refits)\n", k, p.K, foldFile(dir, k))
			continue
		}
		todo = append(todo, k)
	}
	errs := make([]error, p.K+1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, jobs)
	for _, k := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			args := []string{"kfold", configPath, "--group", p.group, "--folds", strconv.Itoa(p.K), "--fold", strconv.Itoa(k),
				"--out", dir, "--seed", strconv.FormatInt(p.cfg.Sampler.Seed, 10), "--force"}
			cmd := exec.CommandContext(e.ctx, exe, args...)
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			err := cmd.Run()
			mu.Lock()
			defer mu.Unlock()
			e.stdout.Write(so.Bytes())
			if err != nil {
				errs[k] = fmt.Errorf("kfold: fold %d (%s %s): %v: %s", k, exe, strings.Join(args, " "), err, strings.TrimSpace(se.String()))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return p.combine(e.stdout, dir)
}

// kfoldJSON is kfold.json.
type kfoldJSON struct {
	Group            string         `json:"group"`
	K                int            `json:"folds"`
	Seed             int64          `json:"seed"`
	N                int            `json:"nobs"`
	ElpdKfold        float64        `json:"elpd_kfold"`
	SEElpdKfold      float64        `json:"se_elpd_kfold"`
	KfoldIC          float64        `json:"kfoldic"`
	SEKfoldIC        float64        `json:"se_kfoldic"`
	ElpdKfoldGroup   float64        `json:"elpd_kfold_group"`
	SEElpdKfoldGroup float64        `json:"se_elpd_kfold_group"`
	Levels           int            `json:"levels"`
	PKfold           *float64       `json:"p_kfold,omitempty"`
	SEPKfold         *float64       `json:"se_p_kfold,omitempty"`
	FoldOfLevel      map[string]int `json:"fold_of_level"`
}

// combine reads the fold files and writes kfold.csv and kfold.json.
func (p *kfoldPlan) combine(w io.Writer, dir string) error {
	elpd := make([]float64, p.d.N)
	seen := make([]bool, p.d.N)
	rowOf := map[int]int{} // data row (1-based) → design row
	for i, r := range p.d.Rows {
		rowOf[r+1] = i
	}
	groupElpd := map[string]float64{}
	for k := 1; k <= p.K; k++ {
		raw, err := os.ReadFile(foldFile(dir, k))
		if err != nil {
			return inputErrorf("kfold: fold %d: %v", k, err)
		}
		var body []byte
		for _, line := range bytes.SplitAfter(raw, []byte("\n")) {
			if !bytes.HasPrefix(line, []byte("#")) {
				body = append(body, line...)
			}
		}
		recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(recs) < 1 {
			return inputErrorf("kfold: %s: %v", foldFile(dir, k), err)
		}
		for _, rec := range recs[1:] {
			r, err1 := strconv.Atoi(rec[0])
			v, err2 := strconv.ParseFloat(rec[2], 64)
			gv, err3 := strconv.ParseFloat(rec[3], 64)
			i, ok := rowOf[r]
			if err1 != nil || err2 != nil || err3 != nil || !ok || p.foldOf[p.levelOf[i]] != k {
				return inputErrorf("kfold: %s: row %q does not belong to fold %d of this config (was it made with another config, seed or --folds?)", foldFile(dir, k), rec[0], k)
			}
			elpd[i], seen[i] = v, true
			groupElpd[rec[1]] = gv
		}
	}
	for i, ok := range seen {
		if !ok {
			return inputErrorf("kfold: data row %d has no result in the fold files", p.d.Rows[i]+1)
		}
	}
	est := loo.EstimateOf(elpd)
	// p_kfold as brms: lpd of the full-data fit minus elpd_kfold, when the
	// config's own run wrote its log-likelihood.
	lpd, lpdNote := p.fullLpd()
	var pk *loo.Estimate
	if lpd != nil {
		x := make([]float64, len(elpd))
		for i := range x {
			x[i] = lpd[i] - elpd[i]
		}
		e := loo.EstimateOf(x)
		pk = &e
	}
	ge := make([]float64, 0, len(groupElpd))
	for _, lev := range p.d.Terms[p.term].Levels {
		ge = append(ge, groupElpd[lev])
	}
	gest := loo.EstimateOf(ge)
	err := outfile.SaveAtomically(filepath.Join(dir, "kfold.csv"), func(w io.Writer) error {
		io.WriteString(w, "row,"+csvQuote(p.group)+",fold,elpd_kfold\n")
		for i, v := range elpd {
			fmt.Fprintf(w, "%d,%s,%d,%s\n", p.d.Rows[i]+1, csvQuote(p.levelOf[i]), p.foldOf[p.levelOf[i]], formatNum(v))
		}
		return nil
	})
	if err != nil {
		return err
	}
	js := kfoldJSON{Group: p.group, K: p.K, Seed: p.cfg.Sampler.Seed, N: p.d.N,
		ElpdKfold: est.Estimate, SEElpdKfold: est.SE, KfoldIC: -2 * est.Estimate, SEKfoldIC: 2 * est.SE,
		ElpdKfoldGroup: gest.Estimate, SEElpdKfoldGroup: gest.SE, Levels: len(ge), FoldOfLevel: p.foldOf}
	if pk != nil {
		js.PKfold, js.SEPKfold = &pk.Estimate, &pk.SE
	}
	err = outfile.SaveAtomically(filepath.Join(dir, "kfold.json"), func(w io.Writer) error {
		b, err := json.MarshalIndent(js, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nBased on %d-fold cross-validation (levels of %s left out whole)\n\n", p.K, p.group)
	fmt.Fprintf(w, "                 Estimate   SE\n")
	fmt.Fprintf(w, "elpd_kfold       %8.1f %4.1f\n", est.Estimate, est.SE)
	if pk != nil {
		fmt.Fprintf(w, "p_kfold          %8.1f %4.1f\n", pk.Estimate, pk.SE)
	}
	fmt.Fprintf(w, "kfoldic          %8.1f %4.1f\n", -2*est.Estimate, 2*est.SE)
	fmt.Fprintf(w, "elpd_kfold_group %8.1f %4.1f   (joint density of each left-out level's rows, %d levels)\n", gest.Estimate, gest.SE, len(ge))
	if lpdNote != "" {
		fmt.Fprintf(w, "\np_kfold not computed: %s\n", lpdNote)
	}
	fmt.Fprintf(w, "\nPointwise: %s; folds and estimates: %s\n", filepath.Join(dir, "kfold.csv"), filepath.Join(dir, "kfold.json"))
	return nil
}

// fullLpd returns, per row, the log pointwise predictive density of the
// full-data fit, log mean exp(log_lik), from the run in the config's output
// dir; nil and why not when it has no log_lik files or another design.
func (p *kfoldPlan) fullLpd() ([]float64, string) {
	dir := p.cfg.resolve(p.cfg.Output.Dir)
	files, err := draws.Files(dir)
	if err != nil {
		return nil, fmt.Sprintf("no run of the config in %s (run it with --log-lik for brms's p_kfold)", dir)
	}
	for i, f := range files {
		files[i] = draws.LogLikPath(f)
		if _, err := os.Stat(files[i]); err != nil {
			return nil, fmt.Sprintf("the run in %s has no log_lik files (run it with --log-lik for brms's p_kfold)", dir)
		}
	}
	if err := checkRunData(nil, "kfold", p.cfg, dir); err != nil {
		return nil, err.Error()
	}
	src, err := loo.OpenSource(files, "log_lik")
	if err != nil {
		return nil, err.Error()
	}
	if src.N != p.d.N {
		return nil, fmt.Sprintf("the run in %s has log_lik for %d rows, the config's data %d", dir, src.N, p.d.N)
	}
	lpd := make([]float64, 0, src.N)
	err = src.Stream(src.BatchSize(p.cfg.Output.MemoryMB<<20), 2, os.TempDir(), func(_ int, cols [][]float64) error {
		for _, c := range cols {
			lpd = append(lpd, loo.LogMeanExp(c))
		}
		return nil
	})
	if err != nil {
		return nil, err.Error()
	}
	return lpd, ""
}

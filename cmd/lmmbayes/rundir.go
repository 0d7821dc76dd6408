package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// defaultPredictSeed seeds predict when neither --seed nor the run's
// run.json gives one.
const defaultPredictSeed = 20260101

// postDraws is a run's posterior draws, chains in order, laid out by the
// draws-file columns of sampler.ColumnNames. run makes one from the draws
// its sinks kept in memory (sinkSet.finish) or read back (loadPost);
// predict, compare and plot from the files in a run dir
// (readPostDrawsFor).
type postDraws struct {
	// names are the columns; hasRE is true when the r_ columns are kept.
	names *sampler.Names
	hasRE bool
	// chains holds, per chain, the draws row-major (rows × len(names.Columns)).
	chains [][]float64
	// rows is the number of draws per chain.
	rows []int
	// col maps a column name to its index.
	col map[string]int
	// source names where the draws came from, for errors.
	source string
	// reMeans are the posterior means of r_ columns that were not read
	// whole (compare needs only those).
	reMeans []reMean
}

// reMean is the posterior mean of one r_ column.
type reMean struct {
	col  sampler.REColumn
	mean float64
}

// addChains appends the chains of dr, each flattened row-major (each row
// is dropped as it is copied, so that the two layouts are not held
// whole at once), and indexes the columns.
func (p *postDraws) addChains(dr *diagnostics.Draws) {
	for _, ch := range dr.Chains {
		var flat []float64
		if len(ch.Draws) > 0 {
			flat = make([]float64, 0, len(ch.Draws)*len(ch.Draws[0]))
		}
		for i, row := range ch.Draws {
			flat = append(flat, row...)
			ch.Draws[i] = nil
		}
		p.chains = append(p.chains, flat)
		p.rows = append(p.rows, len(ch.Draws))
	}
	p.index()
}

func (p *postDraws) index() {
	p.col = make(map[string]int, len(p.names.Columns))
	for i, c := range p.names.Columns {
		p.col[c] = i
	}
}

var drawsFileRE = regexp.MustCompile(`^draws_(\d+)\.csv$`)

// drawsFiles lists dir's draws_<k>.csv files in chain order.
func drawsFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, inputErrorf("output dir %s does not exist: no run to read (run \"lmmbayes run CONFIG\" first)", dir)
		}
		return nil, inputErrorf("output dir %s: %v", dir, err)
	}
	type f struct {
		k    int
		name string
	}
	var fs []f
	for _, e := range ents {
		if m := drawsFileRE.FindStringSubmatch(e.Name()); m != nil && !e.IsDir() {
			k, _ := strconv.Atoi(m[1])
			fs = append(fs, f{k, e.Name()})
		}
	}
	if len(fs) == 0 {
		return nil, inputErrorf("output dir %s holds no draws_*.csv: no run to read (run \"lmmbayes run CONFIG\" first)", dir)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].k < fs[j].k })
	out := make([]string, len(fs))
	for i, x := range fs {
		out[i] = filepath.Join(dir, x.name)
	}
	return out, nil
}

// readPostDraws reads the draws files of the run in dir and checks their
// columns against design d: they must be exactly the columns a run of d
// writes, with or without the r_ columns.
func readPostDraws(dir string, d *model.Design) (*postDraws, error) {
	return readPostDrawsFor(dir, d, nil, 1)
}

// readPostDrawsFor is readPostDraws keeping, of the r_ columns, only those
// keepRE accepts (nil keeps all): predict needs only the levels of its
// new data, which bounds its memory on models with many levels. The
// postDraws' names then list only the columns kept. thin > 1 keeps one
// draw in thin of each chain.
func readPostDrawsFor(dir string, d *model.Design, keepRE func(rc sampler.REColumn) bool, thin int) (*postDraws, error) {
	files, err := drawsFiles(dir)
	if err != nil {
		return nil, err
	}
	header, _, err := readHeader(files[0])
	if err != nil {
		return nil, asInput(fmt.Errorf("reading the run in %s: %w", dir, err))
	}
	full := sampler.ColumnNames(d, true)
	var names *sampler.Names
	switch {
	case slices.Equal(header, full.Columns):
		names = full
	default:
		short := sampler.ColumnNames(d, false)
		if !slices.Equal(header, short.Columns) {
			return nil, inputErrorf("%s: its columns are not those of the model in the config (%s); was the config changed after the run?",
				files[0], columnMismatch(header, full.Columns))
		}
		names = short
	}
	opt := diagnostics.ReadOptions{Thin: thin}
	if keepRE != nil && len(names.RE) > 0 {
		sub := *names
		nHead := len(names.Columns) - len(names.RE)
		sub.Columns = slices.Clone(names.Columns[:nHead])
		sub.RE = nil
		for j := range nHead {
			opt.Columns = append(opt.Columns, j)
		}
		for i, rc := range names.RE {
			if keepRE(rc) {
				opt.Columns = append(opt.Columns, nHead+i)
				sub.Columns = append(sub.Columns, rc.Column)
				sub.RE = append(sub.RE, rc)
			}
		}
		names = &sub
	}
	dr, err := diagnostics.ReadCmdStanWith(opt, files...)
	if err != nil {
		return nil, asInput(fmt.Errorf("reading the run in %s: %w", dir, err))
	}
	p := &postDraws{names: names, hasRE: len(names.RE) > 0 || opt.Columns != nil, source: dir}
	p.addChains(dr)
	if p.numDraws() == 0 {
		return nil, inputErrorf("%s: the run in %s has no draws", files[0], dir)
	}
	p.index()
	return p, nil
}

// columnMismatch describes the first difference between two headers.
func columnMismatch(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("column %d is %q, the model has %q", i+1, got[i], want[i])
		}
	}
	if len(got) < len(want) {
		return fmt.Sprintf("the file has %d columns, the model %d: %q is missing", len(got), len(want), want[len(got)])
	}
	return fmt.Sprintf("the file has %d columns, the model %d: %q is extra", len(got), len(want), got[len(want)])
}

// runSeed returns the seed recorded in dir/run.json ("seed" at the top
// level or under "sampler"), and whether one was found.
func runSeed(dir string) (uint64, bool) {
	raw, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return 0, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return 0, false
	}
	get := func(m map[string]json.RawMessage) (uint64, bool) {
		var s uint64
		if v, ok := m["seed"]; ok && json.Unmarshal(v, &s) == nil {
			return s, true
		}
		return 0, false
	}
	if s, ok := get(top); ok {
		return s, true
	}
	if v, ok := top["sampler"]; ok {
		var sub map[string]json.RawMessage
		if json.Unmarshal(v, &sub) == nil {
			return get(sub)
		}
	}
	return 0, false
}

// thinned returns p with at most maxDraws draws, keeping every k-th draw
// of each chain (k the smallest that fits), or p itself when it is small
// enough.
func (p *postDraws) thinned(maxDraws int) *postDraws {
	total := p.numDraws()
	if total <= maxDraws {
		return p
	}
	k := (total + maxDraws - 1) / maxDraws
	nc := len(p.names.Columns)
	q := &postDraws{names: p.names, hasRE: p.hasRE, col: p.col, source: p.source}
	for c, r := range p.rows {
		var rows []float64
		for i := 0; i < r; i += k {
			rows = append(rows, p.chains[c][i*nc:(i+1)*nc]...)
		}
		q.chains = append(q.chains, rows)
		q.rows = append(q.rows, len(rows)/nc)
	}
	return q
}

// numDraws is the total number of draws over chains.
func (p *postDraws) numDraws() int {
	n := 0
	for _, r := range p.rows {
		n += r
	}
	return n
}

// row returns draw s (chains concatenated in order).
func (p *postDraws) row(s int) []float64 {
	nc := len(p.names.Columns)
	for c, r := range p.rows {
		if s < r {
			return p.chains[c][s*nc : (s+1)*nc]
		}
		s -= r
	}
	return nil
}

// columnAt returns the draws of column j, one slice per chain.
func (p *postDraws) columnAt(j int) [][]float64 {
	nc := len(p.names.Columns)
	out := make([][]float64, len(p.chains))
	for c, ch := range p.chains {
		v := make([]float64, p.rows[c])
		for i := range v {
			v[i] = ch[i*nc+j]
		}
		out[c] = v
	}
	return out
}

// column returns the draws of column name, one slice per chain.
func (p *postDraws) column(name string) [][]float64 {
	j, ok := p.col[name]
	if !ok {
		return nil
	}
	return p.columnAt(j)
}

// paramLayout maps the draws columns onto model.ParamDraw for design d.
type paramLayout struct {
	beta  []int
	sd    [][]int   // per term, per effect
	cor   [][][]int // per term, K × K column of cor (−1 on and above the diagonal, or uncorrelated)
	sigma int
	re    [][]int // per term, level*K+effect → column
}

// layout finds the columns of every parameter of d.
func (p *postDraws) layout(d *model.Design) (*paramLayout, error) {
	n := p.names
	l := &paramLayout{}
	find := func(name string) (int, error) {
		j, ok := p.col[name]
		if !ok {
			return 0, fmt.Errorf("draws from %s have no column %q", p.source, name)
		}
		return j, nil
	}
	for _, b := range n.B {
		j, err := find(b)
		if err != nil {
			return nil, err
		}
		l.beta = append(l.beta, j)
	}
	sdi, cori := 0, 0
	for _, t := range d.Terms {
		sd := make([]int, t.K)
		for e := range t.K {
			j, err := find(n.SD[sdi])
			if err != nil {
				return nil, err
			}
			sd[e] = j
			sdi++
		}
		l.sd = append(l.sd, sd)
	}
	for _, t := range d.Terms {
		cm := make([][]int, t.K)
		for a := range cm {
			cm[a] = make([]int, t.K)
			for b := range cm[a] {
				cm[a][b] = -1
			}
		}
		if t.K > 1 && t.Correlated {
			for i := 1; i < t.K; i++ {
				for jj := 0; jj < i; jj++ {
					j, err := find(n.Cor[cori])
					if err != nil {
						return nil, err
					}
					cm[i][jj] = j
					cori++
				}
			}
		}
		l.cor = append(l.cor, cm)
	}
	var err error
	if l.sigma, err = find("sigma"); err != nil {
		return nil, err
	}
	if p.hasRE {
		// −1 marks the effects of levels whose columns were not read.
		l.re = make([][]int, len(d.Terms))
		for ti, t := range d.Terms {
			l.re[ti] = make([]int, len(t.Levels)*t.K)
			for i := range l.re[ti] {
				l.re[ti][i] = -1
			}
		}
		for _, rc := range n.RE {
			j, err := find(rc.Column)
			if err != nil {
				return nil, err
			}
			l.re[rc.Term][rc.LevelIndex*d.Terms[rc.Term].K+rc.EffectIndex] = j
		}
	}
	return l, nil
}

// newParamDraw allocates a ParamDraw for d (B only when withRE).
func newParamDraw(d *model.Design, withRE bool) *model.ParamDraw {
	pd := &model.ParamDraw{Beta: make([]float64, len(d.XNames))}
	for _, t := range d.Terms {
		pd.Cov = append(pd.Cov, make([]float64, t.K*t.K))
		if withRE {
			pd.B = append(pd.B, make([]float64, len(t.Levels)*t.K))
		}
	}
	return pd
}

// fill sets pd from one draws row: β, Σₜ = diag(τ) Ω diag(τ) per term,
// σ, and the training levels' effects when pd.B is allocated.
func (l *paramLayout) fill(row []float64, pd *model.ParamDraw) {
	for j, c := range l.beta {
		pd.Beta[j] = row[c]
	}
	for t, sd := range l.sd {
		k := len(sd)
		cov := pd.Cov[t]
		for a := range k {
			for b := range k {
				var r float64
				switch {
				case a == b:
					r = 1
				case a > b && l.cor[t][a][b] >= 0:
					r = row[l.cor[t][a][b]]
				case a < b && l.cor[t][b][a] >= 0:
					r = row[l.cor[t][b][a]]
				}
				cov[a*k+b] = row[sd[a]] * r * row[sd[b]]
			}
		}
	}
	pd.Sigma = row[l.sigma]
	if pd.B != nil && l.re != nil {
		for t, cols := range l.re {
			for i, c := range cols {
				if c < 0 {
					pd.B[t][i] = math.NaN() // not read: never used
					continue
				}
				pd.B[t][i] = row[c]
			}
		}
	}
}

// runMetaFile returns the file that records a run in dir: run.json, or
// for chains run as separate processes the first run_K.json ("" when
// there is none).
func runMetaFile(dir string) string {
	p := filepath.Join(dir, "run.json")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	best, bestK := "", 0
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		m := runChainJSONRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if k, err := strconv.Atoi(m[1]); err == nil && (best == "" || k < bestK) {
			best, bestK = filepath.Join(dir, e.Name()), k
		}
	}
	return best
}

var runChainJSONRE = regexp.MustCompile(`^run_(\d+)\.json$`)

// readRunMeta reads the record of the run in dir (runMetaFile): nil, ""
// when there is none.
func readRunMeta(dir string) (*runJSON, string, error) {
	p := runMetaFile(dir)
	if p == "" {
		return nil, "", nil
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, p, inputErrorf("%s: %v", p, err)
	}
	var m runJSON
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, p, inputErrorf("%s: %v", p, err)
	}
	return &m, p, nil
}

// checkDataUnchanged refuses, for what (a command that reads the training
// data: compare, the PPC plot), a data file at path that is not the one
// the run in dir was fitted to: its size or SHA-256 differ from those
// recorded in run.json. A run that recorded none (made before lmmbayes
// recorded them) is warned about on stderr (unless it is nil) and let
// through.
func checkDataUnchanged(stderr io.Writer, what, path, dir string, meta *runJSON, metaPath string) error {
	if meta == nil || meta.DataFile == nil || meta.DataFile.SHA256 == "" {
		where := metaPath
		if where == "" {
			where = filepath.Join(dir, "run.json")
		}
		if stderr == nil {
			return nil
		}
		fmt.Fprintf(stderr, "lmmbayes: warning: %s records no fingerprint of the data file (a run made before lmmbayes recorded one): %s cannot check that %s is the data the run was fitted to\n", where, what, path)
		return nil
	}
	size, sum, err := fileFingerprint(path)
	if err != nil {
		return inputErrorf("%s: %s: data: %v", path, what, err)
	}
	df := meta.DataFile
	if size != df.Size || sum != df.SHA256 {
		return inputErrorf("%s: %s: the data file changed since the run in %s was made (now %d bytes, SHA-256 %.12s…; the run read %d bytes, SHA-256 %.12s…, recorded in %s): restore the data the run was fitted to, or run again",
			path, what, dir, size, sum, df.Size, df.SHA256, filepath.Base(metaPath))
	}
	return nil
}

// checkRunData is checkDataUnchanged for the config's data file and the
// run in dir. It lets a missing data file or run through, to the errors
// that reading them gives.
func checkRunData(stderr io.Writer, what string, cfg *config, dir string) error {
	if _, err := drawsFiles(dir); err != nil {
		return nil
	}
	path := cfg.resolve(cfg.Data.Path)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	meta, metaPath, err := readRunMeta(dir)
	if err != nil {
		return err
	}
	return checkDataUnchanged(stderr, what, path, dir, meta, metaPath)
}

// useRunColumns sets the config's weights and offset columns, when it
// names none, to those the run in dir used (run.json's levels), which
// --weights may have given: compare and plot rebuild the run's model.
func useRunColumns(cfg *config, dir string) {
	meta, _, err := readRunMeta(dir)
	if err != nil || meta == nil {
		return
	}
	applyRunColumns(cfg, meta)
}

// applyRunColumns is useRunColumns with run.json read.
func applyRunColumns(cfg *config, meta *runJSON) {
	if meta.Levels == nil {
		return
	}
	if cfg.Data.Weights == "" {
		cfg.Data.Weights = meta.Levels.WeightsColumn
	}
	if cfg.Data.Offset == "" {
		cfg.Data.Offset = meta.Levels.OffsetColumn
	}
}

package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lmmbayes/lmmbayes/loo"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// logLikPath returns the log-likelihood file beside a draws file:
// draws_K.csv → log_lik_K.csv (and the chain mode's temporary
// .draws_K.csv.tmp → .log_lik_K.csv.tmp).
func logLikPath(drawsPath string) string {
	dir, base := filepath.Split(drawsPath)
	return filepath.Join(dir, strings.Replace(base, "draws_", "log_lik_", 1))
}

// logLikColumns returns the header of a log_lik file of n rows: log_lik.1 …
// log_lik.n, the CmdStan CSV form of log_lik[1] … log_lik[n] (what
// posterior, ArviZ and lmmbayes diagnose call them).
func logLikColumns(n int) []string {
	cols := make([]string, n)
	for i := range cols {
		cols[i] = "log_lik." + strconv.Itoa(i+1)
	}
	return cols
}

// logLikSink computes a draw's pointwise log-likelihood of the training
// rows, log N(yᵢ; xᵢβ + zᵢb, σ²) conditional on the draw's effects (as brms
// and rstanarm's log_lik), and writes it as one row of log_lik_K.csv.
type logLikSink struct {
	sink  *drawsSink
	d     *model.Design
	beta  []int // columns of β in the draws row
	sigma int
	pd    model.ParamDraw
	mu    []float64
	vals  []float64
}

// addLogLik makes the chain's log-likelihood file beside its draws file.
func (s *drawsSink) addLogLik(d *model.Design, info sampler.ChainInfo) error {
	col := map[string]int{}
	for j, c := range info.Names.Columns {
		col[c] = j
	}
	ll := &logLikSink{d: d, mu: make([]float64, d.N), vals: make([]float64, d.N)}
	for _, b := range info.Names.B {
		j, ok := col[b]
		if !ok {
			return fmt.Errorf("output: log_lik: no column %s", b)
		}
		ll.beta = append(ll.beta, j)
	}
	j, ok := col["sigma"]
	if !ok {
		return fmt.Errorf("output: log_lik: no column sigma")
	}
	ll.sigma = j
	ll.pd.Beta = make([]float64, len(ll.beta))
	ll.pd.B = make([][]float64, len(d.Terms))
	llInfo := sampler.ChainInfo{ID: info.ID, Method: info.Method, Names: &sampler.Names{Columns: logLikColumns(d.N)}}
	sink, err := newDrawsSink(logLikPath(s.path), s.hdr, llInfo)
	if err != nil {
		return err
	}
	ll.sink = sink
	s.ll = ll
	return nil
}

// write computes and writes the log-likelihood row of draw r.
func (ll *logLikSink) write(r sampler.Row) error {
	for i, j := range ll.beta {
		ll.pd.Beta[i] = r.At(j)
	}
	ll.pd.Sigma = r.At(ll.sigma)
	for t := range ll.pd.B {
		ll.pd.B[t] = r.Effects(t)
	}
	if err := loo.GaussianLogLik(ll.d, &ll.pd, ll.mu, ll.vals); err != nil {
		return fmt.Errorf("output: log_lik: %w", err)
	}
	return ll.sink.WriteDraw(sampler.RowOf(ll.vals))
}

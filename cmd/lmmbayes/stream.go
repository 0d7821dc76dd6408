package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// drawsHeader is what the comment header of a draws file records.
type drawsHeader struct {
	method        string
	warmup, thin  int
	draws         int // asked for
	seed          uint64
	formula, data string
	// dataSHA is the hex SHA-256 of the data file, priors the priors as
	// resolved ("param ~ prior; …"): summarize refuses to merge chain
	// files that differ in them or in the formula.
	dataSHA, priors string
}

// write writes the comment lines and the column header; n is the number
// of draws the file holds, fewer than h.draws when the run was
// interrupted.
func (h *drawsHeader) write(w io.Writer, id, n int, cols []string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# model = lmmbayes\n# method = sample (%s Gibbs)\n", h.method)
	fmt.Fprintf(bw, "# num_samples = %d\n# num_warmup = %d\n# save_warmup = 0\n# thin = %d\n", n, h.warmup, h.thin)
	if n < h.draws {
		fmt.Fprintf(bw, "# incomplete = 1 (interrupted after %d of %d draws)\n", n, h.draws)
	}
	fmt.Fprintf(bw, "# seed = %d\n# chain_id = %d\n", h.seed, id)
	fmt.Fprintf(bw, "# formula = %s\n# data = %s\n", oneLine(h.formula), oneLine(h.data))
	if h.dataSHA != "" {
		fmt.Fprintf(bw, "# data_sha256 = %s\n", h.dataSHA)
	}
	if h.priors != "" {
		fmt.Fprintf(bw, "# priors = %s\n", oneLine(h.priors))
	}
	fmt.Fprintf(bw, "# lmmbayes_version = %s\n", version)
	for j, c := range cols {
		if j > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(c)
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// drawsSink streams one chain's draws into a CmdStan CSV file as the
// sampler makes them (a sampler.DrawSink): memory holds one formatted
// value at a time, whatever the number of draws and columns. It refuses
// a non-finite value, naming the column, so that numerical trouble never
// reaches a file silently.
type drawsSink struct {
	path string
	f    *os.File
	w    *bufio.Writer
	buf  []byte
	cols []string
	id   int
	n    int
	hdr  *drawsHeader
	// keep, when non-nil, also holds the rows (row-major): set when all
	// chains' draws fit in the memory budget, so that the summaries need
	// not read the file back.
	keep []float64
	// ll, when set, writes the draw's pointwise log-likelihood to the
	// chain's log_lik_K.csv.
	ll *logLikSink
	// format, when set, formats the values instead of the shortest
	// round-trip form.
	format func(dst []byte, v float64) []byte
}

// newDrawsSink creates path and writes the header of chain info.ID.
func newDrawsSink(path string, hdr *drawsHeader, info sampler.ChainInfo) (*drawsSink, error) {
	f, err := createFile(path)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	h := *hdr
	h.method = info.Method
	s := &drawsSink{path: path, f: f, w: bufio.NewWriterSize(f, 1<<16), buf: make([]byte, 0, 32), cols: info.Names.Columns, id: info.ID, hdr: &h}
	if err := h.write(s.w, info.ID, h.draws, s.cols); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("output: %s: %w", filepath.Base(path), err)
	}
	return s, nil
}

// WriteDraw appends one row.
func (s *drawsSink) WriteDraw(r sampler.Row) error {
	for j := range r.Len() {
		v := r.At(j)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s is %v; numerical trouble in the sampler (try rescaling the predictors or a more informative prior)", s.cols[j], v)
		}
		s.buf = s.buf[:0]
		if j > 0 {
			s.buf = append(s.buf, ',')
		}
		if s.format != nil {
			s.buf = s.format(s.buf, v)
		} else {
			s.buf = strconv.AppendFloat(s.buf, v, 'g', -1, 64)
		}
		s.w.Write(s.buf)
	}
	if err := s.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("output: %s: %w", filepath.Base(s.path), err)
	}
	if s.ll != nil {
		if err := s.ll.write(r); err != nil {
			return err
		}
	}
	if s.keep != nil {
		s.keep = r.AppendTo(s.keep)
	}
	s.n++
	return nil
}

// finish completes the file of chain ch: when the run kept fewer draws
// than the file holds (an interrupted run, cut to the shortest chain),
// it is rewritten with the first ch.NDraws rows and a header saying so;
// then the trailing acceptance comment is added.
func (s *drawsSink) finish(ch *sampler.ChainResult) error {
	if s.ll != nil {
		if err := s.ll.sink.finish(ch); err != nil {
			return err
		}
	}
	trailer := fmt.Sprintf("# Metropolis acceptance of the variance parameters: warmup %s, random walk %s, independence %s\n",
		fmtRate(ch.AcceptWarmup), fmtRate(ch.AcceptRW), fmtRate(ch.AcceptIndep))
	if ns := ch.NUTS; ns != nil {
		trailer = fmt.Sprintf("# NUTS on the variance parameters: step size %g, mean acceptance statistic %s (warmup %s), mean leapfrog steps %.1f, divergent %d (warmup %d), max tree depth %d hit %d times\n",
			ns.StepSize, fmtRate(ch.Accept), fmtRate(ch.AcceptWarmup), ns.MeanLeapfrog, ns.Divergent, ns.DivergentWarmup, ns.MaxDepth, ns.MaxTreeDepth)
	}
	if ch.NDraws == s.n && s.n == s.hdr.draws {
		s.w.WriteString(trailer)
		err := s.w.Flush()
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("output: %s: %w", filepath.Base(s.path), err)
		}
		return nil
	}
	if err := s.w.Flush(); err != nil {
		s.f.Close()
		return fmt.Errorf("output: %s: %w", filepath.Base(s.path), err)
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("output: %s: %w", filepath.Base(s.path), err)
	}
	return s.rewrite(ch.NDraws, trailer)
}

// rewrite replaces the file by its header for n draws, its first n rows
// and trailer, streaming (one line in memory at a time).
func (s *drawsSink) rewrite(n int, trailer string) error {
	in, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	defer in.Close()
	tmp := s.path + ".cut"
	out, err := createFile(tmp)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	fail := func(err error) error {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("output: %s: %w", filepath.Base(s.path), err)
	}
	w := bufio.NewWriterSize(out, 1<<16)
	if err := s.hdr.write(w, s.id, n, s.cols); err != nil {
		return fail(err)
	}
	r := bufio.NewReaderSize(in, 1<<16)
	header := false
	for kept := 0; kept < n; {
		line, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return fail(fmt.Errorf("only %d of %d draws found: %w", kept, n, err))
		}
		// Comments and the column header are rewritten by hdr.write;
		// rows are copied, piecewise when longer than the buffer.
		isRow := line[0] != '#' && header
		if line[0] != '#' && !header {
			header = true
		}
		if isRow {
			w.Write(line)
		}
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.ReadSlice('\n')
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return fail(fmt.Errorf("only %d of %d draws found: %w", kept, n, err))
			}
			if isRow {
				w.Write(line)
			}
		}
		if isRow {
			kept++
		}
	}
	w.WriteString(trailer)
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("output: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

// abort closes the file without completing it.
func (s *drawsSink) abort() {
	s.f.Close()
	if s.ll != nil {
		s.ll.sink.abort()
	}
}

// sinkSet makes and tracks the sinks of a run's chains; the sampler
// calls make from its chain goroutines.
type sinkSet struct {
	hdr  drawsHeader
	path func(id int) string
	// keepBytes is the memory all chains' draws may take in memory as
	// well as on disk (0: none kept); chains is the number of chains.
	keepBytes int64
	chains    int
	mu        sync.Mutex
	byID      map[int]*drawsSink
	// created lists every file made, for clean-up after a failure.
	created []string
	// logLik, when set, is the design whose rows' log-likelihood each
	// chain also writes, to the file logLikPath(draws file).
	logLik *model.Design
}

func (ss *sinkSet) make(info sampler.ChainInfo) (sampler.DrawSink, error) {
	s, err := newDrawsSink(ss.path(info.ID), &ss.hdr, info)
	if err != nil {
		return nil, err
	}
	if ss.logLik != nil {
		if err := s.addLogLik(ss.logLik, info); err != nil {
			s.abort()
			os.Remove(s.path)
			return nil, err
		}
	}
	nc := len(info.Names.Columns)
	if perChain := drawsBytes(ss.hdr.draws) * int64(nc); perChain*int64(ss.chains) <= ss.keepBytes {
		s.keep = make([]float64, 0, ss.hdr.draws*nc)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.byID[info.ID] = s
	ss.created = append(ss.created, s.path)
	if s.ll != nil {
		ss.created = append(ss.created, s.ll.sink.path)
	}
	return s, nil
}

// finish completes every chain's file (see drawsSink.finish). When every
// chain also kept its draws in memory, it returns them as a postDraws
// (cut to the rows the files hold), else nil.
func (ss *sinkSet) finish(res *sampler.Result) (*postDraws, error) {
	post := &postDraws{names: res.Names, hasRE: len(res.Names.RE) > 0, source: "sampler"}
	nc := len(res.Names.Columns)
	for _, ch := range res.Chains {
		s, ok := ss.byID[ch.ID]
		if !ok {
			return nil, fmt.Errorf("output: chain %d has no draws file", ch.ID)
		}
		if err := s.finish(ch); err != nil {
			return nil, err
		}
		delete(ss.byID, ch.ID)
		if post != nil && s.keep != nil {
			post.chains = append(post.chains, s.keep[:ch.NDraws*nc])
			post.rows = append(post.rows, ch.NDraws)
		} else {
			post = nil
		}
	}
	if post != nil {
		post.index()
	}
	return post, nil
}

// abort closes every file left open.
func (ss *sinkSet) abort() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for id, s := range ss.byID {
		s.abort()
		delete(ss.byID, id)
	}
}

// drawsBytes is the memory of n float64 values.
func drawsBytes(n int) int64 { return 8 * int64(n) }

// summarizeFiles summarises columns cols of the draws files (at most
// total rows over chains), reading as many columns at a time as fit in
// budget bytes: the same summaries as from draws in memory, for any
// number of columns. It also returns the number of draws per chain.
func summarizeFiles(files []string, cols []int, total int, budget int64) ([]diagnostics.Summary, int, error) {
	out := make([]diagnostics.Summary, 0, len(cols))
	draws := 0
	err := readColumnBatches(files, cols, total, budget, func(dr *diagnostics.Draws) {
		draws = dr.NumDraws()
		out = append(out, diagnostics.SummarizeEach(len(dr.Names), dr.Variable, 0)...)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, draws, nil
}

// readColumnBatches reads columns cols of the draws files (at most total
// rows over chains) in order, as many at a time as fit in budget bytes,
// and hands each batch to use.
func readColumnBatches(files []string, cols []int, total int, budget int64, use func(dr *diagnostics.Draws)) error {
	per := max(1, int(budget/drawsBytes(max(total, 1))))
	for lo := 0; lo < len(cols); lo += per {
		hi := min(len(cols), lo+per)
		dr, err := diagnostics.ReadCmdStanWith(diagnostics.ReadOptions{Columns: cols[lo:hi]}, files...)
		if err != nil {
			return err
		}
		use(dr)
	}
	return nil
}

// postThin is the smallest k such that every k-th draw of each chain,
// all nc columns, fits in budget bytes (twice: read, then laid out).
func postThin(total, nc int, budget int64) int {
	need := 2 * drawsBytes(total) * int64(nc)
	if need <= budget {
		return 1
	}
	return int((need + budget - 1) / budget)
}

// loadPost reads every k-th draw of each chain of files into memory,
// with names naming the columns.
func loadPost(files []string, names *sampler.Names, k int, source string) (*postDraws, error) {
	dr, err := diagnostics.ReadCmdStanWith(diagnostics.ReadOptions{Thin: k}, files...)
	if err != nil {
		return nil, err
	}
	nc := len(names.Columns)
	for _, ch := range dr.Chains {
		if len(ch.Header) != nc {
			return nil, fmt.Errorf("%s: %d columns, the run has %d", ch.File, len(ch.Header), nc)
		}
	}
	p := &postDraws{names: names, hasRE: len(names.RE) > 0, source: source}
	p.addChains(dr)
	return p, nil
}

// readHeader returns the column header of a CmdStan CSV file (its first
// line that is neither blank nor a comment) and the "key = value"
// settings of the comment lines before it.
func readHeader(path string) ([]string, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	settings := map[string]string{}
	for n := 1; ; n++ {
		line, err := r.ReadString('\n')
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") {
			if k, v, ok := strings.Cut(t[1:], "="); ok {
				if k = strings.TrimSpace(k); k != "" {
					if _, seen := settings[k]; !seen {
						settings[k] = strings.TrimSpace(v)
					}
				}
			}
		} else if t != "" {
			fields := strings.Split(t, ",")
			for i := range fields {
				fields[i] = strings.TrimSpace(fields[i])
			}
			return fields, settings, nil
		}
		if err != nil {
			if err == io.EOF {
				return nil, nil, fmt.Errorf("%s:%d: no header row", path, n)
			}
			return nil, nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
}

// countRows returns the number of data rows of a CmdStan CSV file (lines
// that are neither blank nor comments, less the header; saved warmup
// included), reading it once without parsing.
func countRows(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	lines := 0
	atStart := true
	for {
		c, err := r.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		if atStart {
			if c == '#' || c == '\n' || c == '\r' || c == ' ' || c == '\t' {
				for c == '#' {
					// Skip the comment, however long.
					_, err := r.ReadSlice('\n')
					if errors.Is(err, bufio.ErrBufferFull) {
						continue
					}
					if err != nil && err != io.EOF {
						return 0, fmt.Errorf("%s: %w", path, err)
					}
					break
				}
				continue
			}
			lines++
			atStart = false
		}
		if c == '\n' {
			atStart = true
		}
	}
	return max(lines-1, 0), nil
}

// countAllRows is the sum of countRows over files.
func countAllRows(files []string) (int, error) {
	total := 0
	for _, f := range files {
		n, err := countRows(f)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

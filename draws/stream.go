package draws

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
	"github.com/lmmbayes/lmmbayes/internal/outfile"
)

// Header is what the comment header of a draws file records.
type Header struct {
	// Method is the sampler's method ("collapsed", "crossed", "nuts");
	// SinkSet.Open sets it per chain.
	Method       string
	Warmup, Thin int
	// Draws is the number of draws asked for per chain.
	Draws         int
	Seed          uint64
	Formula, Data string
	// DataSHA is the hex SHA-256 of the data file, Priors the priors as
	// resolved ("param ~ prior; …"): summarize refuses to merge chain
	// files that differ in them or in the formula.
	DataSHA, Priors string
	// Version is the lmmbayes version that wrote the file.
	Version string
}

// write writes the comment lines and the column header; n is the number
// of draws the file holds, fewer than h.Draws when the run was
// interrupted.
func (h *Header) write(w io.Writer, id, n int, cols []string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# model = lmmbayes\n# method = sample (%s Gibbs)\n", h.Method)
	fmt.Fprintf(bw, "# num_samples = %d\n# num_warmup = %d\n# save_warmup = 0\n# thin = %d\n", n, h.Warmup, h.Thin)
	if n < h.Draws {
		fmt.Fprintf(bw, "# incomplete = 1 (interrupted after %d of %d draws)\n", n, h.Draws)
	}
	fmt.Fprintf(bw, "# seed = %d\n# chain_id = %d\n", h.Seed, id)
	fmt.Fprintf(bw, "# formula = %s\n# data = %s\n", oneLine(h.Formula), oneLine(h.Data))
	if h.DataSHA != "" {
		fmt.Fprintf(bw, "# data_sha256 = %s\n", h.DataSHA)
	}
	if h.Priors != "" {
		fmt.Fprintf(bw, "# priors = %s\n", oneLine(h.Priors))
	}
	fmt.Fprintf(bw, "# lmmbayes_version = %s\n", h.Version)
	for j, c := range cols {
		if j > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(c)
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// FileSink streams one chain's draws into a CmdStan CSV file as the
// sampler makes them (it is a sampler.DrawSink): memory holds at most
// 64 KiB of a formatted line at a time, whatever the number of draws and
// columns. It refuses
// a non-finite value, naming the column, so that numerical trouble never
// reaches a file silently.
type FileSink struct {
	path string
	f    *os.File
	w    *bufio.Writer
	buf  []byte
	cols []string
	id   int
	n    int
	hdr  *Header
	// keep, when non-nil, also holds the rows (row-major): set when all
	// chains' draws fit in the memory budget, so that the summaries need
	// not read the file back.
	keep []float64
	// ll, when set, writes the draw's pointwise log-likelihood to the
	// chain's log_lik_K.csv (SinkSet.LogLik).
	ll *logLikSink
}

// newFileSink creates path and writes the header of chain id, whose
// draws have the columns of names, made by method.
func newFileSink(path string, hdr *Header, id int, method string, names *Names) (*FileSink, error) {
	f, err := outfile.CreateFile(path)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	h := *hdr
	h.Method = method
	s := &FileSink{path: path, f: f, w: bufio.NewWriterSize(f, 1<<16), buf: make([]byte, 0, 32), cols: names.Columns, id: id, hdr: &h}
	if err := h.write(s.w, id, h.Draws, s.cols); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("output: %s: %w", filepath.Base(path), err)
	}
	return s, nil
}

// WriteDraw appends one row.
func (s *FileSink) WriteDraw(r Row) error {
	// The line is formatted into s.buf and handed to the writer in
	// pieces of at most 64 KiB, whatever the number of columns.
	s.buf = s.buf[:0]
	for j := range r.Len() {
		v := r.At(j)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s is %v; numerical trouble in the sampler (try rescaling the predictors or a more informative prior)", s.cols[j], v)
		}
		if j > 0 {
			s.buf = append(s.buf, ',')
		}
		s.buf = strconv.AppendFloat(s.buf, v, 'g', -1, 64)
		if len(s.buf) >= 1<<16 {
			s.w.Write(s.buf)
			s.buf = s.buf[:0]
		}
	}
	s.buf = append(s.buf, '\n')
	if _, err := s.w.Write(s.buf); err != nil {
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

// Finish completes the file with n draws: when the run kept fewer draws
// than the file holds (an interrupted run, cut to the shortest chain),
// it is rewritten with the first n rows and a header saying so; then
// trailer (comment lines, each ending in a newline) is added.
func (s *FileSink) Finish(n int, trailer string) error {
	if s.ll != nil {
		if err := s.ll.sink.Finish(n, trailer); err != nil {
			return err
		}
	}
	if n == s.n && s.n == s.hdr.Draws {
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
	return s.rewrite(n, trailer)
}

// rewrite replaces the file by its header for n draws, its first n rows
// and trailer, streaming (one line in memory at a time).
func (s *FileSink) rewrite(n int, trailer string) error {
	in, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	defer in.Close()
	tmp := s.path + ".cut"
	out, err := outfile.CreateFile(tmp)
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

// Abort closes the file without completing it.
func (s *FileSink) Abort() {
	s.f.Close()
	if s.ll != nil {
		s.ll.sink.Abort()
	}
}

// Path is the file the sink writes.
func (s *FileSink) Path() string { return s.path }

// SinkSet makes and tracks the FileSinks of a run's chains; the sampler
// calls Open from its chain goroutines.
type SinkSet struct {
	// Header is the header every chain's file starts with.
	Header Header
	// Path names the file of chain id.
	Path func(id int) string
	// KeepBytes is the memory all chains' draws may take in memory as
	// well as on disk (0: none kept); Chains is the number of chains.
	KeepBytes int64
	Chains    int
	// LogLik, when set, makes each chain also write its pointwise
	// log-likelihood, to LogLikPath of its draws file.
	LogLik  *LogLik
	mu      sync.Mutex
	byID    map[int]*FileSink
	created []string
}

// Open creates the file of chain id (columns names, method method).
func (ss *SinkSet) Open(id int, method string, names *Names) (*FileSink, error) {
	s, err := newFileSink(ss.Path(id), &ss.Header, id, method, names)
	if err != nil {
		return nil, err
	}
	if ss.LogLik != nil {
		if err := s.addLogLik(ss.LogLik, method, names); err != nil {
			s.Abort()
			os.Remove(s.path)
			return nil, err
		}
	}
	nc := len(names.Columns)
	if perChain := drawsBytes(ss.Header.Draws) * int64(nc); perChain*int64(ss.Chains) <= ss.KeepBytes {
		s.keep = make([]float64, 0, ss.Header.Draws*nc)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.byID == nil {
		ss.byID = map[int]*FileSink{}
	}
	ss.byID[id] = s
	ss.created = append(ss.created, s.path)
	if s.ll != nil {
		ss.created = append(ss.created, s.ll.sink.path)
	}
	return s, nil
}

// Created lists every file Open made, for clean-up after a failure.
func (ss *SinkSet) Created() []string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]string(nil), ss.created...)
}

// ChainEnd says how a chain ended: its id, the draws it kept and the
// trailing comment of its file.
type ChainEnd struct {
	ID, NDraws int
	Trailer    string
}

// Finish completes every chain's file (see FileSink.Finish), in the
// order of chains. When every chain also kept its draws in memory, it
// returns them (cut to the rows the files hold), else nil.
func (ss *SinkSet) Finish(names *Names, chains []ChainEnd) (*Draws, error) {
	post := New(names, len(names.RE) > 0, "sampler")
	for _, ch := range chains {
		s, ok := ss.byID[ch.ID]
		if !ok {
			return nil, fmt.Errorf("output: chain %d has no draws file", ch.ID)
		}
		if err := s.Finish(ch.NDraws, ch.Trailer); err != nil {
			return nil, err
		}
		delete(ss.byID, ch.ID)
		if post != nil && s.keep != nil {
			post.AddChain(ch.NDraws, s.keep)
		} else {
			post = nil
		}
	}
	return post, nil
}

// Abort closes every file left open.
func (ss *SinkSet) Abort() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for id, s := range ss.byID {
		s.Abort()
		delete(ss.byID, id)
	}
}

// drawsBytes is the memory of n float64 values.
func drawsBytes(n int) int64 { return 8 * int64(n) }

// SummarizeFiles summarises columns cols of the draws files (at most
// total rows over chains), reading as many columns at a time as fit in
// budget bytes: the same summaries as from draws in memory, for any
// number of columns. It also returns the number of draws per chain.
func SummarizeFiles(files []string, cols []int, total int, budget int64) ([]diagnostics.Summary, int, error) {
	out := make([]diagnostics.Summary, 0, len(cols))
	draws := 0
	err := ReadColumnBatches(files, cols, total, budget, func(dr *diagnostics.Draws) {
		draws = dr.NumDraws()
		out = append(out, diagnostics.SummarizeEach(len(dr.Names), dr.Variable, 0)...)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, draws, nil
}

// ReadColumnBatches reads columns cols of the draws files (at most total
// rows over chains) in order, as many at a time as fit in budget bytes,
// and hands each batch to use.
func ReadColumnBatches(files []string, cols []int, total int, budget int64, use func(dr *diagnostics.Draws)) error {
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

// ThinFor is the smallest k such that every k-th draw of each chain,
// all nc columns, fits in budget bytes (twice: read, then laid out).
func ThinFor(total, nc int, budget int64) int {
	need := 2 * drawsBytes(total) * int64(nc)
	if need <= budget {
		return 1
	}
	return int((need + budget - 1) / budget)
}

// Load reads every k-th draw of each chain of files into memory, with
// names naming the columns (those of the run that wrote them).
func Load(files []string, names *Names, k int, source string) (*Draws, error) {
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
	p := &Draws{Names: names, HasRE: len(names.RE) > 0, Source: source}
	p.addChains(dr)
	return p, nil
}

// ReadHeader returns the column header of a CmdStan CSV file (its first
// line that is neither blank nor a comment) and the "key = value"
// settings of the comment lines before it.
func ReadHeader(path string) ([]string, map[string]string, error) {
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

// CountAllRows is the sum of countRows over files.
func CountAllRows(files []string) (int, error) {
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

func oneLine(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "\r", " ") }

package loo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// LogLikColumns finds the pointwise log-likelihood columns in a CmdStan CSV
// header: name.1, name.2, … (the CmdStan CSV form of name[1], name[2], …)
// or name[1], name[2], …. It returns their positions in observation order,
// or nil when there are none. The indices must run 1 … N without gaps.
func LogLikColumns(header []string, name string) ([]int, error) {
	pos := map[int]int{}
	maxI := 0
	for j, h := range header {
		var idx string
		switch {
		case strings.HasPrefix(h, name+"."):
			idx = h[len(name)+1:]
		case strings.HasPrefix(h, name+"[") && strings.HasSuffix(h, "]"):
			idx = h[len(name)+1 : len(h)-1]
		default:
			continue
		}
		i, err := strconv.Atoi(idx)
		if err != nil || i < 1 {
			return nil, fmt.Errorf("column %q: not %s[i] with i ≥ 1", h, name)
		}
		if _, dup := pos[i]; dup {
			return nil, fmt.Errorf("column %s[%d] appears twice", name, i)
		}
		pos[i] = j
		maxI = max(maxI, i)
	}
	if len(pos) == 0 {
		return nil, nil
	}
	if len(pos) != maxI {
		for i := 1; i <= maxI; i++ {
			if _, ok := pos[i]; !ok {
				return nil, fmt.Errorf("column %s[%d] is missing (the columns run to %s[%d])", name, i, name, maxI)
			}
		}
	}
	out := make([]int, maxI)
	for i, j := range pos {
		out[i-1] = j
	}
	return out, nil
}

// chainFile is one CmdStan CSV file's layout.
type chainFile struct {
	path   string
	header []string
	cols   []int // log-likelihood columns in observation order
	rows   int   // post-warmup draws
	warmup int   // saved warmup rows to skip
	offset int64 // byte offset of the first data row (after the header)
	// declared is true when rows comes from the file's num_samples comment
	// (then parsing checks that no further data row follows).
	declared bool
}

// scanChainFile reads a CmdStan CSV file's comments and header and counts
// its data rows.
func scanChainFile(path, name string) (*chainFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	cf := &chainFile{path: path}
	var off int64
	settings := map[string]string{}
	for {
		line, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: no header row", path)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		off += int64(len(line))
		t := strings.TrimRight(string(line), "\r\n")
		if strings.HasPrefix(t, "#") {
			if k, v, ok := strings.Cut(strings.TrimPrefix(t, "#"), "="); ok {
				settings[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
			continue
		}
		if strings.TrimSpace(t) == "" {
			continue
		}
		cf.header = strings.Split(t, ",")
		break
	}
	cf.offset = off
	if cf.cols, err = LogLikColumns(cf.header, name); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if sw := settings["save_warmup"]; sw == "1" || sw == "true" {
		w, _ := strconv.Atoi(settings["num_warmup"])
		th, _ := strconv.Atoi(settings["thin"])
		if th < 1 {
			th = 1
		}
		cf.warmup = (w + th - 1) / th
	}
	// A file that records its draws (num_samples, no saved warmup) is
	// trusted here and checked when it is parsed; otherwise count data
	// rows (lines not starting with '#'), jumping from newline to newline.
	if ns, err := strconv.Atoi(settings["num_samples"]); err == nil && ns >= 0 && cf.warmup == 0 {
		cf.rows = ns
		cf.declared = true
		return cf, nil
	}
	buf := make([]byte, 1<<20)
	atStart := true
	n := 0
	for {
		k, err := r.Read(buf)
		chunk := buf[:k]
		for len(chunk) > 0 {
			if atStart {
				if chunk[0] != '#' && chunk[0] != '\n' && chunk[0] != '\r' {
					n++
				}
				atStart = false
			}
			j := bytes.IndexByte(chunk, '\n')
			if j < 0 {
				break
			}
			chunk = chunk[j+1:]
			atStart = true
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	cf.rows = n - cf.warmup
	if cf.rows < 0 {
		cf.rows = 0
	}
	return cf, nil
}

// readLine reads a whole line, however long.
func readLine(r *bufio.Reader) ([]byte, error) {
	var scratch []byte
	return readLineInto(r, &scratch)
}

// readLineInto reads a whole line; a line longer than the reader's buffer
// is assembled in *scratch, which is reused from call to call.
func readLineInto(r *bufio.Reader, scratch *[]byte) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == nil || !errors.Is(err, bufio.ErrBufferFull) {
		if err != nil && len(line) > 0 && errors.Is(err, io.EOF) {
			return line, nil
		}
		return line, err
	}
	buf := append((*scratch)[:0], line...)
	defer func() { *scratch = buf[:0] }()
	for errors.Is(err, bufio.ErrBufferFull) {
		line, err = r.ReadSlice('\n')
		buf = append(buf, line...)
	}
	if err != nil && !(errors.Is(err, io.EOF) && len(buf) > 0) {
		return nil, err
	}
	return buf, nil
}

// Source is the pointwise log-likelihood of a run, read from its CmdStan
// CSV files (one per chain) by Stream.
type Source struct {
	files  []*chainFile
	Chains int // chains (files)
	Draws  int // draws per chain
	N      int // observations
}

// OpenSource reads the headers of the CmdStan CSV files (one per chain, in
// order) and finds the columns name[1] … name[N] in each. Every file must
// hold the same N and the same number of draws.
func OpenSource(paths []string, name string) (*Source, error) {
	if len(paths) == 0 {
		return nil, errors.New("no draws files")
	}
	s := &Source{}
	for _, p := range paths {
		cf, err := scanChainFile(p, name)
		if err != nil {
			return nil, err
		}
		if cf.cols == nil {
			return nil, fmt.Errorf("%s: no %s columns (run with [output] log_lik = true or --log-lik)", p, name)
		}
		if len(s.files) > 0 {
			f0 := s.files[0]
			if len(cf.cols) != len(f0.cols) {
				return nil, fmt.Errorf("%s has %d %s columns, %s %d", p, len(cf.cols), name, f0.path, len(f0.cols))
			}
			if cf.rows != f0.rows {
				return nil, fmt.Errorf("%s has %d draws, %s %d (chains must have equal length)", p, cf.rows, f0.path, f0.rows)
			}
		}
		s.files = append(s.files, cf)
	}
	s.Chains, s.Draws, s.N = len(s.files), s.files[0].rows, len(s.files[0].cols)
	if s.Draws < 2 {
		return nil, fmt.Errorf("%s: %d draws; loo needs at least 2 per chain", paths[0], s.Draws)
	}
	return s, nil
}

// S returns the number of draws per observation.
func (s *Source) S() int { return s.Chains * s.Draws }

// BatchSize returns how many observations' columns fit in maxBytes at once.
// A batch's draws take 8·S bytes per observation, read draw-major, and half
// a batch is gathered into columns at a time: 1.5 copies, 60 % of the
// budget for the batch (90 % in all); the rest is left for buffers, results
// and the garbage collector's slack.
func (s *Source) BatchSize(maxBytes int64) int {
	b := maxBytes * 6 / 10 / int64(8*s.S())
	return int(max(1, min(b, int64(s.N))))
}

// Stream calls fn with the log-likelihood of consecutive observations,
// cols[i] holding observation first+i's S draws (chain-major), batch after
// batch in order, each at most batch observations. When every observation
// fits in one batch the files are parsed straight into memory; otherwise one
// pass over the files writes each batch's values to a temporary binary file
// in tmpDir (removed before Stream returns), which is then read back batch
// by batch. Files are parsed on up to workers goroutines.
func (s *Source) Stream(batch, workers int, tmpDir string, fn func(first int, cols [][]float64) error) error {
	S, N := s.S(), s.N
	batch = max(1, min(batch, N))
	nb := (N + batch - 1) / batch
	if nb == 1 {
		flat := make([]float64, N*S) // observation-major
		err := s.parse(workers, func(chain, row int, vals []float64) {
			at := chain*s.Draws + row
			for i, v := range vals {
				flat[i*S+at] = v
			}
		})
		if err != nil {
			return err
		}
		cols := make([][]float64, N)
		for i := range cols {
			cols[i] = flat[i*S : (i+1)*S]
		}
		return fn(0, cols)
	}
	dir, err := os.MkdirTemp(tmpDir, "lmmbayes-loglik-")
	if err != nil {
		return fmt.Errorf("temporary file: %w", err)
	}
	defer os.RemoveAll(dir)
	files := make([]*os.File, nb)
	for b := range files {
		if files[b], err = os.Create(filepath.Join(dir, fmt.Sprintf("batch%d.bin", b))); err != nil {
			return fmt.Errorf("temporary file: %w", err)
		}
		defer files[b].Close()
	}
	// Batch b's file is draw-major: draw s (chain-major) holds the batch's
	// values in observation order at offset s·width·8.
	var werr error
	var mu sync.Mutex
	bufs := sync.Pool{New: func() any { return new([]byte) }}
	err = s.parse(workers, func(chain, row int, vals []float64) {
		at := int64(chain*s.Draws + row)
		bp := bufs.Get().(*[]byte)
		for b := range nb {
			lo, hi := b*batch, min((b+1)*batch, N)
			buf := (*bp)[:0]
			for _, v := range vals[lo:hi] {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			}
			*bp = buf
			if _, e := files[b].WriteAt(buf, at*int64(batch)*8); e != nil {
				mu.Lock()
				werr = e
				mu.Unlock()
			}
		}
		bufs.Put(bp)
	})
	if err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("temporary file: %w", werr)
	}
	// The batch is read draw-major into one buffer and handed on as
	// columns gathered from it into a second buffer of the same size only
	// when that fits too; otherwise half a batch at a time.
	flat := make([]float64, S*batch)
	cols := make([][]float64, 0, batch)
	colBuf := make([]float64, S*min(batch, max(1, batch/2)))
	per := len(colBuf) / S
	for b := range nb {
		lo, hi := b*batch, min((b+1)*batch, N)
		w := hi - lo
		raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(flat))), len(flat)*8)
		n := ((S-1)*batch + w) * 8
		if _, err := files[b].ReadAt(raw[:n], 0); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("temporary file: %w", err)
		}
		if !littleEndian {
			for i := range S * batch {
				flat[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[i*8:]))
			}
		}
		for c0 := 0; c0 < w; c0 += per {
			c1 := min(w, c0+per)
			cols = cols[:0]
			for i := c0; i < c1; i++ {
				col := colBuf[(i-c0)*S : (i-c0+1)*S]
				for sIdx := range S {
					col[sIdx] = flat[sIdx*batch+i]
				}
				cols = append(cols, col)
			}
			if err := fn(lo+c0, cols); err != nil {
				return err
			}
		}
		files[b].Close()
		os.Remove(files[b].Name())
	}
	return nil
}

// littleEndian is true on little-endian machines, where the temporary
// files' float64 values are read in place.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// parseFloat parses a number as written by lmmbayes and CmdStan. Plain
// decimals [-]ddd[.ddd] of at most 15 significant digits (every value
// log_lik_K.csv holds) take a fast path: the digits as an exact integer
// divided by an exact power of ten, one IEEE division, hence the correctly
// rounded value strconv.ParseFloat gives too (Clinger's fast path). Anything
// else goes to strconv.ParseFloat.
func parseFloat(b []byte) (float64, error) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		neg, i = true, 1
	}
	var m uint64
	digits, frac := 0, 0
	seenDot := false
	start := i
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if m == 0 && c == '0' && !seenDot {
				continue // leading zeros
			}
			m = m*10 + uint64(c-'0')
			if m != 0 {
				digits++
			}
			if seenDot {
				frac++
			}
		case c == '.' && !seenDot:
			seenDot = true
		default:
			return slowParse(b)
		}
	}
	if i == start || digits > 15 || frac > 22 || (seenDot && i == start+1) {
		return slowParse(b)
	}
	v := float64(m) / pow10[frac]
	if neg {
		v = -v
	}
	return v, nil
}

// scanFloat parses the field at the start of b (up to the next comma or
// the end) by parseFloat's fast path while scanning it. It returns the
// value, the field's length, and false when the field needs
// strconv.ParseFloat (or is not a number).
func scanFloat(b []byte) (float64, int, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		neg, i = true, 1
	}
	var m uint64
	digits, frac := 0, 0
	seenDot, ok := false, true
	start := i
	for ; i < len(b); i++ {
		c := b[i]
		if c >= '0' && c <= '9' {
			if m == 0 && c == '0' && !seenDot {
				continue
			}
			m = m*10 + uint64(c-'0')
			if m != 0 {
				digits++
			}
			if seenDot {
				frac++
			}
			continue
		}
		if c == '.' && !seenDot {
			seenDot = true
			continue
		}
		if c == ',' {
			break
		}
		ok = false
	}
	if !ok || i == start || digits > 15 || frac > 22 || (seenDot && i == start+1) {
		k := bytes.IndexByte(b, ',')
		if k < 0 {
			k = len(b)
		}
		return 0, k, false
	}
	v := float64(m) / pow10[frac]
	if neg {
		v = -v
	}
	return v, i, true
}

func slowParse(b []byte) (float64, error) {
	return strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
}

// pow10 holds the powers of ten that are exact in float64.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parse reads every file's post-warmup rows, calling put with the
// log-likelihood values of each row (valid during the call). Files are
// parsed concurrently; put must be safe for concurrent calls from
// different files.
func (s *Source) parse(workers int, put func(chain, row int, vals []float64)) error {
	workers = max(1, min(workers, len(s.files)))
	errs := make([]error, len(s.files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				errs[c] = s.parseFile(c, put)
			}
		}()
	}
	for c := range s.files {
		next <- c
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Source) parseFile(chain int, put func(chain, row int, vals []float64)) error {
	cf := s.files[chain]
	f, err := os.Open(cf.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(cf.offset, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	// want[j] is the observation index of field j, or −1.
	want := make([]int, len(cf.header))
	for j := range want {
		want[j] = -1
	}
	for i, j := range cf.cols {
		want[j] = i
	}
	vals := make([]float64, len(cf.cols))
	row, skipped := 0, 0
	line := 0 // data lines seen, for errors
	var scratch []byte
	for row < cf.rows {
		b, err := readLineInto(r, &scratch)
		if err != nil {
			return fmt.Errorf("%s: only %d of %d draws: %w", cf.path, row, cf.rows, err)
		}
		line++
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		if skipped < cf.warmup {
			skipped++
			continue
		}
		j := 0
		for {
			if j >= len(want) {
				return fmt.Errorf("%s: draw %d has more than %d fields", cf.path, row+1, len(want))
			}
			var field []byte
			if i := want[j]; i >= 0 {
				// Parse while scanning to the next comma.
				v, n, ok := scanFloat(b)
				field = b[:n]
				if !ok {
					var err error
					if v, err = slowParse(field); err != nil {
						return fmt.Errorf("%s: draw %d, column %s: %q is not a number", cf.path, row+1, cf.header[j], field)
					}
				}
				vals[i] = v
				b = b[n:]
			} else if k := bytes.IndexByte(b, ','); k >= 0 {
				b = b[k:]
			} else {
				b = b[len(b):]
			}
			j++
			if len(b) == 0 {
				break
			}
			b = b[1:] // the comma
		}
		if j != len(want) {
			return fmt.Errorf("%s: draw %d has %d fields, the header %d", cf.path, row+1, j, len(want))
		}
		put(chain, row, vals)
		row++
	}
	if cf.declared {
		// Only comments may follow the declared draws.
		for {
			b, err := readLineInto(r, &scratch)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", cf.path, err)
			}
			if t := bytes.TrimSpace(b); len(t) > 0 && t[0] != '#' {
				return fmt.Errorf("%s: more draws than its num_samples = %d", cf.path, cf.rows)
			}
		}
	}
	return nil
}

// DefaultWorkers is the number of goroutines loo uses by default.
func DefaultWorkers() int { return runtime.GOMAXPROCS(0) }

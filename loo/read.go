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
	// Count data rows (lines not starting with '#').
	buf := make([]byte, 1<<20)
	atStart := true
	comment := false
	n := 0
	for {
		k, err := r.Read(buf)
		for _, c := range buf[:k] {
			if atStart {
				comment = c == '#'
				atStart = false
				if !comment && c != '\n' {
					n++
				}
			}
			if c == '\n' {
				atStart = true
			}
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
	line, err := r.ReadSlice('\n')
	if err == nil || !errors.Is(err, bufio.ErrBufferFull) {
		if err != nil && len(line) > 0 && errors.Is(err, io.EOF) {
			return append([]byte(nil), line...), nil
		}
		return line, err
	}
	buf := append([]byte(nil), line...)
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

// BatchSize returns how many observations' columns fit in maxBytes at once
// (two copies of a batch are held while it is transposed).
func (s *Source) BatchSize(maxBytes int64) int {
	b := maxBytes / int64(16*s.S())
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
	raw := make([]byte, S*batch*8)
	flat := make([]float64, S*batch)
	for b := range nb {
		lo, hi := b*batch, min((b+1)*batch, N)
		w := hi - lo
		data := raw[:S*batch*8]
		if _, err := files[b].ReadAt(data[:(S-1)*batch*8+w*8], 0); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("temporary file: %w", err)
		}
		for sIdx := range S {
			for i := range w {
				flat[i*S+sIdx] = math.Float64frombits(binary.LittleEndian.Uint64(data[(sIdx*batch+i)*8:]))
			}
		}
		cols := make([][]float64, w)
		for i := range cols {
			cols[i] = flat[i*S : (i+1)*S]
		}
		if err := fn(lo, cols); err != nil {
			return err
		}
		files[b].Close()
		os.Remove(files[b].Name())
	}
	return nil
}

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
	for row < cf.rows {
		b, err := readLine(r)
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
		for len(b) > 0 || j < len(want) {
			k := bytes.IndexByte(b, ',')
			var field []byte
			if k < 0 {
				field, b = b, nil
			} else {
				field, b = b[:k], b[k+1:]
			}
			if j >= len(want) {
				return fmt.Errorf("%s: draw %d has more than %d fields", cf.path, row+1, len(want))
			}
			if i := want[j]; i >= 0 {
				v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(field), len(field)), 64)
				if err != nil {
					return fmt.Errorf("%s: draw %d, column %s: %q is not a number", cf.path, row+1, cf.header[j], field)
				}
				vals[i] = v
			}
			j++
			if k < 0 {
				break
			}
		}
		if j != len(want) {
			return fmt.Errorf("%s: draw %d has %d fields, the header %d", cf.path, row+1, j, len(want))
		}
		put(chain, row, vals)
		row++
	}
	return nil
}

// DefaultWorkers is the number of goroutines loo uses by default.
func DefaultWorkers() int { return runtime.GOMAXPROCS(0) }

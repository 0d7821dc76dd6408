package diagnostics

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ReadOptions choose what ReadCmdStanWith keeps of each file, so that
// draws too large for memory can be read a few columns, or a thinned
// subset of draws, at a time.
type ReadOptions struct {
	// Columns are the header indices (0-based) kept in each row, in the
	// order given; nil keeps every column. Unkept fields are checked for
	// their count only, not parsed.
	Columns []int
	// Thin keeps the post-warmup draws 0, Thin, 2·Thin, …; 0 or 1 keeps
	// all.
	Thin int
}

// selector applies ReadOptions while a chain is read.
type selector struct {
	opt    ReadOptions
	warmup int // saved warmup rows, fixed at the first data row when thinning
	pos    []int
	width  int
}

func newSelector(opt ReadOptions) *selector { return &selector{opt: opt, warmup: -1} }

func (s *selector) thinned() bool { return s.opt.Thin > 1 }

// keepRow reports whether data row r (0-based, warmup included) is kept.
func (s *selector) keepRow(cfg map[string]string, r int) (bool, error) {
	if !s.thinned() {
		return true, nil
	}
	if s.warmup < 0 {
		w, err := warmupRows(cfg)
		if err != nil {
			return false, err
		}
		s.warmup = w
	}
	if r < s.warmup {
		return false, nil
	}
	return (r-s.warmup)%s.opt.Thin == 0, nil
}

// parseRow parses the kept fields of a data row whose field count has
// been checked against header.
func (s *selector) parseRow(line []byte, header []string) ([]float64, error) {
	n := len(header)
	if s.pos == nil {
		// pos[j] is the output position of header column j, or −1.
		s.pos = make([]int, n)
		if s.opt.Columns == nil {
			for j := range s.pos {
				s.pos[j] = j
			}
			s.width = n
		} else {
			for j := range s.pos {
				s.pos[j] = -1
			}
			for i, j := range s.opt.Columns {
				if j < 0 || j >= n {
					return nil, fmt.Errorf("column %d asked for, the file has %d", j+1, n)
				}
				s.pos[j] = i
			}
			s.width = len(s.opt.Columns)
		}
	}
	row := make([]float64, s.width)
	for j := range n {
		end := bytes.IndexByte(line, ',')
		if end < 0 {
			end = len(line)
		}
		if i := s.pos[j]; i >= 0 {
			f := bytes.TrimSpace(line[:end])
			v, err := strconv.ParseFloat(string(f), 64)
			if err != nil {
				return nil, fmt.Errorf("column %d (%s): %q is not a number", j+1, header[j], f)
			}
			row[i] = v
		}
		if end < len(line) {
			line = line[end+1:]
		}
	}
	return row, nil
}

// ReadCmdStanWith reads CmdStan CSV files like ReadCmdStan, keeping only
// the columns and draws that opt selects. Chain.Header stays the full
// header (and must agree across files); Draws.Names and the rows of
// Chain.Draws follow opt.Columns.
func ReadCmdStanWith(opt ReadOptions, paths ...string) (*Draws, error) {
	if len(paths) == 0 {
		return nil, errors.New("no CmdStan CSV files given")
	}
	d := &Draws{}
	for _, p := range paths {
		ch, err := readChainFile(p, opt)
		if err != nil {
			return nil, err
		}
		if err := d.add(ch); err != nil {
			return nil, err
		}
	}
	if opt.Columns != nil {
		full := d.Names
		d.Names = make([]string, len(opt.Columns))
		for i, j := range opt.Columns {
			d.Names[i] = full[j]
		}
	}
	return d, nil
}

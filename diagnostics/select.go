package diagnostics

import (
	"errors"
	"fmt"
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

// checkColumns checks the kept columns against a row of n fields.
func (s *selector) checkColumns(n int) error {
	for _, j := range s.opt.Columns {
		if j < 0 || j >= n {
			return fmt.Errorf("column %d asked for, the file has %d", j+1, n)
		}
	}
	return nil
}

// width is the number of kept columns of a row of n fields.
func (s *selector) width(n int) int {
	if s.opt.Columns == nil {
		return n
	}
	return len(s.opt.Columns)
}

// column maps kept column i to its header index.
func (s *selector) column(i int) int {
	if s.opt.Columns == nil {
		return i
	}
	return s.opt.Columns[i]
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

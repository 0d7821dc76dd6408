package model

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ReadFrame reads a CSV table with a header row from r. source names the
// input (a file path) in error messages, which have the form
// "source:line: message" with the header on line 1.
//
// Quoting follows RFC 4180. A cell equal to one of opt.NA (default
// {"NA", ""}) is missing. A column is numeric when every non-missing cell
// parses as a finite number, and categorical otherwise or when it is named
// in opt.Factors. A column whose every non-missing cell parses as a number
// but some are infinite or NaN is rejected, since such a value cannot enter
// a model. The raw text of every cell is kept in Column.Str.
func ReadFrame(r io.Reader, source string, opt FrameOptions) (*Frame, error) {
	fr, _, err := ReadFrameLines(r, source, opt)
	return fr, err
}

// ReadFrameLines is ReadFrame that also returns, for each data row, the
// file line it starts on (the header is line 1; a quoted field may span
// lines), so that callers can name the rows they drop.
func ReadFrameLines(r io.Reader, source string, opt FrameOptions) (*Frame, []int, error) {
	na := opt.NA
	if na == nil {
		na = []string{"NA", ""}
	}
	isNA := make(map[string]bool, len(na))
	for _, s := range na {
		isNA[s] = true
	}

	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	// The fields of a record are substrings of one string per record, so
	// they stay valid when the record slice is reused.
	cr.ReuseRecord = true
	header, err := cr.Read()
	// The next Read reuses the slice.
	header = slices.Clone(header)
	if err == io.EOF {
		return nil, nil, fmt.Errorf("%s: empty file: expected a header row", source)
	}
	if err != nil {
		return nil, nil, csvError(source, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	hline, _ := cr.FieldPos(0)
	seen := make(map[string]int, len(header))
	cols := make([]*Column, len(header))
	for j, h := range header {
		if strings.TrimSpace(h) == "" {
			return nil, nil, fmt.Errorf("%s:%d: header field %d is empty: every column needs a name", source, hline, j+1)
		}
		if k, dup := seen[h]; dup {
			return nil, nil, fmt.Errorf("%s:%d: column name %q appears twice (fields %d and %d)", source, hline, h, k+1, j+1)
		}
		seen[h] = j
		cols[j] = &Column{Name: h}
	}

	// lines[i] is the file line of data row i, for error messages.
	var lines []int
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, csvError(source, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, nil, fmt.Errorf("%s:%d: row has %d fields, the header has %d", source, line, len(rec), len(header))
		}
		for j, c := range rec {
			cols[j].Str = append(cols[j].Str, c)
			cols[j].NA = append(cols[j].NA, naOf(c, na, isNA))
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return nil, nil, fmt.Errorf("%s:%d: no data rows after the header", source, hline)
	}

	forced := make(map[string]bool, len(opt.Factors))
	for _, name := range opt.Factors {
		if _, ok := seen[name]; !ok {
			return nil, nil, fmt.Errorf("%s: factor column %q is not in the header%s", source, name, didYouMean(name, header))
		}
		forced[name] = true
	}

	for _, c := range cols {
		if forced[c.Name] {
			c.Categorical = true
			continue
		}
		num, bad, ok := parseNumbers(c)
		if !ok {
			c.Categorical = true
			continue
		}
		if bad >= 0 {
			return nil, nil, fmt.Errorf("%s:%d: column %q: %s is not allowed", source, lines[bad], c.Name, strings.TrimSpace(c.Str[bad]))
		}
		c.Num = num
	}
	return &Frame{Source: source, Columns: cols, NRows: len(lines)}, lines, nil
}

// naOf reports whether the field c is one of the NA strings na (isNA is
// the same set as a map): a linear scan for the usual short list, which
// is faster than hashing every field.
func naOf(c string, na []string, isNA map[string]bool) bool {
	if len(na) > 4 {
		return isNA[c]
	}
	for _, s := range na {
		if c == s {
			return true
		}
	}
	return false
}

// parseNumbers parses the cells of c as numbers. ok is false when some
// non-missing cell is not a number; otherwise bad is the first row holding
// an infinite or NaN value, or -1.
func parseNumbers(c *Column) (num []float64, bad int, ok bool) {
	num = make([]float64, len(c.Str))
	bad = -1
	for i, s := range c.Str {
		if c.NA[i] {
			num[i] = math.NaN()
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, -1, false
		}
		if math.IsInf(v, 0) || math.IsNaN(v) {
			// An out-of-range number parses as ±Inf, like an explicit Inf.
			if bad < 0 {
				bad = i
			}
		}
		num[i] = v
	}
	return num, bad, true
}

// csvError turns an encoding/csv error into "source:line:char: message".
func csvError(source string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d:%d: %w", source, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s: %w", source, err)
}

// didYouMean returns ` (did you mean "x"?)` when a candidate is close to
// name, and "" otherwise.
func didYouMean(name string, candidates []string) string {
	if s := Suggest(name, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// ColumnNames returns the header names in file order.
func (f *Frame) ColumnNames() []string {
	names := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		names[i] = c.Name
	}
	return names
}

// Column returns the column called name, or nil when there is none.
func (f *Frame) Column(name string) *Column {
	for _, c := range f.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Subset returns a new frame holding the given rows of f (0-based data
// row indices, in the order given; a row may repeat), every column kept
// with its kind and NA marks. Source is kept, so errors still name the
// file.
func (f *Frame) Subset(rows []int) *Frame {
	out := &Frame{Source: f.Source, NRows: len(rows)}
	for _, c := range f.Columns {
		nc := &Column{Name: c.Name, Categorical: c.Categorical}
		if c.Num != nil {
			nc.Num = make([]float64, len(rows))
		}
		if c.Str != nil {
			nc.Str = make([]string, len(rows))
		}
		if c.NA != nil {
			nc.NA = make([]bool, len(rows))
		}
		for i, r := range rows {
			if c.Num != nil {
				nc.Num[i] = c.Num[r]
			}
			if c.Str != nil {
				nc.Str[i] = c.Str[r]
			}
			if c.NA != nil {
				nc.NA[i] = c.NA[r]
			}
		}
		out.Columns = append(out.Columns, nc)
	}
	return out
}

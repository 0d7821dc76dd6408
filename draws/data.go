package draws

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lmmbayes/lmmbayes/model"
)

// maxDroppedLines is how many line numbers of dropped rows DataInfo (and
// run.json) lists.
const maxDroppedLines = 20

// DataInfo describes the data file a design was built from: what a run
// records of it in run.json (DataFile, dropped_rows, dropped_lines,
// categorical_columns).
type DataInfo struct {
	// Source is the file's path as given.
	Source string
	// Rows is the number of data rows of the file; Dropped of them were
	// left out for a missing value in a column the model uses, Lines
	// are the file lines of the first maxDroppedLines of those.
	Rows, Dropped int
	Lines         []int
	// Size and SHA256 fingerprint the file as it was read (bytes and hex
	// SHA-256).
	Size   int64
	SHA256 string
	// Categorical lists the columns read as categorical.
	Categorical []string
}

// ReadData reads CSV data from r (named path in messages), builds the
// design of formula f from it, and fingerprints what it read. Errors
// are the model package's (a *model.FormulaError for a formula that
// does not fit the data).
func ReadData(r io.Reader, path string, f *model.Formula, fo model.FrameOptions, bo model.BuildOptions) (*model.Design, *model.Frame, *DataInfo, error) {
	h := sha256.New()
	cnt := &countWriter{}
	tee := io.TeeReader(r, io.MultiWriter(h, cnt))
	fr, lines, err := model.ReadFrameLines(tee, path, fo)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: data: %w", path, err)
	}
	d, err := model.Build(f, fr, bo)
	if err != nil {
		return nil, nil, nil, err
	}
	info := &DataInfo{Source: path, Rows: fr.NRows, Dropped: fr.NRows - len(d.Rows), Lines: []int{},
		Size: cnt.n, SHA256: hex.EncodeToString(h.Sum(nil)), Categorical: CategoricalColumns(fr)}
	next := 0 // d.Rows is increasing
	for i := 0; i < fr.NRows && len(info.Lines) < maxDroppedLines; i++ {
		if next < len(d.Rows) && d.Rows[next] == i {
			next++
			continue
		}
		info.Lines = append(info.Lines, lines[i])
	}
	return d, fr, info, nil
}

// Report returns the line that reports the dropped rows ("" when none).
func (dr *DataInfo) Report() string {
	if dr == nil || dr.Dropped == 0 {
		return ""
	}
	const shown = 5
	var ls []string
	for _, l := range dr.Lines[:min(shown, len(dr.Lines))] {
		ls = append(ls, strconv.Itoa(l))
	}
	where := "line " + ls[0]
	if dr.Dropped > 1 {
		where = "lines " + strings.Join(ls, ", ")
		if dr.Dropped > shown {
			where += fmt.Sprintf(" and %d more", dr.Dropped-shown)
		}
	}
	rows := "rows"
	if dr.Dropped == 1 {
		rows = "row"
	}
	return fmt.Sprintf("lmmbayes: %s: dropped %d %s with a missing value in a column the model uses (%s); %d of %d rows are used",
		dr.Source, dr.Dropped, rows, where, dr.Rows-dr.Dropped, dr.Rows)
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

// Write counts p.
func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// CategoricalColumns lists the columns of fr read as categorical.
func CategoricalColumns(fr *model.Frame) []string {
	out := []string{}
	for _, c := range fr.Columns {
		if c.Categorical {
			out = append(out, c.Name)
		}
	}
	return out
}

package diagnostics

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// FormatValue writes v with full precision (shortest representation that
// parses back to v), NaN as na.
func FormatValue(v float64, na string) string {
	if math.IsNaN(v) {
		return na
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WriteCSV writes the summary table: a header "variable,mean,…,mcse_sd"
// (Columns), then one row per variable at full precision, NA for NaN.
func WriteCSV(w io.Writer, names []string, sums []Summary) error {
	if len(names) != len(sums) {
		return fmt.Errorf("WriteCSV: %d names for %d summaries", len(names), len(sums))
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"variable"}, Columns()...)); err != nil {
		return err
	}
	rec := make([]string, 1+len(Columns()))
	for i, s := range sums {
		rec[0] = names[i]
		for j, v := range s.Values() {
			rec[j+1] = FormatValue(v, "NA")
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// jsonValue formats v for JSON: full precision, null for NaN and ±Inf
// (which JSON cannot represent).
func jsonValue(v float64) string {
	if math.IsInf(v, 0) {
		return "null"
	}
	return FormatValue(v, "null")
}

// WriteJSON writes the summary table as a JSON array of objects with the
// keys "variable" and Columns in order, NaN and ±Inf as null, one object
// a line.
func WriteJSON(w io.Writer, names []string, sums []Summary) error {
	if len(names) != len(sums) {
		return fmt.Errorf("WriteJSON: %d names for %d summaries", len(names), len(sums))
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	cols := Columns()
	for i, s := range sums {
		if i > 0 {
			bw.WriteString(",")
		}
		name, _ := json.Marshal(names[i])
		fmt.Fprintf(bw, "\n  {\"variable\": %s", name)
		for j, v := range s.Values() {
			fmt.Fprintf(bw, ", %q: %s", cols[j], jsonValue(v))
		}
		bw.WriteString("}")
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}

// tableValue formats one table cell: 4 significant digits for summaries,
// 3 decimals for R-hat, whole numbers for ESS.
func tableValue(col string, v float64) string {
	switch {
	case math.IsNaN(v):
		return "NA"
	case col == "rhat":
		return strconv.FormatFloat(v, 'f', 3, 64)
	case strings.HasPrefix(col, "ess_"):
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}

// WriteTable writes the summary table aligned for a terminal: variable
// names left-aligned, numbers right-aligned, rounded for reading (use
// WriteCSV for full precision).
func WriteTable(w io.Writer, names []string, sums []Summary) error {
	if len(names) != len(sums) {
		return fmt.Errorf("WriteTable: %d names for %d summaries", len(names), len(sums))
	}
	cols := Columns()
	cells := make([][]string, len(sums)+1)
	cells[0] = append([]string{"variable"}, cols...)
	for i, s := range sums {
		row := []string{names[i]}
		for j, v := range s.Values() {
			row = append(row, tableValue(cols[j], v))
		}
		cells[i+1] = row
	}
	width := make([]int, len(cells[0]))
	for _, row := range cells {
		for j, c := range row {
			width[j] = max(width[j], len(c))
		}
	}
	bw := bufio.NewWriter(w)
	for _, row := range cells {
		for j, c := range row {
			switch {
			case j == 0:
				fmt.Fprintf(bw, "%-*s", width[j], c)
			default:
				fmt.Fprintf(bw, "  %*s", width[j], c)
			}
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// Thresholds of the convergence warnings (Vehtari et al. 2021).
const (
	// RhatWarn is the R-hat above which a variable is flagged.
	RhatWarn = 1.01
	// ESSWarn is the bulk- or tail-ESS below which a variable is flagged.
	ESSWarn = 400
)

// Warnings returns human-readable warnings naming the variables whose
// R-hat exceeds RhatWarn or whose bulk- or tail-ESS is below ESSWarn.
// NA diagnostics (constant draws) are not flagged.
func Warnings(names []string, sums []Summary) []string {
	var rhat, bulk, tail []string
	for i, s := range sums {
		if s.Rhat > RhatWarn {
			rhat = append(rhat, names[i])
		}
		if s.ESSBulk < ESSWarn {
			bulk = append(bulk, names[i])
		}
		if s.ESSTail < ESSWarn {
			tail = append(tail, names[i])
		}
	}
	var out []string
	if len(rhat) > 0 {
		out = append(out, fmt.Sprintf("R-hat > %.2f for %d variable(s): %s", RhatWarn, len(rhat), nameList(rhat)))
	}
	if len(bulk) > 0 {
		out = append(out, fmt.Sprintf("bulk-ESS < %d for %d variable(s): %s", ESSWarn, len(bulk), nameList(bulk)))
	}
	if len(tail) > 0 {
		out = append(out, fmt.Sprintf("tail-ESS < %d for %d variable(s): %s", ESSWarn, len(tail), nameList(tail)))
	}
	return out
}

// warnNames is the most variables a warning names; summary.csv has the
// rest.
const warnNames = 20

// nameList joins names, at most warnNames of them.
func nameList(names []string) string {
	if len(names) <= warnNames {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:warnNames], ", ") + fmt.Sprintf(", … and %d more (see the summary)", len(names)-warnNames)
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/internal/outfile"
)

const diagnoseSynopsis = `[--format table|csv|json] [--vars REGEX] [--out FILE] FILE...
Summarise and diagnose draws from CmdStan CSV files, one file per chain:
mean, sd, median, mad, quantiles, rank-normalised R-hat, bulk- and tail-ESS
and Monte Carlo standard errors of every variable, as R's posterior does.`

// cmdDiagnose implements "lmmbayes diagnose".
func cmdDiagnose(e *env, args []string) error {
	fs := newFlags("diagnose", diagnoseSynopsis, e.stdout)
	format := addFormatFlag(fs, "output")
	vars := fs.String("vars", "", "only variables whose name matches this regular expression")
	out := fs.String("out", "", "write the summary to this file instead of standard output")
	memMB := fs.Int("memory-mb", 1024, "most `MiB` of draws held in memory at once (columns are read in batches)")
	anyCSV := fs.Bool("any-csv", false, "accept CSV files without CmdStan structure (no lp__ column and no # comment lines before the header), summarising every column")
	files, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	var re *regexp.Regexp
	if *vars != "" {
		if re, err = regexp.Compile(*vars); err != nil {
			return inputErrorf("diagnose: --vars: %v", err)
		}
	}
	if len(files) == 0 {
		return inputErrorf("diagnose: no CmdStan CSV files given (see \"lmmbayes diagnose -h\")")
	}
	if *memMB < 1 {
		return inputErrorf("diagnose: --memory-mb must be positive, got %d", *memMB)
	}
	if err := checkDiagnoseFiles(e.stderr, files, *anyCSV); err != nil {
		return err
	}
	// First pass: the header, the sampler statistics' columns and the
	// files' consistency (same header, same number of draws).
	header, _, err := draws.ReadHeader(files[0])
	if err != nil {
		return asInput(fmt.Errorf("diagnose: %w", err))
	}
	statCols := []int{}
	total := 0
	for j, h := range header {
		switch diagnostics.NormalizeName(h) {
		case "divergent__", "accept_stat__", "treedepth__":
			statCols = append(statCols, j)
		}
	}
	d, err := diagnostics.ReadCmdStanWith(diagnostics.ReadOptions{Columns: statCols}, files...)
	if err != nil {
		return asInput(fmt.Errorf("diagnose: %w", err))
	}
	for _, ch := range d.Chains {
		total += len(ch.Draws) + ch.Warmup
	}
	var names []string
	var cols []int
	for j, h := range header {
		n := diagnostics.NormalizeName(h)
		if diagnostics.IsSamplerStat(n) && n != "lp__" {
			continue
		}
		if re != nil && !re.MatchString(n) {
			continue
		}
		names = append(names, n)
		cols = append(cols, j)
	}
	if len(names) == 0 {
		return inputErrorf("diagnose: no variable matches --vars %q", *vars)
	}
	if err := e.ctx.Err(); err != nil {
		return errInterrupted
	}
	sums, _, err := draws.SummarizeFiles(files, cols, total, int64(*memMB)<<20)
	if err != nil {
		return asInput(fmt.Errorf("diagnose: %w", err))
	}
	warnings := diagnostics.Warnings(names, sums)
	stats := d.SamplerStats()

	var buf bytes.Buffer
	switch *format {
	case "csv":
		err = diagnostics.WriteCSV(&buf, names, sums)
	case "json":
		err = writeDiagnoseJSON(&buf, names, sums, stats, warnings)
	default:
		err = diagnostics.WriteTable(&buf, names, sums)
		if err == nil {
			writeNotes(&buf, d, stats, warnings)
		}
	}
	if err != nil {
		return fmt.Errorf("diagnose: %w", err)
	}
	if *format != "table" {
		writeNotes(e.stderr, d, stats, warnings)
	}
	if *out == "" {
		_, err = e.stdout.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(*out, buf.Bytes())
}

// writeNotes writes the sampler statistics and the warnings.
func writeNotes(w io.Writer, d *diagnostics.Draws, st diagnostics.SamplerStats, warnings []string) {
	fmt.Fprintf(w, "\n%d chain(s) × %d draws from %s\n", len(d.Chains), d.NumDraws(), strings.Join(d.Files, ", "))
	if st.HasDivergent {
		fmt.Fprintf(w, "divergent transitions: %d of %d", st.Divergent, st.Draws)
		if len(st.DivergentPerChain) > 1 {
			fmt.Fprintf(w, " (per chain: %s)", joinInts(st.DivergentPerChain))
		}
		fmt.Fprintln(w)
	}
	if !isNaN(st.MeanAcceptStat) {
		fmt.Fprintf(w, "mean accept_stat__: %.3f\n", st.MeanAcceptStat)
	}
	if st.HasTreedepth {
		fmt.Fprintf(w, "draws at max treedepth (%d): %d of %d\n", st.MaxTreedepth, st.TreedepthHits, st.Draws)
	}
	for _, s := range warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}

func isNaN(v float64) bool { return v != v }

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// writeDiagnoseJSON writes {"variables": [...], "sampler": {...},
// "warnings": [...]}, NA as null.
func writeDiagnoseJSON(w io.Writer, names []string, sums []diagnostics.Summary, st diagnostics.SamplerStats, warnings []string) error {
	var tab bytes.Buffer
	if err := diagnostics.WriteJSON(&tab, names, sums); err != nil {
		return err
	}
	fmt.Fprintf(w, "{\"variables\": %s,\n", bytes.TrimRight(tab.Bytes(), "\n"))
	fmt.Fprintf(w, "\"sampler\": {\"draws\": %d", st.Draws)
	if st.HasDivergent {
		fmt.Fprintf(w, ", \"divergent\": %d, \"divergent_per_chain\": [%s]", st.Divergent, joinInts(st.DivergentPerChain))
	}
	fmt.Fprintf(w, ", \"mean_accept_stat\": %s", diagnostics.FormatValue(st.MeanAcceptStat, "null"))
	if st.HasTreedepth {
		fmt.Fprintf(w, ", \"max_treedepth\": %d, \"treedepth_hits\": %d", st.MaxTreedepth, st.TreedepthHits)
	}
	fmt.Fprint(w, "},\n\"warnings\": [")
	for i, s := range warnings {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%q", s)
	}
	_, err := fmt.Fprint(w, "]}\n")
	return err
}

// writeFileAtomic writes data to path through a temporary file in the
// same directory, so a failed run leaves no partial file.
func writeFileAtomic(path string, data []byte) error {
	f, err := outfile.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err != nil {
		return asInput(fmt.Errorf("diagnose: --out: %w", err))
	}
	tmp := f.Name()
	if _, err = f.Write(data); err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("diagnose: writing %s: %w", path, err)
	}
	return nil
}

// checkDiagnoseFiles refuses, unless anyCSV, a file without CmdStan
// structure (neither "#" comment lines before the header nor an lp__
// column), since any numeric CSV would otherwise be "diagnosed" (the row
// column of ppc.csv given an R-hat); and warns on w when a file is given
// more than once, which counts its chain twice.
func checkDiagnoseFiles(w io.Writer, files []string, anyCSV bool) error {
	type seen struct {
		arg int
		fi  os.FileInfo
	}
	var prev []seen
	for i, path := range files {
		if fi, err := os.Stat(path); err == nil {
			for _, p := range prev {
				if os.SameFile(p.fi, fi) {
					fmt.Fprintf(w, "lmmbayes: diagnose: warning: %s is given twice (arguments %d and %d): its chain counts twice, which makes R-hat and ESS look better than they are\n", path, p.arg, i+1)
					break
				}
			}
			prev = append(prev, seen{i + 1, fi})
		}
		if anyCSV {
			continue
		}
		ok, err := cmdStanLike(path)
		if err != nil {
			return asInput(fmt.Errorf("diagnose: %w", err))
		}
		if !ok {
			return inputErrorf("diagnose: %s: not a CmdStan CSV file (no lp__ column and no \"#\" comment lines before the header); give --any-csv to summarise its columns anyway", path)
		}
	}
	return nil
}

// cmdStanLike reports whether the file at path has "#" comment lines
// before its header row or an lp__ column.
func cmdStanLike(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	for {
		line, err := r.ReadString('\n')
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") {
			return true, nil
		}
		if t != "" {
			for _, h := range strings.Split(t, ",") {
				if diagnostics.NormalizeName(strings.Trim(strings.TrimSpace(h), `"`)) == "lp__" {
					return true, nil
				}
			}
			return false, nil
		}
		if err != nil {
			// No header: the reader reports it.
			return true, nil
		}
	}
}

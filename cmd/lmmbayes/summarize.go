package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/internal/outfile"
)

const summarizeSynopsis = `DIR [--format table|csv|json]

Merges the chain files draws_*.csv in DIR — written by one multi-chain run or
by several "lmmbayes run CONFIG --chain-id K" processes — and writes
DIR/summary.csv exactly as a single multi-chain run would, then prints the
summary. Random-effect columns are named through DIR/random_effects.csv.`

func cmdSummarize(e *env, args []string) error {
	fs := newFlags("summarize", summarizeSynopsis, e.stdout)
	format := addFormatFlag(fs, "printed")
	memMB := fs.Int("memory-mb", 1024, "most `MiB` of draws held in memory at once (columns are read in batches)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if len(pos) != 1 {
		return inputErrorf("summarize: expected one run directory, got %d arguments", len(pos))
	}
	dir := pos[0]
	files, err := draws.Files(dir)
	if err != nil {
		return err
	}
	if *memMB < 1 {
		return inputErrorf("summarize: --memory-mb must be positive, got %d", *memMB)
	}
	var header []string
	settings := make([]map[string]string, len(files))
	for i, f := range files {
		h, set, err := draws.ReadHeader(f)
		if err != nil {
			return asInput(err)
		}
		if i == 0 {
			header = h
		}
		settings[i] = set
	}
	if err := sameModel(files, settings); err != nil {
		return err
	}
	total, err := draws.CountAllRows(files)
	if err != nil {
		return err
	}
	mixed := mixedSettings(files, settings)
	reMap, err := draws.ReadREMap(filepath.Join(dir, "random_effects.csv"))
	if err != nil {
		return err
	}
	// summary.csv holds every column but lp__ in file order (b, sd, cor,
	// sigma, r), with r_ columns under their summary names.
	var names []string
	var cols []int
	for j, h := range header {
		if h == "lp__" || diagnostics.IsSamplerStat(h) {
			continue
		}
		name := h
		if m, ok := reMap[h]; ok {
			name = m[0]
		} else if draws.IsREColumn(h) {
			return inputErrorf("%s: column %s is not in %s", files[0], h, filepath.Join(dir, "random_effects.csv"))
		}
		names = append(names, name)
		cols = append(cols, j)
	}
	sums, nDraws, err := draws.SummarizeFiles(files, cols, total, int64(*memMB)<<20)
	if err != nil {
		return asInput(err)
	}
	path := filepath.Join(dir, "summary.csv")
	if err := outfile.SaveAtomically(path, func(w io.Writer) error { return diagnostics.WriteCSV(w, names, sums) }); err != nil {
		return err
	}
	switch *format {
	case "csv":
		err = diagnostics.WriteCSV(e.stdout, names, sums)
	case "json":
		err = diagnostics.WriteJSON(e.stdout, names, sums)
	default:
		err = diagnostics.WriteTable(e.stdout, names, sums)
		for _, w := range append(mixed, diagnostics.Warnings(names, sums)...) {
			fmt.Fprintf(e.stdout, "Warning: %s\n", w)
		}
		fmt.Fprintf(e.stdout, "%d chains × %d draws from %s; summary written to %s\n", len(files), nDraws, dir, path)
		return err
	}
	for _, w := range mixed {
		fmt.Fprintf(e.stderr, "lmmbayes: warning: %s\n", w)
	}
	return err
}

// sameModel refuses chain files that sample different posteriors: run on
// data files with different SHA-256 (the data_sha256 header line), or
// with different formulas or priors as resolved. Each file is compared
// with the first; a header line that one of the two files lacks (a file
// written before lmmbayes recorded it) is not compared.
func sameModel(files []string, settings []map[string]string) error {
	for _, c := range []struct{ key, what string }{
		{"data_sha256", "were run on different data (SHA-256 of the data file)"},
		{"formula", "were run with different formulas"},
		{"priors", "were run with different priors"},
	} {
		first, ok := settings[0][c.key]
		if !ok {
			continue
		}
		for i := 1; i < len(files); i++ {
			v, ok := settings[i][c.key]
			if !ok || v == first {
				continue
			}
			a, b := first, v
			if c.key == "priors" {
				a, b = firstDifference(first, v)
			}
			return inputErrorf("summarize: %s and %s %s: %s = %s in the first, %s in the second; chains of different models cannot be merged",
				files[0], files[i], c.what, c.key, a, b)
		}
	}
	return nil
}

// firstDifference returns the first differing entries of two
// "; "-separated lists.
func firstDifference(a, b string) (string, string) {
	as, bs := strings.Split(a, "; "), strings.Split(b, "; ")
	for i := range min(len(as), len(bs)) {
		if as[i] != bs[i] {
			return as[i], bs[i]
		}
	}
	if len(as) > len(bs) {
		return as[len(bs)], "(none)"
	}
	if len(bs) > len(as) {
		return "(none)", bs[len(as)]
	}
	return a, b
}

// mixedSettings warns when the chain files were made with different
// seeds, warmup, thinning or sampler method: each chain is still a valid
// chain, but the merge is not what one multi-chain run would have made.
func mixedSettings(files []string, settings []map[string]string) []string {
	var out []string
	for _, key := range []string{"seed", "num_warmup", "thin", "method"} {
		first := settings[0][key]
		for i := 1; i < len(files); i++ {
			if v := settings[i][key]; v != first {
				out = append(out, fmt.Sprintf("the chains were run with different %s: %s has %s = %s, %s has %s = %s; the merged summary is valid for these chains but no single multi-chain run would give it",
					key, filepath.Base(files[0]), key, first, filepath.Base(files[i]), key, v))
				break
			}
		}
	}
	return out
}

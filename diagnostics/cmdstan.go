package diagnostics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Chain is one CmdStan CSV file: the comment settings and the draws kept
// after skipping saved warmup.
type Chain struct {
	// File is the name the chain was read from.
	File string
	// Config holds the "key = value" (CmdStan) or "key=value" (rstan)
	// settings found in the comment lines, first occurrence kept.
	Config map[string]string
	// Header is the column names as written in the file.
	Header []string
	// Warmup is the number of saved warmup rows that were skipped.
	Warmup int
	// Draws is iterations × columns (only the kept columns and draws
	// when read with ReadOptions).
	Draws [][]float64
	// Columns are the header indices of Draws' columns (nil: all).
	Columns []int
}

// Draws is the post-warmup output of one or more chains with the same
// columns.
type Draws struct {
	// Files names the chains in order.
	Files []string
	// Names are the column names in posterior's form: "beta.1" and
	// "beta[1]" become "beta[1]", "Omega.2.1" becomes "Omega[2,1]".
	Names []string
	// Chains are the chains in file order.
	Chains []*Chain
}

// NumDraws returns the number of post-warmup draws per chain.
func (d *Draws) NumDraws() int {
	if len(d.Chains) == 0 {
		return 0
	}
	return len(d.Chains[0].Draws)
}

// Index returns the column of the variable called name (in either
// spelling), or −1.
func (d *Draws) Index(name string) int {
	name = NormalizeName(name)
	for i, n := range d.Names {
		if n == name {
			return i
		}
	}
	return -1
}

// Variable returns the chains × iterations draws of column j.
func (d *Draws) Variable(j int) [][]float64 {
	out := make([][]float64, len(d.Chains))
	for c, ch := range d.Chains {
		out[c] = make([]float64, len(ch.Draws))
		for i, row := range ch.Draws {
			out[c][i] = row[j]
		}
	}
	return out
}

// IsSamplerStat reports whether a column is a sampler statistic (its name
// ends in "__"); lp__ is one by this rule.
func IsSamplerStat(name string) bool { return strings.HasSuffix(name, "__") }

// NormalizeName rewrites Stan's indexed column names in posterior's form:
// "beta.1" → "beta[1]", "Omega.2.1" → "Omega[2,1]"; names already using
// brackets, and names whose dotted parts are not all integers, are kept.
func NormalizeName(name string) string {
	parts := strings.Split(name, ".")
	if len(parts) < 2 || parts[0] == "" {
		return name
	}
	for _, p := range parts[1:] {
		if p == "" {
			return name
		}
		for _, r := range p {
			if r < '0' || r > '9' {
				return name
			}
		}
	}
	return parts[0] + "[" + strings.Join(parts[1:], ",") + "]"
}

// ReadCmdStanFile reads one CmdStan CSV file; see ReadCmdStanChain.
func ReadCmdStanFile(path string) (*Chain, error) {
	return readChainFile(path, ReadOptions{})
}

func readChainFile(path string, opt ReadOptions) (*Chain, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readChain(f, path, opt)
}

// ReadCmdStanChain reads one chain in CmdStan CSV layout from r: comment
// lines starting with '#' anywhere (settings, adaptation, timing), a
// header row, then one row per draw. When the comments say warmup draws
// were saved (CmdStan's "num_warmup = N" with "save_warmup = 1|true", or
// rstan's "warmup=N" with "save_warmup=1"), the first ⌈N/thin⌉ rows are
// skipped. Errors name file and line.
func ReadCmdStanChain(r io.Reader, file string) (*Chain, error) {
	return readChain(r, file, ReadOptions{})
}

// readChain reads one chain keeping what opt selects (see ReadOptions).
func readChain(r io.Reader, file string, opt ReadOptions) (*Chain, error) {
	ch := &Chain{File: file, Config: map[string]string{}, Columns: opt.Columns}
	sel := newSelector(opt)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<30)
	var rows [][]float64
	nrows := 0
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimRight(sc.Bytes(), "\r")
		trimmed := bytes.TrimSpace(text)
		if len(trimmed) == 0 {
			continue
		}
		if trimmed[0] == '#' {
			parseSetting(ch.Config, string(trimmed[1:]))
			continue
		}
		if ch.Header != nil {
			// A data row: split without copying, parse only the kept
			// fields.
			nf := bytes.Count(trimmed, []byte{','}) + 1
			if nf != len(ch.Header) {
				return nil, fmt.Errorf("%s:%d: row has %d fields, the header has %d", file, line, nf, len(ch.Header))
			}
			nrows++
			keep, err := sel.keepRow(ch.Config, nrows-1)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", file, line, err)
			}
			if !keep {
				continue
			}
			row, err := sel.parseRow(trimmed, ch.Header)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", file, line, err)
			}
			rows = append(rows, row)
			continue
		}
		fields := strings.Split(string(trimmed), ",")
		{ // the header row
			numeric := 0
			for i, f := range fields {
				fields[i] = strings.TrimSpace(f)
				if _, err := strconv.ParseFloat(fields[i], 64); err == nil {
					numeric++
				}
			}
			if numeric == len(fields) {
				return nil, fmt.Errorf("%s:%d: missing header row: the first non-comment row is all numbers", file, line)
			}
			for i, f := range fields {
				if f == "" {
					return nil, fmt.Errorf("%s:%d: header column %d has an empty name", file, line, i+1)
				}
			}
			ch.Header = fields
			continue
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", file, line+1, err)
	}
	if ch.Header == nil {
		if line == 0 {
			return nil, fmt.Errorf("%s:1: empty file: no header row", file)
		}
		return nil, fmt.Errorf("%s:%d: no header row (only comments)", file, line)
	}
	w, err := warmupRows(ch.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if w > nrows {
		return nil, fmt.Errorf("%s:%d: the comments say %d warmup draws were saved but the file has only %d rows", file, line, w, nrows)
	}
	ch.Warmup = w
	if sel.thinned() {
		if w != sel.warmup {
			return nil, fmt.Errorf("%s: the warmup settings come after the first draw; cannot thin while reading", file)
		}
		ch.Draws = rows
	} else {
		ch.Draws = rows[w:]
	}
	if len(ch.Draws) == 0 {
		return nil, fmt.Errorf("%s:%d: no draws after the header and warmup", file, line)
	}
	return ch, nil
}

// parseSetting records a "key = value" or "key=value" comment.
func parseSetting(cfg map[string]string, s string) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return
	}
	k = strings.TrimSpace(k)
	v = strings.TrimSpace(v)
	if k == "" || strings.ContainsAny(k, " \t,") {
		return
	}
	v = strings.TrimSpace(strings.TrimSuffix(v, "(Default)"))
	if _, seen := cfg[k]; !seen {
		cfg[k] = v
	}
}

// warmupRows returns how many leading rows are saved warmup draws.
func warmupRows(cfg map[string]string) (int, error) {
	save, ok := cfg["save_warmup"]
	if !ok {
		return 0, nil
	}
	switch strings.ToLower(save) {
	case "0", "false":
		return 0, nil
	case "1", "true":
	default:
		return 0, fmt.Errorf("save_warmup = %q is not 0, 1, true or false", save)
	}
	nw, key := cfg["num_warmup"], "num_warmup"
	if nw == "" {
		nw, key = cfg["warmup"], "warmup"
	}
	if nw == "" {
		return 0, errors.New("save_warmup is set but neither num_warmup nor warmup is given")
	}
	n, err := strconv.Atoi(nw)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s = %q is not a non-negative integer", key, nw)
	}
	thin := 1
	if t, ok := cfg["thin"]; ok {
		thin, err = strconv.Atoi(t)
		if err != nil || thin < 1 {
			return 0, fmt.Errorf("thin = %q is not a positive integer", t)
		}
	}
	return (n + thin - 1) / thin, nil
}

// ReadCmdStan reads several CmdStan CSV files, one chain each. The headers
// must agree and every chain must have the same number of post-warmup
// draws; errors name the files.
func ReadCmdStan(paths ...string) (*Draws, error) {
	return ReadCmdStanWith(ReadOptions{}, paths...)
}

// NewDraws combines chains read by ReadCmdStanChain, checking that they
// have the same columns and lengths.
func NewDraws(chains ...*Chain) (*Draws, error) {
	d := &Draws{}
	for _, ch := range chains {
		if err := d.add(ch); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *Draws) add(ch *Chain) error {
	if len(d.Chains) == 0 {
		d.Names = make([]string, len(ch.Header))
		seen := map[string]int{}
		for i, h := range ch.Header {
			d.Names[i] = NormalizeName(h)
			if j, dup := seen[d.Names[i]]; dup {
				return fmt.Errorf("%s: columns %d and %d are both %q", ch.File, j+1, i+1, d.Names[i])
			}
			seen[d.Names[i]] = i
		}
	} else {
		first := d.Chains[0]
		if len(ch.Header) != len(first.Header) {
			return fmt.Errorf("%s has %d columns but %s has %d", ch.File, len(ch.Header), first.File, len(first.Header))
		}
		for i := range ch.Header {
			if ch.Header[i] != first.Header[i] {
				return fmt.Errorf("headers differ: column %d is %q in %s but %q in %s", i+1, ch.Header[i], ch.File, first.Header[i], first.File)
			}
		}
		if len(ch.Draws) != len(first.Draws) {
			return fmt.Errorf("chains differ in length: %s has %d post-warmup draws but %s has %d", ch.File, len(ch.Draws), first.File, len(first.Draws))
		}
	}
	d.Files = append(d.Files, ch.File)
	d.Chains = append(d.Chains, ch)
	return nil
}

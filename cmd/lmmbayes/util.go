package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/lmmbayes/lmmbayes/model"
)

// errHelp is returned by a subcommand after printing its help for -h.
var errHelp = errors.New("help requested")

// suggest returns ` (did you mean "x"?)` when a candidate is close to name.
func suggest(name string, candidates []string) string {
	if s := model.Suggest(name, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// flagSet is a subcommand's flag set: parse errors are returned, not
// printed and exited on, and -h prints help to out.
type flagSet struct {
	*flag.FlagSet
	out      io.Writer
	synopsis string
}

// newFlags returns the flag set of subcommand name; synopsis follows the
// name in the usage line and may carry a description after a newline.
func newFlags(name, synopsis string, out io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), out: out, synopsis: synopsis}
	fs.SetOutput(io.Discard)
	return fs
}

// printUsage writes the usage line and the flags to fs.out.
func (fs *flagSet) printUsage() {
	fmt.Fprintf(fs.out, "Usage: lmmbayes %s %s\n", fs.Name(), fs.synopsis)
	var n int
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(fs.out, "\nFlags:")
	fs.VisitAll(func(f *flag.Flag) {
		name, use := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintln(fs.out, line)
		def := ""
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			def = fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintf(fs.out, "        %s%s\n", use, def)
	})
}

// parse parses args, accepting flags after positional arguments too
// ("run config.toml --seed 3"), and returns the positional arguments. -h
// prints help and returns errHelp; a bad flag is an input error.
func (fs *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.printUsage()
			return nil, errHelp
		}
		if err != nil {
			return nil, inputErrorf("%s: %v (see \"lmmbayes %s -h\")", fs.Name(), err, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// setFlags returns the names of the flags given on the command line.
func (fs *flagSet) setFlags() map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// tableFormats are the values of --format for commands that print tables.
var tableFormats = []string{"table", "csv", "json"}

// addFormatFlag registers --format (table, csv or json; default table).
func addFormatFlag(fs *flagSet, what string) *string {
	return fs.String("format", "table", what+" `format`: table, csv or json")
}

// checkFormat returns an input error naming the flag unless f is table,
// csv or json.
func checkFormat(f string) error {
	for _, v := range tableFormats {
		if f == v {
			return nil
		}
	}
	return inputErrorf("--format must be table, csv or json, got %q%s", f, suggest(f, tableFormats))
}

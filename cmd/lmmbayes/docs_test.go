package main

import (
	"flag"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/cli.md from the commands' help")

// cliDoc renders docs/cli.md from every subcommand's -h output, so the
// reference cannot drift from the program.
func cliDoc(t *testing.T) string {
	var b strings.Builder
	b.WriteString("# Command-line reference\n\n")
	b.WriteString("Generated from each command's `-h` output by `go test ./cmd/lmmbayes -run TestCLIDocs -update-docs`;\n")
	b.WriteString("a test fails when this file and the program disagree.\n\n")
	b.WriteString("Exit codes: 0 success; 2 bad input (config, data, formula, flags), with a one-line message\n")
	b.WriteString("naming the file and line, column or key; 1 an internal failure (including an unwritable\n")
	b.WriteString("output dir); 130 interrupted.\n\n```\n")
	code, out, _ := runCLI(t, "help")
	if code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	b.WriteString(out)
	b.WriteString("```\n")
	for _, c := range commandNames() {
		if c == "help" {
			continue
		}
		code, out, stderr := runCLI(t, c, "-h")
		if code != 0 {
			t.Fatalf("%s -h: exit %d: %s", c, code, stderr)
		}
		b.WriteString("\n## lmmbayes " + c + "\n\n```\n" + out + "```\n")
	}
	return b.String()
}

func TestCLIDocs(t *testing.T) {
	checkDoc(t, "cli.md", cliDoc(t))
}

package main

import (
	"flag"
	"os"
	"path/filepath"
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
	path := filepath.Join("..", "..", "docs", "cli.md")
	want := cliDoc(t)
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with -update-docs)", err)
	}
	if string(got) != want {
		t.Errorf("docs/cli.md is out of date with the commands' -h output; regenerate with\n  go test ./cmd/lmmbayes -run TestCLIDocs -update-docs")
	}
}

package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the program version; release builds set it with
// -ldflags "-X main.version=v1.2.3".
var version = "0.1.0-dev"

// commit returns the VCS revision the binary was built from, if recorded.
func commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func cmdVersion(e *env, args []string) error {
	fs := newFlags("version", "", e.stdout)
	if _, err := fs.parse(args); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "lmmbayes %s (commit %s, %s)\n", version, commit(), runtime.Version())
	return nil
}

func cmdHelp(e *env, args []string) error {
	if len(args) == 0 {
		usage(e.stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] && c.name != "help" {
			return c.run(e, []string{"-h"})
		}
	}
	return inputErrorf("help: unknown command %q%s", args[0], suggest(args[0], commandNames()))
}

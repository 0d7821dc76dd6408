// Command lmmbayes fits Bayesian linear mixed models by MCMC.
//
// Usage:
//
//	lmmbayes run config.toml
//	lmmbayes fit --data sleepstudy.csv --formula 'Reaction ~ Days + (Days | Subject)'
//	lmmbayes diagnose draws_1.csv draws_2.csv
//
// Run "lmmbayes help" for the list of subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/lmmbayes/lmmbayes/draws"
)

// Exit codes.
const (
	exitOK          = 0
	exitInternal    = 1
	exitInput       = 2
	exitInterrupted = 130
)

// env is what a subcommand may touch of the outside world.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// cleanup holds what a hard exit must remove (nil: nothing to do).
	cleanup *cleanups
}

// cleanups are the undo actions of work in progress, such as a run's
// staging files, that a hard exit (the second signal) runs before it
// ends the process, so that it leaves no partial output.
type cleanups struct {
	mu   sync.Mutex
	next int
	fns  map[int]func()
}

// add registers f and returns the function that unregisters it. It is
// safe on a nil receiver (then nothing is registered).
func (c *cleanups) add(f func()) (remove func()) {
	if c == nil {
		return func() {}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fns == nil {
		c.fns = map[int]func(){}
	}
	id := c.next
	c.next++
	c.fns[id] = f
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.fns, id)
	}
}

// run runs every registered action (and keeps the lock, so that nothing
// registers after a hard exit began).
func (c *cleanups) run() {
	if c == nil {
		return
	}
	c.mu.Lock()
	for _, f := range c.fns {
		f()
	}
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

// commands lists the subcommands in the order help prints them.
var commands []command

func init() {
	commands = []command{
		{"run", "sample the posterior of the model in a config file", cmdRun},
		{"fit", "fit the model by maximum likelihood or REML, as lme4 does", cmdFit},
		{"predict", "predict new rows from the posterior draws of a run", cmdPredict},
		{"diagnose", "summarise and diagnose draws from CmdStan CSV files", cmdDiagnose},
		{"summarize", "merge the chain files of a run directory into summary.csv", cmdSummarize},
		{"compare", "compare the posterior with the ML fit", cmdCompare},
		{"loo", "PSIS leave-one-out cross-validation, WAIC, R² and model comparison of runs", cmdLoo},
		{"kfold", "exact K-fold cross-validation by groups, refitting without each fold", cmdKfold},
		{"plot", "draw trace, density, rank, PPC and caterpillar plots and report.html of a run", cmdPlot},
		{"init", "print a commented config file with every default", cmdInit},
		{"version", "print the version", cmdVersion},
		{"help", "show help for a subcommand", cmdHelp},
	}
}

// inputError marks an error caused by the user's input (exit code 2):
// the library's draws.InputError, which the draws and posterior packages
// return for bad input.
type inputError = draws.InputError

// inputErrorf returns an error that makes lmmbayes exit with code 2.
func inputErrorf(format string, args ...any) error { return draws.Inputf(format, args...) }

// asInput marks err as an input error (exit code 2), keeping its message.
func asInput(err error) error { return draws.AsInput(err) }

// errInterrupted is returned when the run was stopped by a signal.
var errInterrupted = errors.New("interrupted")

func main() {
	// The first SIGINT or SIGTERM cancels ctx: chains stop at their next
	// iteration and what was finished is written. A second one ends the
	// process at once; finished files are safe because every output is
	// renamed into place whole, and the second signal first removes the
	// staging files of a run in progress.
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	e := &env{ctx: ctx, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, cleanup: &cleanups{}}
	go func() {
		<-sigs
		cancel()
		<-sigs
		e.cleanup.run()
		fmt.Fprintln(os.Stderr, "lmmbayes: second signal: stopped at once")
		os.Exit(exitInterrupted)
	}()
	code := dispatch(e, os.Args[1:])
	cancel()
	os.Exit(code)
}

// dispatch runs the subcommand named by args[0] and returns the exit code.
func dispatch(e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitInput
	}
	name := args[0]
	switch name {
	case "-h", "--help":
		usage(e.stdout)
		return exitOK
	case "-v", "--version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			return exitCode(e, c.run(e, args[1:]))
		}
	}
	fmt.Fprintf(e.stderr, "lmmbayes: unknown command %q%s\n", name, suggest(name, commandNames()))
	usage(e.stderr)
	return exitInput
}

// exitCode prints err (if any) and maps it to an exit code.
func exitCode(e *env, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "lmmbayes: %v\n", err)
	var d interface{ Detail() string }
	if errors.As(err, &d) {
		fmt.Fprintln(e.stderr, d.Detail())
	}
	var ie *inputError
	switch {
	case errors.Is(err, errInterrupted), errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ie):
		return exitInput
	default:
		return exitInternal
	}
}

func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "lmmbayes: Bayesian linear mixed models by MCMC")
	fmt.Fprintln(w, "\nUsage: lmmbayes <command> [flags] [arguments]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"lmmbayes <command> -h\" for the flags of a command.")
}

package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// phaseLog times the phases of a run. With LMMBAYES_TIMING set (to
// anything but "" or "0") it prints every phase's wall time on stderr;
// otherwise, for big post-processing (see bigPost), it prints progress
// lines unless --quiet. Nil prints nothing.
type phaseLog struct {
	w       io.Writer
	timing  bool
	start   time.Time
	last    time.Time
	lastCPU time.Duration
}

// cpuTime is the CPU time (user + system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// newPhaseLog returns the run's phase log: timing lines when the
// LMMBAYES_TIMING environment variable asks for them, progress lines
// when quiet is false.
func newPhaseLog(w io.Writer, quiet bool) *phaseLog {
	t := os.Getenv("LMMBAYES_TIMING")
	timing := t != "" && t != "0"
	if quiet && !timing {
		return nil
	}
	now := time.Now()
	return &phaseLog{w: w, timing: timing, start: now, last: now, lastCPU: cpuTime()}
}

// done ends a phase: with timing on, prints its wall time, the CPU time
// the process spent in it (on a shared machine the CPU time is the
// steadier figure) and the total wall time so far.
func (p *phaseLog) done(phase string) {
	if p == nil {
		return
	}
	now := time.Now()
	if p.timing {
		cpu := cpuTime()
		fmt.Fprintf(p.w, "lmmbayes: timing: %-34s wall %8.3f s  cpu %8.3f s  (total wall %.3f s)\n", phase, now.Sub(p.last).Seconds(), (cpu - p.lastCPU).Seconds(), now.Sub(p.start).Seconds())
		p.lastCPU = cpu
	}
	p.last = now
}

// progress prints a progress line (always with timing on; otherwise only
// when big is true, so that small runs stay silent).
func (p *phaseLog) progress(big bool, format string, args ...any) {
	if p == nil || !(big || p.timing) {
		return
	}
	fmt.Fprintf(p.w, "lmmbayes: "+format+"\n", args...)
}

// bigPost reports whether post-processing n rows from s draws takes long
// enough (seconds) to deserve progress lines: rows × draws ≥ 10⁸.
func bigPost(n, s int) bool { return int64(n)*int64(s) >= 100_000_000 }

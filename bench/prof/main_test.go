package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{7}, 7},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median = %g, want %g", got, c.want)
		}
	}
}

// TestFactorSleepstudy checks the sizes factor reports for sleepstudy:
// 18 subjects × 2 effects = 36 random-effect columns, 2 fixed effects, 3 θ
// (the lower triangle of a 2 × 2 Λ) and 180 rows.
func TestFactorSleepstudy(t *testing.T) {
	var out bytes.Buffer
	err := runFactor([]string{"-data", "../../testdata/sleepstudy.csv", "-formula", "Reaction ~ Days + (Days | Subject)",
		"-factors", "Subject", "-n", "3"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rows=180 ", "q=36 ", "p=2 ", "theta=3 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
	if err := runFactor([]string{"-data", "../../testdata/sleepstudy.csv"}, &out); err == nil {
		t.Error("no error without -formula")
	}
}

// TestSampleSleepstudy runs a tiny sampler run end to end.
func TestSampleSleepstudy(t *testing.T) {
	var out bytes.Buffer
	err := runSample([]string{"-data", "../../testdata/sleepstudy.csv", "-formula", "Reaction ~ Days + (Days | Subject)",
		"-factors", "Subject", "-chains", "2", "-warmup", "20", "-draws", "10", "-factor", "3"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := strconv.ParseFloat(kv(out.String(), "cpu_per_factorisation"), 64); err != nil || !(f > 0) {
		t.Errorf("cpu_per_factorisation %q in %q", kv(out.String(), "cpu_per_factorisation"), out.String())
	}
	if !strings.Contains(out.String(), "chains=2 ") || kv(out.String(), "min_ess_bulk") == "" {
		t.Errorf("output %q", out.String())
	}
}

// TestSampleMethods checks that -method reaches sampler.Options.Method:
// the output names the method that ran, the user's choice gives the reason
// "chosen by the user", and auto on sleepstudy (a small model) picks the
// collapsed method with a run identical to the explicit collapsed one
// (same seed, so the same min bulk-ESS). The time per iteration is the
// chain time over the iterations, so it cannot exceed the run's wall time
// divided by them (+ 0.5 ms: the wall is printed to 1 ms).
func TestSampleMethods(t *testing.T) {
	args := []string{"-data", "../../testdata/sleepstudy.csv", "-formula", "Reaction ~ Days + (Days | Subject)",
		"-factors", "Subject", "-chains", "2", "-parallel", "1", "-warmup", "30", "-draws", "20"}
	got := map[string]string{}
	for _, m := range []string{"auto", "collapsed", "crossed"} {
		var out bytes.Buffer
		if err := runSample(append(args, "-method", m), &out); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		got[m] = out.String()
	}
	for m, want := range map[string]string{"auto": "collapsed", "collapsed": "collapsed", "crossed": "crossed"} {
		if kv(got[m], "method") != want {
			t.Errorf("-method %s: ran %q, want %q\n%s", m, kv(got[m], "method"), want, got[m])
		}
	}
	if !strings.Contains(got["crossed"], "reason: chosen by the user") {
		t.Errorf("crossed reason: %s", got["crossed"])
	}
	if !strings.Contains(got["auto"], "reason: auto:") {
		t.Errorf("auto reason: %s", got["auto"])
	}
	if a, c := kv(got["auto"], "min_ess_bulk"), kv(got["collapsed"], "min_ess_bulk"); a != c || a == "" {
		t.Errorf("auto min_ess_bulk %q, collapsed %q: want equal", a, c)
	}
	for m, o := range got {
		spi, _ := strconv.ParseFloat(kv(o, "s_per_iter"), 64)
		wall, _ := strconv.ParseFloat(kv(o, "run_wall_s"), 64)
		if !(spi > 0) || spi > (wall+0.0005)/(2*50) {
			t.Errorf("%s: s_per_iter %g, run wall %g over 100 iterations", m, spi, wall)
		}
	}
	var out bytes.Buffer
	if err := runSample(append(args, "-method", "gibbs"), &out); err == nil {
		t.Error("no error for -method gibbs")
	}
}

// kv returns the value of key=value in s ("" if absent).
func kv(s, key string) string {
	for _, f := range strings.Fields(s) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

package main

import (
	"bytes"
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
		"-factors", "Subject", "-chains", "2", "-warmup", "20", "-draws", "10"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(2 chain results)") {
		t.Errorf("output %q", out.String())
	}
}

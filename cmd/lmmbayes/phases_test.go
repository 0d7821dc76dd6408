package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestPhaseLog checks the progress and timing lines: progress lines only
// for big post-processing (rows × draws ≥ 10⁸) unless --quiet, timing
// lines only with LMMBAYES_TIMING, and nothing at all when quiet without
// it.
func TestPhaseLog(t *testing.T) {
	if bigPost(180, 4000) || !bigPost(500_000, 2000) || !bigPost(25_000, 4000) {
		t.Errorf("bigPost thresholds: %v %v %v", bigPost(180, 4000), bigPost(500_000, 2000), bigPost(25_000, 4000))
	}
	for _, c := range []struct {
		timing string
		quiet  bool
		want   []string
		absent []string
	}{
		{"", false, []string{"lmmbayes: big 1\n"}, []string{"small", "timing"}},
		{"", true, nil, []string{"big", "small", "timing"}},
		{"0", false, []string{"big 1"}, []string{"small", "timing"}},
		{"1", true, []string{"big 1", "small 2", "lmmbayes: timing: phase A", "cpu"}, nil},
	} {
		t.Setenv("LMMBAYES_TIMING", c.timing)
		var b bytes.Buffer
		p := newPhaseLog(&b, c.quiet)
		p.progress(true, "big %d", 1)
		p.progress(false, "small %d", 2)
		p.done("phase A")
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("timing %q quiet %v: %q lacks %q", c.timing, c.quiet, b.String(), w)
			}
		}
		for _, a := range c.absent {
			if strings.Contains(b.String(), a) {
				t.Errorf("timing %q quiet %v: %q holds %q", c.timing, c.quiet, b.String(), a)
			}
		}
	}
}

//go:build long

package sampler

import "testing"

// gwIters is the number of successive-conditional iterations per case.
const gwIters = 300000

// TestGeweke runs every case; each must pass the Bonferroni-corrected
// quantile tests.
func TestGeweke(t *testing.T) {
	for ci, c := range gwCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			gewekeCheck(t, c, gwIters, uint64(101+ci))
		})
	}
}

//go:build long

package sampler

import "testing"

// TestSBCNUTS checks the calibration of the NUTS method (with its own
// warmup adaptation) on the random-slope and crossed-intercepts models,
// 1000 simulations each (Bonferroni over a model's parameters, α = 0.01).
func TestSBCNUTS(t *testing.T) {
	for name, d := range sbcDesigns(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pv, names := sbcRunOpt(t, sbcSpec(d), Options{Method: "nuts"}, 41, sbcSims)
			for j, p := range pv {
				if p < sbcAlpha/float64(len(pv)) {
					t.Errorf("%s: rank histogram not uniform (p = %.2g)", names[j], p)
				}
			}
		})
	}
}

// TestSBCNUTSCatchesBug runs NUTS with the kinetic energy halved in the
// trajectory's weights: SBC must fail for some parameter.
func TestSBCNUTSCatchesBug(t *testing.T) {
	pv, _ := sbcRunOpt(t, sbcSpec(sbcDesigns(t)["slope"]), Options{Method: "nuts", nutsKineticScale: 0.5}, 43, 500)
	caught := false
	for _, p := range pv {
		if p < sbcAlpha/float64(len(pv)) {
			caught = true
		}
	}
	if !caught {
		t.Error("SBC did not catch NUTS with the kinetic energy halved")
	}
}

//go:build long

package sampler

import "testing"

// TestSBCCrossed checks the calibration of the crossed method on the
// crossed-intercepts model and the random-slope model, every term updated
// on its own (PRZ's per-term draws and the scale step), 1000 simulations
// each (Bonferroni over a model's parameters, α = 0.01).
func TestSBCCrossed(t *testing.T) {
	for name, d := range sbcDesigns(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pv, names := sbcRunOpt(t, sbcSpec(d), Options{Method: "crossed", crossedSmall: -1}, 31, sbcSims)
			for j, p := range pv {
				if p < sbcAlpha/float64(len(pv)) {
					t.Errorf("%s: rank histogram not uniform (p = %.2g)", names[j], p)
				}
			}
		})
	}
}

// TestSBCCrossedCatchesBug runs the crossed method with the (β, bₖ)
// draw's σ scaled by 1.5: SBC must fail for some parameter.
func TestSBCCrossedCatchesBug(t *testing.T) {
	pv, _ := sbcRunOpt(t, sbcSpec(sbcDesigns(t)["crossed"]), Options{Method: "crossed", crossedSmall: -1, drawScale: 1.5}, 37, 500)
	caught := false
	for _, p := range pv {
		if p < sbcAlpha/float64(len(pv)) {
			caught = true
		}
	}
	if !caught {
		t.Error("SBC did not catch a crossed (β, b) draw with σ scaled by 1.5")
	}
}

package sampler

import "testing"

// TestStanPolitenessCrossed compares the crossed method on politeness
// (crossed intercepts) with the Stan reference, every term updated on its
// own (PRZ's sampler; 4 chains × 4000 draws: its ESS per iteration is
// lower than the collapsed method's).
func TestStanPolitenessCrossed(t *testing.T) {
	runStanCaseOpt(t, "politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", "scenario",
		Options{Chains: 4, Warmup: 1000, Draws: 4000, Seed: 13, RandomEffects: true, Method: "crossed", crossedSmall: -1})
}

// TestStanPolitenessCrossedSmall does the same with the default layout,
// where both terms are small and join β̃ (one joint draw of (β, b)).
func TestStanPolitenessCrossedSmall(t *testing.T) {
	runStanCaseMethod(t, "politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", "scenario", 15, 2000, "crossed")
}

// TestStanSleepstudyCrossed checks the correlated random slope (K = 2)
// updated on its own.
func TestStanSleepstudyCrossed(t *testing.T) {
	runStanCaseOpt(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject",
		Options{Chains: 4, Warmup: 1000, Draws: 4000, Seed: 14, RandomEffects: true, Method: "crossed", crossedSmall: -1})
}

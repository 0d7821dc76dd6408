package sampler

import "testing"

// TestStanPolitenessCrossed compares the crossed method on politeness
// (crossed intercepts) with the Stan reference (4 chains × 4000 draws:
// its ESS per iteration is lower than the collapsed method's).
func TestStanPolitenessCrossed(t *testing.T) {
	runStanCaseMethod(t, "politeness.csv", "frequency ~ attitude + gender + (1|subject) + (1|scenario)", "scenario", 13, 4000, "crossed")
}

// TestStanSleepstudyCrossed does the same for sleepstudy's correlated
// random slope.
func TestStanSleepstudyCrossed(t *testing.T) {
	runStanCaseMethod(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject", 14, 4000, "crossed")
}

package model

// boundedOpt is the result of a bounded minimisation.
type boundedOpt struct {
	x     []float64
	f     float64
	evals int
	conv  bool
}

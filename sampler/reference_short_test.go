//go:build !long

package sampler

// stanDraws is the number of draws per chain of the Stan comparisons in
// the default suite.
const stanDraws = 1000

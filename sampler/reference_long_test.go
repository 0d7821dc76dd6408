//go:build long

package sampler

// stanDraws is the number of draws per chain of the Stan comparisons
// with -tags long: 4 chains × 5000 draws, as Stan's reference.
const stanDraws = 5000

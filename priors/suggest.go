package priors

import "github.com/lmmbayes/lmmbayes/internal/suggest"

// closest returns the candidate closest to name by edit distance, or ""
// when none is close enough to be a likely misspelling.
func closest(name string, candidates []string) string {
	return suggest.Closest(name, candidates)
}

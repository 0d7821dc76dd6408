package model

import "github.com/lmmbayes/lmmbayes/internal/suggest"

// Suggest returns the candidate closest to name by edit distance, or ""
// when none is close enough to be a likely misspelling. Case differences
// count as half an edit; a one-letter name suggests nothing.
func Suggest(name string, candidates []string) string {
	return suggest.Closest(name, candidates)
}

package priors

import "strings"

// suggest returns the candidate closest to name by edit distance, or ""
// when none is close enough to be a likely misspelling (case differences
// count half an edit).
func suggest(name string, candidates []string) string {
	best, bestD := "", 0.0
	for _, c := range candidates {
		d := editDistance(name, c)
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	limit := min(1.0+float64(len(name))/4, 3)
	if best == "" || bestD > limit || best == name {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance, a case-only substitution
// costing 0.5.
func editDistance(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	prev := make([]float64, len(rb)+1)
	cur := make([]float64, len(rb)+1)
	for j := range prev {
		prev[j] = float64(j)
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = float64(i)
		for j := 1; j <= len(rb); j++ {
			sub := 1.0
			switch {
			case ra[i-1] == rb[j-1]:
				sub = 0
			case strings.EqualFold(string(ra[i-1]), string(rb[j-1])):
				sub = 0.5
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+sub)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

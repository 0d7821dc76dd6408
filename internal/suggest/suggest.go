// Package suggest finds the likely intended spelling of a mistyped name,
// for the "did you mean" hints of lmmbayes's error messages.
package suggest

import "strings"

// Closest returns the candidate closest to name by edit distance, or ""
// when none is close enough to be a likely misspelling. Case differences
// count as half an edit.
func Closest(name string, candidates []string) string {
	best, bestD := "", 0.0
	for _, c := range candidates {
		d := editDistance(name, c)
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	limit := 1.0 + float64(len(name))/4
	if limit > 3 {
		limit = 3
	}
	// A name must keep some of its letters: "g" does not suggest "x".
	if bestD > limit || bestD >= float64(len([]rune(name))) || bestD == 0 && best == name {
		return ""
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b
// (insertions, deletions, substitutions and swaps of neighbours), where a
// substitution that only changes letter case costs 0.5.
func editDistance(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	w := len(rb) + 1
	d := make([]float64, (len(ra)+1)*w)
	for j := 0; j <= len(rb); j++ {
		d[j] = float64(j)
	}
	for i := 1; i <= len(ra); i++ {
		d[i*w] = float64(i)
		for j := 1; j <= len(rb); j++ {
			sub := 1.0
			switch {
			case ra[i-1] == rb[j-1]:
				sub = 0
			case strings.EqualFold(string(ra[i-1]), string(rb[j-1])):
				sub = 0.5
			}
			v := min(d[(i-1)*w+j]+1, d[i*w+j-1]+1, d[(i-1)*w+j-1]+sub)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, d[(i-2)*w+j-2]+1)
			}
			d[i*w+j] = v
		}
	}
	return d[len(ra)*w+len(rb)]
}

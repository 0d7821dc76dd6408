package diagnostics

import "math"

// RhatBasic is the classic split R-hat of the draws (posterior's
// rhat_basic with split = TRUE).
func RhatBasic(x [][]float64) float64 {
	return rhatSplit(SplitChains(x))
}

// Rhat is the rank-normalised split R-hat: the larger of the split R-hat
// of the rank-normalised draws (bulk) and of the rank-normalised draws
// folded around their median (tail), posterior's rhat.
func Rhat(x [][]float64) float64 {
	if _, _, ok := shape(x); !ok || !allFinite(x) {
		return math.NaN()
	}
	bulk := rhatSplit(ZScale(SplitChains(x)))
	tail := rhatSplit(ZScale(SplitChains(Fold(x))))
	return nanMax(bulk, tail)
}

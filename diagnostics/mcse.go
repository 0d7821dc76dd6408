package diagnostics

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mathext"
)

// MCSEMean is the Monte Carlo standard error of the mean,
// sd(x)/√ESSMean(x).
func MCSEMean(x [][]float64) float64 {
	if _, _, ok := shape(x); !ok {
		return math.NaN()
	}
	return SD(flatten(x)) / math.Sqrt(ESSMean(x))
}

// MCSESD is the Monte Carlo standard error of the standard deviation
// without a normality assumption (posterior ≥ 1.2.2): with c = x − x̄,
// Var(σ̂²) ≈ (mean(c⁴) − mean(c²)²)/ESSMean(c²) (Kenney and Keeping 1951,
// p. 141) and, to first order, Var(σ̂) ≈ Var(σ̂²)/(4·mean(c²)).
func MCSESD(x [][]float64) float64 {
	if _, _, ok := shape(x); !ok {
		return math.NaN()
	}
	return mcseSD(x, Mean(flatten(x)), nil)
}

// mcseSD is MCSESD given the mean of x and an optional ESS workspace.
func mcseSD(x [][]float64, mean float64, w *essWork) float64 {
	c2 := make([][]float64, len(x))
	var s2, s4 float64
	var n int
	for i, c := range x {
		c2[i] = make([]float64, len(c))
		for j, v := range c {
			d := v - mean
			d2 := d * d
			c2[i][j] = d2
			s2 += d2
			s4 += d2 * d2
			n++
		}
	}
	ess := w.ess(SplitChains(c2))
	ev := s2 / float64(n)
	varvar := (s4/float64(n) - ev*ev) / ess
	return math.Sqrt(varvar / ev / 4)
}

// Beta quantiles of the ±1 SD normal interval, as posterior hard-codes
// them (Φ(−1), Φ(1)).
const (
	mcseLoP = 0.1586553
	mcseHiP = 0.8413447
)

// MCSEQuantile is the Monte Carlo standard error of the p-quantile
// (posterior's mcse_quantile): with E = ESSQuantile(x, p) and a₁, a₂ the
// 0.1586553 and 0.8413447 quantiles of Beta(E·p + 1, E·(1 − p) + 1), half
// the distance between the sorted draws x₍max(⌊a₁S⌋,1)₎ and x₍min(⌈a₂S⌉,S)₎.
func MCSEQuantile(x [][]float64, p float64) float64 {
	ess := ESSQuantile(x, p)
	if math.IsNaN(ess) {
		return math.NaN()
	}
	s := flatten(x)
	slices.Sort(s)
	return mcseQuantileSorted(s, p, ess)
}

// mcseQuantileSorted is MCSEQuantile on sorted draws with a known ESS.
func mcseQuantileSorted(s []float64, p, ess float64) float64 {
	if math.IsNaN(ess) {
		return math.NaN()
	}
	a, b := ess*p+1, ess*(1-p)+1
	a1 := mathext.InvRegIncBeta(a, b, mcseLoP)
	a2 := mathext.InvRegIncBeta(a, b, mcseHiP)
	n := len(s)
	i1 := max(int(math.Floor(a1*float64(n))), 1)
	i2 := min(int(math.Ceil(a2*float64(n))), n)
	return (s[i2-1] - s[i1-1]) / 2
}

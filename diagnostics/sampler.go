package diagnostics

import (
	"math"
	"strconv"
)

// SamplerStats summarises the NUTS sampler statistics of CmdStan output.
type SamplerStats struct {
	// HasDivergent is whether a divergent__ column was present.
	HasDivergent bool
	// Divergent is the number of post-warmup divergent transitions, in
	// total and per chain.
	Divergent         int
	DivergentPerChain []int
	// MeanAcceptStat is the mean of accept_stat__ (NaN if absent).
	MeanAcceptStat float64
	// HasTreedepth is whether a treedepth__ column was present.
	HasTreedepth bool
	// MaxTreedepth is the limit from the max_treedepth setting (10, the
	// CmdStan default, when the comments do not say).
	MaxTreedepth int
	// TreedepthHits is the number of draws whose tree depth reached
	// MaxTreedepth.
	TreedepthHits int
	// Draws is the number of post-warmup draws over all chains.
	Draws int
}

// SamplerStats computes the sampler statistics of d.
func (d *Draws) SamplerStats() SamplerStats {
	st := SamplerStats{MeanAcceptStat: math.NaN(), MaxTreedepth: 10}
	if len(d.Chains) == 0 {
		return st
	}
	st.Draws = len(d.Chains) * d.NumDraws()
	if v, ok := d.Chains[0].Config["max_treedepth"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			st.MaxTreedepth = n
		}
	}
	if j := d.Index("divergent__"); j >= 0 {
		st.HasDivergent = true
		for _, ch := range d.Chains {
			n := 0
			for _, row := range ch.Draws {
				if row[j] != 0 {
					n++
				}
			}
			st.DivergentPerChain = append(st.DivergentPerChain, n)
			st.Divergent += n
		}
	}
	if j := d.Index("accept_stat__"); j >= 0 {
		var s float64
		for _, ch := range d.Chains {
			for _, row := range ch.Draws {
				s += row[j]
			}
		}
		st.MeanAcceptStat = s / float64(st.Draws)
	}
	if j := d.Index("treedepth__"); j >= 0 {
		st.HasTreedepth = true
		for _, ch := range d.Chains {
			for _, row := range ch.Draws {
				if row[j] >= float64(st.MaxTreedepth) {
					st.TreedepthHits++
				}
			}
		}
	}
	return st
}

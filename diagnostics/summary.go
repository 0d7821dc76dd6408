package diagnostics

import (
	"math"
	"runtime"
	"slices"
	"sync"
)

// Summary is the standard posterior summary of one variable, the columns
// of posterior's summarise_draws() with 2.5% and 97.5% quantiles added.
// NaN stands for R's NA.
type Summary struct {
	Mean, SD, Median, MAD  float64
	Q2_5, Q5, Q95, Q97_5   float64
	Rhat, ESSBulk, ESSTail float64
	MCSEMean, MCSESD       float64
}

// Columns returns the names of the summary columns in output order, after
// the leading "variable" column: mean, sd, median, mad, q2.5, q5, q95,
// q97.5, rhat, ess_bulk, ess_tail, mcse_mean, mcse_sd.
func Columns() []string {
	return []string{"mean", "sd", "median", "mad", "q2.5", "q5", "q95", "q97.5",
		"rhat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd"}
}

// Values returns the fields of s in the order of Columns.
func (s Summary) Values() []float64 {
	return []float64{s.Mean, s.SD, s.Median, s.MAD, s.Q2_5, s.Q5, s.Q95, s.Q97_5,
		s.Rhat, s.ESSBulk, s.ESSTail, s.MCSEMean, s.MCSESD}
}

// nanSummary is the summary of unusable input.
func nanSummary() Summary {
	n := math.NaN()
	return Summary{n, n, n, n, n, n, n, n, n, n, n, n, n}
}

// Summarize computes the summary of one variable's chains × iterations
// draws with one sort: the same numbers as Mean, SD, Median, MAD,
// Quantile, Rhat, ESSBulk, ESSTail, MCSEMean and MCSESD. Ragged or empty
// input gives all NaN; non-finite draws give NaN diagnostics.
func Summarize(chains [][]float64) Summary {
	var s summarizer
	return s.summarize(chains)
}

// SummarizeAll summarises every variable of vars (each chains ×
// iterations) on a pool of workers (≤ 0 means GOMAXPROCS); the result is
// in the order of vars whatever the scheduling.
func SummarizeAll(vars [][][]float64, workers int) []Summary {
	return SummarizeEach(len(vars), func(i int) [][]float64 { return vars[i] }, workers)
}

// SummarizeEach summarises the n variables returned by get(0) … get(n−1)
// on a pool of workers (≤ 0 means GOMAXPROCS). get is called from several
// goroutines at once and must be safe for that. out[i] is variable i.
func SummarizeEach(n int, get func(i int) [][]float64, workers int) []Summary {
	out := make([]Summary, n)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, n))
	next := make(chan int, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s summarizer
			for i := range next {
				out[i] = s.summarize(get(i))
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// keyed is a draw with its position in the chain-major flattening.
type keyed struct {
	v float64
	i int32
}

// summarizer holds the buffers reused from one variable to the next.
type summarizer struct {
	m, n   int
	ess    *essWork
	flat   []float64
	sorted []keyed
	folded []keyed
	vals   []float64 // sorted values
	buf    []float64 // transformed draws, chain-major
	chains [][]float64
	ztab   []float64 // Φ⁻¹ of integer ranks among the kept draws
}

// resize prepares the buffers for m chains of n draws.
func (s *summarizer) resize(m, n int) {
	if s.m == m && s.n == n {
		return
	}
	s.m, s.n = m, n
	total := m * n
	s.flat = make([]float64, total)
	s.sorted = make([]keyed, total)
	s.folded = make([]keyed, total)
	s.vals = make([]float64, total)
	s.buf = make([]float64, total)
	s.chains = make([][]float64, m)
	half := n
	if n > 1 {
		half = n / 2
	}
	s.ess = newESSWork(half)
	kept := s.keptCount()
	s.ztab = make([]float64, kept+1)
	for r := 1; r <= kept; r++ {
		s.ztab[r] = rankToZ(float64(r), kept)
	}
}

// keptCount is the number of draws left after splitting.
func (s *summarizer) keptCount() int {
	if s.n > 1 && s.n%2 == 1 {
		return s.m * (s.n - 1)
	}
	return s.m * s.n
}

// dropped reports whether flat position i is the middle draw of an
// odd-length chain, which splitting drops.
func (s *summarizer) dropped(i int32) bool {
	return s.n > 1 && s.n%2 == 1 && int(i)%s.n == s.n/2
}

// split returns the split-chain views of s.buf.
func (s *summarizer) split() [][]float64 {
	for c := range s.m {
		s.chains[c] = s.buf[c*s.n : (c+1)*s.n]
	}
	return SplitChains(s.chains)
}

// rankZ writes into s.buf the rank-normalised value of every kept draw,
// given the kept and dropped draws in ascending order.
func (s *summarizer) rankZ(order []keyed) {
	kept := s.keptCount()
	rank := 0 // ranks assigned so far among kept draws
	for i := 0; i < len(order); {
		j := i
		k := 0 // kept draws in the tie group
		for j < len(order) && order[j].v == order[i].v {
			if !s.dropped(order[j].i) {
				k++
			}
			j++
		}
		if k > 0 {
			sum := 2*rank + 1 + k // twice the average rank
			var z float64
			if sum%2 == 0 {
				z = s.ztab[sum/2]
			} else {
				z = rankToZ(float64(sum)/2, kept)
			}
			for _, o := range order[i:j] {
				s.buf[o.i] = z
			}
			rank += k
		}
		i = j
	}
}

func (s *summarizer) summarize(x [][]float64) Summary {
	m, n, ok := shape(x)
	if !ok {
		return nanSummary()
	}
	if !allFinite(x) {
		return slowSummary(x)
	}
	s.resize(m, n)
	for c, ch := range x {
		copy(s.flat[c*n:], ch)
	}
	for i, v := range s.flat {
		s.sorted[i] = keyed{v, int32(i)}
	}
	radixSort(s.sorted, s.folded)
	for i, k := range s.sorted {
		s.vals[i] = k.v
	}
	var out Summary
	out.Mean = Mean(s.flat)
	out.SD = SD(s.flat)
	out.Median = medianSorted(s.vals)
	out.Q2_5 = quantileSorted(s.vals, 0.025)
	out.Q5 = quantileSorted(s.vals, 0.05)
	out.Q95 = quantileSorted(s.vals, 0.95)
	out.Q97_5 = quantileSorted(s.vals, 0.975)

	// Fold around the median by merging the draws below it (in reverse)
	// with those above: |x − med| in ascending order without a sort.
	med := out.Median
	lo, _ := slices.BinarySearch(s.vals, med) // first index with value ≥ med
	i, j, k := lo-1, lo, 0
	for i >= 0 || j < len(s.vals) {
		var next keyed
		if j >= len(s.vals) || (i >= 0 && med-s.vals[i] <= s.vals[j]-med) {
			next = keyed{med - s.vals[i], s.sorted[i].i}
			i--
		} else {
			next = keyed{s.vals[j] - med, s.sorted[j].i}
			j++
		}
		s.folded[k] = next
		k++
	}
	fv := s.buf // borrow for the folded values
	for i, f := range s.folded {
		fv[i] = f.v
	}
	out.MAD = madConstant * medianSorted(fv)

	// As in posterior, each diagnostic checks its own input for constancy
	// (max − min < ε): the ranks for R-hat and bulk-ESS, the draws for
	// tail-ESS, the split draws and squared deviations for the MCSEs.
	s.rankZ(s.sorted)
	zs := s.split()
	bulk := rhatSplit(zs)
	out.ESSBulk = s.ess.essFinite(zs)
	s.rankZ(s.folded)
	out.Rhat = nanMax(bulk, rhatSplit(s.split()))

	tail := math.Inf(1)
	if s.vals[len(s.vals)-1]-s.vals[0] < 0x1p-52 {
		tail = math.NaN()
	}
	for _, q := range []float64{out.Q5, out.Q95} {
		for i, v := range s.flat {
			s.buf[i] = 0
			if v <= q {
				s.buf[i] = 1
			}
		}
		tail = nanMin(tail, s.ess.essFinite(s.split()))
	}
	out.ESSTail = tail

	copy(s.buf, s.flat)
	out.MCSEMean = out.SD / math.Sqrt(s.ess.essFinite(s.split()))

	var s2, s4 float64
	for i, v := range s.flat {
		d := v - out.Mean
		d2 := d * d
		s.buf[i] = d2
		s2 += d2
		s4 += d2 * d2
	}
	nn := float64(len(s.flat))
	ev := s2 / nn
	out.MCSESD = math.Sqrt((s4/nn - ev*ev) / s.ess.essFinite(s.split()) / ev / 4)
	return out
}

// slowSummary is the summary by the one-at-a-time functions, used for
// non-finite draws.
func slowSummary(x [][]float64) Summary {
	flat := flatten(x)
	return Summary{
		Mean: Mean(flat), SD: SD(flat), Median: Median(flat), MAD: MAD(flat),
		Q2_5: Quantile(flat, 0.025), Q5: Quantile(flat, 0.05),
		Q95: Quantile(flat, 0.95), Q97_5: Quantile(flat, 0.975),
		Rhat: Rhat(x), ESSBulk: ESSBulk(x), ESSTail: ESSTail(x),
		MCSEMean: MCSEMean(x), MCSESD: MCSESD(x),
	}
}

// sortKey maps a finite float64 to a uint64 with the same order (−0 and
// +0 map to different keys, −0 first; they compare equal as floats and
// are adjacent in the order, so tie groups are unaffected).
func sortKey(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// radixSort sorts a ascending by value, stably, with an LSD radix sort
// on 11-bit digits of the order-preserving key; tmp is scratch of the
// same length. Values must be finite.
func radixSort(a, tmp []keyed) {
	const bits, buckets = 11, 1 << 11
	var count [buckets]int
	src, dst := a, tmp
	for shift := uint(0); shift < 64; shift += bits {
		count = [buckets]int{}
		for _, k := range src {
			count[(sortKey(k.v)>>shift)&(buckets-1)]++
		}
		if count[(sortKey(src[0].v)>>shift)&(buckets-1)] == len(src) {
			continue // every key has this digit
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range src {
			d := (sortKey(k.v) >> shift) & (buckets - 1)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

package diagnostics

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// FuzzSummarize checks on arbitrary draws (any bit pattern, odd and even
// lengths, ties, ±0, infinities) that nothing panics and that the one-sort
// Summarize equals the one-at-a-time functions.
func FuzzSummarize(f *testing.F) {
	f.Add(uint8(2), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24})
	f.Add(uint8(3), make([]byte, 8*9))
	f.Fuzz(func(t *testing.T, chains uint8, data []byte) {
		m := int(chains%4) + 1
		vals := make([]float64, len(data)/8)
		for i := range vals {
			b := binary.LittleEndian.Uint64(data[8*i:])
			if b&1 == 0 { // mostly small integers and halves, for ties
				vals[i] = float64(int64(b>>1)%7) / 2
				if b&2 != 0 {
					vals[i] = math.Copysign(0, -1)
				}
			} else {
				vals[i] = math.Float64frombits(b)
			}
		}
		n := len(vals) / m
		if n == 0 {
			return
		}
		x := make([][]float64, m)
		for c := range x {
			x[c] = vals[c*n : (c+1)*n]
		}
		fast, slow := Summarize(x), slowSummary(x)
		fv, sv := fast.Values(), slow.Values()
		for i, c := range Columns() {
			a, b := fv[i], sv[i]
			if math.IsNaN(a) != math.IsNaN(b) {
				t.Fatalf("%s: fast %v, slow %v", c, a, b)
			}
			if d := math.Abs(a - b); d > 1e-9*math.Abs(b) && d > 1e-12 && !math.IsInf(b, 0) {
				t.Fatalf("%s: fast %v, slow %v (x = %v)", c, a, b, x)
			}
		}
	})
}

// FuzzReadCmdStan checks that no input makes the reader panic and that
// every error names the file.
func FuzzReadCmdStan(f *testing.F) {
	f.Add("# num_warmup = 1\n# save_warmup = 1\na,b.1\n1,2\n3,4\n")
	f.Add("a,b\n1,x\n")
	f.Fuzz(func(t *testing.T, text string) {
		ch, err := ReadCmdStanChain(strings.NewReader(text), "f.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.csv") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		for _, row := range ch.Draws {
			if len(row) != len(ch.Header) {
				t.Fatalf("row of %d, header of %d", len(row), len(ch.Header))
			}
		}
	})
}

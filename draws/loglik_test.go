package draws

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendLogLik checks the log_lik formatter against exact rounding to
// 12 decimals (parsed back within 5e-13 + one ulp of the value) and the
// fallback for large magnitudes.
func TestAppendLogLik(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	vals := []float64{0, -0.0, 1, -1, -4.335609822759799, 1e-13, -4e-13, 6e-13, 123456.789012345678, -999999.9999999999, 1e6, -3.5e7, 1e300}
	for range 100000 {
		vals = append(vals, -math.Exp(rng.NormFloat64()*4)*rng.Float64())
	}
	for _, v := range vals {
		s := string(appendLogLik(nil, v))
		got, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%v → %q: %v", v, s, err)
		}
		tol := 5e-13 + 4*math.Abs(v)*0x1p-52
		if math.Abs(v) >= 1e6 {
			tol = 0
		}
		if math.Abs(got-v) > tol {
			t.Fatalf("%v → %q, off by %g", v, s, got-v)
		}
	}
}

func BenchmarkAppendLogLik(b *testing.B) {
	buf := make([]byte, 0, 32)
	for i := range b.N {
		buf = appendLogLik(buf[:0], -4.335609822759799-float64(i%1000)*0.0137)
	}
}

func BenchmarkAppendFloatShortest(b *testing.B) {
	buf := make([]byte, 0, 32)
	for i := range b.N {
		buf = strconv.AppendFloat(buf[:0], -4.335609822759799-float64(i%1000)*0.0137, 'g', -1, 64)
	}
}

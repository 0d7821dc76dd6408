package draws

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// LogLikPath returns the log-likelihood file beside a draws file:
// draws_K.csv → log_lik_K.csv (and the chain mode's temporary
// .draws_K.csv.tmp → .log_lik_K.csv.tmp).
func LogLikPath(drawsPath string) string {
	dir, base := filepath.Split(drawsPath)
	return filepath.Join(dir, strings.Replace(base, "draws_", "log_lik_", 1))
}

// logLikColumns returns the header of a log_lik file of n rows: log_lik.1 …
// log_lik.n, the CmdStan CSV form of log_lik[1] … log_lik[n] (what
// posterior, ArviZ and lmmbayes diagnose call them).
func logLikColumns(n int) []string {
	cols := make([]string, n)
	for i := range cols {
		cols[i] = "log_lik." + strconv.Itoa(i+1)
	}
	return cols
}

// LogLik tells a SinkSet to write each chain's pointwise log-likelihood
// to LogLikPath of its draws file.
type LogLik struct {
	// N is the number of values per draw (the rows of the data used).
	N int
	// New returns, for a chain whose draws have the columns names, the
	// function that computes one draw's N values into dst.
	New func(names *Names) (func(r Row, dst []float64) error, error)
}

// logLikSink writes a chain's log_lik_K.csv.
type logLikSink struct {
	sink    *FileSink
	compute func(r Row, dst []float64) error
	vals    []float64
	row     []byte
}

// addLogLik makes the chain's log-likelihood file beside its draws file.
func (s *FileSink) addLogLik(spec *LogLik, method string, names *Names) error {
	compute, err := spec.New(names)
	if err != nil {
		return fmt.Errorf("output: log_lik: %w", err)
	}
	sink, err := newFileSink(LogLikPath(s.path), s.hdr, s.id, method, &Names{Columns: logLikColumns(spec.N)})
	if err != nil {
		return err
	}
	s.ll = &logLikSink{sink: sink, compute: compute, vals: make([]float64, spec.N)}
	return nil
}

// appendLogLik formats a log-likelihood value for log_lik_K.csv: rounded to
// 12 decimals (absolute error ≤ 5·10⁻¹³, far below any Monte Carlo error of
// what loo computes from it), trailing zeros dropped; values of magnitude
// 10⁶ or more in the shortest round-trip form. About 4× faster than the
// shortest form, which made writing the log-likelihood of sleepstudy cost
// more than half of the run's time.
func appendLogLik(b []byte, v float64) []byte {
	a := math.Abs(v)
	if !(a < 1e6) {
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	u := uint64(a*1e12 + 0.5)
	if u == 0 {
		return append(b, '0')
	}
	const scale = 1_000_000_000_000
	ip, fp := u/scale, u%scale
	// At most "-999999." and 12 decimals: 20 bytes, written in place.
	n0 := len(b)
	if cap(b)-n0 < 24 {
		b = append(b, make([]byte, 24)...)[:n0]
	}
	out := b[n0 : n0+24]
	i := 0
	if v < 0 {
		out[0] = '-'
		i = 1
	}
	if ip < 10 {
		out[i] = byte('0' + ip)
		i++
	} else {
		i += len(strconv.AppendUint(out[i:i], ip, 10))
	}
	if fp != 0 {
		out[i] = '.'
		d := out[i+1 : i+13]
		for j := 10; j >= 0; j -= 2 {
			q := fp % 100
			fp /= 100
			d[j], d[j+1] = digitPairs[2*q], digitPairs[2*q+1]
		}
		n := 12
		for d[n-1] == '0' {
			n--
		}
		i += 1 + n
	}
	return b[:n0+i]
}

// digitPairs holds "00" … "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// write computes and writes the log-likelihood row of draw r.
func (ll *logLikSink) write(r Row) error {
	if err := ll.compute(r, ll.vals); err != nil {
		return fmt.Errorf("output: log_lik: %w", err)
	}
	// The row is formatted whole, 12 decimals a value (appendLogLik).
	buf := ll.row[:0]
	for i, v := range ll.vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("log_lik[%d] is %v; numerical trouble in the sampler (try rescaling the predictors or a more informative prior)", i+1, v)
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendLogLik(buf, v)
	}
	buf = append(buf, '\n')
	ll.row = buf
	s := ll.sink
	if _, err := s.w.Write(buf); err != nil {
		return fmt.Errorf("output: %s: %w", filepath.Base(s.path), err)
	}
	s.n++
	return nil
}

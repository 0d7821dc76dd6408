package loo

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeLogLikCSV writes cols (observation-major, chain-major draws) as
// CmdStan CSV files with other columns around the log_lik ones.
func writeLogLikCSV(t *testing.T, dir string, cols [][]float64, chains int, bracket bool) []string {
	S := len(cols[0])
	n := S / chains
	var paths []string
	for c := range chains {
		var b strings.Builder
		b.WriteString("# model = test\n# num_samples = " + strconv.Itoa(n) + "\nlp__,mu")
		for i := range cols {
			if bracket {
				fmt.Fprintf(&b, ",log_lik[%d]", i+1)
			} else {
				fmt.Fprintf(&b, ",log_lik.%d", i+1)
			}
		}
		b.WriteString(",z\n")
		for r := range n {
			fmt.Fprintf(&b, "%d,1.5", r)
			for i := range cols {
				b.WriteString("," + strconv.FormatFloat(cols[i][c*n+r], 'g', -1, 64))
			}
			b.WriteString(",0\n")
		}
		b.WriteString("# trailer\n")
		p := filepath.Join(dir, fmt.Sprintf("draws_%d.csv", c+1))
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// TestStreamMatchesMemory reads log_lik columns back from CSV files in one
// batch and in several (through the temporary binary files) and checks that
// every value arrives in its place.
func TestStreamMatchesMemory(t *testing.T) {
	lr := loadRun(t, refRuns[3])
	cols := lr.logLikColumns(t)
	chains := len(lr.chains)
	for _, bracket := range []bool{false, true} {
		dir := t.TempDir()
		paths := writeLogLikCSV(t, dir, cols, chains, bracket)
		src, err := OpenSource(paths, "log_lik")
		if err != nil {
			t.Fatal(err)
		}
		if src.N != len(cols) || src.S() != len(cols[0]) {
			t.Fatalf("N × S = %d × %d, want %d × %d", src.N, src.S(), len(cols), len(cols[0]))
		}
		for _, batch := range []int{len(cols), 7, 1} {
			seen := 0
			err := src.Stream(batch, 2, dir, func(first int, got [][]float64) error {
				if first != seen {
					t.Fatalf("batch starts at %d, want %d", first, seen)
				}
				for i, c := range got {
					for s, v := range c {
						if v != cols[first+i][s] {
							t.Fatalf("batch %d: obs %d draw %d = %g, want %g", batch, first+i, s, v, cols[first+i][s])
						}
					}
				}
				seen += len(got)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if seen != len(cols) {
				t.Fatalf("saw %d observations, want %d", seen, len(cols))
			}
			left, _ := filepath.Glob(filepath.Join(dir, "lmmbayes-loglik-*"))
			if len(left) > 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		}
	}
}

func TestLogLikColumnsErrors(t *testing.T) {
	for _, h := range [][]string{
		{"lp__", "log_lik.1", "log_lik.3"},
		{"log_lik.1", "log_lik[1]"},
		{"log_lik.x"},
	} {
		if _, err := LogLikColumns(h, "log_lik"); err == nil {
			t.Errorf("%v: no error", h)
		}
	}
	got, err := LogLikColumns([]string{"a", "log_lik.2", "log_lik.1"}, "log_lik")
	if err != nil || len(got) != 2 || got[0] != 2 || got[1] != 1 {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestParseFloat(t *testing.T) {
	for _, c := range []string{"0", "-0", "1", "-4.335609822760", "0.000123", "-0.5", "123456789012345", "1234567890123456",
		"12345.678901234567", "1e5", "-1.5e-3", "inf", "-Inf", "NaN", "1.", ".5", "007.25", "-00.0001", "3.141592653589793"} {
		got, err := parseFloat([]byte(c))
		want, werr := strconv.ParseFloat(c, 64)
		if (err != nil) != (werr != nil) {
			t.Errorf("%q: error %v, strconv %v", c, err, werr)
			continue
		}
		if err == nil && !(got == want || got != got && want != want) {
			t.Errorf("%q: %.17g, strconv %.17g", c, got, want)
		}
	}
	for _, c := range []string{"", "-", ".", "1.2.3", "--1", "1-"} {
		if _, err := parseFloat([]byte(c)); err == nil {
			t.Errorf("%q: no error", c)
		}
	}
}

// TestDeclaredDrawsChecked: a file with more rows than its num_samples, or
// fewer, is refused when parsed.
func TestDeclaredDrawsChecked(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		body, want string
	}{
		{"# num_samples = 2\nlog_lik.1\n-1\n-2\n-3\n", "more draws than"},
		{"# num_samples = 4\nlog_lik.1\n-1\n-2\n-3\n", "only 3 of 4"},
	} {
		p := filepath.Join(dir, "d.csv")
		if err := os.WriteFile(p, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := OpenSource([]string{p}, "log_lik")
		if err != nil {
			t.Fatal(err)
		}
		err = src.Stream(1, 1, dir, func(int, [][]float64) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.body, err, c.want)
		}
	}
}

func TestScanFloat(t *testing.T) {
	for _, c := range []string{"0", "-0", "-4.335609822760", "0.000123", "1234567890123456", "1e5", "inf", "1.", ".5", "-00.0001", "", "-", "1.2.3"} {
		for _, suffix := range []string{"", ",7,8"} {
			b := []byte(c + suffix)
			v, n, ok := scanFloat(b)
			if n != len(c) {
				t.Errorf("%q: length %d, want %d", c+suffix, n, len(c))
			}
			want, err := strconv.ParseFloat(c, 64)
			if ok && (err != nil || v != want) {
				t.Errorf("%q: fast %v, strconv %v %v", c, v, want, err)
			}
			if !ok {
				if got, gerr := slowParse(b[:n]); (gerr == nil) != (err == nil) || gerr == nil && got != want && got == got {
					t.Errorf("%q: slow path %v %v, strconv %v %v", c, got, gerr, want, err)
				}
			}
		}
	}
}

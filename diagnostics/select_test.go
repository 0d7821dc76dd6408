package diagnostics

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadCmdStanWith checks that a read keeping some columns and every
// k-th draw returns exactly those entries of the full read.
func TestReadCmdStanWith(t *testing.T) {
	dir := filepath.Join("..", "testdata", "cmdstan_csv")
	files := []string{filepath.Join(dir, "sleepstudy_1.csv"), filepath.Join(dir, "sleepstudy_2.csv")}
	full, err := ReadCmdStan(files...)
	if err != nil {
		t.Fatal(err)
	}
	cols := []int{len(full.Names) - 1, 0, 3}
	for _, thin := range []int{0, 1, 3, 7} {
		sub, err := ReadCmdStanWith(ReadOptions{Columns: cols, Thin: thin}, files...)
		if err != nil {
			t.Fatal(err)
		}
		step := max(thin, 1)
		for i, j := range cols {
			if sub.Names[i] != full.Names[j] {
				t.Errorf("thin %d: name %d is %q, want %q", thin, i, sub.Names[i], full.Names[j])
			}
		}
		for c, ch := range full.Chains {
			var want [][]float64
			for r := 0; r < len(ch.Draws); r += step {
				row := make([]float64, len(cols))
				for i, j := range cols {
					row[i] = ch.Draws[r][j]
				}
				want = append(want, row)
			}
			got := sub.Chains[c].Draws
			if len(got) != len(want) {
				t.Fatalf("thin %d, chain %d: %d draws, want %d", thin, c, len(got), len(want))
			}
			for r := range want {
				if !slices.Equal(got[r], want[r]) {
					t.Fatalf("thin %d, chain %d, draw %d: %v, want %v", thin, c, r, got[r], want[r])
				}
			}
			if !slices.Equal(sub.Chains[c].Header, ch.Header) {
				t.Errorf("thin %d: header not kept whole", thin)
			}
		}
	}
	if _, err := ReadCmdStanWith(ReadOptions{Columns: []int{len(full.Names)}}, files...); err == nil || !strings.Contains(err.Error(), "sleepstudy_1.csv") {
		t.Errorf("column out of range: got %v", err)
	}
}

// TestWarningsNameAtMost checks that a warning names at most warnNames
// variables and counts the rest.
func TestWarningsNameAtMost(t *testing.T) {
	var names []string
	var sums []Summary
	for i := range 25 {
		names = append(names, "v"+strings.Repeat("x", i))
		sums = append(sums, Summary{Rhat: 1.5, ESSBulk: 1000, ESSTail: 1000})
	}
	w := Warnings(names, sums)
	if len(w) != 1 || !strings.HasPrefix(w[0], "R-hat > 1.01 for 25 variable(s): v, vx,") || !strings.HasSuffix(w[0], ", … and 5 more (see the summary)") {
		t.Errorf("warnings %q", w)
	}
	if got := strings.Count(w[0], ","); got != warnNames {
		t.Errorf("%d commas, want %d", got, warnNames)
	}
	w = Warnings(names[:3], sums[:3])
	if len(w) != 1 || !strings.HasSuffix(w[0], ": v, vx, vxx") {
		t.Errorf("warnings %q", w)
	}
}

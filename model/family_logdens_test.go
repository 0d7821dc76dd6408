package model

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
)

// TestLogDensityR checks Family.LogDensity against R's dbinom, dpois and
// dnbinom (testdata/glmm/logdens_ref.csv, made by logdens_ref.R beside
// it), to 1e-12 relative: R writes 15 significant digits.
func TestLogDensityR(t *testing.T) {
	f, err := os.Open("../testdata/glmm/logdens_ref.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	num := func(s string) float64 {
		if s == "" {
			return math.NaN()
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if len(recs) < 100 {
		t.Fatalf("%d reference rows", len(recs))
	}
	for _, r := range recs[1:] {
		fam, err := ParseFamily(r[0])
		if err != nil {
			t.Fatal(err)
		}
		y, n, eta, shape, want := num(r[1]), num(r[2]), num(r[3]), num(r[4]), num(r[5])
		got := fam.LogDensity(y, n, eta, shape)
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("%s y=%g n=%g eta=%g shape=%g: %.15g, R %.15g", r[0], y, n, eta, shape, got, want)
		}
	}
}

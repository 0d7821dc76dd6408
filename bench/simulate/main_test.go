package main

import (
	"bytes"
	"encoding/csv"
	"math"
	"strconv"
	"testing"
)

func readRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[0]; len(got) != 4 || got[0] != "subject" || got[3] != "y" {
		t.Fatalf("header %v", got)
	}
	return recs[1:]
}

// TestSimulateStructure checks the row count, the crossing (distinct items
// within a subject, reshuffled once all items are used), balance and
// reproducibility by seed.
func TestSimulateStructure(t *testing.T) {
	var a, b, c bytes.Buffer
	p := defaultParams()
	if err := simulate(&a, 1003, 10, 30, 7, p); err != nil {
		t.Fatal(err)
	}
	if err := simulate(&b, 1003, 10, 30, 7, p); err != nil {
		t.Fatal(err)
	}
	if err := simulate(&c, 1003, 10, 30, 8, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed gave different files")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seeds gave the same file")
	}
	rows := readRows(t, a.Bytes())
	if len(rows) != 1003 {
		t.Fatalf("%d rows, want 1003", len(rows))
	}
	perSubject := map[string][]string{}
	for _, r := range rows {
		perSubject[r[0]] = append(perSubject[r[0]], r[1])
	}
	if len(perSubject) != 10 {
		t.Fatalf("%d subjects, want 10", len(perSubject))
	}
	for s, its := range perSubject {
		// 1003 = 10·100 + 3: the first three subjects get 101 rows.
		want := 100
		if s <= "s03" {
			want = 101
		}
		if len(its) != want {
			t.Errorf("subject %s has %d rows, want %d", s, len(its), want)
		}
		// Within each pass of 30, the items are a permutation.
		for start := 0; start < len(its); start += 30 {
			seen := map[string]bool{}
			for _, it := range its[start:min(start+30, len(its))] {
				if seen[it] {
					t.Fatalf("subject %s repeats item %s within one pass", s, it)
				}
				seen[it] = true
			}
		}
	}
}

// TestSimulateMoments checks the mean of y and of x against the truth with
// tolerances from their sampling SDs: Var(ȳ) ≈ sdS0²/S + sdI²/I +
// (b1² + sdS1² + sigma²)/N, and Var(x̄) = 1/N; 5 SDs each.
func TestSimulateMoments(t *testing.T) {
	const n, S, I = 40000, 1000, 200
	p := defaultParams()
	var buf bytes.Buffer
	if err := simulate(&buf, n, S, I, 3, p); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, buf.Bytes())
	var sx, sy float64
	for _, r := range rows {
		x, err := strconv.ParseFloat(r[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		y, err := strconv.ParseFloat(r[3], 64)
		if err != nil {
			t.Fatal(err)
		}
		sx += x
		sy += y
	}
	mx, my := sx/n, sy/n
	sdY := math.Sqrt(p.sdS0*p.sdS0/S + p.sdI*p.sdI/I + (p.b1*p.b1+p.sdS1*p.sdS1+p.sigma*p.sigma)/n)
	if math.Abs(my-p.b0) > 5*sdY {
		t.Errorf("mean y %.4f, want %.4f ± %.4f", my, p.b0, 5*sdY)
	}
	if math.Abs(mx) > 5/math.Sqrt(n) {
		t.Errorf("mean x %.4f, want 0 ± %.4f", mx, 5/math.Sqrt(n))
	}
}

// TestRunErrors checks that bad flags are refused with the flag named.
func TestRunErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-out", "x.csv", "-subjects", "1"},
		{"-out", "x.csv", "-items", "1"},
		{"-out", "x.csv", "-rows", "10", "-subjects", "20"},
	} {
		var out bytes.Buffer
		if err := run(args, &out); err == nil {
			t.Errorf("run(%v): no error", args)
		}
	}
}

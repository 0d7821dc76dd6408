package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLatinBalance checks the Latin square: each subject sees each
// condition 8 times, each item each condition 10 times.
func TestLatinBalance(t *testing.T) {
	d, err := latin("maximal.csv", 1201, []float64{80, 30, 25, 20}, []float64{40, 20, 15, 10}, "")
	if err != nil {
		t.Fatal(err)
	}
	subj := map[[2]string]int{}
	item := map[[2]string]int{}
	for _, r := range d.rows {
		cond := r[2] + "/" + r[3]
		subj[[2]string{r[0], cond}]++
		item[[2]string{r[1], cond}]++
	}
	if len(subj) != 40*4 || len(item) != 32*4 {
		t.Fatalf("cells: %d subject×condition, %d item×condition", len(subj), len(item))
	}
	for k, n := range subj {
		if n != 8 {
			t.Errorf("subject %v: %d rows, want 8", k, n)
		}
	}
	for k, n := range item {
		if n != 10 {
			t.Errorf("item %v: %d rows, want 10", k, n)
		}
	}
}

// TestReproducible: two runs write identical files.
func TestReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := run(a); err != nil {
		t.Fatal(err)
	}
	if err := run(b); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"maximal.csv", "maximal_zero.csv", "threeway.csv", "factor4.csv", "truth.json"} {
		x, err1 := os.ReadFile(filepath.Join(a, f))
		y, err2 := os.ReadFile(filepath.Join(b, f))
		if err1 != nil || err2 != nil || string(x) != string(y) {
			t.Errorf("%s differs between runs (%v, %v)", f, err1, err2)
		}
	}
}

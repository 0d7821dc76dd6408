// Command simulate writes a seeded, simulated crossed data set for the
// benchmarks of lmmbayes:
//
//	y ~ x + (1 + x | subject) + (1 | item)
//
// Subjects and items are crossed: every subject sees distinct items, drawn at
// random, as evenly as the row count allows (rows/subjects per subject, the
// remainder spread one each over the first subjects). x is standard normal
// per row. The true parameters are printed on stdout and written to
// FILE.truth.json with the names of lmmbayes' summary.csv.
//
// Usage:
//
//	go run ./bench/simulate -rows 200000 -subjects 5000 -items 300 -seed 1 -out FILE
//
// The same flags and seed always give the same file (math/rand/v2 PCG seeded
// by -seed).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
)

// truth holds the parameters the data are simulated from.
type truth struct {
	Formula  string             `json:"formula"`
	Rows     int                `json:"rows"`
	Subjects int                `json:"subjects"`
	Items    int                `json:"items"`
	Seed     uint64             `json:"seed"`
	Params   map[string]float64 `json:"params"`
	Order    []string           `json:"order"`
}

// params are the true values, in summary.csv naming.
type params struct {
	b0, b1         float64 // fixed intercept and slope
	sdS0, sdS1, rS float64 // subject intercept SD, slope SD, correlation
	sdI            float64 // item intercept SD
	sigma          float64 // residual SD
}

func defaultParams() params {
	return params{b0: 2, b1: 0.5, sdS0: 1, sdS1: 0.5, rS: 0.3, sdI: 0.8, sigma: 1}
}

func (p params) truth(rows, subjects, items int, seed uint64) truth {
	t := truth{
		Formula:  "y ~ x + (1 + x | subject) + (1 | item)",
		Rows:     rows,
		Subjects: subjects,
		Items:    items,
		Seed:     seed,
		Order: []string{"b_Intercept", "b_x", "sd_subject__Intercept", "sd_subject__x",
			"cor_subject__Intercept__x", "sd_item__Intercept", "sigma"},
	}
	t.Params = map[string]float64{
		"b_Intercept":               p.b0,
		"b_x":                       p.b1,
		"sd_subject__Intercept":     p.sdS0,
		"sd_subject__x":             p.sdS1,
		"cor_subject__Intercept__x": p.rS,
		"sd_item__Intercept":        p.sdI,
		"sigma":                     p.sigma,
	}
	return t
}

// levelName gives zero-padded labels so that R's sorted order is the
// numeric order; the letter prefix makes the column a factor without
// configuration.
func levelName(prefix string, i, n int) string {
	w := len(strconv.Itoa(n))
	return fmt.Sprintf("%s%0*d", prefix, w, i+1)
}

// simulate writes the CSV to w.
func simulate(w io.Writer, rows, subjects, items int, seed uint64, p params) error {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_b3c4))
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.WriteString("subject,item,x,y\n"); err != nil {
		return err
	}
	// Random effects: subject (intercept, slope) with correlation rS via a
	// 2 × 2 Cholesky factor; item intercepts.
	sU0 := make([]float64, subjects)
	sU1 := make([]float64, subjects)
	c := math.Sqrt(1 - p.rS*p.rS)
	for s := range subjects {
		z0, z1 := rng.NormFloat64(), rng.NormFloat64()
		sU0[s] = p.sdS0 * z0
		sU1[s] = p.sdS1 * (p.rS*z0 + c*z1)
	}
	iU := make([]float64, items)
	for i := range items {
		iU[i] = p.sdI * rng.NormFloat64()
	}
	perm := make([]int, items)
	for i := range perm {
		perm[i] = i
	}
	sNames := make([]string, subjects)
	for s := range sNames {
		sNames[s] = levelName("s", s, subjects)
	}
	iNames := make([]string, items)
	for i := range iNames {
		iNames[i] = levelName("i", i, items)
	}
	per, extra := rows/subjects, rows%subjects
	buf := make([]byte, 0, 64)
	for s := range subjects {
		n := per
		if s < extra {
			n++
		}
		// Distinct items per subject: a partial Fisher–Yates shuffle,
		// reshuffled after every full pass when n exceeds the item count.
		k := items
		for range n {
			if k == items {
				k = 0
			}
			r := k + rng.IntN(items-k)
			perm[k], perm[r] = perm[r], perm[k]
			it := perm[k]
			k++
			x := rng.NormFloat64()
			y := p.b0 + sU0[s] + (p.b1+sU1[s])*x + iU[it] + p.sigma*rng.NormFloat64()
			buf = buf[:0]
			buf = append(buf, sNames[s]...)
			buf = append(buf, ',')
			buf = append(buf, iNames[it]...)
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, x, 'g', 10, 64)
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, y, 'g', 10, 64)
			buf = append(buf, '\n')
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	rows := fs.Int("rows", 200000, "number of rows")
	subjects := fs.Int("subjects", 5000, "number of subjects")
	items := fs.Int("items", 300, "number of items")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "output CSV file (required); the truth goes to FILE.truth.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *out == "":
		return errors.New("-out: an output file is required")
	case *subjects < 2:
		return fmt.Errorf("-subjects %d: need at least 2", *subjects)
	case *items < 2:
		return fmt.Errorf("-items %d: need at least 2", *items)
	case *rows < *subjects:
		return fmt.Errorf("-rows %d: need at least one row per subject (%d)", *rows, *subjects)
	}
	p := defaultParams()
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	if err := simulate(f, *rows, *subjects, *items, *seed, p); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	t := p.truth(*rows, *subjects, *items, *seed)
	js, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out+".truth.json", append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing truth: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %d rows, %d subjects x %d items, seed %d\n", *out, *rows, *subjects, *items, *seed)
	fmt.Fprintf(stdout, "formula: %s\n", t.Formula)
	for _, k := range t.Order {
		fmt.Fprintf(stdout, "  %-27s %g\n", k, t.Params[k])
	}
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(2)
	}
}

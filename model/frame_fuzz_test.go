package model

import (
	"bytes"
	"math"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to ReadFrame. It must never panic,
// and a frame it returns must be consistent: every column NRows long,
// numeric columns finite except at NA cells, NaN exactly at NA cells.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte("y,x,g\n1,2,a\n3,NA,b\n"), false)
	f.Add([]byte("\"a\",\"b\"\n\"1\",\"x, \"\"y\"\"\"\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, forceFirst bool) {
		opt := FrameOptions{}
		if forceFirst {
			if i := bytes.IndexAny(data, ",\n"); i > 0 {
				opt.Factors = []string{string(data[:i])}
			}
		}
		fr, err := ReadFrame(bytes.NewReader(data), "fuzz.csv", opt)
		if err != nil {
			if fr != nil {
				t.Fatal("frame and error both returned")
			}
			return
		}
		if fr.NRows < 1 || len(fr.Columns) < 1 {
			t.Fatalf("frame with %d rows, %d columns", fr.NRows, len(fr.Columns))
		}
		for _, c := range fr.Columns {
			if len(c.Str) != fr.NRows || len(c.NA) != fr.NRows {
				t.Fatalf("column %q: %d cells, %d NA flags, %d rows", c.Name, len(c.Str), len(c.NA), fr.NRows)
			}
			if c.Categorical {
				if c.Num != nil {
					t.Fatalf("categorical column %q has Num", c.Name)
				}
				continue
			}
			if len(c.Num) != fr.NRows {
				t.Fatalf("numeric column %q: %d values", c.Name, len(c.Num))
			}
			for i, v := range c.Num {
				if c.NA[i] != math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("column %q row %d: value %v, NA %v", c.Name, i, v, c.NA[i])
				}
			}
		}
	})
}

package model

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readTestFrame reads a CSV under testdata/.
func readTestFrame(t *testing.T, name string, opt FrameOptions) *Frame {
	t.Helper()
	path := filepath.Join("..", "testdata", name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fr, err := ReadFrame(f, name, opt)
	if err != nil {
		t.Fatal(err)
	}
	return fr
}

func TestReadFrameSleepstudy(t *testing.T) {
	fr := readTestFrame(t, "sleepstudy.csv", FrameOptions{})
	if fr.NRows != 180 || len(fr.Columns) != 3 {
		t.Fatalf("got %d rows, %d columns; want 180, 3", fr.NRows, len(fr.Columns))
	}
	want := []string{"Reaction", "Days", "Subject"}
	for j, c := range fr.Columns {
		if c.Name != want[j] {
			t.Errorf("column %d is %q, want %q", j, c.Name, want[j])
		}
		if c.Categorical {
			t.Errorf("column %q read as categorical; every cell is a number", c.Name)
		}
		if len(c.Num) != 180 || len(c.Str) != 180 || len(c.NA) != 180 {
			t.Errorf("column %q lengths %d %d %d", c.Name, len(c.Num), len(c.Str), len(c.NA))
		}
	}
	// First data line: 249.56,0,"308"
	r := fr.Column("Reaction")
	if r.Num[0] != 249.56 || r.Str[0] != "249.56" {
		t.Errorf("Reaction[0] = %v %q", r.Num[0], r.Str[0])
	}
	if s := fr.Column("Subject"); s.Str[0] != "308" || s.Num[0] != 308 {
		t.Errorf("Subject[0] = %v %q", s.Num[0], s.Str[0])
	}
}

func TestReadFramePolitenessNA(t *testing.T) {
	fr := readTestFrame(t, "politeness.csv", FrameOptions{})
	if fr.NRows != 84 {
		t.Fatalf("NRows = %d, want 84", fr.NRows)
	}
	freq := fr.Column("frequency")
	nNA := 0
	for i, na := range freq.NA {
		if na {
			nNA++
			if !math.IsNaN(freq.Num[i]) || freq.Str[i] != "NA" {
				t.Errorf("NA cell %d: Num %v Str %q", i, freq.Num[i], freq.Str[i])
			}
		}
	}
	if nNA != 1 || !freq.NA[38] {
		t.Errorf("want one NA, on data row 38 (line 40); got %d", nNA)
	}
	if c := fr.Column("scenario"); c.Categorical {
		t.Error("scenario holds integers; without Factors it is numeric")
	}
	if c := fr.Column("subject"); !c.Categorical || c.Num != nil {
		t.Error("subject must be categorical with no Num")
	}
	fr = readTestFrame(t, "politeness.csv", FrameOptions{Factors: []string{"scenario"}})
	if c := fr.Column("scenario"); !c.Categorical || c.Str[0] != "1" {
		t.Error("forced factor scenario not categorical")
	}
}

func TestReadFrameOptions(t *testing.T) {
	// Custom NA tokens: "" is then an ordinary (categorical) value, "-" is
	// missing; a leading byte-order mark is dropped; quoted cells with
	// commas, quotes and newlines follow RFC 4180.
	in := "\ufeffa,b,c\n1,\"x, \"\"y\"\"\",-\n2,\"two\nlines\",3\n-,,4\n"
	fr, err := ReadFrame(strings.NewReader(in), "t.csv", FrameOptions{NA: []string{"-"}})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := fr.Columns[0], fr.Columns[1], fr.Columns[2]
	if a.Name != "a" || a.Categorical || !a.NA[2] || a.Num[1] != 2 {
		t.Errorf("column a: %+v", a)
	}
	if !b.Categorical || b.Str[0] != `x, "y"` || b.Str[1] != "two\nlines" || b.NA[2] || b.Str[2] != "" {
		t.Errorf("column b: %q %v", b.Str, b.NA)
	}
	if c.Categorical || !c.NA[0] || c.Num[2] != 4 {
		t.Errorf("column c: %+v", c)
	}
	// An all-NA column is numeric (all NaN).
	fr, err = ReadFrame(strings.NewReader("y,z\n1,NA\n2,\n"), "t.csv", FrameOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if z := fr.Column("z"); z.Categorical || !z.NA[0] || !z.NA[1] {
		t.Errorf("all-NA column: %+v", z)
	}
}

func TestReadFrameErrors(t *testing.T) {
	cases := []struct {
		name, in string
		opt      FrameOptions
		want     string
	}{
		{"empty", "", FrameOptions{}, "data.csv: empty file: expected a header row"},
		{"header only", "x,y\n", FrameOptions{}, "data.csv:1: no data rows after the header"},
		{"ragged", "x,y\n1,2\n3\n", FrameOptions{}, "data.csv:3: row has 1 fields, the header has 2"},
		{"ragged long", "x,y\n1,2\n3,4\n5,6,7\n", FrameOptions{}, "data.csv:4: row has 3 fields, the header has 2"},
		{"duplicate", "x,y,x\n1,2,3\n", FrameOptions{}, `data.csv:1: column name "x" appears twice (fields 1 and 3)`},
		{"empty name", "x,,z\n1,2,3\n", FrameOptions{}, "data.csv:1: header field 2 is empty: every column needs a name"},
		{"inf", "y,x\n" + strings.Repeat("1,2\n", 10) + "1,Inf\n", FrameOptions{}, `data.csv:12: column "x": Inf is not allowed`},
		{"nan", "y,x\n1,2\n1,NaN\n", FrameOptions{}, `data.csv:3: column "x": NaN is not allowed`},
		{"neg inf", "y,x\n1,-inf\n", FrameOptions{}, `data.csv:2: column "x": -inf is not allowed`},
		{"overflow", "y,x\n1,1e999\n", FrameOptions{}, `data.csv:2: column "x": 1e999 is not allowed`},
		{"unknown factor", "Subject,y\n1,2\n", FrameOptions{Factors: []string{"subject"}},
			`data.csv: factor column "subject" is not in the header (did you mean "Subject"?)`},
		{"unknown factor far", "Subject,y\n1,2\n", FrameOptions{Factors: []string{"zzz"}},
			`data.csv: factor column "zzz" is not in the header`},
		{"bad quote", "x,y\n1,\"a\"b\n", FrameOptions{}, `data.csv:2:5: extraneous or missing " in quoted-field`},
		{"multiline then ragged", "x,y\n\"a\nb\",1\n2\n", FrameOptions{}, "data.csv:4: row has 1 fields, the header has 2"},
	}
	for _, c := range cases {
		_, err := ReadFrame(strings.NewReader(c.in), "data.csv", c.opt)
		if err == nil {
			t.Errorf("%s: no error, want %q", c.name, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, err.Error(), c.want)
		}
	}
	// Inf in a forced factor, or in a column with text, is just a level.
	for _, in := range []string{"y,x\n1,Inf\n", "y,x\n1,Inf\n2,abc\n"} {
		opt := FrameOptions{}
		if !strings.Contains(in, "abc") {
			opt.Factors = []string{"x"}
		}
		fr, err := ReadFrame(strings.NewReader(in), "data.csv", opt)
		if err != nil {
			t.Errorf("%q: %v", in, err)
		} else if !fr.Column("x").Categorical {
			t.Errorf("%q: x not categorical", in)
		}
	}
}

// TestFrameSubset: rows in the order given (repeats allowed), every
// column's kind, values and NA marks kept.
func TestFrameSubset(t *testing.T) {
	fr, err := ReadFrame(strings.NewReader("y,g\n1.5,a\nNA,b\n3,c\n"), "d.csv", FrameOptions{Factors: []string{"g"}})
	if err != nil {
		t.Fatal(err)
	}
	s := fr.Subset([]int{2, 1, 2})
	if s.NRows != 3 || s.Source != "d.csv" || len(s.Columns) != 2 {
		t.Fatalf("subset: %d rows, source %q, %d columns", s.NRows, s.Source, len(s.Columns))
	}
	y, g := s.Columns[0], s.Columns[1]
	if y.Num[0] != 3 || !math.IsNaN(y.Num[1]) || !y.NA[1] || y.NA[0] || y.Num[2] != 3 {
		t.Errorf("y: %v NA %v", y.Num, y.NA)
	}
	if !g.Categorical || strings.Join(g.Str, ",") != "c,b,c" {
		t.Errorf("g: categorical %v, %v", g.Categorical, g.Str)
	}
}
